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
warning (:func:`territoires.sources.etapes.desaccords_millesimes`).

The registry's ``connecteur`` field (``module:fonction``) names the loader of each
source and its ``table`` field the raw table it fills; the ``[[table]]`` entries say
what each table serves, its annexes and its empty shape (:class:`~territoires.sources.TableRaw`).
:func:`charger` dispatches on the connector; nothing here lists the sources. The ANCT ``adherents`` and ``souscriptions``
exports are read by the register readers of :mod:`territoires.members`, not here.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from territoires.encodages import Lisible, en_utf8
from territoires.entrepot.litteraux import litteral
from territoires.sources.erreurs import SourceError
from territoires.sources import load_registry, load_tables
from territoires.sources.presence import telechargements_presents

def creer_vides(con, tables: set[str] | None = None, declarees: dict | None = None) -> None:  # noqa: ANN001
    """Create, empty, every table of the registry with an empty shape (``vide``) that no
    source filled (only those of ``tables`` when given)."""
    existantes = {f"{s}.{t}" for s, t in con.execute("select schema_name, table_name from duckdb_tables()").fetchall()}
    for t in (declarees or load_tables()).values():
        if t.vide and t.nom not in existantes and (tables is None or t.nom in tables):
            preparer(con, spatial="geometry(" in t.vide.lower())
            con.execute(f"create table {t.nom} ({t.vide})")


def repartir(raw_dir: Path, registry: dict) -> list[tuple]:
    """Each fetched source with a connector, in registry order: ``(Telechargement, table,
    chargee)``. When several fill the same table (the four generalisations of a contour
    level, DPNT as JSON and as CSV), the first loads it and the others are not loaded
    (``chargee`` false), never silently merged; sources sharing a table by design (the
    buyer profiles) all load."""

    partagees = {t.nom for t in load_tables().values() if t.partagee}
    remplies: set[str] = set()
    out = []
    for t in telechargements_presents(Path(raw_dir), registry):
        table = registry[t.source_id].table
        out.append((t, table, table in partagees or table not in remplies))
        remplies.add(table)
    return out


def charger_telechargees(con, raw_dir: Path, registry: dict | None = None, *,  # noqa: ANN001
                         departements: list[str] | None = None, tables: set[str] | None = None,
                         reparties: list[tuple] | None = None) -> list[dict]:
    """Load every fetched source that has a connector (only those filling ``tables`` when
    given); return one provenance row per source found (for ``marts.sources``): ``id,
    table, lignes, millesime, sha256, empreinte, url, chemin, telecharge_le``.

    Sources not fetched are skipped (the embedded data serve). A source whose table is
    already filled by another fetched source (:func:`repartir`) is reported with ``table``
    None and ``lignes`` 0. ``departements`` limits the contracts read from the DECP to the
    buyers of these départements (the build's scope); ``None``: the alliance's regions.
    ``reparties``: :func:`repartir`'s answer when the caller has it (a build, one step per
    table, looks at ``data/raw/`` once). A file that cannot be read raises a
    :class:`SourceError` naming it.
    """
    import duckdb

    reg = registry if registry is not None else load_registry()
    sortie = []
    for t, table, chargee in (reparties if reparties is not None else repartir(raw_dir, reg)):
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
                # the same bytes fetched again fail the same way: say so, and what helps
                raise SourceError(f"{t.chemin}: fichier téléchargé illisible pour la source {src.id} "
                                  f"({str(exc).splitlines()[0]}) — le format du producteur a sans doute changé : "
                                  "supprimez ce fichier (les données embarquées serviront) et signalez-le ; "
                                  f"s'il a été modifié ou abîmé après son téléchargement, `territoires fetch {src.id}` "
                                  "le remplace") from exc
        sortie.append(ligne)
    return sortie


