"""Batch runner: execute the report notebooks with papermill, many at once, export HTML.

Kernel start-up and heavy imports cost 3.5–4.4 s per fresh kernel (DESIGN.md), far
more than a page's own work. So each worker process of the pool starts **one** Jupyter
kernel, warms it up (imports ``territoires.reports`` and its libraries, opens the
warehouse), and executes all its pages in it through papermill with our engine
(:class:`MoteurNoyauPartage`), which hands papermill/nbclient the running kernel instead
of starting one. Between pages the kernel's namespace is reset (``%reset``), so each
notebook runs as if alone; imported modules and the cached connection stay.

Each worker also exports its pages to HTML in-process (one ``HTMLExporter`` per process)
and writes them atomically. A failing notebook is recorded (manifest: ``echec``, the
error, the executed notebook kept for audit) and does not stop the others; a dead or
timed-out kernel is restarted. Pages whose inputs are unchanged (same warehouse build,
same notebook, same parameters, same report code) are skipped unless ``force``.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import multiprocessing
import os
import subprocess
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import territoires
from territoires.config import settings
from territoires.reports import site
from territoires.reports.export import assets_fingerprint, write_assets, write_atomic

ENGINE_NAME = "territoires"
KERNEL_NAME = "python3"
#: run by the kernel as it starts (IPKernelApp.exec_lines), before it reports ready: the
#: heavy imports, the warehouse connection with spatial loaded, and a query with a bound
#: parameter (DuckDB then imports pandas, 0.4 s) happen while this process imports
#: papermill and nbconvert, not during the first page
WARMUP = (
    "import territoires.reports.tableau, territoires.reports.alliance, territoires.indicators.api",
    "import polars, numpy, shapely",
    "territoires.reports.donnees.connexion().execute('select ?', [1]).fetchall()",
)
#: between two pages: the previous page's variables go (what ``%reset`` does, without
#: its history and garbage-collection work, 70 ms); imported modules and the cached
#: warehouse connection stay
RESET = (
    "_ip = get_ipython()\n"
    "for _k in [k for k in _ip.user_ns if not k.startswith('_') and k not in _ip.user_ns_hidden]:\n"
    "    del _ip.user_ns[_k]\n"
    "_ip.execution_count = 1\n"
    "del _ip, _k"
)


# ── papermill engine on a running kernel ──────────────────────────────────────

def _imports_legers() -> None:
    """Skip an optional import that costs about a second per process.

    ``nbformat`` imports ``jsonschema``, whose format checker imports ``rfc3987_syntax``
    when installed (JupyterLab pulls it in): it compiles 38 grammars at import, about
    1 s here, for URI formats that the notebook schema never checks. Marking the module
    absent makes jsonschema skip that format, in this process only.
    """
    if "rfc3987_syntax" not in sys.modules and "jsonschema" not in sys.modules:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]


def _register_engine() -> None:
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.log import logger
    from papermill.utils import merge_kwargs, remove_args

    class MoteurNoyauPartage(NBClientEngine):
        """papermill's nbclient engine, on a kernel started once and kept alive."""

        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                     stderr_file=None, start_timeout=60, execution_timeout=None,
                                     km=None, kc=None, **kwargs):
            kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
            final = merge_kwargs(kwargs, timeout=execution_timeout, startup_timeout=start_timeout,
                                 kernel_name=kernel_name, log=logger, log_output=log_output,
                                 stdout_file=stdout_file, stderr_file=stderr_file)
            client = PapermillNotebookClient(nb_man, km=km, **final)
            client.kc = kc
            return client.execute(cleanup_kc=False)

    if ENGINE_NAME not in papermill_engines._engines:
        papermill_engines.register(ENGINE_NAME, MoteurNoyauPartage)


