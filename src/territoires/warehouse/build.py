"""``territoires build``: raw → staging → intermediate → marts, into one DuckDB file.

The build writes a temporary file next to the warehouse and swaps it in with
``os.replace`` only when every model and every declared test passed: a crash or
Ctrl-C leaves the previous warehouse untouched, and open readers keep their view.

- An unchanged rebuild (same inputs, same SQL, same scope) is detected from a
  fingerprint stored in ``meta.build`` and returns at once.
- Otherwise the temporary file starts as a copy of the previous warehouse and only the
  tables whose inputs changed are recomputed (:mod:`.reprise`): importing a member
  register does not recompute geometry. ``force`` starts from an empty file.
- The geometry's tables are also kept outside the warehouse, by their fingerprint
  (:mod:`.cache`): an empty warehouse, or a scope built again after another, reads them
  back instead of computing them.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import shutil
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from territoires import paquet
from territoires import empreintes, interruptions, niveaux, operateurs
from territoires.config import ALLIANCE_REGIONS, settings
from territoires.entrepot.connexion import WarehouseError, load_spatial  # noqa: F401
from territoires.entrepot.etapes import BuildError, Etape
from territoires.entrepot.litteraux import inserer, liste_texte, litteral
from territoires.indicators import load as indicateurs
from territoires.members import etapes as etapes_membres
from territoires.members.registres import empreinte_correspondances, fichiers_registres
from territoires.progress import Progress
from territoires.sonde import etapes as etapes_sonde
from territoires.sonde.journal import DOSSIER as DOSSIER_SONDES
from territoires.sources import Source, SourceError, embedded_path, load_registry, verify  # noqa: F401
from territoires.sources import etapes as etapes_sources
from territoires.sources.etapes import repo_file, valid_departements, valid_regions
from territoires.sources.presence import empreinte_telechargees
from territoires import historique
from territoires.warehouse import dictionnaire, parallele
from territoires.warehouse.cache import DOSSIER as DOSSIER_CACHE, CacheModeles
from territoires.warehouse.modeles import (LAYERS, Model, model_test_failures, models, parse_model,  # noqa: F401
                                           tables_lues, verifier_brutes)
from territoires.warehouse.reprise import Reprise

#: the module whose reachable code (:mod:`territoires.empreintes`) invalidates every table
#: when it changes (the reuse between builds included)
ENTREE = __name__


@dataclass
class BuildResult:
    path: Path
    skipped: bool
    seconds: float
    regions: tuple[str, ...] | None
    warnings: list[str] = field(default_factory=list)
    #: tables kept from the previous warehouse (inputs unchanged)
    reprises: list[str] = field(default_factory=list)
    #: tables read back from the cache kept between builds (:mod:`.cache`)
    du_cache: list[str] = field(default_factory=list)


def _sel() -> str:
    """What every table's fingerprint includes: versions and the build code."""
    h = hashlib.sha256()
    h.update(paquet.__version__.encode())
    h.update(duckdb.__version__.encode())
    h.update(empreintes.empreinte(ENTREE).encode())
    return h.hexdigest()


