"""Batch runner: ``territoires report`` executes the report notebooks with papermill,
many at once, and publishes the HTML pages, the index and the manifest.

Scheduling only: each worker process (:mod:`.travailleur`) keeps one Jupyter kernel
(:mod:`.noyau`) for all its pages; :mod:`.manifeste` decides which pages are up to date
(same warehouse build, same notebook, same parameters, same report code: skipped unless
``force``) and writes ``manifest.json``. A failing page does not stop the others and
keeps its previous files: the manifest records the failure, its reason and the date and
age of the page kept (``conservee``), and the index keeps linking it. With ``all`` or
``communes`` it also writes the printable fiche of every commune (:mod:`.fiches`: one
pass, no notebook), in a thread while the workers render the pages (:class:`_Fiches`). An interrupted batch (SIGINT, SIGTERM) stops its workers and their
kernels, then records the interrupted run in the manifest before the command exits.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from territoires import paquet
from territoires import interruptions, niveaux
from territoires.config import settings
from territoires.entrepot.connexion import connect
from territoires.progress import Progress
from territoires.reports import donnees, fiches, index, manifeste, niveau as page_niveau, niveau_disque, site
from territoires.reports.noyau import Noyau, anticipe, kernel_env
from territoires.reports.publication import write_assets, write_atomic
from territoires.reports.travailleur import NOTEBOOKS, Travailleur, init_worker, run_page

# ── the batch ───────────────────────────────────────────────────────────────

@dataclass
class Rapport:
    """Outcome of a run."""

    pages: list[dict[str, Any]] = field(default_factory=list)
    duree_s: float = 0.0
    manifest: Path | None = None
    index: Path | None = None
    #: the commune fiches of this run (number, seconds, bytes), ``None`` when none were asked
    fiches: dict[str, Any] | None = None

    @property
    def echecs(self) -> list[dict[str, Any]]:
        return [p for p in self.pages if p["statut"] == "echec"]

    @property
    def produites(self) -> list[dict[str, Any]]:
        return [p for p in self.pages if p["statut"] == "ok" and not p.get("ignoree")]

    @property
    def a_jour(self) -> list[dict[str, Any]]:
        return [p for p in self.pages if p.get("ignoree")]


def _default_notebooks(home: Path) -> Path:
    """``<home>/notebooks/reports``, else those the package ships (:func:`territoires.paquet.notebooks_dir`:
    the source checkout's in an editable install, as ``make install`` does, the wheel's
    copy otherwise): a TERRITOIRES_HOME that only holds data and reports still gets the
    project's notebooks."""
    candidates = [home / "notebooks" / "reports"]
    try:
        candidates.append(paquet.notebooks_dir() / "reports")
    except FileNotFoundError:
        pass
    for c in candidates:
        if all((c / n).is_file() for n in NOTEBOOKS):
            return c
    return candidates[0]