class Noyau:
    """One Jupyter kernel kept alive for many notebooks."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd
        self.km = None
        self.kc = None
        self.pages = 0  # pages run in this kernel (the first needs no reset)

    def lancer(self) -> None:
        """Launch the kernel process (it boots while the caller does other work)."""
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        self.km = AsyncKernelManager(kernel_name=KERNEL_NAME)
        run_sync(self.km.start_kernel)(
            env=self.env, cwd=str(self.cwd), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            extra_arguments=["--HistoryManager.hist_file=:memory:",
                             *(f"--IPKernelApp.exec_lines={line}" for line in WARMUP)],
        )

    def pret(self) -> None:
        """Wait for the launched kernel (warmed up by its ``exec_lines``)."""
        from jupyter_core.utils import run_sync

        self.kc = self.km.client()
        self.kc.start_channels()
        run_sync(self.kc.wait_for_ready)(timeout=300)

    def demarrer(self) -> None:
        self.lancer()
        self.pret()

    def vivant(self) -> bool:
        from jupyter_core.utils import run_sync

        return self.km is not None and bool(run_sync(self.km.is_alive)())

    def executer(self, code: str, timeout: float = 60) -> None:
        """Run code silently; raise RuntimeError if it fails."""
        from jupyter_core.utils import run_sync

        msg_id = self.kc.execute(code, silent=True, store_history=False)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(f"le noyau ne répond pas ({timeout:.0f} s)")
            reply = run_sync(self.kc.get_shell_msg)(timeout=remaining)
            if reply.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            content = reply["content"]
            if content.get("status") != "ok":
                raise RuntimeError(f"{content.get('ename')}: {content.get('evalue')}")
            return

    def arreter(self) -> None:
        """Stop the kernel at once: it holds nothing to save, so no graceful shutdown
        (which polls the process for 0.1 s or more); its connection file is removed."""
        from jupyter_core.utils import run_sync

        try:
            if self.kc is not None:
                self.kc.stop_channels()
            if self.km is not None:
                proc = getattr(getattr(self.km, "provisioner", None), "process", None)
                if proc is not None and proc.poll() is None:
                    proc.kill()
                run_sync(self.km.cleanup_resources)()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
        self.km = self.kc = None
        self.pages = 0


# ── worker process ─────────────────────────────────────────────────────────────

class Travailleur:
    """State of one worker process: its kernel, the notebooks, where pages go."""

    def __init__(self, home: str, reports_dir: str, notebooks_dir: str, single_file: bool,
                 timeout: float | None, env: dict[str, str], noyau: Noyau | None = None) -> None:
        self.reports_dir = Path(reports_dir)
        self.notebooks_dir = Path(notebooks_dir)
        self.single_file = single_file
        self.timeout = timeout
        self.noyau = noyau or Noyau(env, Path(home))
        atexit.register(self.noyau.arreter)
        # the kernel boots in its own process while this one imports papermill and nbconvert
        if self.noyau.km is None:
            try:
                self.noyau.lancer()
            except Exception:  # noqa: BLE001 - retried (and reported) by the first page
                self.noyau.arreter()
        _imports_legers()
        import nbformat

        from territoires.reports.export import exporter

        _register_engine()
        exporter()
        self.notebooks = {}
        for name in NOTEBOOKS:
            path = self.notebooks_dir / name
            if path.is_file():
                self.notebooks[name] = nbformat.read(path, as_version=4)
        if self.noyau.km is not None:
            try:
                self.noyau.pret()
            except Exception:  # noqa: BLE001 - retried (and reported) by the first page
                self.noyau.arreter()

    def executer(self, page: dict[str, Any]) -> dict[str, Any]:
        import copy

        import papermill
        from papermill.exceptions import PapermillExecutionError

        from territoires.reports import export

        t0 = time.perf_counter()
        html_path = self.reports_dir / page["html"]
        nb_path = self.reports_dir / page["ipynb"]
        nb_path.parent.mkdir(parents=True, exist_ok=True)
        tmp_nb = nb_path.with_name(f".{nb_path.stem}.tmp-{os.getpid()}.ipynb")
        result: dict[str, Any] = {"portee": page["portee"], "statut": "echec", "erreur": None, "octets": 0}
        try:
            source = self.notebooks.get(page["notebook"])
            if source is None:
                raise RuntimeError(f"{self.notebooks_dir / page['notebook']}: carnet introuvable")
            if self.noyau.kc is None or not self.noyau.vivant():
                self.noyau.arreter()
                self.noyau.demarrer()
            if self.noyau.pages:
                self.noyau.executer(RESET)
            self.noyau.pages += 1
            nb = papermill.execute_notebook(
                copy.deepcopy(source), str(tmp_nb), parameters=page["parametres"], engine_name=ENGINE_NAME,
                kernel_name=KERNEL_NAME, progress_bar=False, request_save_on_cell_execute=False,
                execution_timeout=self.timeout, km=self.noyau.km, kc=self.noyau.kc,
            )
            os.replace(tmp_nb, nb_path)
            body, extra = export.html_page(nb, page["html"], single_file=self.single_file,
                                           notebook_path=page["ipynb"])
            for rel, data in extra.items():
                write_atomic(self.reports_dir / rel, data)
            write_atomic(html_path, body)
            result.update(statut="ok", octets=len(body.encode("utf-8")) + sum(len(d) for d in extra.values()))
        except PapermillExecutionError as exc:
            result["erreur"] = f"{exc.ename} : {exc.evalue} (cellule {exc.exec_count})"
        except Exception as exc:  # noqa: BLE001 - any failure is recorded, the batch goes on
            result["erreur"] = f"{type(exc).__name__} : {exc}"
            self.noyau.arreter()  # dead, stuck or timed out: a fresh kernel for the next page
        finally:
            if tmp_nb.exists():  # the failed notebook, kept for audit
                os.replace(tmp_nb, nb_path)
        if result["statut"] != "ok":
            html_path.unlink(missing_ok=True)  # a failed page never looks complete
        result["duree_s"] = round(time.perf_counter() - t0, 3)
        return result


_TRAVAILLEUR: Travailleur | None = None


def _init_worker(kwargs: dict[str, Any]) -> None:
    global _TRAVAILLEUR
    _TRAVAILLEUR = Travailleur(**kwargs)


def _run_page(page: dict[str, Any]) -> dict[str, Any]:
    assert _TRAVAILLEUR is not None
    return _TRAVAILLEUR.executer(page)


# ── the batch ───────────────────────────────────────────────────────────────

@dataclass
class Rapport:
    """Outcome of a run."""

    pages: list[dict[str, Any]] = field(default_factory=list)
    duree_s: float = 0.0
    manifest: Path | None = None
    index: Path | None = None

    @property
    def echecs(self) -> list[dict[str, Any]]:
        return [p for p in self.pages if p["statut"] == "echec"]

    @property
    def produites(self) -> list[dict[str, Any]]:
        return [p for p in self.pages if p["statut"] == "ok" and not p.get("ignoree")]

    @property
    def a_jour(self) -> list[dict[str, Any]]:
        return [p for p in self.pages if p.get("ignoree")]


def code_fingerprint(notebooks_dir: Path) -> str:
    """Hash of what shapes a page besides the data: notebooks, report code, template, assets."""
    import territoires as pkg

    root = Path(pkg.__file__).parent
    files = sorted([*root.joinpath("reports").rglob("*.py"), root / "charts.py", root / "geo.py",
                    root / "formats.py", *root.joinpath("indicators").glob("*.py"),
                    *notebooks_dir.glob("*.ipynb")])
    h = hashlib.sha256(assets_fingerprint().encode())
    for p in files:
        if p.is_file():
            h.update(p.name.encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def _key(page: site.Page, build_fp: str, code_fp: str, single_file: bool) -> str:
    data = json.dumps([build_fp, code_fp, territoires.__version__, page.notebook, page.parametres, single_file])
    return hashlib.sha256(data.encode()).hexdigest()[:24]


def _kernel_env(home: Path) -> dict[str, str]:
    """Environment of the report kernels: the project's home, one thread each."""
    env = dict(os.environ)
    env.update(TERRITOIRES_HOME=str(home), TERRITOIRES_THREADS="1", POLARS_MAX_THREADS="1",
               OMP_NUM_THREADS="1", PYDEVD_DISABLE_FILE_VALIDATION="1", JUPYTER_PLATFORM_DIRS="1")
    env.pop("MPLBACKEND", None)
    return env