def _fingerprint(registry: dict[str, Source], regions, departements, operateurs_file: Path | None = None,
                 adherents_dir: Path | None = None, raw_dir: Path | None = None,
                 sondes_dir: Path | None = None, sel: str | None = None, modeles: list[Model] | None = None) -> str:
    """The whole build's fingerprint; ``sel`` (:func:`_sel`) and ``modeles`` (:func:`models`)
    when the caller has them already (each costs about 0.05 s)."""
    h = hashlib.sha256()
    h.update(json.dumps(departements).encode())
    h.update((sel or _sel()).encode())
    h.update(json.dumps(regions).encode())
    h.update((operateurs_file or operateurs.PAQUET).read_bytes())
    if adherents_dir is not None:  # the member registers: an import changes the warehouse
        h.update(repr([(f.nom, f.sha256) for f in fichiers_registres(adherents_dir, operateurs_file=operateurs_file)]
                      + empreinte_correspondances(adherents_dir)).encode())
    if raw_dir is not None:  # the official sources fetched under data/raw/ (recorded hash, size, date)
        h.update(repr(empreinte_telechargees(raw_dir, registry)).encode())
    if sondes_dir is not None:  # the probe's journals (territoires sonde)
        h.update(etapes_sonde.empreinte(sondes_dir).encode())
    h.update(niveaux.FICHIER.read_bytes())
    h.update(dictionnaire.FICHIER.read_bytes())
    for src in registry.values():
        h.update(repr(src).encode())
        path = repo_file(src)
        if path is not None and path.is_file():
            h.update(path.read_bytes())
    for path in indicateurs.FICHIERS:  # indicator lists and catalogue (their code is in _sel)
        h.update(path.read_bytes())
    for m in modeles if modeles is not None else models():
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


def _valid_scope(registry, raw_dir: Path, regions, departements):
    """Checked and normalised ``(regions, departements)``; French errors list the choices."""
    if regions is not None:
        regions = tuple(sorted({r.strip() for r in regions if r.strip()}))
        known = valid_regions(registry, raw_dir)
        unknown = [r for r in regions if r not in known]
        if unknown or not regions:
            choices = ", ".join(f"{c} ({n})" for c, n in sorted(known.items()))
            raise BuildError(f"région(s) inconnue(s) {unknown or '(aucune)'} ; codes valides : {choices}")
    if departements:
        departements = tuple(sorted({d.strip().upper() for d in departements if d.strip()}))
        known_deps = valid_departements(registry, raw_dir)
        unknown = [d for d in departements if d not in known_deps]
        if unknown:
            raise BuildError(f"département(s) inconnu(s) {unknown} ; codes valides : {', '.join(sorted(known_deps))}")
        regions = tuple(sorted({known_deps[d] for d in departements}))
    return regions, departements


#: what a model's SQL needs on the connection, loaded only when a model to run uses it:
#: the UDFs and macros of the indicators (``tn_…``), the spatial extension (``ST_…``);
#: a build that reuses those tables (a register import) skips both
_BESOINS = {"fonctions": re.compile(r"\btn_[a-z_]+\s*\(", re.I), "spatial": re.compile(r"\bST_[a-z_]+\s*\(", re.I)}


def _tables_crs(con) -> set[str]:
    """The tables holding a geometry with a coordinate system (GEOMETRY('EPSG:4326')).
    Read once, before the models: a model can only make a new one by reading one of these
    or calling an ``ST_`` function, and either loads the spatial extension first, after
    which :func:`_preparer` no longer asks."""
    return {f"{s}.{t}" for s, t in con.execute(
        "select distinct schema_name, table_name from duckdb_columns() where data_type like 'GEOMETRY(%'").fetchall()}


def _preparer(con, sql: str, prets: set[str], crs: set[str]) -> None:
    """Load on ``con`` what ``sql`` needs and is not loaded yet (:data:`_BESOINS`); a model
    reading a geometry with a coordinate system (``crs``, :func:`_tables_crs`) needs the
    spatial extension too, even without calling an ``ST_`` function."""
    if "spatial" not in prets and tables_lues(sql) & crs:
        load_spatial(con)
        prets.add("spatial")
    for besoin, motif in _BESOINS.items():
        if besoin not in prets and motif.search(sql):
            if besoin == "spatial":
                load_spatial(con)
            else:
                indicateurs.register_functions(con)
            prets.add(besoin)


def _perimetre(regions: tuple[str, ...] | None, departements: tuple[str, ...] | None) -> Etape:
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
    return Etape("raw.perimetre", ("raw.perimetre",), json.dumps([regions, departements]), charger)