def run(
    portee: str = "all",
    *,
    jobs: int | None = None,
    force: bool = False,
    single_file: bool = False,
    quiet: bool = False,
    home: str | os.PathLike | None = None,
    notebooks_dir: str | os.PathLike | None = None,
    timeout: float | None = 900,
    noyau: Noyau | None = None,
) -> Rapport:
    """Produce the pages of ``portee`` under ``reports/``; see the module docstring.
    ``noyau``: a kernel the caller launched already (:func:`.noyau.anticipe`), for the one
    worker that this process will be."""
    cfg = settings(home)
    # « communes »: the commune fiches, made in one pass without notebooks (also part of « all »)
    demandee = portee
    avec_fiches, portee = fiches.separer(portee)
    reports_dir = cfg.reports_dir
    nb_dir = Path(notebooks_dir) if notebooks_dir else _default_notebooks(cfg.home)
    for name in NOTEBOOKS:
        if not (nb_dir / name).is_file():
            raise RuntimeError(f"{nb_dir / name}: carnet introuvable — lancez depuis la racine du projet "
                               "(ou TERRITOIRES_HOME) ou passez --carnets")
    env = kernel_env()
    cpu = os.cpu_count() or 1
    # one worker, and this process will be it: its kernel boots while we look at the site
    early = (noyau or anticipe(cfg.home, cfg.warehouse, jobs)) if portee else None
    if noyau is not None and early is None:
        noyau.arreter()  # « communes » alone: no page, no kernel
    # the code's fingerprint by a thread, while DuckDB (which lets it run) reads the site below
    pool = ThreadPoolExecutor(max_workers=1)
    empreinte_code = pool.submit(manifeste.code_fingerprint, nb_dir)
    pool.shutdown(wait=False)
    try:
        # names, codes and vintages only: no spatial extension
        con = connect(cfg.warehouse, spatial=False)
    except BaseException:
        if early:
            early.arreter()
        raise
    try:
        pages = site.pages(con, portee) if portee or not avec_fiches else []
        vintages = donnees.millesimes(con)
        construction = donnees.construction(con)
    finally:
        con.close()

    t0 = time.perf_counter()
    reports_dir.mkdir(parents=True, exist_ok=True)
    write_assets(reports_dir)
    code_fp = empreinte_code.result()
    manifest_path = reports_dir / "manifest.json"
    old = {p["portee"]: p for p in manifeste.load_manifest(manifest_path).get("pages", [])}

    entries: dict[str, dict[str, Any]] = {}
    todo: list[site.Page] = []
    for p in pages:
        key = manifeste.page_key(p, construction["empreinte"], code_fp, single_file)
        entry = {
            "portee": p.portee, "genre": p.genre, "niveau": p.niveau, "code": p.code, "nom": p.nom,
            "notebook": p.notebook,
            "parametres": p.parametres, "page": p.html, "carnet_execute": f"{cfg.audit_dir.name}/{p.ipynb}", "cle": key,
            "millesimes": vintages, "version": paquet.__version__, "statut": "en_attente",
            "duree_s": None, "erreur": None,
        }
        prev = old.get(p.portee)
        if (not force and prev and prev.get("statut") == "ok" and prev.get("cle") == key
                and (reports_dir / p.html).is_file() and (cfg.audit_dir / p.ipynb).is_file()):
            entry = {**prev, "ignoree": True}
        else:
            todo.append(p)
        entries[p.portee] = entry

    jobs = max(1, min(jobs or cpu, len(todo) or 1))
    worker_args = {"home": str(cfg.home), "reports_dir": str(reports_dir), "audit_dir": str(cfg.audit_dir),
                   "entrepot": str(cfg.warehouse),
                   "notebooks_dir": str(nb_dir),
                   "single_file": single_file, "timeout": timeout, "env": env}

    en_cours = {p.portee for p in todo}  # the index looks at the other pages while these run
    autres = [e["page"] for e in {**old, **entries}.values() if e["portee"] not in en_cours]
    lu_index = _LectureIndex(cfg.warehouse, reports_dir, [p for p in autres if isinstance(p, str)], avec_fiches)
    # more pages than workers: each level's page data computed once here, read by every kernel
    par_niveau = _DonneesNiveaux(cfg.warehouse, construction["empreinte"], todo) if len(todo) > jobs else None
    # workers in their own processes: the fiches are written here meanwhile
    en_fond = _Fiches(reports_dir, cfg.warehouse, _liens({**old, **entries}.values(), reports_dir, todo)) \
        if avec_fiches and todo and jobs > 1 else None
    interruption: KeyboardInterrupt | None = None
    pages_faites = False
    # this process's kernels: killed when the pages end, reaped once the index is written
    noyaux = [early] if early is not None else []
    try:
        if todo:
            if par_niveau is not None:
                par_niveau.lancer()
            if en_fond is not None:
                en_fond.lancer(par_niveau.fil if par_niveau is not None else None)
            _execute_all(todo, entries, jobs, worker_args, quiet, early, lu_index.lancer, noyaux)
        pages_faites = True
    except KeyboardInterrupt as exc:  # recorded in the manifest, then raised again
        interruption = exc
    finally:
        if en_fond is not None and not pages_faites:
            en_fond.arreter()
        if par_niveau is not None:
            par_niveau.finir(0.5 if interruption is not None else None)
        for n in noyaux:
            n.tuer()
    if interruption is not None:
        for e in entries.values():
            if e["statut"] == "en_attente":
                e.update(statut="interrompue", erreur="page non exécutée : la commande a été interrompue")
        # temporaries of workers that were killed before they could remove them
        for tmp in interruptions.orphelins(reports_dir, cfg.audit_dir):
            tmp.unlink(missing_ok=True)
    for p in pages:
        if entries[p.portee]["statut"] in ("echec", "interrompue"):
            _page_conservee(entries[p.portee], reports_dir / p.html)

    duree = round(time.perf_counter() - t0, 2)
    merged = {**old, **entries}
    ordre = {n: i for i, n in enumerate(niveaux.PAGES)}
    all_pages = sorted(merged.values(), key=lambda e: (e.get("genre", "tableau") != "tableau",
                                                       ordre.get(e.get("niveau"), 9), e.get("code", "")))
    rapport = Rapport(pages=[entries[p.portee] for p in pages], duree_s=duree)
    if avec_fiches and interruption is None:
        liens = _liens(all_pages, reports_dir)
        try:
            res = en_fond.resultat(liens) if en_fond is not None else fiches.ecrire(reports_dir, cfg.warehouse, liens)
        except KeyboardInterrupt as exc:  # the fiches written are whole; recorded like the pages
            interruption = exc
            if en_fond is not None:
                en_fond.arreter()
        else:
            rapport.fiches = {"nombre": res.n, "duree_s": res.duree_s, "octets": res.octets}
    manifest = {
        "genere_le": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "version": paquet.__version__,
        "entrepot": {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in construction.items()},
        "derniere_execution": {
            "portee": demandee, "jobs": jobs, "force": force, "single_file": single_file, "duree_s": duree,
            "pages": len(pages), "produites": len(rapport.produites), "a_jour": len(rapport.a_jour),
            "echecs": len(rapport.echecs),
            "interrompue": _signal(interruption),
            "fiches_communes": rapport.fiches,
        },
        "pages": [{k: v for k, v in e.items() if k != "ignoree"} for e in all_pages],
    }
    try:
        write_atomic(manifest_path, manifeste.manifest_json(manifest))
        rapport.manifest = manifest_path
        rapport.index = index.write_index(reports_dir, manifest, cfg.warehouse, lu_index.resultat())
    finally:
        for n in noyaux:
            n.arreter()
    if interruption is not None:
        raise interruption
    return rapport