def connexion_legere(path: Path):
    """Read-only connection without the spatial extension, for the coordinating process.

    It only reads names, codes and vintages: loading spatial (0.2 s) and binding query
    parameters (DuckDB then imports pandas, 0.4 s) are left to the kernels.
    """
    import duckdb

    from territoires.warehouse.connect import WarehouseError

    if not Path(path).is_file():
        raise WarehouseError(f"{path}: entrepôt introuvable — lancez d'abord `territoires build`")
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise WarehouseError(f"{path}: ouverture impossible ({exc})") from exc


NOTEBOOKS = ("tableau_de_bord.ipynb", "alliance.ipynb")


def _default_notebooks(home: Path) -> Path:
    """``<home>/notebooks/reports``, else those of the source checkout the package runs
    from (an editable install, as ``make install`` does): a TERRITOIRES_HOME that only
    holds data and reports still gets the project's notebooks."""
    candidates = [home / "notebooks" / "reports",
                  Path(territoires.__file__).resolve().parents[2] / "notebooks" / "reports"]
    for c in candidates:
        if all((c / n).is_file() for n in NOTEBOOKS):
            return c
    return candidates[0]


def _manifest_json(manifest: dict[str, Any]) -> str:
    """The manifest, readable and quick to write: one line per page."""
    head = {k: v for k, v in manifest.items() if k != "pages"}
    text = json.dumps(head, ensure_ascii=False, indent=1, default=str)[:-2]
    pages = ",\n  ".join(json.dumps(p, ensure_ascii=False, default=str) for p in manifest["pages"])
    return f'{text},\n "pages": [\n  {pages}\n ]\n}}\n'