def etapes(registry: dict[str, Source], raw_dir: Path, regions, departements, operateurs_file: Path,
           sondes_dir: Path | None = None, partage: Path | None = None) -> list[Etape]:
    """The loading steps of ``raw``, in order, each from the package that owns its input
    (the member registers' step runs later, once staging is built: :func:`_run`).
    ``partage``: the machine's folder where the embedded data is decompressed once."""
    deps = etapes_sources.departements_du_perimetre(registry, raw_dir, regions, departements)
    return [*etapes_sources.etapes_embarquees(registry, raw_dir, partage),
            operateurs.etape(operateurs_file), niveaux.etape(), indicateurs.etape(),
            _perimetre(regions, departements), etapes_membres.etape_taxonomie(),
            *etapes_sources.etapes_telechargees(registry, raw_dir, deps),
            etapes_sonde.etape(sondes_dir if sondes_dir is not None else raw_dir.parent / "processed" / DOSSIER_SONDES)]


def _connexion_modeles(con) -> None:
    """What a connection running models needs of its own (a cursor does not inherit it):
    the indicators' SQL variables, no progress bar (the build says its own progress)."""
    con.execute("SET enable_progress_bar = false")
    indicateurs.set_criteres(con)


def _lancer(con, model: Model, cache: CacheModeles) -> None:
    """Create one model's table or view on ``con`` (or read it from ``cache``, for a
    model kept there), then run its declared tests."""
    garde = model.materialisation == "cache"
    lue = garde and cache.lire(con, model)
    if not lue:
        try:
            con.execute(f"create or replace {model.sorte} {model.table} as\n{model.sql}")
        except duckdb.Error as exc:
            raise BuildError(f"{model.path}: le modèle {model.table} a échoué ({exc})") from exc
    failures = model_test_failures(con, model)
    if failures:
        raise BuildError(f"{model.path}: tests du modèle en échec : " + " ; ".join(failures))
    if garde and not lue:
        cache.ecrire(con, model)


def _modeles(con, reprise: Reprise, modeles: list[Model], prets: set[str], crs: set[str], progress: Progress,
             voies: int, cache: CacheModeles) -> None:
    """Run those of ``modeles`` whose inputs changed, on ``voies`` connections at once
    (:mod:`.parallele`); what they need is loaded first on ``con``, which the cursors share."""
    a_faire = [m for m in modeles if not reprise.a_jour((m.table,), reprise.empreinte_modele(m.sql))]
    for model in a_faire:
        reprise.preparer(model.table, model.sorte)
        _preparer(con, model.sql, prets, crs)
    parallele.executer(con, a_faire, functools.partial(_lancer, cache=cache), progress, voies,
                       preparer=_connexion_modeles)