def _liens(pages, reports_dir: Path, a_faire: list[site.Page] = ()) -> dict[tuple[str, str], str]:
    """``{(niveau, code): page}``: the dashboards a fiche links to, those on the site (done,
    or failed with an older page kept) and those of ``a_faire``, which this run writes."""
    prevues = {p.portee for p in a_faire}
    return {(e["niveau"], e["code"]): e["page"] for e in pages
            if e.get("genre", "tableau") == "tableau"
            and (e["portee"] in prevues
                 or e.get("statut") in ("ok", "echec", "interrompue") and (reports_dir / e["page"]).is_file())}


def _signal(interruption: KeyboardInterrupt | None) -> str | None:
    """``SIGTERM``, ``SIGINT`` or ``None``: how the run ended early, if it did."""
    import signal

    if interruption is None:
        return None
    if isinstance(interruption, interruptions.Arret) or signal.SIGTERM in interruptions.SIGNAUX:
        return "SIGTERM"
    return "SIGINT"


def _page_conservee(entry: dict[str, Any], html: Path) -> None:
    """On a failed page: which previous page stays on the site, from when, how old."""
    try:
        mtime = html.stat().st_mtime
    except OSError:
        entry["conservee"] = None
        return
    du = datetime.fromtimestamp(mtime, timezone.utc)
    entry["conservee"] = {"page": entry["page"], "du": du.isoformat(timespec="seconds"),
                          "age_s": max(0, round(time.time() - mtime))}


