"""Safe extraction of downloaded archives (zip, gzip).

Refused, with a French message naming the archive and the member:

- a member whose name would escape the target folder (``../x``, ``/etc/x``, ``C:x``,
  a symbolic link), or whose base name is not a plain file name;
- an archive whose declared uncompressed size exceeds :data:`TAILLE_MAX` (2 Go), or a
  member whose declared compression ratio exceeds :data:`RATIO_MAX` (200);
- a member that inflates beyond what it declared (sizes are counted while writing, so
  an archive lying about its sizes is stopped too).

Extraction goes to a temporary folder beside the target, renamed into place only when
every member is complete: a failure leaves no partial file where a complete one is
expected.
"""

from __future__ import annotations

import errno
import gzip
import os
import shutil
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from territoires.sources.chemins import dans, verifier_fichier
from territoires.sources.erreurs import SourceError

TAILLE_MAX = 2 * 1024**3  # 2 Go décompressés au plus
RATIO_MAX = 200  # taux de compression déclaré au plus
BLOC = 1 << 20


def _nom_membre(archive: Path, nom: str) -> str:
    pur = PurePosixPath(nom.replace("\\", "/"))
    if pur.is_absolute() or ".." in pur.parts or (pur.parts and ":" in pur.parts[0]):
        raise SourceError(f"{archive}: membre « {nom} » refusé (il sortirait du dossier d'extraction)")
    return nom


def _copier_borne(fin, fout, limite: int, archive: Path, nom: str) -> int:
    ecrit = 0
    while bloc := fin.read(BLOC):
        ecrit += len(bloc)
        if ecrit > limite:
            raise SourceError(
                f"{archive}: membre « {nom} » plus grand que déclaré ou que la limite "
                f"({limite} octets) — archive refusée (bombe de décompression ?)"
            )
        fout.write(bloc)
    return ecrit


def extraire_zip(
    archive: Path,
    cible: Path,
    membres: list[str] | None = None,
    *,
    taille_max: int = TAILLE_MAX,
    ratio_max: float = RATIO_MAX,
) -> list[Path]:
    """Extract ``membres`` (all regular files when ``None``) of ``archive`` into ``cible``.

    Member folders are flattened: each file lands as ``cible/<base name>``. Returns the
    extracted paths. ``cible`` is replaced whole, only once every member is complete.
    """
    archive = Path(archive)
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceError(f"{archive}: archive zip illisible ({exc})") from exc
    with zf:
        infos = zf.infolist()
        for info in infos:  # every name is checked, even those not extracted
            _nom_membre(archive, info.filename)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise SourceError(f"{archive}: membre « {info.filename} » refusé (lien symbolique)")
        fichiers = [i for i in infos if not i.is_dir()]
        if membres is not None:
            presents = {PurePosixPath(i.filename).name: i for i in fichiers}
            manquants = [m for m in membres if m not in presents]
            if manquants:
                raise SourceError(
                    f"{archive}: membre(s) absent(s) : {', '.join(manquants)} "
                    f"(présents : {', '.join(sorted(presents)) or 'aucun'})"
                )
            fichiers = [presents[m] for m in membres]
        total = sum(i.file_size for i in fichiers)
        if total > taille_max:
            raise SourceError(
                f"{archive}: {total} octets une fois décompressée, au-delà de la limite de "
                f"{taille_max} octets — archive refusée"
            )
        for info in fichiers:
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > BLOC and ratio > ratio_max:
                raise SourceError(
                    f"{archive}: membre « {info.filename} » compressé {ratio:.0f} fois "
                    f"(limite {ratio_max:.0f}) — archive refusée (bombe de décompression ?)"
                )
        noms = [verifier_fichier(PurePosixPath(i.filename).name, f"{archive}: nom de membre") for i in fichiers]
        if len(set(noms)) != len(noms):
            raise SourceError(f"{archive}: deux membres portent le même nom une fois à plat")
        cible = Path(cible)
        cible.parent.mkdir(parents=True, exist_ok=True)
        tmp = cible.with_name(f".{cible.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            sortie = []
            for info, nom in zip(fichiers, noms):
                dest = dans(tmp, nom)
                with zf.open(info) as fin, open(dest, "wb") as fout:
                    _copier_borne(fin, fout, min(info.file_size, taille_max), archive, info.filename)
                sortie.append(nom)
            if cible.exists():
                shutil.rmtree(cible)
            os.replace(tmp, cible)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise SourceError(f"{archive}: archive zip corrompue ou mensongère ({exc}) — refusée") from exc
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if exc.errno == errno.ENOSPC:
                raise SourceError(f"{cible.parent} : disque plein pendant l'extraction de {archive.name} "
                                  f"({total} octets à écrire) — rien n'a été gardé") from exc
            raise
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return [cible / nom for nom in sortie]


def extraire_gzip(archive: Path, dest: Path, *, taille_max: int = TAILLE_MAX, ratio_max: float = RATIO_MAX) -> Path:
    """Decompress a ``.gz`` file to ``dest``, stopping at ``taille_max`` bytes or past
    ``ratio_max`` times the compressed size; ``dest`` appears only when complete."""
    archive, dest = Path(archive), Path(dest)
    limite = min(taille_max, int(max(archive.stat().st_size, BLOC) * ratio_max))
    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
    try:
        with gzip.open(archive, "rb") as fin, open(tmp, "wb") as fout:
            _copier_borne(fin, fout, limite, archive, dest.name)
        os.replace(tmp, dest)
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        tmp.unlink(missing_ok=True)
        raise SourceError(f"{archive}: décompression gzip impossible ({exc})") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dest
