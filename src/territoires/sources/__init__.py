"""Sources registry, hash-checked embedded reader and fetcher.

Every input is declared once in ``registry.toml``. Nothing is fetched or read at import.
Downloads go through :mod:`territoires.sources.telechargement` (pooch); the connectors
that load each downloaded format into DuckDB live in :mod:`territoires.sources.connecteurs`.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import lzma
import os
import shutil
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path

from territoires.fichiers import lire_toml
from territoires.sources.chemins import slug
from territoires.sources.erreurs import SourceError
from territoires import interruptions, noms

REGISTRY_PATH = Path(__file__).with_name("registry.toml")

#: hash policies: ``epinglee`` (the registry's sha256, or one accepted on purpose, must
#: match) or ``variable`` (a file republished every few hours: any hash is accepted and
#: the computed one is recorded beside the download and in ``marts.sources``)
EMPREINTES = ("epinglee", "variable")


@dataclass(frozen=True)
class Source:
    id: str
    producer: str
    title: str
    licence: str
    url: str
    file: str
    format: str
    sha256: str
    vintage: str
    package: str | None = None
    package_version: str | None = None
    vintages: dict = field(default_factory=dict)
    #: ``epinglee`` (default) or ``variable``: see :data:`EMPREINTES`
    empreinte: str = "epinglee"
    #: members of a downloaded zip to extract (``["*"]``: every file); ``None``: none
    extraire: list | None = None
    #: producer folder under ``data/raw/`` (default: slug of the producer's first word)
    dossier: str | None = None
    #: the page describing the dataset (data.gouv.fr, insee.fr…), for people
    page: str = ""
    #: connector loading the file into DuckDB: ``module:fonction`` under ``connecteurs``
    #: (or a dotted module path of its own, ``paquet.module:fonction``, for a project's source)
    connecteur: str | None = None
    #: the ``raw`` table it fills (its use, empty shape and annexes: :class:`TableRaw`)
    table: str | None = None
    #: also read by the member registers' reader (the Suite territoriale exports)
    registre: bool = False
    #: the same data as another source in another format: fetched by its id only,
    #: ``fetch --all`` takes the other one (DPNT: JSON kept, CSV by id)
    doublon_de: str | None = None

    @property
    def embedded(self) -> bool:
        return self.package is not None

    @property
    def telechargeable(self) -> bool:
        """A source ``territoires fetch`` can download (an http(s) URL, not embedded)."""
        return not self.embedded and self.url.startswith(("https://", "http://")) and "/" not in self.file

    @property
    def dossier_producteur(self) -> str:
        """Folder of the producer under ``data/raw/`` (``insee``, ``anct``…)."""
        return self.dossier or slug(self.producer.split()[0] if self.producer.split() else self.id)


@dataclass(frozen=True)
class TableRaw:
    """A ``raw`` table filled by one or more sources (``[[table]]`` in the registry)."""

    nom: str
    #: what it serves in the build (``marts.sources.usage``)
    usage: str = ""
    #: its columns when no source filled it (``col type, …``): the models read one shape
    vide: str = ""
    #: tables its connector makes beside it
    annexes: list = field(default_factory=list)
    #: several sources add their rows to it by design (the buyer profiles)
    partagee: bool = False


def _lire(path: Path) -> dict:
    return lire_toml(path, SourceError, "registre des sources")


def _signature(path: Path) -> tuple:
    """What says the registry file changed: its path, size and modification time."""
    try:
        st = Path(path).stat()
    except OSError:
        return (str(path), None, None)
    return (str(path), st.st_size, st.st_mtime_ns)


def load_tables(path: Path = REGISTRY_PATH) -> dict[str, TableRaw]:
    """The ``[[table]]`` entries of the registry, by name; a table that some source names
    but no entry declares gets the defaults (no use said, no empty shape). Read once per
    process while the file is unchanged (a build asks at each of its loading steps)."""
    return dict(_tables(_signature(path)))


@functools.lru_cache(maxsize=8)
def _tables(signature: tuple) -> dict[str, TableRaw]:
    path = Path(signature[0])
    data = _lire(path)
    known = {f.name for f in fields(TableRaw)}
    out: dict[str, TableRaw] = {}
    for n, entry in enumerate(data.get("table", []), start=1):
        unknown = sorted(set(entry) - known)
        if unknown or "nom" not in entry:
            raise SourceError(f"{path}: table n° {n} ({entry.get('nom', '?')}) — "
                              + (f"champ(s) inconnu(s) : {', '.join(unknown)} (choix : {', '.join(sorted(known))})"
                                 if unknown else "champ « nom » manquant"))
        if entry["nom"] in out:
            raise SourceError(f"{path}: table déclarée deux fois « {entry['nom']} »")
        out[entry["nom"]] = TableRaw(**entry)
    for src in load_registry(path).values():
        if src.table and src.table not in out:
            out[src.table] = TableRaw(src.table)
    return out


def load_registry(path: Path = REGISTRY_PATH) -> dict[str, Source]:
    """Read the registry file into ``{id: Source}`` (a new dict each call, the sources
    read once per process while the file is unchanged)."""
    return dict(_registre(_signature(path)))


@functools.lru_cache(maxsize=8)
def _registre(signature: tuple) -> dict[str, Source]:
    path = Path(signature[0])
    data = _lire(path)
    known = {f.name for f in fields(Source)}

    texte = path.read_text(encoding="utf-8")
    out: dict[str, Source] = {}
    for n, entry in enumerate(data.get("source", []), start=1):
        unknown = sorted(set(entry) - known)
        missing = sorted(f.name for f in fields(Source) if f.name not in entry
                         and f.default is MISSING and f.default_factory is MISSING)
        if unknown or missing:
            what = "; ".join(filter(None, [
                f"champ(s) inconnu(s) : {', '.join(unknown)}" if unknown else "",
                f"champ(s) manquant(s) : {', '.join(missing)}" if missing else "",
            ]))
            raise SourceError(f"{path}: source n° {n} ({entry.get('id', '?')}) — {what}")
        if entry.get("empreinte", "epinglee") not in EMPREINTES:
            raise SourceError(
                f"{path}: source {entry['id']} — empreinte « {entry['empreinte']} » inconnue "
                f"(choix : {', '.join(EMPREINTES)})"
            )
        src = Source(**entry)
        if src.connecteur and not (src.table or "").startswith("raw."):
            raise SourceError(f"{path}: source {src.id} — un connecteur remplit une table du schéma raw : "
                              f"champ « table » manquant ou invalide (« {src.table or ''} », attendu raw.<nom>)")
        # ids, packages and their versions become folder names under data/raw/
        try:
            noms.verifier("source", src.id, fichier=path, ligne=noms.ligne_de(texte, f'"{src.id}"', "id"))
            if src.package:
                noms.verifier("source", src.package, fichier=path,
                              ligne=noms.ligne_de(texte, f'"{src.package}"', "package"))
            if src.package_version:
                noms.verifier("millesime", src.package_version, fichier=path,
                              ligne=noms.ligne_de(texte, f'"{src.package_version}"', "package_version"))
        except noms.NomInvalide as exc:
            raise SourceError(str(exc)) from exc
        if src.id in out:
            raise SourceError(f"{path}: identifiant de source en double « {src.id} »")
        out[src.id] = src
    for src in out.values():
        if src.doublon_de is not None and src.doublon_de not in out:
            raise SourceError(f"{path}: source {src.id} — doublon_de « {src.doublon_de} » : source inconnue")
    return out


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def package_root(package: str) -> Path:
    """Site-packages folder holding ``package``, found without importing it."""
    spec = importlib.util.find_spec(package.replace("-", "_"))
    if spec is None or not spec.submodule_search_locations:
        raise SourceError(
            f"paquet « {package} » introuvable : installez-le (make install) — "
            "il porte les données de référence embarquées"
        )
    return Path(list(spec.submodule_search_locations)[0]).parent


def embedded_path(src: Source) -> Path:
    """Path of an embedded source's file inside its installed package."""
    if src.package is None:
        raise SourceError(f"{src.id}: source non embarquée")
    return package_root(src.package) / src.file


