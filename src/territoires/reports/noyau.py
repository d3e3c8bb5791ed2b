"""One Jupyter kernel kept alive for many notebooks, and the papermill engine that runs
notebooks on it.

Kernel start-up and heavy imports cost 3.5–4.4 s per fresh kernel, far more than a
page's own work. So each worker of a report batch starts **one** kernel, warms it up
(imports the report modules and their libraries, opens the warehouse), and executes all
its pages in it through papermill with :class:`MoteurNoyauPartage` (registered with
papermill's public ``papermill_engines.register``), which hands papermill/nbclient the
running kernel instead of starting one. Between pages the kernel's namespace is reset
(:data:`RESET`), so each notebook runs as if alone; imported modules and the cached
connection stay.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import time
from pathlib import Path

ENGINE_NAME = "territoires"
KERNEL_NAME = "python3"


#: run first in a report kernel: pandas and pyarrow marked absent. DuckDB's client imports
#: both (0.4–0.6 s, the longest step of a kernel's start) the first time a statement binds
#: a parameter, only to ask whether the value is a DataFrame; absent, it skips them. Pages
#: read results through Arrow's C stream (:func:`territoires.entrepot.litteraux.en_polars`),
#: so nothing on their path needs either; tests/test_demarrage.py keeps it so.
SANS_PANDAS = ("import sys as _sys; _sys.modules.update({_m: None for _m in ('pandas', 'pyarrow') "
               "if _m not in _sys.modules}); del _sys")


#: how a report kernel starts: ``ipykernel_launcher``'s two lines, with debugpy marked
#: absent first. ipykernel imports it (0.3 s, a third of a bare kernel's start) for
#: JupyterLab's debugger, which nothing attaches to a report kernel; absent, ipykernel
#: starts without its debugger, as when debugpy is not installed (an optional dependency).
LANCEUR = ("import sys; sys.modules['debugpy'] = None\n"
           "if sys.path[0] == '': del sys.path[0]  # as ipykernel_launcher: the kernel adds it back\n"
           "from ipykernel import kernelapp; kernelapp.launch_new_instance()")


def specs_sans_debogueur():
    """A kernel spec manager whose ``python3`` starts through :data:`LANCEUR` instead of
    ``python -m ipykernel_launcher`` (same interpreter, same arguments otherwise)."""
    from jupyter_client.kernelspec import KernelSpecManager

    class Specs(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            spec = super().get_kernel_spec(kernel_name)
            if spec.argv[1:3] == ["-m", "ipykernel_launcher"]:
                spec.argv = [spec.argv[0], "-c", LANCEUR, *spec.argv[3:]]
            return spec

    return Specs()


def echauffement(entrepot: Path) -> tuple[str, ...]:
    """Run by the kernel as it starts (IPKernelApp.exec_lines), before it reports ready:
    without pandas and pyarrow (:data:`SANS_PANDAS`), the heavy imports, the connection to
    ``entrepot`` (the one the pages get as their ``entrepot`` parameter: the same cached
    connection) and a query with a bound parameter happen while this process imports
    papermill and nbconvert, not during the first page."""
    return (
        SANS_PANDAS,
        "import territoires.reports.tableau_de_bord, territoires.reports.alliance, territoires.indicators.api",
        "import polars, numpy, shapely",
        "from territoires.entrepot.connexion import connect as _connect",
        f"_connect({str(entrepot)!r}, **territoires.reports.donnees.OUVERTURE).execute('select ?', [1]).fetchall()",
        "del _connect",
    )


#: between two pages: the previous page's variables go (what ``%reset`` does, without
#: its history and garbage-collection work, 70 ms); imported modules and the cached
#: warehouse connection stay
RESET = (
    "_ip = get_ipython()\n"
    "_k = None  # defined even when no variable is left (then the loop does not run)\n"
    "for _k in [k for k in _ip.user_ns if not k.startswith('_') and k not in _ip.user_ns_hidden]:\n"
    "    del _ip.user_ns[_k]\n"
    "_ip.execution_count = 1\n"
    "del _ip, _k"
)



def kernel_env() -> dict[str, str]:
    """Environment of the report kernels: one thread each. The warehouse reaches the pages
    as their ``entrepot`` parameter (recorded in the executed notebook), not through
    ``TERRITOIRES_HOME``, which stays the user's own override."""
    env = dict(os.environ)
    env.update(TERRITOIRES_THREADS="1", POLARS_MAX_THREADS="1",
               OMP_NUM_THREADS="1", JUPYTER_PLATFORM_DIRS="1")
    env.pop("MPLBACKEND", None)
    return env




# ── papermill engine on a running kernel ──────────────────────────────────────

def imports_legers() -> None:
    """Skip an optional import that costs about a second per process.

    ``nbformat`` imports ``jsonschema``, whose format checker imports ``rfc3987_syntax``
    when installed (JupyterLab pulls it in): it compiles 38 grammars at import, about
    1 s here, for URI formats that the notebook schema never checks. Marking the module
    absent makes jsonschema skip that format, in this process only.
    """
    if "rfc3987_syntax" not in sys.modules and "jsonschema" not in sys.modules:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]


def register_engine() -> None:
    # papermill imports pyarrow (0.25 s) for its HDFS paths, which reports never use: it
    # is marked absent while papermill loads (its import is optional there), then restored
    # for whatever else this process runs
    sans_pyarrow = "pyarrow" not in sys.modules
    if sans_pyarrow:
        sys.modules["pyarrow"] = None  # type: ignore[assignment]
    try:
        import papermill.iorw  # noqa: F401
    finally:
        if sans_pyarrow and sys.modules.get("pyarrow", 0) is None:
            del sys.modules["pyarrow"]
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

    papermill_engines.register(ENGINE_NAME, MoteurNoyauPartage)  # idempotent: same name, same class


def anticipe(home: Path, entrepot: Path, jobs: int | None) -> "Noyau | None":
    """A kernel launched at once when this process will be the batch's only worker (``jobs``
    1, or one processor) and the warehouse is built: it boots while the command imports the
    runner, papermill and nbconvert (``territoires report`` calls this before importing
    them). ``None`` otherwise, or when it fails to launch (the worker then starts its own)."""
    if (jobs or os.cpu_count() or 1) != 1 or not entrepot.is_file():
        return None
    noyau = Noyau(kernel_env(), home, entrepot)
    try:
        noyau.lancer()
    except Exception:  # noqa: BLE001 - the worker starts its own
        noyau.arreter()
        return None
    return noyau


class Noyau:
    """One Jupyter kernel kept alive for many notebooks."""

    def __init__(self, env: dict[str, str], cwd: Path, entrepot: Path) -> None:
        self.env = env
        self.cwd = cwd
        self.entrepot = entrepot  # opened as the kernel starts (:func:`echauffement`)
        self.km = None
        self.kc = None
        self.pages = 0  # pages run in this kernel (the first needs no reset)

    def lancer(self) -> None:
        """Launch the kernel process (it boots while the caller does other work)."""
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        atexit.register(self.arreter)  # whatever ends the command, the kernel goes with it
        self.km = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs_sans_debogueur())
        run_sync(self.km.start_kernel)(
            env=self.env, cwd=str(self.cwd), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            extra_arguments=["--HistoryManager.hist_file=:memory:",
                             *(f"--IPKernelApp.exec_lines={line}" for line in echauffement(self.entrepot))],
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