def _load_manifest(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


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
) -> Rapport:
    """Produce the pages of ``portee`` under ``reports/``; see the module docstring."""
    from territoires.reports import donnees, index

    cfg = settings(home)
    reports_dir = cfg.reports_dir
    nb_dir = Path(notebooks_dir) if notebooks_dir else _default_notebooks(cfg.home)
    for name in NOTEBOOKS:
        if not (nb_dir / name).is_file():
            raise RuntimeError(f"{nb_dir / name}: carnet introuvable — lancez depuis la racine du projet "
                               "(ou TERRITOIRES_HOME) ou passez --carnets")
    env = _kernel_env(cfg.home)
    cpu = os.cpu_count() or 1
    early: Noyau | None = None
    if (jobs or cpu) == 1 and cfg.warehouse.is_file():
        # one worker, and this process will be it: its kernel boots while we look at the site
        early = Noyau(env, cfg.home)
        try:
            early.lancer()
        except Exception:  # noqa: BLE001 - the worker starts its own
            early.arreter()
            early = None
    try:
        con = connexion_legere(cfg.warehouse)
    except BaseException:
        if early:
            early.arreter()
        raise
    try:
        pages = site.pages(con, portee)
        vintages = donnees.millesimes(con)
        build = donnees.construction(con)
    finally:
        con.close()

    t0 = time.perf_counter()
    reports_dir.mkdir(parents=True, exist_ok=True)
    write_assets(reports_dir)
    code_fp = code_fingerprint(nb_dir)
    manifest_path = reports_dir / "manifest.json"
    old = {p["portee"]: p for p in _load_manifest(manifest_path).get("pages", [])}

    entries: dict[str, dict[str, Any]] = {}
    todo: list[site.Page] = []
    for p in pages:
        key = _key(p, build["empreinte"], code_fp, single_file)
        entry = {
            "portee": p.portee, "niveau": p.niveau, "code": p.code, "nom": p.nom, "notebook": p.notebook,
            "parametres": p.parametres, "page": p.html, "carnet_execute": p.ipynb, "cle": key,
            "millesimes": vintages, "version": territoires.__version__, "statut": "en_attente",
            "duree_s": None, "erreur": None,
        }
        prev = old.get(p.portee)
        if (not force and prev and prev.get("statut") == "ok" and prev.get("cle") == key
                and (reports_dir / p.html).is_file() and (reports_dir / p.ipynb).is_file()):
            entry = {**prev, "ignoree": True}
        else:
            todo.append(p)
        entries[p.portee] = entry

    jobs = max(1, min(jobs or cpu, len(todo) or 1))
    worker_args = {"home": str(cfg.home), "reports_dir": str(reports_dir), "notebooks_dir": str(nb_dir),
                   "single_file": single_file, "timeout": timeout, "env": env}

    try:
        if todo:
            _execute_all(todo, entries, jobs, worker_args, quiet, early)
    finally:
        if early is not None:
            early.arreter()

    duree = round(time.perf_counter() - t0, 2)
    merged = {**old, **entries}
    ordre = {n: i for i, n in enumerate(site.NIVEAUX_PAGES)}
    all_pages = sorted(merged.values(), key=lambda e: (ordre.get(e.get("niveau"), 9), e.get("code", "")))
    rapport = Rapport(pages=[entries[p.portee] for p in pages], duree_s=duree)
    manifest = {
        "genere_le": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "version": territoires.__version__,
        "entrepot": {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in build.items()},
        "derniere_execution": {
            "portee": portee, "jobs": jobs, "force": force, "single_file": single_file, "duree_s": duree,
            "pages": len(pages), "produites": len(rapport.produites), "a_jour": len(rapport.a_jour),
            "echecs": len(rapport.echecs),
        },
        "pages": [{k: v for k, v in e.items() if k != "ignoree"} for e in all_pages],
    }
    write_atomic(manifest_path, _manifest_json(manifest))
    rapport.manifest = manifest_path
    rapport.index = index.write_index(reports_dir, manifest, cfg.warehouse)
    return rapport


