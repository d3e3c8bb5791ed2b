"""The SQL models' order comes from what each one reads (DuckDB's parser on its SQL), not
from its file name; what cannot be ordered stops the build naming the file."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import duckdb
import pytest

from territoires.entrepot.etapes import BuildError
from territoires.members.etapes import TABLES_ADHERENTS
from territoires.progress import Progress
from territoires.warehouse import modeles, parallele
from territoires.warehouse.build import build
from territoires.warehouse.modeles import models, ordonner, parse_model, verifier_brutes


def _modele(dossier: Path, couche: str, nom: str, sql: str) -> modeles.Model:
    (dossier / couche).mkdir(parents=True, exist_ok=True)
    chemin = dossier / couche / f"{nom}.sql"
    chemin.write_text(sql, encoding="utf-8")
    return parse_model(chemin, couche)


def test_every_model_runs_after_the_tables_it_reads():
    ordre = models()
    rang = {m.table: i for i, m in enumerate(ordre)}
    assert len(rang) == len(ordre) > 40
    for m in ordre:
        lues = [t for t in m.lit if t in rang and t != m.table]
        assert all(rang[t] < rang[m.table] for t in lues), (m.table, lues)
    # the layers stay whole (the member registers are loaded between staging and the rest)
    couches = [modeles.LAYERS.index(m.schema) for m in ordre]
    assert couches == sorted(couches)
    # no number in a file name: the file is named as its table
    assert all(m.path.stem == m.name for m in ordre)
    # the two models that once both had the number 15 run in their dependency order
    assert rang["marts.presence_numerique"] < rang["marts.ecarts_sources"]
    assert rang["marts.indicateurs_catalogue"] < rang["marts.indicateurs_adhesion"] < rang["marts.indicateurs"]


def test_what_a_model_reads_comes_from_the_parser_not_from_its_text(tmp_path):
    m = _modele(tmp_path, "marts", "lecture", (
        "-- reads marts.commentaire_seulement? no: a comment\n"
        "with t as (select * from marts.territoires)\n"
        "select t.*, 'raw.dans_une_chaine' as texte from t\n"
        "where code in (select code from staging.communes) and niveau in (select niveau from raw.niveaux)\n"))
    assert m.lit == {"marts.territoires", "staging.communes", "raw.niveaux"}


def test_the_tables_found_in_the_parsers_text_are_those_of_its_tree():
    """The reads are found in the JSON text of the parser's tree (fast), the same as by
    walking the tree: for every model of the package, and for names the text search
    cannot take as they are (a quote, a backslash: the tree is walked instead)."""
    analyseur = duckdb.connect()

    def par_arbre(sql: str) -> frozenset[str]:
        out: set[str] = set()
        modeles._tables(json.loads(analyseur.execute("select json_serialize_sql(?)", [sql]).fetchone()[0]), out)
        return frozenset(out)

    sqls = [m.sql for m in models()] + [
        'select * from raw."a""b" join staging."c\\d" on true join marts.e e on e.x = \'"schema_name":"raw"\'',
        'select * from raw.t as "x"",""schema_name"":""marts"',
    ]
    for sql in sqls:
        texte = analyseur.execute("select json_serialize_sql(?)", [sql]).fetchone()[0]
        assert modeles._depuis_json(texte) == par_arbre(sql), sql[:200]
    assert modeles.tables_lues(sqls[-2]) == {'raw.a"b', "staging.c\\d", "marts.e"}
    assert modeles.tables_lues(sqls[-1]) == {"raw.t"}


def test_a_model_named_to_sort_first_still_runs_after_what_it_reads(tmp_path):
    premier = _modele(tmp_path, "marts", "a_premier", "select count(*) as n from marts.indicateurs")
    ordre = [m.table for m in ordonner([*models(), premier])]
    assert ordre.index("marts.indicateurs") < ordre.index("marts.a_premier")
    # ties are broken by layer then name: the order does not depend on the input's order
    assert ordre == [m.table for m in ordonner(reversed([*models(), premier]))]


def test_a_cycle_names_each_model_file(tmp_path):
    a = _modele(tmp_path, "marts", "a", "select * from marts.b")
    b = _modele(tmp_path, "marts", "b", "select * from marts.a")
    with pytest.raises(BuildError, match=r"cycle.*marts/a\.sql → .*marts/b\.sql → .*marts/a\.sql"):
        ordonner([*models(), a, b])
    soi = _modele(tmp_path, "marts", "soi", "select * from marts.soi")
    with pytest.raises(BuildError, match=r"cycle.*marts/soi\.sql → .*marts/soi\.sql"):
        ordonner([soi])


def test_reads_nothing_creates_stops_with_the_file(tmp_path):
    faute = _modele(tmp_path, "marts", "faute", "select * from marts.territoire")  # a missing s
    with pytest.raises(BuildError, match=r"faute\.sql : le modèle marts\.faute lit marts\.territoire, qu'aucun "
                                         r"modèle ne crée .*marts\.territoires"):
        ordonner([*models(), faute])
    # a staging model cannot read a later layer
    tot = _modele(tmp_path, "staging", "trop_tot", "select * from marts.territoires")
    with pytest.raises(BuildError, match=r"trop_tot\.sql : .*couche staging.*marts\.territoires.*couche postérieure"):
        ordonner([*models(), tot])
    # two files cannot make one table
    with pytest.raises(BuildError, match="créent tous deux la table marts.faute"):
        ordonner([faute, _modele(tmp_path / "autre", "marts", "faute", "select 1")])


def test_raw_tables_come_from_a_loading_step(tmp_path):
    chargees = ("raw.communes", "raw.niveaux")
    verifier_brutes([_modele(tmp_path, "staging", "ok", "select * from raw.communes")], chargees)
    inconnue = _modele(tmp_path, "staging", "inconnue", "select * from raw.commune")
    with pytest.raises(BuildError, match=r"inconnue\.sql : .*raw\.commune, qu'aucune étape de chargement"):
        verifier_brutes([inconnue], chargees)
    avant = _modele(tmp_path, "staging", "avant", "select * from raw.adherents")
    with pytest.raises(BuildError, match=r"avant\.sql : .*raw\.adherents, chargée seulement après la couche staging"):
        verifier_brutes([avant], chargees, TABLES_ADHERENTS)
    verifier_brutes([_modele(tmp_path, "intermediate", "apres", "select * from raw.adherents")], chargees,
                    TABLES_ADHERENTS)


def test_unreadable_sql_or_a_numbered_name_is_refused_with_the_file(tmp_path):
    with pytest.raises(ValueError, match=r"illisible\.sql, ligne 2 : SQL illisible pour l'analyseur de DuckDB"):
        _modele(tmp_path, "marts", "illisible", "select 1\nfrom from marts.territoires\n")
    with pytest.raises(ValueError, match=r"30_numerote\.sql : « 30_numerote » ne peut pas nommer une table"):
        _modele(tmp_path, "marts", "30_numerote", "select 1")


def test_a_model_added_to_the_folder_is_built_in_its_place_and_a_cycle_stops_the_build(
        fixture_home, tmp_path, monkeypatch):
    home = tmp_path / "home"
    shutil.copytree(fixture_home / "data", home / "data")
    sql = tmp_path / "sql"
    shutil.copytree(modeles.SQL_DIR, sql)
    monkeypatch.setattr(modeles, "SQL_DIR", sql)
    (sql / "marts" / "a_premier.sql").write_text(
        "-- unique: n\nselect count(*) as n from marts.indicateurs\n", encoding="utf-8")
    result = build(departements=("29",), home=home, quiet=True)
    con = duckdb.connect(str(result.path), read_only=True)
    try:
        assert con.execute("select n from marts.a_premier").fetchone()[0] == con.execute(
            "select count(*) from marts.indicateurs").fetchone()[0] > 0
    finally:
        con.close()
    avant = result.path.read_bytes()
    (sql / "marts" / "tranches_taille.sql").write_text(
        (sql / "marts" / "tranches_taille.sql").read_text(encoding="utf-8")
        + "\nunion all by name select * from marts.a_premier where false\n", encoding="utf-8")
    with pytest.raises(BuildError, match=r"cycle.*a_premier\.sql → .*tranches_taille\.sql"):
        build(departements=("29",), home=home, quiet=True)
    assert result.path.read_bytes() == avant


def test_a_fragment_takes_parameters_whole_and_names_what_is_missing(tmp_path):
    m = _modele(tmp_path, "marts", "controle", (
        "with valeurs as (select 1),\n"
        "{{ controle_criteres(criteres = list_filter(['a', 'b, c'], x -> x not in ('a')),\n"
        "                     table = marts.territoires) }}\n"
        "fin as (select * from controle)\n"
        "select * from fin\n"))
    assert "unnest(list_filter(['a', 'b, c'], x -> x not in ('a')))" in m.sql
    assert "'catalogue.toml : critère(s) sans colonne dans marts.territoires : '" in m.sql and "{{" not in m.sql
    assert m.lit == frozenset()  # the table named in a string is not read
    with pytest.raises(ValueError, match=r"manque\.sql, ligne 2 : le fragment « controle_criteres » attend "
                                         r"criteres, table ; reçu : table"):
        _modele(tmp_path, "marts", "manque", "select 1,\n{{ controle_criteres(table = marts.x) }}")
    with pytest.raises(ValueError, match=r"ligne 1 : le fragment « champ_mairie » attend champ, nom ; reçu : aucun"):
        _modele(tmp_path, "marts", "sans", "{{ champ_mairie }}")
    with pytest.raises(ValueError, match=r"paramètre de fragment « champ » illisible"):
        _modele(tmp_path, "marts", "illisible", "{{ champ_mairie(champ, nom = url) }}")


def test_the_shared_sql_is_written_once():
    """The town hall's field and the criteria check are fragments, not copies."""
    textes = {p.name: p.read_text(encoding="utf-8") for p in modeles.SQL_DIR.glob("*/*.sql")
              if p.parent.name in modeles.LAYERS}
    for motif, fragment in (("left join staging.annuaire_mairies", "champ_mairie"),
                            ("critère(s) sans colonne", "controle_criteres")):
        assert [n for n, t in textes.items() if motif in t] == [], motif
        assert sum(f"{{{{ {fragment}(" in t for t in textes.values()) >= 2