def _payload(p: site.Page) -> dict[str, Any]:
    return {"portee": p.portee, "niveau": p.niveau, "code": p.code, "notebook": p.notebook,
            "parametres": p.parametres, "html": p.html, "ipynb": p.ipynb}


class _LectureIndex:
    """What the index can read before the pages are written (:func:`index.preparer`) in a
    thread, started once the pages run: this process then mostly waits on its kernel."""

    def __init__(self, warehouse: Path, reports_dir: Path, pages: list[str], fiches: bool) -> None:
        self.args = (warehouse, reports_dir, pages, fiches)
        self.future = None

    def lancer(self) -> None:
        if self.future is None:
            pool = ThreadPoolExecutor(max_workers=1)
            self.future = pool.submit(index.preparer, *self.args)
            pool.shutdown(wait=False)

    def resultat(self) -> dict[str, Any]:
        return self.future.result() if self.future is not None else index.preparer(*self.args)


class _DonneesNiveaux:
    """The page data of every level of the run (:func:`.niveau.preparer`), written to disk
    by a thread of this process while the workers start and render (DuckDB and polars work
    outside the GIL; this process mostly waits on its workers), removed when the run ends."""

    def __init__(self, warehouse: Path, empreinte: str, pages: list[site.Page]) -> None:
        ordre = sorted(pages, key=lambda p: -niveaux.get(p.niveau).ordre)  # as the pages come
        self.warehouse = warehouse
        self.voulus = page_niveau.genres_du_run(list(dict.fromkeys(p.niveau for p in ordre)))
        self.dossier = niveau_disque.dossier(warehouse, empreinte)
        self.arret = threading.Event()
        self.fil: threading.Thread | None = None
        self.con = None

    def lancer(self) -> None:
        # announced before any worker starts: a kernel then waits for these files
        niveau_disque.ouvrir(self.dossier, self.voulus)
        self.fil = threading.Thread(target=self._ecrire, name="donnees-niveaux", daemon=True)
        self.fil.start()

    def _ecrire(self) -> None:
        try:
            self.con = connect(self.warehouse, spatial=False)
            page_niveau.preparer(self.con, self.dossier, self.voulus, self.arret)
        except (Exception, KeyboardInterrupt):  # noqa: BLE001 - the kernels compute what is missing themselves
            # KeyboardInterrupt: polars raises it in any thread collecting when Ctrl-C or SIGTERM
            # reaches the process; the main thread reports the interrupt, this one ends quietly
            niveau_disque.fermer(self.dossier)
        finally:
            if self.con is not None:
                self.con.close()

    def finir(self, attente: float | None = None) -> None:
        """Stop writing (``attente``: seconds at most, then leave the thread to fail on the
        removed folder) and remove the run's files."""
        self.arret.set()
        if self.con is not None:  # an interrupted run does not wait for the level being read
            try:
                self.con.interrupt()
            except Exception:  # noqa: BLE001 - closed already
                pass
        if self.fil is not None:
            self.fil.join(attente)
        niveau_disque.supprimer(self.dossier)


