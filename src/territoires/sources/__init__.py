"""Sources registry, hash-checked embedded reader and fetcher.

Every input is declared once in ``registry.toml``. Nothing is fetched or read at import.
"""

from __future__ import annotations

import hashlib
import importlib.util
import lzma
import os
import shutil
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REGISTRY_PATH = Path(__file__).with_name("registry.toml")


class SourceError(RuntimeError):
    """A source is missing, corrupted or unknown. The message names the file and the reason."""


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

    @property
    def embedded(self) -> bool:
        return self.package is not None


def load_registry(path: Path = REGISTRY_PATH) -> dict[str, Source]:
    """Read the registry file into ``{id: Source}``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SourceError(f"{path}: registre des sources introuvable") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SourceError(f"{path}: registre illisible ({exc})") from exc
    from territoires import noms

    texte = path.read_text(encoding="utf-8")
    out: dict[str, Source] = {}
    for entry in data.get("source", []):
        src = Source(**entry)
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


def extract_embedded(src: Source, raw_dir: Path) -> Path:
    """Verify an embedded lzma CSV and decompress it once under ``raw_dir``.

    The extracted copy is immutable: it is rewritten only when absent or when its
    recorded origin hash differs. Returns the path of the plain CSV.
    """
    packed = embedded_path(src)
    verify(packed, src.sha256, src.id)
    dest_dir = raw_dir / f"{src.package}-{src.package_version}"
    dest = dest_dir / Path(src.file).name.removesuffix(".lzma")
    stamp = dest.with_suffix(dest.suffix + ".origin-sha256")
    if dest.is_file() and stamp.is_file() and stamp.read_text().strip() == src.sha256:
        return dest
    dest_dir.mkdir(parents=True, exist_ok=True)
    from territoires import interruptions

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
    stamp.write_text(src.sha256 + "\n")
    return dest


def fetch(
    source_id: str,
    raw_dir: Path,
    *,
    timeout: float = 60.0,
    registry: dict[str, Source] | None = None,
    url: str | None = None,
) -> Path:
    """Download an official source into ``raw_dir/<id>/`` and check its sha256.

    An unpinned or different hash is refused: the download is kept aside as
    ``<file>.refused`` and the error gives the hash found, to review and pin.
    ``url`` overrides the registry's address (a mirror, or a local server in tests).
    """
    reg = registry if registry is not None else load_registry()
    if source_id not in reg:
        raise SourceError(f"source inconnue « {source_id} » ; choix : {', '.join(sorted(reg))}")
    src = reg[source_id]
    if src.embedded:
        return extract_embedded(src, raw_dir)
    address = url or src.url
    if not address.startswith(("https://", "http://")):
        raise SourceError(f"{source_id}: pas d'URL de téléchargement")
    from territoires import noms

    try:
        dest = noms.dans_dossier(raw_dir, Path(src.id) / src.file)
    except noms.HorsDossier as exc:
        raise SourceError(f"{source_id}: {exc}") from exc
    if dest.is_file() and src.sha256 and sha256_file(dest) == src.sha256:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    from territoires import interruptions

    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")  # removed by the next command if this one dies
    req = urllib.request.Request(address, headers={"User-Agent": "territoires/0.1"})
    try:
        with interruptions.temporaire(tmp), urllib.request.urlopen(req, timeout=timeout) as resp, \
                open(tmp, "wb") as out:
            shutil.copyfileobj(resp, out)
    except (OSError, urllib.error.URLError) as exc:
        tmp.unlink(missing_ok=True)
        raise SourceError(f"{address}: téléchargement impossible ({exc})") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    actual = sha256_file(tmp)
    if actual != src.sha256:
        refused = dest.with_suffix(dest.suffix + ".refused")
        os.replace(tmp, refused)
        reason = "aucune empreinte enregistrée" if not src.sha256 else f"attendue {src.sha256}"
        raise SourceError(
            f"{address}: empreinte sha256 {actual} refusée ({reason}) ; "
            f"fichier mis de côté : {refused}"
        )
    os.replace(tmp, dest)
    return dest