def _modeles_en_memoire(lectures: dict[str, tuple[str, ...]]) -> list[modeles.Model]:
    """Models ``marts.<name>`` reading the models named, in execution order."""
    faits = [modeles.Model("marts", nom, Path(f"{nom}.sql"), "", lit=frozenset(f"marts.{t}" for t in lues))
             for nom, lues in lectures.items()]
    return ordonner(faits)


def test_two_models_run_at_once_each_after_what_it_reads_on_prepared_connections():
    con = duckdb.connect()
    # a and b can only pass the barrier together: on two connections at once
    ensemble = threading.Barrier(2, timeout=60)
    journal: list[tuple[str, str]] = []
    verrou = threading.Lock()

    def lancer(c, m):
        with verrou:
            journal.append(("debut", m.name))
        if m.name in ("a", "b"):
            ensemble.wait()
        # every connection was prepared: its own SQL variable
        assert c.execute("select getvariable('voie_prete')").fetchone()[0] == 1
        c.execute(f"create table marts.{m.name} as select 1 as x")
        with verrou:
            journal.append(("fin", m.name))

    con.execute("create schema marts")
    preparer = lambda c: c.execute("set variable voie_prete = 1")  # noqa: E731
    preparer(con)  # as the build prepares its own connection; the cursors are prepared by executer
    ordre = _modeles_en_memoire({"a": (), "b": (), "c": ("a", "b"), "d": ("c",)})
    parallele.executer(con, ordre, lancer, Progress(quiet=True), voies=2,
                       preparer=preparer)
    position = {e: i for i, e in enumerate(journal)}
    assert position[("debut", "c")] > max(position[("fin", "a")], position[("fin", "b")])
    assert position[("debut", "d")] > position[("fin", "c")]
    assert con.execute("select count(*) from duckdb_tables() where schema_name = 'marts'").fetchone()[0] == 4


