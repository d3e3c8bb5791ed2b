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

A connector module may also define ``millesimes(con) -> {cle: (millesime, preuve)}``:
the vintages the loaded file itself carries (a column named ``pmun_2025``, a title, a
date field), read from the table it filled; :func:`millesimes_lus` calls it. The
vintage shown is then the file's, and a registry vintage that disagrees is a build
warning (:func:`territoires.warehouse.telechargees.desaccords_millesimes`).

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
    "banatic_groupements": ("raw.banatic_groupements",),
    "dpnt": ("raw.dpnt_organisations",),
    "insee_cog": ("raw.cog_communes", "raw.cog_departements", "raw.cog_regions", "raw.cog_mouvements",
                  "raw.cog_passage"),
    "populations": ("raw.populations",),
    "contours": ("raw.contours_communes", "raw.contours_epci", "raw.contours_departements", "raw.contours_regions"),
    "annuaire": ("raw.annuaire",),
}

#: tables a connector makes beside its own (the change file's code passage table)
ANNEXES = {"raw.cog_mouvements": ("raw.cog_passage",)}

#: the raw table each connector (re)creates; ``None``: it adds the rows of its source
#: beside those of the others (the three buyer-profile datasets share one table)
CIBLES = {
    "anct:charger_operateurs": "raw.anct_operateurs",
    "anct:charger_services": "raw.anct_services",
    "anct:charger_deploiement": "raw.anct_deploiement",
    "decp:charger_decp": "raw.decp_marches",
    "decp:charger_profil": None,
    "banatic:charger_perimetre": "raw.banatic_perimetre",
    "banatic_groupements:charger_groupements": "raw.banatic_groupements",
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


#: the raw tables the build's models read, created empty when their source is not fetched
#: (the embedded data then serve and every comparison with them is empty); a test checks
#: each connector's fixture loads at least these columns with these types
VIDES = {
    "raw.populations": "code_insee varchar, pmun bigint, pcap bigint, ptot bigint, niveau varchar, "
                       "reconstituee boolean",
    "raw.cog_communes": "typecom varchar, com varchar, reg varchar, dep varchar, libelle varchar, comparent varchar",
    "raw.annuaire": "id varchar, nom varchar, siret varchar, siren varchar, types_service_local varchar[], "
                    "codes_insee varchar[], codes_mairie varchar[], code_insee_commune varchar, "
                    "courriels varchar[], sites varchar[], telephones varchar[], date_modification timestamp",
    "raw.banatic_perimetre": "epci_siren varchar, epci_nom varchar, commune_insee varchar, commune_siren varchar, "
                             "commune_population_municipale bigint, millesime_population varchar",
    "raw.banatic_groupements": "groupement_siren varchar, groupement_nom varchar, nature_juridique varchar, "
                               "membre_siren varchar, membre_nom varchar, categorie_membre varchar, "
                               "departement varchar, date_creation date, date_effet date",
    "raw.dpnt_organisations": "type varchar, siret varchar, siren varchar, libelle varchar, code_insee varchar, "
                              "population bigint, rpnt varchar[]",
    "raw.contours_communes": "code varchar, nom varchar, geom geometry('EPSG:4326')",
    "raw.anct_deploiement": "type varchar, siret varchar, insee varchar, population bigint, service_id varchar, "
                            "active boolean",
}


def _vide_decp() -> str:
    from territoires.sources.connecteurs.decp import COLONNES

    return ", ".join(f"{dst} {typ}" for dst, typ in COLONNES.values())


def creer_vides(con, tables: set[str] | None = None) -> None:  # noqa: ANN001
    """Create, empty, every table of :data:`VIDES` (and ``raw.decp_marches``) not loaded
    (only those of ``tables`` when given)."""
    existantes = {f"{s}.{t}" for s, t in con.execute("select schema_name, table_name from duckdb_tables()").fetchall()}
    for table, colonnes_sql in {**VIDES, "raw.decp_marches": _vide_decp()}.items():
        if table not in existantes and (tables is None or table in tables):
            preparer(con, spatial="geometry(" in colonnes_sql.lower())
            con.execute(f"create table {table} ({colonnes_sql})")


def table_de(src) -> str:  # noqa: ANN001
    """The raw table a source's connector fills (a table shared by several sources, such as
    the buyer profiles', included)."""
    cible = CIBLES.get(src.connecteur, "?")
    if cible is None:
        module = src.connecteur.partition(":")[0]
        return next(t for t in TABLES[module] if t not in CIBLES.values())
    return cible


def repartir(raw_dir: Path, registry: dict) -> list[tuple]:
    """Each fetched source with a connector, in registry order: ``(Telechargement, table,
    chargee)``. When several fill the same table (the four generalisations of a contour
    level, DPNT as JSON and as CSV), the first loads it and the others are not loaded
    (``chargee`` false), never silently merged; sources sharing a table by design (the
    buyer profiles) all load."""
    from territoires.sources.presence import telechargements_presents

    remplies: set[str] = set()
    out = []
    for t in telechargements_presents(Path(raw_dir), registry):
        src = registry[t.source_id]
        table, partagee = table_de(src), CIBLES.get(src.connecteur, "?") is None
        out.append((t, table, partagee or table not in remplies))
        remplies.add(table)
    return out


def charger_telechargees(con, raw_dir: Path, registry: dict | None = None, *,  # noqa: ANN001
                         departements: list[str] | None = None, tables: set[str] | None = None) -> list[dict]:
    """Load every fetched source that has a connector (only those filling ``tables`` when
    given); return one provenance row per source found (for ``marts.sources``): ``id,
    table, lignes, millesime, sha256, empreinte, url, chemin, telecharge_le``.

    Sources not fetched are skipped (the embedded data serve). A source whose table is
    already filled by another fetched source (:func:`repartir`) is reported with ``table``
    None and ``lignes`` 0. ``departements`` limits the contracts read from the DECP to the
    buyers of these départements (the build's scope); ``None``: the alliance's regions.
    A file that cannot be read raises a :class:`SourceError` naming it.
    """
    import duckdb

    from territoires.sources import load_registry

    reg = registry if registry is not None else load_registry()
    sortie = []
    for t, table, chargee in repartir(raw_dir, reg):
        if tables is not None and table not in tables:
            continue
        src = reg[t.source_id]
        ligne = {"id": src.id, "table": table if chargee else None, "lignes": 0, "millesime": t.millesime,
                 "sha256": t.fiche.get("sha256", ""), "empreinte": src.empreinte,
                 "url": t.fiche.get("url", src.url), "chemin": str(t.chemin),
                 "telecharge_le": t.fiche.get("telecharge_le", "")}
        if chargee:
            options = {"departements": departements} if src.connecteur == "decp:charger_decp" and departements else {}
            try:
                ligne["lignes"] = charger(con, src.id, t.chemin, reg, **options)
            except duckdb.Error as exc:
                raise SourceError(f"{t.chemin}: fichier téléchargé illisible pour la source {src.id} "
                                  f"({str(exc).splitlines()[0]}) — supprimez-le ou téléchargez-le à nouveau "
                                  f"(territoires fetch {src.id})") from exc
        sortie.append(ligne)
    return sortie


def charger(con, source_id: str, path: Path, registry: dict | None = None, **options) -> int:  # noqa: ANN001
    """Load the downloaded file ``path`` of ``source_id`` with the registry's connector
    (``options``: the connector's own keywords, such as the DECP's ``departements``)."""
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
    return fn(con, Path(path), **options)


def millesimes_lus(con, src) -> dict[str, tuple[str, str]]:  # noqa: ANN001
    """The vintages the loaded file of ``src`` carries (``{cle: (millesime, preuve)}``),
    from its connector module's ``millesimes`` when it has one; ``{}`` otherwise."""
    if not src.connecteur:
        return {}
    module = importlib.import_module(f"{__name__}.{src.connecteur.partition(':')[0]}")
    lire = getattr(module, "millesimes", None)
    return lire(con) if lire is not None else {}


# --- helpers shared by the connectors ----------------------------------------------------


def preparer(con, spatial: bool = False) -> None:  # noqa: ANN001
    """The ``raw`` schema, and the spatial extension for a connector that needs it (contours
    are read by ``ST_Read`` into GEOMETRY in EPSG:4326): a build loads it only then."""
    con.execute("create schema if not exists raw")
    if spatial:
        from territoires.entrepot.connexion import load_spatial

        load_spatial(con)


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