def _run(con, reprise: Reprise, all_models: list[Model], registry, cfg, regions, departements,
         progress: Progress, voies: int) -> CacheModeles:
    """Load ``raw`` and run every model, keeping what is unchanged; returns the cache of
    the models kept between builds (which of them it gave back)."""
    con.execute("create schema if not exists raw")
    raw_dir = cfg.raw_dir
    liste = etapes(registry, raw_dir, regions, departements, cfg.operateurs_file, cfg.processed_dir / DOSSIER_SONDES,
                   cfg.partage)
    # the member registers and raw.sources are loaded after staging (below)
    verifier_brutes(all_models, (t for e in liste for t in e.tables), (*etapes_membres.TABLES_ADHERENTS, "raw.sources"))
    progress.total = len(liste) + 1 + len(all_models)  # the member registers' step included
    for etape in liste:
        if reprise.a_jour(etape.tables, etape.empreinte, etape.facultatives):
            continue
        with progress.step(etape.libelle):
            reprise.supprimer(etape.tables)
            etape.charger(con)
    _connexion_modeles(con)
    prets: set[str] = set()
    crs = _tables_crs(con)
    cache = CacheModeles(cfg.processed_dir / DOSSIER_CACHE, reprise.nouvelles)
    for schema in LAYERS:
        con.execute(f"create schema if not exists {schema}")
    # staging, then the member registers (they attach to staging.communes / staging.epci),
    # then the rest
    _modeles(con, reprise, [m for m in all_models if m.schema == "staging"], prets, crs, progress, voies, cache)
    etape = etapes_membres.etape_adherents(
        raw_dir / "adherents", tuple(reprise.nouvelles.get(t) for t in ("staging.communes", "staging.epci")),
        cfg.operateurs_file, etapes_sources.anct_telechargees(raw_dir, registry),
        cache=cfg.processed_dir / etapes_membres.CACHE_REGISTRES)
    if not reprise.a_jour(etape.tables, etape.empreinte):
        with progress.step(etape.libelle):
            reprise.supprimer(etape.tables)
            etape.charger(con)
    etapes_sources.enregistrer_sources(con, registry)
    _modeles(con, reprise, [m for m in all_models if m.schema != "staging"], prets, crs, progress, voies, cache)
    cache.elaguer()
    reprise.nouvelles["raw.sources"] = reprise.jeton
    for t in historique.OBJETS:  # kept: not derived from raw data
        reprise.nouvelles[f"marts.{t}"] = "historique"
    reprise.nettoyer(("raw", *LAYERS))
    return cache


def _copier(source: Path, copie: Path) -> None:
    """Copy the previous warehouse to start from, and have the copy written to disk in a
    thread meanwhile: DuckDB's first checkpoint syncs the file, which otherwise waits there
    for the whole copy (0.2 s for the four regions' 96 MB, a fifth of a rebuild after a
    register import) instead of while the build reads and validates."""
    shutil.copyfile(source, copie)

    def ecrire() -> None:
        try:
            fd = os.open(copie, os.O_RDONLY)
        except OSError:  # removed already (the build failed at once): nothing to write
            return
        try:
            os.fsync(fd)
        except OSError:  # the build's own checkpoint syncs it and says what fails
            pass
        finally:
            os.close(fd)

    threading.Thread(target=ecrire, name="copie-entrepot", daemon=True).start()