def _payload(p: site.Page) -> dict[str, Any]:
    return {"portee": p.portee, "niveau": p.niveau, "code": p.code, "notebook": p.notebook,
            "parametres": p.parametres, "html": p.html, "ipynb": p.ipynb}


def _execute_all(todo: list[site.Page], entries: dict[str, dict[str, Any]], jobs: int,
                 worker_args: dict[str, Any], quiet: bool, early: Noyau | None = None) -> None:
    from tqdm import tqdm

    ctx = multiprocessing.get_context("spawn")
    bar = tqdm(total=len(todo), unit="page", desc="Pages", disable=quiet, file=sys.stderr,
               dynamic_ncols=True, leave=True)
    now = lambda: datetime.now(timezone.utc).isoformat(timespec="seconds")  # noqa: E731
    # big pages first so that the last minutes are not one worker on the alliance page
    weight = {"alliance": 0, "operateur": 1, "region": 1, "departement": 2, "epci": 3}
    queue = sorted(todo, key=lambda p: weight.get(p.niveau, 9))

    def record(p: site.Page, res: dict[str, Any]) -> None:
        entries[p.portee].update(res, execute_le=now())
        if res["statut"] != "ok":
            bar.write(f"Échec {p.portee} ({p.nom}) : {res['erreur']}", file=sys.stderr)
        bar.update(1)

    if jobs == 1:
        # one worker: this process is the worker (no pool to spawn), its kernel boots meanwhile
        travailleur = Travailleur(**worker_args, noyau=early)
        try:
            for p in queue:
                record(p, travailleur.executer(_payload(p)))
        finally:
            travailleur.noyau.arreter()
            bar.close()
        return
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker,
                             initargs=(worker_args,)) as pool:
        futures = {}
        try:
            for p in queue:
                futures[pool.submit(_run_page, _payload(p))] = p
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
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        finally:
            bar.close()
    for e in entries.values():
        if e["statut"] == "en_attente":
            e.update(statut="echec", erreur="page non exécutée (interruption)")
