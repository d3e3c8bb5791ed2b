"""BANATIC (DGCL): périmètre des EPCI à fiscalité propre, one row per EPCI × member commune.

``;``-separated, 14 columns: ``dept;siren;raison_sociale;nature_juridique;mode_financ;
nb_membres;total_pop_tot;total_pop_mun;dep_com;insee;siren_membre;nom_membre;
ptot_<année>;pmun_<année>``. Checked: the 14 columns and the names ``siren``,
``raison_sociale``, ``total_pop_mun``, ``insee``, ``siren_membre``, ``pmun_2025`` (read by
github.com/suitenumerique/st-home ``data/tasks/dumps.py`` and ``sync.py``, which strip
spaces from populations: thousands are separated by spaces). The real file (a copy is
committed in github.com/incubateur-ademe/territoires-en-transitions; a slice of its bytes is
the test fixture) is Windows-1252 with CRLF: 113 member names hold ’ Œ œ, bytes Latin-1
lacks. Read through :func:`territoires.encodages.en_utf8` (UTF-8, else cp1252). The year
of the population columns is read from their names and kept in ``millesime_population``.

It gives the commune SIREN ↔ INSEE mapping registers need (``commune_siren``,
``commune_insee``) and current EPCI membership.
"""

from __future__ import annotations

import re
from pathlib import Path

from territoires.sources.connecteurs import colonnes, compter, csv_duckdb, entier, exiger, preparer, texte, vide_null
from territoires.sources.erreurs import SourceError


def charger_perimetre(con, path: Path) -> int:  # noqa: ANN001
    """The perimeter file → ``raw.banatic_perimetre``."""
    preparer(con)
    with texte(path) as lisible:
        _creer(con, path, csv_duckdb(lisible, "delim=';', quote='\"', header=true, all_varchar=true"))
    return compter(con, "raw.banatic_perimetre")


def _creer(con, path: Path, rel: str) -> None:  # noqa: ANN001
    cols = colonnes(con, rel)
    exiger(path, cols, ["siren", "raison_sociale", "insee", "siren_membre"])
    pmun = sorted(c for c in cols if re.fullmatch(r"pmun_\d{4}", c))
    ptot = sorted(c for c in cols if re.fullmatch(r"ptot_\d{4}", c))
    if not pmun:
        raise SourceError(f"{path}: aucune colonne pmun_<année> (trouvées : {', '.join(cols)})")
    annee = pmun[-1].removeprefix("pmun_")

    def opt(nom: str, sql: str | None = None) -> str:
        return (sql or vide_null(nom)) if nom in cols else "null"

    con.execute(f"""
        create or replace table raw.banatic_perimetre as
        select {opt('dept')} as epci_departement, {vide_null('siren')} as epci_siren,
               {vide_null('raison_sociale')} as epci_nom, {opt('nature_juridique')} as nature_juridique,
               {opt('mode_financ')} as mode_financement,
               {opt('nb_membres', entier('"nb_membres"'))} as nb_membres,
               {opt('total_pop_tot', entier('"total_pop_tot"'))} as epci_population_totale,
               {opt('total_pop_mun', entier('"total_pop_mun"'))} as epci_population_municipale,
               {opt('dep_com')} as commune_departement, {vide_null('insee')} as commune_insee,
               {vide_null('siren_membre')} as commune_siren, {opt('nom_membre')} as commune_nom,
               {entier(f'"{ptot[-1]}"') if ptot else 'null'} as commune_population_totale,
               {entier(f'"{pmun[-1]}"')} as commune_population_municipale,
               '{annee}' as millesime_population
        from {rel}
    """)


def millesimes(con) -> dict[str, tuple[str, str]]:  # noqa: ANN001
    """The vintage the loaded file carries: the year of its population columns."""
    annees = [r[0] for r in con.execute(
        "select distinct millesime_population from raw.banatic_perimetre where millesime_population is not null"
        " order by 1").fetchall()]
    return {"population": (annees[-1], f"colonne pmun_{annees[-1]} du fichier")} if annees else {}