def build(
    regions: tuple[str, ...] | None = ALLIANCE_REGIONS,
    *,
    home: str | os.PathLike | None = None,
    quiet: bool = False,
    force: bool = False,
    departements: tuple[str, ...] | None = None,
    voies: int | None = None,
) -> BuildResult:
    """Build the warehouse for ``regions`` (``None`` = all of France), or for a slice of
    ``departements`` (a small real warehouse, for tests and quick looks). ``voies``: how
    many models run at once (default :func:`.parallele.voies_par_defaut`).

    Raises BuildError, SourceError or WarehouseError with a message naming the file
    and the reason; the previous warehouse is then left untouched.
    """
    cfg = settings(home)
    progress = Progress(quiet=quiet)
    t0 = time.perf_counter()
    registry = load_registry()
    # verify every embedded file, even for an unchanged rebuild: a corrupted
    # file must stop the build whatever the fingerprint says
    for src in etapes_sources.embarquees(registry):
        verify(embedded_path(src), src.sha256, src.id)
    regions, departements = _valid_scope(registry, cfg.raw_dir, regions, departements)
    sel, all_models = _sel(), models()
    fingerprint = _fingerprint(registry, regions, departements, cfg.operateurs_file, cfg.raw_dir / "adherents",
                               cfg.raw_dir, cfg.processed_dir / DOSSIER_SONDES, sel, all_models)
    target = cfg.warehouse
    precedente = None if force else _stored_fingerprint(target)
    if precedente == fingerprint:
        progress.say(f"Entrepôt à jour : {target}")
        return BuildResult(target, True, time.perf_counter() - t0, regions)

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        leftover.unlink(missing_ok=True)
    scope_label = ("départements " + ", ".join(departements) if departements
                   else "France entière" if regions is None else "régions " + ", ".join(regions))
    progress.say(f"Construction de l'entrepôt ({scope_label}) …")
    warnings: list[str] = []
    # a signal interrupts the running statement at once (con.interrupt()); if the build
    # cannot end in time, these files are removed before the process exits
    garde = contextlib.ExitStack()
    garde.enter_context(interruptions.temporaire(tmp, tmp.with_name(tmp.name + ".wal")))
    try:
        if precedente is not None:
            _copier(target, tmp)  # start from the previous build: unchanged tables are kept
        if precedente is None:  # every model runs: their UDFs' imports are warmed meanwhile
            threading.Thread(target=indicateurs.prechauffer, name="prechauffage", daemon=True).start()
        con = duckdb.connect(str(tmp))
        con.execute("SET enable_progress_bar = false")  # the build says its own progress
        # a commit that would grow the write-ahead log past 1 MB checkpoints instead: a
        # model's table (one row group, too small for DuckDB's direct writes) then goes
        # to the file once rather than into the log and again into the file
        con.execute("SET checkpoint_threshold = '1MB'")
        garde.enter_context(interruptions.connexion(con))
        try:
            reprise = Reprise(con, sel)
            cache = _run(con, reprise, all_models, registry, cfg, regions, departements, progress,
                         parallele.voies_par_defaut() if voies is None else voies)
            warnings += etapes_sources.desaccords_millesimes(con, registry)
            missing = con.execute(
                "select code, nom, code_departement from intermediate.perimetre_communes "
                "where code not in (select code from intermediate.communes_nettes) order by code"
            ).fetchall()
            if missing:
                names = ", ".join(f"{n} ({c}, dép. {d})" for c, n, d in missing)
                warnings.append(f"{len(missing)} commune(s) sans contour dans les données embarquées, "
                                f"conservées sans géométrie : {names}")
            # the indicators' history, kept beside the warehouse across builds
            construit_le = datetime.now(timezone.utc).replace(tzinfo=None)
            historique.enregistrer(con, cfg.processed_dir / historique.FICHIER, fingerprint,
                                   historique.millesimes(con), construit_le, perimetre=scope_label)
            historique.attacher(con, cfg.processed_dir / historique.FICHIER)
            sans_description = dictionnaire.commenter(con)  # COMMENT ON every marts table and column
            if sans_description:
                warnings.append("colonne(s) sans description dans warehouse/dictionnaire.toml : "
                                + ", ".join(sans_description))
            seconds = time.perf_counter() - t0
            reprise.enregistrer()
            valeurs = {"fingerprint": fingerprint, "regions": "all" if regions is None else ",".join(regions),
                       "departements": ",".join(departements or ()), "version": paquet.__version__,
                       "construit_le": construit_le, "duree_s": round(seconds, 3)}
            con.execute("create or replace table meta.build as select "
                        + ", ".join(f"{litteral(v)} as {k}" for k, v in valeurs.items())
                        + f", {liste_texte(warnings)} as avertissements")
            con.execute("checkpoint")
        finally:
            con.close()
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
        raise
    finally:
        garde.close()
    for w in warnings:
        progress.say("Attention : " + w)
    result = BuildResult(target, False, time.perf_counter() - t0, regions, warnings, reprise.reprises, cache.lues)
    if reprise.reprises:
        progress.say(f"{len(reprise.reprises)} table(s) reprise(s) de la construction précédente (entrées inchangées)")
    if cache.lues:
        progress.say(f"{len(cache.lues)} table(s) relue(s) de {cache.dossier} plutôt que recalculée(s) "
                     "(mêmes entrées ; supprimer ce dossier pour les recalculer)")
    progress.say(f"Entrepôt construit en {result.seconds:.1f} s : {target}")
    return result


__all__ = ["build", "BuildError", "BuildResult", "SourceError", "WarehouseError", "models"]
