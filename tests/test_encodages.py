"""The one encoding decision (territoires.encodages): UTF-8 with or without BOM, else
cp1252, decided from the whole file's bytes; a file that is neither is refused with the
byte offset and the reason; DuckDB always gets UTF-8."""

from __future__ import annotations

import gzip

import duckdb
import pytest

from territoires import encodages
from territoires.encodages import FichierIllisible, detecter, en_utf8

#: every printable character of cp1252 that Latin-1 lacks (bytes 0x80–0x9F but the 5 undefined)
CP1252_SEULEMENT = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"


def test_cp1252_letters_latin1_lacks():
    assert len(CP1252_SEULEMENT.encode("cp1252")) == 27
    assert all(0x80 <= b <= 0x9F for b in CP1252_SEULEMENT.encode("cp1252"))


@pytest.mark.parametrize("octets, attendu", [
    ("Cœuvres;Val-d’Arguenon\r\n".encode("utf-8"), "utf-8"),
    (b"\xef\xbb\xbf" + "Cœuvres\r\n".encode("utf-8"), "utf-8-sig"),
    ("Cœuvres;Val-d’Arguenon;Saint-Étienne\r\n".encode("cp1252"), "cp1252"),
    ("Rennes Métropole\r\n".encode("latin-1"), "cp1252"),  # Latin-1 letters are cp1252's too
    ("nom\tcommune\r\n".encode("utf-16"), "utf-16"),
    (b"", "utf-8"),
])
def test_decided_from_the_bytes(tmp_path, octets, attendu):
    f = tmp_path / "f.csv"
    f.write_bytes(octets)
    assert detecter(f) == attendu


def test_the_whole_file_is_read_not_a_sample(tmp_path, monkeypatch):
    """A cp1252 byte far past the first block still decides (a real export may hold its
    first ’ on row 20 000); a UTF-8 character cut by a block's end is still UTF-8."""
    monkeypatch.setattr(encodages, "BLOC", 64)
    f = tmp_path / "f.csv"
    f.write_bytes(b"a" * 1000 + "’".encode("cp1252"))
    assert detecter(f) == "cp1252"
    f.write_bytes(b"a" * 62 + "œ’é".encode("utf-8") * 50)
    assert detecter(f) == "utf-8"


def test_gzip_told_by_its_bytes_not_its_name(tmp_path):
    gz = tmp_path / "plain.csv"  # gzip behind a plain name
    gz.write_bytes(gzip.compress("Œuilly\r\n".encode("cp1252")))
    assert detecter(gz) == "cp1252"
    plain = tmp_path / "served-decompressed.csv.gz"  # a .gz served already decompressed
    plain.write_bytes("Œuilly\r\n".encode("utf-8"))
    assert detecter(plain) == "utf-8"
    with en_utf8(plain) as lisible:
        assert (lisible.chemin.name, lisible.compression) == ("served-decompressed.csv", "uncompressed")
        assert lisible.chemin.read_bytes() == plain.read_bytes()
    with en_utf8(gz) as lisible:
        assert lisible.compression == "uncompressed" and lisible.chemin != gz
        assert lisible.chemin.read_bytes() == "Œuilly\r\n".encode("utf-8")


@pytest.mark.parametrize("octet", [0x81, 0x8D, 0x8F, 0x90, 0x9D])
def test_bytes_undefined_in_cp1252_are_refused_with_their_offset(tmp_path, octet):
    f = tmp_path / "registre.csv"
    f.write_bytes("nom;ville\r\nŒuilly;".encode("cp1252") + bytes([octet]) + b"x\r\n")
    with pytest.raises(FichierIllisible) as e:
        detecter(f, conseil="enregistrez-le en CSV UTF-8")
    msg = str(e.value)
    assert msg.startswith(f"{f}: encodage illisible à l'octet 18 — octet 0x{octet:02X}, qui n'existe pas en "
                          "Windows-1252 (cp1252), et le fichier n'est pas non plus en UTF-8 (premier octet "
                          "invalide à la position 11)")
    assert msg.endswith("— enregistrez-le en CSV UTF-8")


def test_a_nul_byte_is_a_binary_file(tmp_path):
    f = tmp_path / "f.csv"
    f.write_bytes(b"PK\x03\x04\x00\x00\xe9\xff")
    with pytest.raises(FichierIllisible, match="à l'octet 4 — octet nul"):
        detecter(f)


def test_offset_in_a_gzip_is_after_decompression(tmp_path):
    f = tmp_path / "f.csv.gz"
    f.write_bytes(gzip.compress(b"abc\xe9\x81"))
    with pytest.raises(FichierIllisible, match=r"à l'octet 4 \(après décompression\)"):
        detecter(f)


def test_the_callers_error_type(tmp_path):
    class Refus(Exception):
        pass

    f = tmp_path / "f.csv"
    f.write_bytes(b"\xe9\x9d")
    with pytest.raises(Refus, match="octet 0x9D"):
        detecter(f, erreur=Refus)


@pytest.mark.parametrize("encodage", ["cp1252", "utf-16"])
def test_duckdb_gets_utf8_and_the_copy_is_removed(tmp_path, encodage):
    f = tmp_path / "f.csv"
    f.write_text("nom;code\r\nCœuvres-et-Valsery;02201\r\nVal-d’Arguenon;22237\r\n", encoding=encodage,
                 newline="")
    with en_utf8(f) as lisible:
        assert lisible.encodage == encodage and lisible.chemin.is_file()
        rows = duckdb.sql(f"select * from read_csv('{lisible.chemin}', delim=';', all_varchar=true, "
                          f"compression='{lisible.compression}')").fetchall()
        copie = lisible.chemin
    assert rows == [("Cœuvres-et-Valsery", "02201"), ("Val-d’Arguenon", "22237")]
    assert not copie.exists() and not copie.parent.exists()


def test_every_connector_reads_text_through_the_one_decision():
    """No connector calls DuckDB's text readers itself: each goes through
    connecteurs.texte / csv_duckdb / json_duckdb (encoding decided from the bytes, gzip
    told by its magic bytes, JSON objects up to TAILLE_OBJET_JSON)."""
    import re
    from pathlib import Path

    import territoires.sources.connecteurs as connecteurs

    dossier = Path(connecteurs.__file__).parent
    fautes = []
    for module in sorted(dossier.glob("*.py")):
        if module.name == "__init__.py":
            continue
        texte = module.read_text(encoding="utf-8")
        fautes += [f"{module.name}: {m.group(0)}" for m in re.finditer(r"\b(read_csv|read_json\w*|encoding)\s*[(=]",
                                                                        texte)]
        if "ST_Read(" in texte or "read_" in texte.replace("read_parquet", ""):
            assert "texte(path)" in texte, module.name
    assert not fautes
