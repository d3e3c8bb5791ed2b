"""Chargement des registres importés dans l'entrepôt (schéma ``raw``), pendant le build.

Fichiers lus sous ``adherents_dir`` (``data/raw/adherents/``) :

- ``<operateur>/<AAAAMMJJTHHMMSS>-<nom>`` : registres et fichiers d'abonnements importés
  par ``territoires adherents import`` ; pour un même ``<nom>``, seul le plus récent est lu
  (les précédents restent à côté, datés, avec leur sha256 dans ``imports.json``) ;
  un fichier déposé à la main sans horodatage est lu aussi ;
- ``<operateur>/correspondance.toml`` : correspondance des colonnes (facultative) ;
- ``anct/`` : exports publics de la Suite territoriale de l'ANCT (``adherents*.csv[.gz]``,
  ``souscriptions*.csv[.gz]``, et en tables de correspondance ``operateurs*.csv[.gz]`` et
  ``services*.csv[.gz]``).

Tables créées :

- ``raw.adherents`` (operateur, identifiant, siret, siren, code_insee, nom, type,
  date_adhesion DATE, statut_rattachement, code_territoire, niveau_territoire, fichier,
  ligne, sha256, type_source) : ``identifiant`` est l'identifiant principal (SIRET, sinon
  SIREN, sinon code INSEE), clé de jointure avec ``raw.abonnements`` ; ``code_territoire``
  est le code de commune (rattachement ``insee``, ``siren_reference``, ``siren_presume``) ou
  le SIREN d'EPCI (``siren_epci``), ``niveau_territoire`` « commune » ou « epci » ;
- ``raw.abonnements`` (operateur, identifiant, service, service_source, date_debut DATE,
  fichier, ligne) : ``service`` est un identifiant de ``services.csv`` ou ``inconnu:<nom>`` ;
- ``raw.adherents_rejets`` (operateur, fichier, ligne, colonne, valeur, raison, niveau) :
  une ligne par ligne rejetée (``niveau`` « rejet »), plus une par erreur de fichier
  (``niveau`` « erreur », ``ligne`` nulle) ;
- ``raw.services``, ``raw.services_correspondances``, ``raw.types_entites`` : les fichiers
  de données du paquet, chargés par :func:`charger_taxonomie` (une étape à part du build).

Pour le build : appeler :func:`load_raw` une fois ``staging.communes`` et ``staging.epci``
construits (``Referentiel.depuis_entrepot(con)``), et hacher :func:`fichiers_registres`
dans l'empreinte du build (un registre importé change l'entrepôt, pas la géométrie).
Les lignes d'un export de la Suite territoriale (``operateur_id``) vont à l'opérateur que
décide :func:`territoires.members.attribution.attribuer` (correspondance.toml, SIRET de
l'export des opérateurs, ou l'opérateur chez qui le fichier est importé s'il n'a qu'un
identifiant) ; celles de l'export national dont l'opérateur n'est pas suivi sont rejetées
avec leur raison, jamais rangées sous un opérateur qu'aucune page ne montre.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Callable

from territoires import operateurs
from territoires.members.registres import (DOSSIER_ANCT, HORODATAGE, OPERATEUR_MOTIF, FichierRegistre,  # noqa: F401
                                          dossier_ignore, fichiers_registres, sha256)
from territoires.lecture import ErreurFichier, ouvrir
from territoires.members.schema import CorrespondanceError, lire_correspondance, reconnaitre
from territoires.members.taxonomie import FICHIERS, lire_donnees
from territoires.members.validation import Abonnement, Adherent, Bilan, Referentiel, Validateur
from territoires.entrepot.litteraux import Tampon, charger_csv

__all__ = ["fichiers_registres", "load_raw", "operateurs_par_siret", "charger_taxonomie", "dossier_ignore", "FichierRegistre", "OPERATEUR_MOTIF", "sha256",
           "PREFIXE_SOURCE"]

#: préfixe des identifiants de source d'un registre : ``registre-adherents:megalis/…csv``
PREFIXE_SOURCE = "registre-adherents:"


#: colonnes et types des tables ``raw`` écrites ici
COLONNES_ADHERENTS = (
    ("operateur", "varchar"), ("identifiant", "varchar"), ("siret", "varchar"), ("siren", "varchar"),
    ("code_insee", "varchar"), ("nom", "varchar"), ("type", "varchar"),
    ("date_adhesion", "date"), ("statut_rattachement", "varchar"), ("code_territoire", "varchar"),
    ("niveau_territoire", "varchar"), ("fichier", "varchar"), ("ligne", "bigint"), ("sha256", "varchar"),
    ("type_source", "varchar"),  # le type tel qu'écrit dans le registre
)
COLONNES_ABONNEMENTS = (
    ("operateur", "varchar"), ("identifiant", "varchar"), ("service", "varchar"),
    ("service_source", "varchar"), ("date_debut", "date"), ("fichier", "varchar"), ("ligne", "bigint"),
)
COLONNES_REJETS = (
    ("operateur", "varchar"), ("fichier", "varchar"), ("ligne", "bigint"), ("colonne", "varchar"),
    ("valeur", "varchar"), ("raison", "varchar"), ("niveau", "varchar"),
)


def _correspondances_anct(fichiers: list[FichierRegistre], motif: str, cle_col: str, val_col: str) -> dict[str, str]:
    """Petite table de correspondance lue dans un export ANCT (``operateurs`` ou ``services``)."""
    out: dict[str, str] = {}
    for f in fichiers:
        if motif not in Path(f.nom).name.lower():
            continue
        try:
            with ouvrir(f.chemin, nom=f.nom) as lecteur:
                cols = [c.strip().lower() for c in lecteur.entetes]
                if cle_col not in cols or val_col not in cols:
                    continue
                i, j = cols.index(cle_col), cols.index(val_col)
                for ligne in lecteur:
                    c = ligne.cellules
                    if max(i, j) < len(c) and c[i]:
                        out[str(c[i]).strip()] = str(c[j] or "").strip()
        except ErreurFichier:
            continue
    return out


def operateurs_par_siret(fichiers: list[FichierRegistre], chemin_operateurs: Path | None = None) -> dict[str, str]:
    """Identifiant d'opérateur de la Suite territoriale → code d'opérateur, quand l'export des
    opérateurs (``operateurs*.csv`` parmi ``fichiers``) donne à cet identifiant le SIRET d'un
    opérateur d'``operateurs.toml``."""
    par_siret = operateurs.par_siret(chemin_operateurs or operateurs.PAQUET)
    out = {}
    for oid, siret in _correspondances_anct(fichiers, "operateur", "id", "siret").items():
        if siret.replace(" ", "") in par_siret:
            out[oid] = par_siret[siret.replace(" ", "")]
    return out


