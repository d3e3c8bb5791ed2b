"""Values into DuckDB without bound parameters (territoires.entrepot.litteraux): every
literal reads back as the Python value, and the bulk rows' CSV keeps every text as it was."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from territoires.entrepot.litteraux import Tampon, inserer, liste_texte, litteral

TEXTES = ["", "simple", "l'apostrophe", 'des "guillemets"', "a,b;c\td", "deux\nlignes", "retour\r\nchariot", "seul\rretour", "\ttab",
          "\\", "_", "__x", "=SOMME(A1)", "é à ç œ — « »", "  espaces  ", "NULL", "\\N"]


@pytest.mark.parametrize("valeur", [None, True, False, 0, -12, 2**40, 1.5, -0.25, date(2014, 3, 15),
                                    datetime(2026, 12, 2, 11, 39, 22), *TEXTES])
def test_a_literal_reads_back_as_the_value(valeur):
    assert duckdb.connect().execute(f"select {litteral(valeur)}").fetchone()[0] == valeur


def test_paths_lists_and_typed_empty_lists():
    con = duckdb.connect()
    chemin = Path("/tmp/l'a/b.csv")
    assert con.execute(f"select {litteral(chemin)}").fetchone()[0] == "/tmp/l'a/b.csv"
    assert con.execute(f"select {litteral(['a', None, 'c'])}").fetchone()[0] == ["a", None, "c"]
    assert con.execute(f"select {liste_texte([])}").fetchone()[0] == []
    codes = ["29", "l'x"]
    assert con.execute(f"select {liste_texte(codes)}").fetchone()[0] == codes
    assert con.execute(f"select typeof({liste_texte([])})").fetchone()[0] == "VARCHAR[]"


def test_a_buffer_keeps_every_text_and_tells_empty_from_missing(tmp_path):
    colonnes = [("texte", "varchar"), ("jour", "date"), ("n", "bigint"), ("autre", "varchar")]
    lignes = [(t, date(2020, 1, i % 28 + 1), i - 3, None if i % 2 else "") for i, t in enumerate(TEXTES)]
    lignes.append((None, None, None, None))
    t = Tampon(tmp_path, "essai", colonnes)
    t.ajouter_tout(lignes)
    con = duckdb.connect()
    assert t.creer(con, "essai") == len(lignes)
    assert con.execute("select * from essai").fetchall() == lignes
    assert [r[1] for r in con.execute("describe essai").fetchall()] == ["VARCHAR", "DATE", "BIGINT", "VARCHAR"]


def test_an_empty_buffer_makes_an_empty_typed_table(tmp_path):
    con = duckdb.connect()
    assert Tampon(tmp_path, "vide", [("a", "varchar"), ("d", "date")]).creer(con, "vide") == 0
    assert con.execute("select count(*) from vide").fetchone()[0] == 0
    assert [r[1] for r in con.execute("describe vide").fetchall()] == ["VARCHAR", "DATE"]


def test_inserer_writes_rows_of_literals():
    con = duckdb.connect()
    con.execute("create table t (a varchar, b integer, c varchar[], d boolean)")
    assert inserer(con, "t", []) == 0
    lignes = [("l'un", 1, ["x", "y"], True), (None, None, [], False)]
    assert inserer(con, "t", lignes) == 2
    assert con.execute("select * from t").fetchall() == lignes


def test_a_buffer_keeps_random_texts_of_awkward_characters(tmp_path):
    """Texts drawn from the characters that break CSV readers (a lone carriage return,
    quotes, separators, NUL, the buffer's own escape « % »): each reads back as written."""
    import random

    hasard = random.Random(20261202)
    alphabet = ['a', '"', ',', '\n', '\r', '\t', '\\', '_', ';', "'", 'é', '\x00', '\x0b', ' ', '%', '0', 'D', '2', '5']
    lignes = [("".join(hasard.choice(alphabet) for _ in range(hasard.randint(0, 14))), i) for i in range(3000)]
    t = Tampon(tmp_path, "hasard", [("texte", "varchar"), ("n", "bigint")])
    t.ajouter_tout(lignes)
    con = duckdb.connect()
    t.creer(con, "hasard")
    assert con.execute("select texte, n from hasard order by n").fetchall() == lignes