def test_the_first_failure_stops_the_run_naming_its_model():
    con = duckdb.connect()
    lances: list[str] = []

    def lancer(c, m):
        lances.append(m.name)
        if m.name == "casse":
            raise BuildError(f"{m.path}: le modèle {m.table} a échoué (exprès)")

    ordre = _modeles_en_memoire({"casse": (), "lecteur": ("casse",), "loin": ("lecteur",)})
    with pytest.raises(BuildError, match=r"casse\.sql: le modèle marts\.casse a échoué"):
        parallele.executer(con, ordre, lancer, Progress(quiet=True), voies=2)
    assert lances == ["casse"]  # what reads it never starts


def test_a_failure_while_the_next_model_is_handed_out_still_ends_the_run():
    """A model handed to a connection just as another fails is not started, and the run
    still ends with the failure (it waited forever for that model's end: a hung build in CI).
    ``a`` fails as ``b`` ends; ``c``, which reads ``b``, is then handed out at the same
    moment: repeated, since the two threads' order is the scheduler's."""
    ordre = _modeles_en_memoire({"a": (), "b": (), "c": ("b",)})
    for _ in range(40):
        con = duckdb.connect()
        ensemble = threading.Barrier(2, timeout=10)

        def lancer(c, m, ensemble=ensemble):
            if m.name in ("a", "b"):
                ensemble.wait()
            if m.name == "a":
                raise BuildError("a a échoué (exprès)")

        issue: list[BaseException] = []

        def executer(con=con, issue=issue):
            try:
                parallele.executer(con, ordre, lancer, Progress(quiet=True), voies=2)
            except BaseException as exc:  # noqa: BLE001 - checked below
                issue.append(exc)

        fil = threading.Thread(target=executer, daemon=True)
        fil.start()
        fil.join(10)
        assert not fil.is_alive(), "the run never ended after a's failure"
        assert len(issue) == 1 and isinstance(issue[0], BuildError) and "a a échoué" in str(issue[0])