def _genre(f: FichierRegistre, correspondance) -> str:
    """Genre d'un fichier d'après son en-tête (voir :attr:`territoires.members.schema.Colonnes.genre`)."""
    try:
        with ouvrir(f.chemin, nom=f.nom, feuille=correspondance.feuille if correspondance else None,
                    separateur=correspondance.separateur if correspondance else None,
                    encodage=correspondance.encodage if correspondance else None) as lecteur:
            col = reconnaitre(lecteur.entetes, f.operateur, correspondance=correspondance)
    except ErreurFichier:
        return "registre"
    return col.genre


#: les tables ``raw`` écrites par :func:`load_raw`, et leurs colonnes
TABLES = {"adherents": COLONNES_ADHERENTS, "abonnements": COLONNES_ABONNEMENTS,
          "adherents_rejets": COLONNES_REJETS}


def load_raw(con, adherents_dir: Path, referentiel: Referentiel | Callable[[], Referentiel], *,
             selection: dict[str, str] | None = None, operateurs_file: Path | None = None,
             anct_telechargees: tuple[Path, ...] = (), cache: Path | None = None,
             cle_cache: str = "") -> dict[str, int]:
    """Valide et charge tous les registres importés dans ``raw`` ; rend les lignes par source.

    Clés du dictionnaire rendu, par fichier lu : ``registre-adherents:<fichier relatif>``
    (lignes acceptées). Les rejets et les erreurs
    de fichier vont dans ``raw.adherents_rejets`` (une erreur de fichier : ligne nulle).
    ``selection`` : voir :func:`fichiers_registres` (un import antérieur reste sélectionnable) ;
    ``anct_telechargees`` : les exports de la Suite territoriale téléchargés, lus comme ``anct/``.

    ``cache`` : un dossier où garder le résultat validé de chaque opérateur (ses lignes, en
    CSV), sous une clé qui réunit ses fichiers (sha256), sa correspondance, les
    correspondances ANCT, la date du jour et ``cle_cache`` (le code et le référentiel) : un
    import chez un opérateur ne fait revalider que ses registres. ``referentiel`` peut
    être une fonction : il n'est alors lu que si un opérateur est à revalider.
    """
    con.execute("create schema if not exists raw")
    adherents_dir = Path(adherents_dir)
    chemin_operateurs = operateurs_file or operateurs.PAQUET
    fichiers = fichiers_registres(adherents_dir, selection, chemin_operateurs, anct_telechargees)
    lus: dict[str, list[Path]] = {t: [] for t in TABLES}
    lignes: dict[str, int] = {}
    ref: list[Referentiel] = []  # lu au premier opérateur à valider

    def lire_referentiel() -> Referentiel:
        if not ref:
            ref.append(referentiel() if callable(referentiel) else referentiel)
        return ref[0]

    # les lignes vont dans des fichiers au fil de la lecture (mémoire bornée), lus d'un coup
    with tempfile.TemporaryDirectory(prefix="territoires-registres-") as tmp:
        rej = Tampon(tmp, "dossiers", COLONNES_REJETS)
        try:
            codes = set(operateurs.codes(chemin_operateurs))
            if adherents_dir.is_dir():
                for dossier in sorted(p for p in adherents_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
                    raison = dossier_ignore(dossier.name, codes)
                    if raison:
                        rej.ajouter((dossier.name, f"{dossier.name}/", None, "", "", raison, "erreur"))
        finally:
            rej.fermer()
        lus["adherents_rejets"].append(rej.chemin)

        anct = [f for f in fichiers if f.operateur == DOSSIER_ANCT]
        operateurs_anct = operateurs_par_siret(anct, chemin_operateurs)
        services_anct = _correspondances_anct(anct, "service", "id", "nom") if anct else {}
        codes_operateurs = set(operateurs.codes(chemin_operateurs))

        par_operateur: dict[str, list[FichierRegistre]] = {}
        for f in fichiers:
            par_operateur.setdefault(f.operateur, []).append(f)
        gardes = set()
        for operateur, liste in par_operateur.items():
            chemin_corr = adherents_dir / operateur / "correspondance.toml"
            corr = chemin_corr.read_bytes() if operateur != DOSSIER_ANCT and chemin_corr.is_file() else None
            cle = hashlib.sha256(repr((
                operateur, [(f.nom, f.sha256) for f in liste], corr, sorted(operateurs_anct.items()),
                sorted(services_anct.items()), date.today().isoformat(), cle_cache)).encode()).hexdigest()[:16]
            dossier = (Path(cache) if cache else Path(tmp)) / f"{operateur.replace(':', '_')}-{cle}"
            gardes.add(dossier.name)
            if not (cache and (dossier / "lignes.json").is_file()):
                _valider_operateur(dossier, operateur, liste, adherents_dir, lire_referentiel,
                                   operateurs_anct, services_anct, codes_operateurs)
            lignes.update(json.loads((dossier / "lignes.json").read_text(encoding="utf-8")))
            for t in TABLES:
                lus[t].append(dossier / f"{t}.csv")
        for t, colonnes in TABLES.items():
            charger_csv(con, f"raw.{t}", colonnes, lus[t])
    if cache and Path(cache).is_dir():  # the results no register selects any more
        for vieux in Path(cache).iterdir():
            if vieux.is_dir() and vieux.name not in gardes:
                shutil.rmtree(vieux, ignore_errors=True)
    return lignes


def _valider_operateur(dossier: Path, operateur: str, liste: list[FichierRegistre], adherents_dir: Path,
                       referentiel: Callable[[], Referentiel], operateurs_anct: dict[str, str],
                       services_anct: dict[str, str], codes_operateurs: set[str]) -> None:
    """Valide les fichiers d'un opérateur ; écrit dans ``dossier`` ses trois tables en CSV et
    ``lignes.json`` (lignes acceptées par source), d'un coup : dossier écrit à côté, puis
    renommé (un build interrompu ne laisse pas de résultat à moitié écrit)."""
    provisoire = dossier.with_name(f".{dossier.name}.tmp-{os.getpid()}")
    shutil.rmtree(provisoire, ignore_errors=True)
    provisoire.mkdir(parents=True)
    try:
        adh, abo, rej = (Tampon(provisoire, t, colonnes) for t, colonnes in TABLES.items())
        lignes: dict[str, int] = {}
        try:
            _valider(operateur, liste, adherents_dir, referentiel, adh, abo, rej, lignes,
                     operateurs_anct, services_anct, codes_operateurs)
        finally:
            for t in (adh, abo, rej):
                t.fermer()
        (provisoire / "lignes.json").write_text(json.dumps(lignes), encoding="utf-8")
        shutil.rmtree(dossier, ignore_errors=True)
        os.replace(provisoire, dossier)
    finally:
        shutil.rmtree(provisoire, ignore_errors=True)


def _valider(operateur: str, liste: list[FichierRegistre], adherents_dir: Path,
             referentiel: Callable[[], Referentiel], adh: Tampon, abo: Tampon, rej: Tampon,
             lignes: dict[str, int], operateurs_anct: dict[str, str], services_anct: dict[str, str],
             codes_operateurs: set[str]) -> None:
    """Lit et valide les fichiers d'un opérateur : les lignes vont dans ``adh``, ``abo`` et
    ``rej``, les lignes acceptées par source dans ``lignes``."""
    correspondance = None
    chemin_corr = adherents_dir / operateur / "correspondance.toml"
    if operateur != DOSSIER_ANCT and chemin_corr.is_file():
        try:
            correspondance = lire_correspondance(chemin_corr)
        except CorrespondanceError as exc:
            rej.ajouter((operateur, f"{operateur}/correspondance.toml", None, "", "", str(exc), "erreur"))
            return
    if operateur == DOSSIER_ANCT:
        liste = [f for f in liste if any(m in Path(f.nom).name.lower() for m in ("adherent", "souscription"))]
    v = Validateur(operateur, referentiel(), correspondance=correspondance,
                   operateurs_anct=operateurs_anct, services_anct=services_anct, codes_operateurs=codes_operateurs)
    genres = {f.nom: _genre(f, correspondance) for f in liste}
    # registres d'abord : les abonnements se rattachent aux adhérents connus
    for f in sorted(liste, key=lambda f: (genres[f.nom] != "registre", f.nom)):
        def sur_adherent(a: Adherent, _h=f.sha256, _ajouter=adh.ajouter) -> None:
            _ajouter((a.operateur, a.identifiant, a.siret, a.siren, a.code_insee, a.nom, a.type,
                      a.date_adhesion, a.statut_rattachement, a.code_territoire, a.niveau_territoire,
                      a.fichier, a.ligne, _h, a.type_source))

        def sur_abonnement(b: Abonnement, _ajouter=abo.ajouter) -> None:
            _ajouter((b.operateur, b.identifiant, b.service, b.service_source, b.date_debut, b.fichier, b.ligne))

        bilan: Bilan = v.fichier(f.chemin, nom=f.nom, genre=genres[f.nom],
                                 sur_adherent=sur_adherent, sur_abonnement=sur_abonnement)
        for p in bilan.erreurs + bilan.rejets:
            rej.ajouter((operateur, p.fichier, p.ligne, p.colonne, p.valeur, p.raison, p.niveau))
        lignes[f"{PREFIXE_SOURCE}{f.nom}"] = bilan.acceptees


def charger_taxonomie(con) -> dict[str, int]:
    """``raw.types_entites``, ``raw.services``, ``raw.services_correspondances`` depuis les
    fichiers du paquet (une étape du build à part : un import de registre ne les recharge pas)."""
    out = {}
    con.execute("create schema if not exists raw")
    with tempfile.TemporaryDirectory(prefix="territoires-taxonomie-") as dossier:
        for table, source, colonnes in (
            ("types_entites", "types-entites", ("type", "libelle", "variantes", "origine")),
            ("services", "taxonomie-services", ("service", "libelle", "famille", "origine")),
            ("services_correspondances", "correspondances-services", ("operateur", "nom_source", "service", "origine")),
        ):
            rows = lire_donnees(FICHIERS[table])
            tampon = Tampon(dossier, table, [(c, "varchar") for c in colonnes])
            tampon.ajouter_tout(tuple(r.get(c) for c in colonnes) for r in rows)
            out[source] = tampon.creer(con, f"raw.{table}")
    return out