class _Fiches:
    """The commune fiches (:func:`.fiches.ecrire`) written by a thread of this process while
    the workers render the pages: they need only which pages the site will have
    (:func:`_liens`), and this process mostly waits on its workers. It starts once the
    level data (:class:`_DonneesNiveaux`), which the kernels wait for, are written. Should
    the links differ at the end (a page failed with no older one to keep), the fiches are
    written again with those of the site."""

    def __init__(self, reports_dir: Path, warehouse: Path, liens: dict[tuple[str, str], str]) -> None:
        self.reports_dir, self.warehouse, self.liens = reports_dir, warehouse, liens
        self.arret = threading.Event()
        self.con = None
        self.future = None

    def lancer(self, apres: threading.Thread | None = None) -> None:
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fiches")
        self.future = pool.submit(self._ecrire, apres)
        pool.shutdown(wait=False)

    def _ecrire(self, apres: threading.Thread | None) -> fiches.Resultat | None:
        while apres is not None and apres.is_alive() and not self.arret.is_set():
            apres.join(0.1)
        if self.arret.is_set():
            return None
        self.con = connect(self.warehouse)
        try:
            return fiches.ecrire(self.reports_dir, self.warehouse, self.liens, arret=self.arret, con=self.con)
        finally:
            self.con.close()

    def resultat(self, liens: dict[tuple[str, str], str]) -> fiches.Resultat:
        res = self.future.result()
        if liens != self.liens:
            res = fiches.ecrire(self.reports_dir, self.warehouse, liens)
        return res

    def arreter(self) -> None:
        """Interrupted run: stop between two fiches (or the query under way) and wait."""
        self.arret.set()
        if self.con is not None:
            try:
                self.con.interrupt()
            except Exception:  # noqa: BLE001 - closed already
                pass
        if self.future is not None:
            wait([self.future])


def _execute_all(todo: list[site.Page], entries: dict[str, dict[str, Any]], jobs: int,
                 worker_args: dict[str, Any], quiet: bool, early: Noyau | None,
                 pages_lancees, noyaux: list[Noyau]) -> None:
    """Run the pages; ``pages_lancees`` is called once the workers are ready and the pages under
    way. With one worker, its kernel is killed when they end and put in ``noyaux`` (to reap)."""
    ctx = multiprocessing.get_context("spawn")
    bar = Progress(quiet=quiet, total=len(todo))
    now = lambda: datetime.now(timezone.utc).isoformat(timespec="seconds")  # noqa: E731
    # big pages (high levels) first, so the last minutes are not one worker on the alliance page
    queue = sorted(todo, key=lambda p: -niveaux.get(p.niveau).ordre)

    def record(p: site.Page, res: dict[str, Any]) -> None:
        entries[p.portee].update(res, execute_le=now())
        if res["statut"] != "ok":
            bar.erreur(f"Échec {p.portee} ({p.nom}) : {res['erreur']}")
        bar.avance("Pages")

    if jobs == 1:
        # one worker: this process is the worker (no pool to spawn), its kernel boots meanwhile
        travailleur = Travailleur(**worker_args, noyau=early)
        if travailleur.noyau not in noyaux:
            noyaux.append(travailleur.noyau)
        pages_lancees()
        try:
            for p in queue:
                record(p, travailleur.executer(_payload(p)))
        finally:
            travailleur.noyau.tuer()
            bar.fin()
        return
    interruptions.lancer_suivi_des_ressources()  # quiet if an interrupt ends this process abruptly
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=init_worker, initargs=(worker_args,))
    futures = {}
    try:
        for p in queue:
            futures[pool.submit(run_page, _payload(p))] = p
        pages_lancees()
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                p = futures[fut]
                try:
                    res = fut.result()
                except Exception as exc:  # noqa: BLE001 - a crashed worker fails its page only
                    res = {"statut": "echec", "erreur": f"{type(exc).__name__} : {exc}", "duree_s": None}
                record(p, res)
    except KeyboardInterrupt:
        # workers (SIGTERM: each kills its kernel and removes its temporaries), then
        # anything still there, kernels included, within half a second
        interruptions.arreter_descendants(0.5)
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    else:
        pool.shutdown(wait=True)
    finally:
        bar.fin()
    for e in entries.values():
        if e["statut"] == "en_attente":
            e.update(statut="echec", erreur="page non exécutée")