def charger(con, source_id: str, path: Path, registry: dict | None = None, **options) -> int:  # noqa: ANN001
    """Load the downloaded file ``path`` of ``source_id`` with the registry's connector
    (``options``: the connector's own keywords, such as the DECP's ``departements``)."""
    reg = registry if registry is not None else load_registry()
    if source_id not in reg:
        raise SourceError(f"source inconnue « {source_id} »")
    nom = reg[source_id].connecteur
    if not nom:
        raise SourceError(f"{source_id}: pas de connecteur déclaré dans le registre")
    fonction = nom.partition(":")[2]
    try:
        fn = getattr(_module(nom), fonction, None) if fonction.startswith("charger") else None
    except ModuleNotFoundError:
        fn = None
    if fn is None:
        raise SourceError(f"{source_id}: connecteur « {nom} » introuvable (attendu : module:charger_…, le module "
                          f"sous territoires.sources.connecteurs ou un chemin pointé)")
    return fn(con, Path(path), **options)


def _module(connecteur: str):  # noqa: ANN202
    """The module of a registry's ``connecteur`` (``module:fonction`` under this package, or
    a dotted module path of its own)."""
    module = connecteur.partition(":")[0]
    return importlib.import_module(module if "." in module else f"{__name__}.{module}")


def millesimes_lus(con, src) -> dict[str, tuple[str, str]]:  # noqa: ANN001
    """The vintages the loaded file of ``src`` carries (``{cle: (millesime, preuve)}``),
    from its connector module's ``millesimes`` when it has one; ``{}`` otherwise."""
    if not src.connecteur:
        return {}
    lire = getattr(_module(src.connecteur), "millesimes", None)
    return lire(con) if lire is not None else {}


# --- helpers shared by the connectors ----------------------------------------------------


def preparer(con, spatial: bool = False) -> None:  # noqa: ANN001
    """The ``raw`` schema, and the spatial extension for a connector that needs it (contours
    are read by ``ST_Read`` into GEOMETRY in EPSG:4326): a build loads it only then."""
    con.execute("create schema if not exists raw")
    if spatial:
        from territoires.entrepot.connexion import load_spatial  # paresseux : charge duckdb

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


#: advice of an encoding error: a new download gives the same bytes
CONSEIL_ENCODAGE = ("télécharger à nouveau donnerait les mêmes octets : signalez le fichier à son producteur ; "
                    "en attendant, supprimez-le (les données embarquées serviront à sa place)")

#: ``maximum_object_size`` of every ``read_json``: one JSON value (the whole document for
#: a data.gouv.fr dataset description, one record of an array) may reach 256 MiB; DuckDB's
#: default, 16 MiB, is below the buyer-profile descriptions' possible size
TAILLE_OBJET_JSON = 256 * 1024 * 1024


@contextmanager
def texte(path: Path) -> Iterator[Lisible]:
    """The downloaded text file as DuckDB must read it (:func:`territoires.encodages.en_utf8`:
    UTF-8 with or without BOM, else cp1252 transcoded; gzip told by its bytes, so a ``.gz``
    served already decompressed is read as it is); an unreadable encoding raises a
    :class:`SourceError` with the byte offset."""
    with en_utf8(path, conseil=CONSEIL_ENCODAGE, erreur=SourceError) as lisible:
        yield lisible


def csv_duckdb(lisible: Lisible, options: str) -> str:
    """``read_csv`` of a :func:`texte` with the connector's ``options`` (delimiter, quoting…)."""
    return f"read_csv({litteral(lisible.chemin)}, {options}, compression='{lisible.compression}')"


def json_duckdb(lisible: Lisible, options: str, fonction: str = "read_json") -> str:
    """``read_json`` (or ``read_json_objects``) of a :func:`texte`, objects up to
    :data:`TAILLE_OBJET_JSON`."""
    return (f"{fonction}({litteral(lisible.chemin)}, {options}, compression='{lisible.compression}', "
            f"maximum_object_size={TAILLE_OBJET_JSON})")


def cles_json(con, lisible: Lisible, echantillon: int = 50) -> list[str]:  # noqa: ANN001
    """The keys of the first ``echantillon`` objects of a JSON list: with explicit columns,
    DuckDB reads an absent key as NULL without a word, so a connector checks a sample."""
    objets = json_duckdb(lisible, "format='array'", "read_json_objects")
    return sorted({r[0] for r in con.execute(
        f"select unnest(json_keys(j)) from (select json as j from {objets} limit {int(echantillon)})").fetchall()})


def compter(con, table: str) -> int:  # noqa: ANN001
    return con.execute(f"select count(*) from {table}").fetchone()[0]
