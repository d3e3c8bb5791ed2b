"""Connectors: one module per source format, each ``charger_*(con, path) -> int``.

A connector reads one downloaded file with DuckDB (``read_csv``, ``read_parquet``,
``read_json``, spatial ``ST_Read``) and creates typed tables in the ``raw`` schema of the
connection it is given, then returns the number of rows loaded. Conventions:

- codes (INSEE, SIREN, SIRET, département, région, service and operator ids) are
  VARCHAR, never integers (``01001``, ``2A004``, ``971``);
- dates are DATE, counts and populations BIGINT, yes/no BOOLEAN;
- a file that lacks a required column is refused with a French :class:`SourceError`
  naming the file and the columns found; optional columns absent from an older
  export are loaded as NULL;
- big files are never read whole into Python: DuckDB streams them, with projection and
  filter pushdown for parquet.

The registry's ``connecteur`` field (``module:fonction``) names the loader of each
source; :func:`charger` dispatches on it. The ANCT ``adherents`` and ``souscriptions``
exports are read by the register readers of :mod:`territoires.members`, not here.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from territoires.sources.erreurs import SourceError

#: tables created by each connector module (documentation and tests)
TABLES = {
    "anct": ("raw.anct_operateurs", "raw.anct_services", "raw.anct_deploiement"),
    "decp": ("raw.decp_marches", "raw.decp_profils"),
    "banatic": ("raw.banatic_perimetre",),
    "dpnt": ("raw.dpnt_organisations",),
    "insee_cog": ("raw.cog_communes", "raw.cog_departements", "raw.cog_regions", "raw.cog_mouvements",
                  "raw.cog_passage"),
    "populations": ("raw.populations",),
    "contours": ("raw.contours_communes", "raw.contours_epci", "raw.contours_departements", "raw.contours_regions"),
    "annuaire": ("raw.annuaire",),
}

#: the raw table each connector (re)creates; ``None``: it adds the rows of its source
#: beside those of the others (the three buyer-profile datasets share one table)
CIBLES = {
    "anct:charger_operateurs": "raw.anct_operateurs",
    "anct:charger_services": "raw.anct_services",
    "anct:charger_deploiement": "raw.anct_deploiement",
    "decp:charger_decp": "raw.decp_marches",
    "decp:charger_profil": None,
    "banatic:charger_perimetre": "raw.banatic_perimetre",
    "dpnt:charger_json": "raw.dpnt_organisations",
    "dpnt:charger_csv": "raw.dpnt_organisations",
    "insee_cog:charger_communes": "raw.cog_communes",
    "insee_cog:charger_departements": "raw.cog_departements",
    "insee_cog:charger_regions": "raw.cog_regions",
    "insee_cog:charger_mouvements": "raw.cog_mouvements",
    "populations:charger_populations": "raw.populations",
    "contours:charger_communes": "raw.contours_communes",
    "contours:charger_epci": "raw.contours_epci",
    "contours:charger_departements": "raw.contours_departements",
    "contours:charger_regions": "raw.contours_regions",
    "annuaire:charger_annuaire": "raw.annuaire",
}


def charger_telechargees(con, raw_dir: Path, registry: dict | None = None) -> list[dict]:  # noqa: ANN001
    """Load every fetched source that has a connector; return one provenance row per
    source loaded (for ``marts.sources``): ``id, table, lignes, millesime, sha256,
    empreinte, url, chemin, telecharge_le``.

    Sources not fetched are skipped (the embedded data serve). When several fetched
    sources fill the same table (the four generalisations of a contour level, DPNT as
    JSON and as CSV), the first in registry order is loaded and the others are reported
    with ``table`` None and ``lignes`` 0, never silently merged.
    """
    from territoires.sources import load_registry
    from territoires.sources.presence import dernier_telechargement

    reg = registry if registry is not None else load_registry()
    remplies: set[str] = set()
    sortie = []
    for src in reg.values():
        if not src.connecteur:
            continue
        t = dernier_telechargement(src, Path(raw_dir))
        if t is None:
            continue
        cible = CIBLES.get(src.connecteur, "?")
        ligne = {"id": src.id, "table": cible, "lignes": 0, "millesime": t.millesime,
                 "sha256": t.fiche.get("sha256", ""), "empreinte": t.fiche.get("empreinte", src.empreinte),
                 "url": t.fiche.get("url", src.url), "chemin": str(t.chemin),
                 "telecharge_le": t.fiche.get("telecharge_le", "")}
        if cible in remplies:
            ligne["table"] = None
            sortie.append(ligne)
            continue
        ligne["lignes"] = charger(con, src.id, t.chemin, reg)
        if cible:
            remplies.add(cible)
        sortie.append(ligne)
    return sortie


def charger(con, source_id: str, path: Path, registry: dict | None = None) -> int:  # noqa: ANN001 (duckdb)
    """Load the downloaded file ``path`` of ``source_id`` with the registry's connector."""
    from territoires.sources import load_registry

    reg = registry if registry is not None else load_registry()
    if source_id not in reg:
        raise SourceError(f"source inconnue « {source_id} »")
    nom = reg[source_id].connecteur
    if not nom:
        raise SourceError(f"{source_id}: pas de connecteur déclaré dans le registre")
    module, _, fonction = nom.partition(":")
    if module not in TABLES or not fonction.startswith("charger"):
        raise SourceError(f"{source_id}: connecteur « {nom} » inconnu")
    fn = getattr(importlib.import_module(f"{__name__}.{module}"), fonction, None)
    if fn is None:
        raise SourceError(f"{source_id}: connecteur « {nom} » introuvable")
    return fn(con, Path(path))


# --- helpers shared by the connectors ----------------------------------------------------


def lit(value: str | Path) -> str:
    """A SQL string literal (DuckDB table functions take their path as a constant)."""
    return "'" + str(value).replace("'", "''") + "'"


def preparer(con) -> None:  # noqa: ANN001
    con.execute("create schema if not exists raw")


def colonnes(con, relation: str) -> list[str]:  # noqa: ANN001
    """Column names of a relation (``read_csv(…)``…), read from its header only."""
    return [row[0] for row in con.execute(f"describe select * from {relation}").fetchall()]


def exiger(path: Path, presentes: list[str], requises: list[str]) -> None:
    manquantes = [c for c in requises if c not in presentes]
    if manquantes:
        raise SourceError(
            f"{path}: colonne(s) manquante(s) : {', '.join(manquantes)} "
            f"(trouvées : {', '.join(presentes) or 'aucune'}) — format du producteur changé ?"
        )


def ou_null(nom: str, presentes: list[str], sql: str | None = None) -> str:
    """``sql`` (default: the quoted column) when the column is present, else NULL."""
    return (sql or f'"{nom}"') if nom in presentes else "null"


def vide_null(nom: str) -> str:
    """An empty text cell as NULL (csv.DictWriter writes None as "")."""
    return f"nullif(trim(\"{nom}\"), '')"


def entier(expr: str) -> str:
    """A count written with spaces as thousands separators (``1 226``) → BIGINT."""
    return (f"try_cast(nullif(replace(replace(replace(trim({expr}), ' ', ''), chr(160), ''), chr(8239), ''), '')"
            " as bigint)")


def encodage(path: Path, echantillon: int = 1 << 20) -> str:
    """``utf-8`` when the first megabyte decodes as UTF-8, else ``latin-1``."""
    import gzip

    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read(echantillon)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 4:  # a character cut by the sample's end
            return "utf-8"
        return "latin-1"
    return "utf-8"


def compter(con, table: str) -> int:  # noqa: ANN001
    return con.execute(f"select count(*) from {table}").fetchone()[0]