def verify(path: Path, expected: str, source_id: str) -> str:
    """Check ``path`` against its registered sha256; return the hash or raise SourceError."""
    if not path.is_file():
        raise SourceError(f"{path}: fichier manquant (source {source_id})")
    actual = sha256_file(path)
    if expected and actual != expected:
        raise SourceError(
            f"{path}: empreinte sha256 inattendue pour la source {source_id} "
            f"(attendue {expected[:12]}…, trouvée {actual[:12]}…) — fichier corrompu ou modifié, refusé"
        )
    return actual


def _extrait(dest: Path, src: Source) -> bool:
    """Whether ``dest`` is the decompressed copy of ``src``'s file (its stamp says so)."""
    stamp = dest.with_name(dest.name + ".origin-sha256")
    try:
        return dest.is_file() and stamp.read_text().strip() == src.sha256
    except OSError:
        return False


def _tamponner(dest: Path, src: Source) -> None:
    dest.with_name(dest.name + ".origin-sha256").write_text(src.sha256 + "\n")


def _decompresser(packed: Path, src: Source, dest: Path) -> None:
    """Decompress ``packed`` into ``dest`` (written aside, then renamed), then stamp it."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    # ``.<name>.tmp-<pid>``: removed by the next command if this process dies meanwhile
    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
    try:
        with interruptions.temporaire(tmp), lzma.open(packed) as fin, open(tmp, "wb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 22)
    except (lzma.LZMAError, EOFError) as exc:
        tmp.unlink(missing_ok=True)
        raise SourceError(f"{packed}: décompression impossible ({exc})") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, dest)
    _tamponner(dest, src)


def _lier(commun: Path, dest: Path) -> None:
    """``dest`` as a hard link to the shared copy ``commun`` (no byte written), or a copy
    of it on another file system; put in place by a rename, so never half there."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    try:
        with interruptions.temporaire(tmp):
            try:
                os.link(commun, tmp)
            except OSError:  # another file system, or links refused: a copy
                shutil.copyfile(commun, tmp)
            os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def extract_embedded(src: Source, raw_dir: Path, partage: Path | None = None) -> Path:
    """Verify an embedded lzma CSV and decompress it once under ``raw_dir``.

    The extracted copy is immutable: it is rewritten only when absent or when its
    recorded origin hash differs. With ``partage`` (the machine's folder shared by every
    home, :func:`territoires.config.partage`), the file is decompressed there once per
    machine and linked into ``raw_dir``: a new home costs neither the decompression nor
    the bytes again; a shared folder that cannot be written is passed over. Returns the
    path of the plain CSV.
    """
    packed = embedded_path(src)
    verify(packed, src.sha256, src.id)
    dossier = f"{src.package}-{src.package_version}"
    nom = Path(src.file).name.removesuffix(".lzma")
    dest = raw_dir / dossier / nom
    if _extrait(dest, src):
        return dest
    if partage is not None:
        commun = partage / "embarquees" / dossier / nom
        try:
            if not _extrait(commun, src):
                _decompresser(packed, src, commun)
            _lier(commun, dest)
        except OSError:  # the shared folder is not writable (or full): this home's own copy
            pass
        else:
            _tamponner(dest, src)
            return dest
    _decompresser(packed, src, dest)
    return dest
