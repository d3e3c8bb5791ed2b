"""One decision for the encoding of every text file that comes from outside.

Registers (the operators' CSV) and downloaded sources (CSV, JSON) are read through
:func:`detecter` or :func:`en_utf8`; nothing else guesses an encoding. The rule, decided
from the bytes of the whole file (decompressed when it is gzip, whatever its name says):

- a UTF-8 byte order mark: UTF-8 (``utf-8-sig``); a UTF-16 mark: UTF-16 (Excel's
  « texte Unicode »);
- else UTF-8 when every byte decodes as UTF-8;
- else Windows-1252 (``cp1252``: what Excel and most French public bodies write on
  Windows; a superset of Latin-1's letters that also has ’ Œ œ € …), never bare Latin-1,
  which would turn those bytes into C1 control characters;
- else the file is unreadable: a NUL byte (binary file, or UTF-16 without its mark) or
  one of the five bytes cp1252 leaves undefined (0x81 0x8D 0x8F 0x90 0x9D). The error
  names the file, the byte offset, the reason and what to do.

DuckDB reads UTF-8 only: :func:`en_utf8` hands it the file itself when it is UTF-8 (gzip
or not: DuckDB decompresses), else a temporary UTF-8 copy written block by block (memory
stays bounded). The ``encodings`` extension of DuckDB (``duckdb-extension-encodings``)
was not used: the decision needs a full pass over the bytes anyway (to tell cp1252 from
unreadable and to give the offset), and the transcoding is then one more streamed pass.
"""

from __future__ import annotations

import codecs
import gzip
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FichierIllisible", "Lisible", "detecter", "en_utf8", "est_gzip", "ouvrir_octets"]

BLOC = 1 << 20
#: bytes no cp1252 text holds: NUL (a binary file, or UTF-16 without its mark) and the
#: five bytes cp1252 leaves undefined
_INTERDITS = re.compile(rb"[\x00\x81\x8d\x8f\x90\x9d]")
GZIP_MAGIC = b"\x1f\x8b"


class FichierIllisible(ValueError):
    """A text file that is neither UTF-8 nor cp1252; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Lisible:
    """What DuckDB reads: ``chemin`` (UTF-8), its ``compression`` for ``read_csv`` /
    ``read_json`` (``gzip`` or ``uncompressed``), and the ``encodage`` found in the
    original file."""

    chemin: Path
    compression: str
    encodage: str

    @property
    def gzip(self) -> bool:
        return self.compression == "gzip"


def est_gzip(chemin: Path) -> bool:
    """True when the file starts with gzip's magic bytes (a ``.gz`` served already
    decompressed is plain; a plain name may hide a gzip)."""
    with open(chemin, "rb") as f:
        return f.read(2) == GZIP_MAGIC


def ouvrir_octets(chemin: Path):
    """The file's bytes, decompressed when it is gzip."""
    return gzip.open(chemin, "rb") if est_gzip(chemin) else open(chemin, "rb")


def detecter(chemin: Path, *, nom: str | None = None, conseil: str = "",
             erreur: type[Exception] = FichierIllisible) -> str:
    """``utf-8-sig``, ``utf-16``, ``utf-8`` or ``cp1252``, read from the whole file's bytes;
    raises ``erreur`` (a French message with the offset, the reason and ``conseil``) when
    it is none of them."""
    chemin = Path(chemin)
    nom = nom or str(chemin)
    with ouvrir_octets(chemin) as f:
        debut = f.read(4)
        if debut.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if debut.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        utf8 = codecs.getincrementaldecoder("utf-8")()
        position = 0  # offset of ``bloc`` in the (decompressed) file
        bloc = debut
        try:
            while bloc:
                utf8.decode(bloc)
                position += len(bloc)
                bloc = f.read(BLOC)
            utf8.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError as exc:
            # the decoder keeps an incomplete sequence from the previous block
            invalide_utf8 = max(0, position + exc.start - len(exc.object) + len(bloc))
    # not UTF-8: cp1252 unless a byte it lacks is found (a second pass, from the start)
    interdit: tuple[int, int] | None = None
    with ouvrir_octets(chemin) as f:
        position = 0
        while bloc := f.read(BLOC):
            if m := _INTERDITS.search(bloc):
                interdit = (position + m.start(), bloc[m.start()])
                break
            position += len(bloc)
    if interdit is None:
        return "cp1252"
    decompresse = " (après décompression)" if est_gzip(chemin) else ""
    pos, octet = interdit
    if octet == 0:
        raison = ("octet nul (0x00) : fichier binaire, ou texte UTF-16 sans marque d'ordre d'octets, "
                  "pas un texte UTF-8 ni Windows-1252")
    else:
        raison = (f"octet 0x{octet:02X}, qui n'existe pas en Windows-1252 (cp1252), et le fichier n'est pas "
                  f"non plus en UTF-8 (premier octet invalide à la position {invalide_utf8})")
    raise erreur(f"{nom}: encodage illisible à l'octet {pos}{decompresse} — {raison}"
                 + (f" — {conseil}" if conseil else ""))


def transcoder(source: Path, cible: Path, encodage: str) -> None:
    """Write ``source`` (gzip or not) decoded from ``encodage`` into ``cible`` as UTF-8,
    block by block."""
    dec = codecs.getincrementaldecoder(encodage)(errors="strict")
    with ouvrir_octets(source) as fin, open(cible, "wb") as fout:
        while bloc := fin.read(BLOC):
            fout.write(dec.decode(bloc).encode("utf-8"))
        fout.write(dec.decode(b"", final=True).encode("utf-8"))


@contextmanager
def en_utf8(chemin: Path, *, nom: str | None = None, conseil: str = "",
            erreur: type[Exception] = FichierIllisible) -> Iterator[Lisible]:
    """The file as DuckDB must get it: itself when UTF-8 (with or without BOM, gzip or
    not), else a temporary UTF-8 copy (removed on exit); a plain file named ``.gz`` (served
    already decompressed) is handed under its name without ``.gz``, since GDAL and DuckDB's
    detection go by the name. Raises like :func:`detecter`."""
    chemin = Path(chemin)
    encodage = detecter(chemin, nom=nom, conseil=conseil, erreur=erreur)
    gz = est_gzip(chemin)
    utf8 = encodage in ("utf-8", "utf-8-sig")
    if utf8 and (gz or not chemin.name.endswith(".gz")):
        yield Lisible(chemin, "gzip" if gz else "uncompressed", encodage)
        return
    dossier = tempfile.mkdtemp(prefix="territoires-utf8-")
    try:
        cible = Path(dossier) / chemin.name.removesuffix(".gz")
        if not utf8:
            transcoder(chemin, cible, encodage)
        else:  # plain UTF-8 behind a .gz name (served decompressed): GDAL goes by the name
            try:
                cible.symlink_to(chemin.resolve())
            except OSError:
                shutil.copyfile(chemin, cible)
        yield Lisible(cible, "uncompressed", encodage)
    finally:
        shutil.rmtree(dossier, ignore_errors=True)
