"""Adding a source touches the files the README's « Ajouter une source » names, and no
Python dict: a registry entry (with its ``[[table]]``), a connector, a staging model, its
facts in ``intermediate/faits_sources.sql``, a catalogue criterion and indicator.

The test copies the package, adds a plainly fictitious source (« bornes d'essai ») in
exactly those files, fetches its file from a loopback server with ``territoires fetch``,
builds a département in a subprocess running the copy, and checks the raw table, the
source's line in ``marts.sources`` and its indicator, recomputed in plain Python.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

SRC = Path(__file__).resolve().parents[1] / "src" / "territoires"

REGISTRE = '''
[[source]]
id = "essai-bornes"
producer = "Essai (producteur fictif des tests)"
title = "Bornes d'essai par commune (source fictive)"
licence = "Licence Ouverte / Open Licence 2.0 (Etalab)"
url = "https://example.invalid/bornes.csv"
file = "bornes.csv"
format = "csv;utf-8"
sha256 = ""
empreinte = "variable"
dossier = "essai"
vintage = "quotidien"
connecteur = "essai:charger_bornes"
table = "raw.essai_bornes"
[source.vintages]
bornes = { millesime = "date du téléchargement", preuve = "source fictive des tests" }

[[table]]
nom = "raw.essai_bornes"
usage = "bornes d'essai par commune (source fictive des tests)"
vide = "code_insee varchar, bornes bigint"
'''

CONNECTEUR = '''"""Fictitious test source: ``code_insee;bornes``."""
from pathlib import Path

from territoires.entrepot.litteraux import litteral
from territoires.sources.connecteurs import colonnes, compter, exiger, preparer


def charger_bornes(con, path: Path) -> int:
    preparer(con)
    rel = f"read_csv({litteral(path)}, delim=';', header=true, all_varchar=true)"
    exiger(path, colonnes(con, rel), ["code_insee", "bornes"])
    con.execute(f"create or replace table raw.essai_bornes as select code_insee, bornes::bigint as bornes from {rel}")
    return compter(con, "raw.essai_bornes")
'''

STAGING = '''-- Fictitious test source: bornes per commune.
-- unique: code
with source as (select * from raw.essai_bornes),
final as (select code_insee as code, bornes from source)
select * from final
'''

INDICATEUR = '''
[[indicateur]]
id = "part_bornes_essai"
libelle = "Communes ayant une borne d'essai"
libelle_court = "borne d'essai"
definition = "Part des communes listées par la source d'essai qui ont au moins une borne."
unite = "%"
polarite = "hausse_favorable"
numerateur = "essai_borne"
denominateur = "essai_commune"
sources = ["essai-bornes"]
millesimes = ["essai-bornes.bornes"]
tableau = false
'''


def _ajouter(racine: Path) -> None:
    """The edits of the README's « Ajouter une source », in a copy of the package."""
    reg = racine / "sources" / "registry.toml"
    reg.write_text(reg.read_text(encoding="utf-8") + REGISTRE, encoding="utf-8")
    (racine / "sources" / "connecteurs" / "essai.py").write_text(CONNECTEUR, encoding="utf-8")
    staging = racine / "warehouse" / "sql" / "staging"
    nom = next(staging.glob("*anct_deploiement.sql")).name.replace("anct_deploiement", "essai_bornes")
    nom = re.sub(r"^\d+", lambda m: str(int(m.group()) + 1), nom)  # after the last staging model
    (staging / nom).write_text(STAGING, encoding="utf-8")
    faits = next((racine / "warehouse" / "sql" / "intermediate").glob("*faits_sources.sql"))
    sql = faits.read_text(encoding="utf-8")
    assert sql.count("        c.code,\n") == 1  # the first column of the final select
    sql = sql.replace("        c.code,\n", "        c.code,\n"
                      "        b.code is not null as essai_commune,\n"
                      "        coalesce(b.bornes > 0, false) as essai_borne,\n")
    sql = sql.replace("    left join staging.anct_deploiement u using (code)\n",
                      "    left join staging.anct_deploiement u using (code)\n"
                      "    left join staging.essai_bornes b using (code)\n")
    assert "as essai_borne," in sql and "left join staging.essai_bornes b" in sql
    faits.write_text(sql, encoding="utf-8")
    cat = racine / "indicators" / "catalogue.toml"
    texte = cat.read_text(encoding="utf-8").replace(
        "[criteres_sources]\n",
        "[criteres_sources]\nessai_commune = \"commune listée par la source d'essai\"\n"
        "essai_borne = \"commune ayant au moins une borne d'essai\"\n", 1).replace(
        "[millesimes]\n", "[millesimes]\n\"essai-bornes.bornes\" = \"bornes d'essai\"\n", 1)
    cat.write_text(texte + INDICATEUR, encoding="utf-8")


def test_a_new_source_is_added_without_editing_python(tmp_path, fixture_warehouse):
    from serveur_local import ServeurLocal

    racine = tmp_path / "src" / "territoires"
    shutil.copytree(SRC, racine, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "notebooks"))
    _ajouter(racine)
    # what Python code changed: one new connector module, nothing else
    for p in racine.rglob("*.py"):
        origine = SRC / p.relative_to(racine)
        assert p.name == "essai.py" or p.read_bytes() == origine.read_bytes(), p
    home = tmp_path / "home"
    (home / "data" / "processed").mkdir(parents=True)
    (home / "territoires.toml").write_text("", encoding="utf-8")
    shutil.copyfile(fixture_warehouse, home / "data" / "processed" / "territoires.duckdb")  # reuse geometry
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "src"), "TERRITOIRES_HOME": str(home), "CI": "true"}

    with duckdb.connect(str(fixture_warehouse), read_only=True) as con:
        communes = [c for (c,) in con.execute("select code from marts.territoires where niveau = 'commune' "
                                              "order by code limit 40").fetchall()]
    lignes = [(c, i % 3) for i, c in enumerate(communes)]  # 0, 1 or 2 bornes
    corps = "code_insee;bornes\r\n" + "".join(f"{c};{n}\r\n" for c, n in lignes)

    def territoires(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "territoires.cli", *args], env=env, cwd=home,
                              capture_output=True, text=True, timeout=300)

    with ServeurLocal() as s:
        r = territoires("fetch", "essai-bornes", "--url", s.servir("/bornes.csv", corps.encode()))
    assert r.returncode == 0, r.stderr
    r = territoires("build", "--departements", "29")
    assert r.returncode == 0, r.stderr

    with duckdb.connect(str(home / "data" / "processed" / "territoires.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw.essai_bornes").fetchone()[0] == len(lignes)
        etat, usage = con.execute("select etat, usage from marts.sources where id = 'essai-bornes'").fetchone()
        assert usage == "bornes d'essai par commune (source fictive des tests)"
        assert con.execute("select count(*) from marts.indicateurs_catalogue "
                           "where indicateur = 'part_bornes_essai'").fetchone()[0] == 1
        num, den = con.execute(
            "select numerateur, denominateur from marts.indicateurs where niveau = 'departement' and code = '29'"
            " and indicateur = 'part_bornes_essai' and tranche_taille = 'ensemble'").fetchone()
    assert (num, den) == (sum(1 for _, n in lignes if n > 0), len(lignes))
    assert list(csv.reader(io.StringIO(corps), delimiter=";"))[0] == ["code_insee", "bornes"]
