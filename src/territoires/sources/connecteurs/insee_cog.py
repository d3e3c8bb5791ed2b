"""INSEE Code officiel géographique 2025: communes, départements, régions, change file.

Comma-separated, UTF-8, a header in capitals, values unquoted unless needed (the commune
list served by the first fetch test; github.com/suitenumerique/st-home ``dumps.py`` reads
these files with ``delimiter=","`` and asserts 12 commune columns). Column names are
lower-cased in ``raw``; every value stays text (``01001``, ``2A004``, ``971``).

The change file ``v_mvt_commune_2025.csv`` (``MOD, DATE_EFF, TYPECOM_AV, COM_AV, …,
TYPECOM_AP, COM_AP, …``) lists every event since 1943. :func:`charger_mouvements` also
builds ``raw.cog_passage (code_ancien, code_actuel, date_effet)``: each former commune
code carried forward to the commune it ended in, following merges (MOD 31 fusion simple,
32 création de commune nouvelle, 33 fusion-association, 34 transformation de fusion
association en fusion simple) and code changes (41 changement de département, 50
transfert de chef-lieu), in date order, over several steps. Scissions and re-creations
(20, 21) do not move the code of the commune that continues.
"""

from __future__ import annotations

from pathlib import Path

from territoires.sources.connecteurs import colonnes, compter, csv_duckdb, exiger, preparer, texte
from territoires.sources.erreurs import SourceError
from territoires.entrepot.litteraux import inserer, litteral

#: MOD codes whose (COM_AV → COM_AP) moves a former code to another commune
MODS_PASSAGE = {"31", "32", "33", "34", "41", "50"}


def _charger(con, path: Path, table: str, requises: list[str]) -> int:  # noqa: ANN001
    preparer(con)
    with texte(path) as lisible:
        rel = csv_duckdb(lisible, "delim=',', quote='\"', header=true, all_varchar=true")
        cols = colonnes(con, rel)
        exiger(path, cols, requises)
        select = ", ".join(f"nullif(trim(\"{c}\"), '') as \"{c.lower()}\"" for c in cols)
        con.execute(f"create or replace table {table} as select {select} from {rel}")
    return compter(con, table)


def charger_communes(con, path: Path) -> int:  # noqa: ANN001
    """``v_commune_2025.csv`` → ``raw.cog_communes`` (COM, COMA, COMD, ARM rows)."""
    return _charger(con, path, "raw.cog_communes", ["TYPECOM", "COM", "REG", "DEP", "LIBELLE", "COMPARENT"])


def charger_departements(con, path: Path) -> int:  # noqa: ANN001
    """``v_departement_2025.csv`` → ``raw.cog_departements``."""
    return _charger(con, path, "raw.cog_departements", ["DEP", "REG", "CHEFLIEU", "LIBELLE"])


def charger_regions(con, path: Path) -> int:  # noqa: ANN001
    """``v_region_2025.csv`` → ``raw.cog_regions``."""
    return _charger(con, path, "raw.cog_regions", ["REG", "CHEFLIEU", "LIBELLE"])


def charger_mouvements(con, path: Path) -> int:  # noqa: ANN001
    """``v_mvt_commune_2025.csv`` → ``raw.cog_mouvements`` (``date_eff`` DATE) and
    ``raw.cog_passage``. Returns the number of events."""
    n = _charger(con, path, "raw.cog_mouvements_texte",
                 ["MOD", "DATE_EFF", "TYPECOM_AV", "COM_AV", "TYPECOM_AP", "COM_AP"])
    mauvaises = con.execute(
        "select count(*) from raw.cog_mouvements_texte where try_cast(date_eff as date) is null"
    ).fetchone()[0]
    if mauvaises:
        raise SourceError(f"{path}: {mauvaises} date(s) d'effet illisible(s) (AAAA-MM-JJ attendu)")
    con.execute("""
        create or replace table raw.cog_mouvements as
        select * replace (cast(date_eff as date) as date_eff) from raw.cog_mouvements_texte
    """)
    con.execute("drop table raw.cog_mouvements_texte")
    construire_passage(con)
    return n


def construire_passage(con) -> int:  # noqa: ANN001
    """``raw.cog_passage``: every former code → the commune it is part of today."""
    aretes: dict[str, list[tuple]] = {}
    for mod, date, av, ap in con.execute(f"""
        select mod, date_eff, com_av, com_ap from raw.cog_mouvements
        where mod in ({', '.join(litteral(m) for m in sorted(MODS_PASSAGE))})
          and typecom_av = 'COM' and typecom_ap = 'COM' and com_av <> com_ap
        order by date_eff, com_av
    """).fetchall():
        aretes.setdefault(av, []).append((date, ap, mod))
    lignes = []
    for ancien in sorted(aretes):
        code, depuis, etapes, vus = ancien, None, 0, {ancien}
        while etapes < 50:
            suivantes = [a for a in aretes.get(code, []) if depuis is None or a[0] >= depuis]
            if not suivantes:
                break
            depuis, code, _ = suivantes[0]
            if code in vus:  # a cycle would mean a restored commune: stop at the last step
                break
            vus.add(code)
            etapes += 1
        if code != ancien:
            lignes.append((ancien, code, depuis))
    con.execute("create or replace table raw.cog_passage (code_ancien varchar, code_actuel varchar, date_effet date)")
    return inserer(con, "raw.cog_passage", lignes)
