"""One Jupyter kernel kept alive for many notebooks, and the papermill engine that runs
notebooks on it.

Kernel start-up and heavy imports cost 3.5–4.4 s per fresh kernel, far more than a
page's own work. So each worker of a report batch starts **one** kernel, warms it up
(imports the report modules and their libraries, opens the warehouse), and executes all
its pages in it through papermill with :class:`MoteurNoyauPartage` (registered with
papermill's public ``papermill_engines.register``), which hands papermill/nbclient the
running kernel instead of starting one. Between pages the kernel's namespace is emptied
(:func:`vider_espace`: by the last cell of a page that ran without error, else by
:data:`RESET` before the next), so each notebook runs as if alone; imported modules and the
cached connection stay.

The kernel process is launched before this process imports jupyter_client (:meth:`Noyau.lancer`:
its connection file and command as jupyter_client makes them), which is then attached to
it (:meth:`Noyau.connecter`) while it boots: a one-page run waits for its kernel, so every
tenth of a second before the kernel starts, or after it is ready, is the run's.
"""

from __future__ import annotations

import atexit
import copy
import functools
import os
import select
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Callable

from territoires.interruptions import pid_vivant

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
#: The garbage collector waits for the end of the warm-up (:func:`echauffement`): its
#: collections during the imports walked every object already loaded, 12 % of the start
#: (0.05–0.08 s), for the little garbage imports leave.
LANCEUR = ("import gc, sys; gc.disable(); sys.modules['debugpy'] = None\n"
           "if sys.path[0] == '': del sys.path[0]  # as ipykernel_launcher: the kernel adds it back\n"
           "from ipykernel import kernelapp; kernelapp.launch_new_instance()")

#: the channels of a kernel's connection file, each on its own port
CANAUX = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")


#: connection files in the temporary folder: ``<prefix><pid of the launcher>-<random>.json``
PREFIXE_CONNEXION = "territoires-noyau-"


def _connexions_orphelines(dossier: Path) -> list[Path]:
    """Connection files (signing keys) of launchers gone, e.g. a worker killed by SIGKILL."""
    pids = {f: f.name[len(PREFIXE_CONNEXION):].split("-", 1)[0] for f in dossier.glob(f"{PREFIXE_CONNEXION}*.json")}
    return [f for f, pid in pids.items() if pid.isdigit() and not pid_vivant(int(pid))]


def connexion() -> Path:
    """A new kernel's connection file, as jupyter_client writes one: free ports of the
    loopback, a random signing key, ``hmac-sha256``; readable by its owner only (it holds
    the key). Those of processes gone are removed first (:func:`_connexions_orphelines`)."""
    import json
    import socket
    import tempfile
    import uuid

    for orpheline in _connexions_orphelines(Path(tempfile.gettempdir())):
        orpheline.unlink(missing_ok=True)

    prises = []
    for _ in CANAUX:  # all bound at once, so that no two channels get the same port
        prise = socket.socket()
        prise.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\0" * 8)
        prise.bind(("127.0.0.1", 0))
        prises.append(prise)
    info = {canal: prise.getsockname()[1] for canal, prise in zip(CANAUX, prises)}
    for prise in prises:
        prise.close()
    info.update(ip="127.0.0.1", key=str(uuid.uuid4()), transport="tcp", signature_scheme="hmac-sha256",
                kernel_name=KERNEL_NAME)
    fd, chemin = tempfile.mkstemp(prefix=f"{PREFIXE_CONNEXION}{os.getpid()}-", suffix=".json")  # mode 0600
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(info, fh)
    return Path(chemin)


def echauffement(entrepot: Path) -> tuple[str, ...]:
    """Run by the kernel as it starts (IPKernelApp.exec_lines), before it reports ready:
    without pandas and pyarrow (:data:`SANS_PANDAS`), the heavy imports (with ``numpy.ma``,
    which numpy loads at a map's first ``np.unique``: 0.02–0.05 s), the connection to
    ``entrepot`` (the one the pages get as their ``entrepot`` parameter: the same cached
    connection), a query with a bound parameter and what every page reads whatever its
    territory (:func:`territoires.reports.page.lectures_communes`) happen while this process
    imports papermill and nbconvert, not during the first page. What they leave is then
    frozen out of the garbage collector's reach (``gc.freeze``): the pages' collections no
    longer walk the hundreds of thousands of objects of the libraries (0.02 s a page). The
    collector, off since the kernel's first line (:data:`LANCEUR`), is then turned on."""
    return (
        SANS_PANDAS,
        "import territoires.reports.tableau_de_bord, territoires.reports.alliance, territoires.indicators.api",
        "import polars, numpy, numpy.ma, shapely",
        "from territoires.reports.noyau import vider_espace as _territoires_vider",
        "from territoires.entrepot.connexion import connect as _connect",
        f"_con = _connect({str(entrepot)!r}, **territoires.reports.donnees.OUVERTURE)",
        "_con.execute('select ?', [1]).fetchall()",
        "territoires.reports.page.lectures_communes(_con)",
        "del _connect, _con",
        "import gc as _gc; _gc.freeze(); _gc.enable(); del _gc",
    )


def vider_espace() -> None:
    """Run by a report kernel between two pages: the previous page's variables go (what
    ``%reset`` does, without its history and garbage-collection work, 70 ms); imported
    modules, the cached warehouse connection and the names of the warm-up (``_…``) stay."""
    from IPython import get_ipython  # paresseux : dans le noyau seulement

    ip = get_ipython()
    for k in [k for k in ip.user_ns if not k.startswith("_") and k not in ip.user_ns_hidden]:
        del ip.user_ns[k]
    ip.execution_count = 1


#: :func:`vider_espace` as the kernel knows it (imported by its warm-up, :func:`echauffement`):
#: carried by a page's last cell, or sent on its own before the next page when that one failed
RESET = "_territoires_vider()"


def kernel_env() -> dict[str, str]:
    """Environment of the report kernels: one thread each. The warehouse reaches the pages
    as their ``entrepot`` parameter (recorded in the executed notebook), not through
    ``TERRITOIRES_HOME``, which stays the user's own override."""
    env = dict(os.environ)
    env.update(TERRITOIRES_THREADS="1", POLARS_MAX_THREADS="1",
               OMP_NUM_THREADS="1", JUPYTER_PLATFORM_DIRS="1")
    env.pop("MPLBACKEND", None)
    return env




def attendre_fin(process: subprocess.Popen, timeout: float) -> None:
    """``process.wait(timeout)`` woken as the process ends, not by ``Popen.wait``'s polling
    (sleeps that double up to 50 ms: 20–60 ms after a killed kernel has gone); raises
    ``subprocess.TimeoutExpired`` as it does."""
    if process.poll() is not None:
        return
    try:
        fd = os.pidfd_open(process.pid)  # Linux 5.3: readable once the process has ended
    except (AttributeError, OSError):
        process.wait(timeout)
        return
    try:
        select.select([fd], [], [], timeout)
    finally:
        os.close(fd)
    process.wait(0)  # reaped now; TimeoutExpired if it still runs


# ── papermill engine on a running kernel ──────────────────────────────────────

def imports_legers() -> None:
    """Skip optional imports that cost a worker process about a second and 0.02–0.1 s.

    ``nbformat`` imports ``jsonschema``, whose format checker imports ``rfc3987_syntax``
    when installed (JupyterLab pulls it in): it compiles 38 grammars at import, about
    1 s here, for URI formats that the notebook schema never checks. nbconvert's HTML
    export imports BeautifulSoup, which imports ``soupsieve`` when installed, for CSS
    selectors (``select``) that neither the export nor the project use. Marking both
    absent makes jsonschema skip that format and BeautifulSoup go without selectors (its
    notice of it silenced), in this process only.
    """
    if "rfc3987_syntax" not in sys.modules and "jsonschema" not in sys.modules:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]
    if "soupsieve" not in sys.modules and "bs4" not in sys.modules:
        sys.modules["soupsieve"] = None  # type: ignore[assignment]
        warnings.filterwarnings("ignore", message="The soupsieve package is not installed", category=UserWarning)


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
    from jupyter_core.utils import run_sync

    class MoteurNoyauPartage(NBClientEngine):
        """papermill's nbclient engine, on a kernel started once and kept alive."""

        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                     stderr_file=None, start_timeout=60, execution_timeout=None,
                                     km=None, kc=None, langue=None, apres=None, **kwargs):
            kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
            final = merge_kwargs(kwargs, timeout=execution_timeout, startup_timeout=start_timeout,
                                 kernel_name=kernel_name, log=logger, log_output=log_output,
                                 stdout_file=stdout_file, stderr_file=stderr_file)
            client = ClientNoyauPartage(nb_man, km=km, **final)
            client.kc = kc
            client.langue, client.apres = langue, apres
            return client.execute(cleanup_kc=False)

    class ClientNoyauPartage(PapermillNotebookClient):
        """papermill's client, without two requests of its own around every notebook, each a
        round trip to the kernel (about 3 ms of CPU between worker and kernel):

        - no ``kernel_info`` after the notebook: the language of a kernel kept alive does
          not change, so its ``language_info`` is the one it gave when it became ready
          (:attr:`Noyau.langue`), recorded in the notebook as papermill records it;
        - no request before the next notebook to empty the namespace: the last cell's
          request carries it (:attr:`apres`)."""

        langue: dict | None = None
        #: an expression the kernel evaluates once the notebook's last cell has run without
        #: error (``user_expressions`` of its ``execute_request``): :data:`RESET`, so that the
        #: next page needs no request of its own to empty the namespace
        apres: str | None = None
        _derniere: int | None = None

        async def async_execute_cell(self, cell, cell_index, *args, **kwargs):
            if self.apres is None or cell_index != self._derniere:
                return await super().async_execute_cell(cell, cell_index, *args, **kwargs)
            # nbclient sends the cell through kc.execute, without user_expressions: they are
            # added for this one request
            self.kc.execute = functools.partial(self.kc.execute, user_expressions={"vider": self.apres})
            try:
                return await super().async_execute_cell(cell, cell_index, *args, **kwargs)
            finally:
                del self.kc.execute

        execute_cell = run_sync(async_execute_cell)  # as nbclient binds its own

        def execute(self, **kwargs):
            # the last cell nbclient will send (it skips empty cells and tagged ones)
            self._derniere = max((i for i, c in enumerate(self.nb.cells)
                                  if c.cell_type == "code" and c.source.strip()
                                  and self.skip_cells_with_tag not in c.metadata.get("tags", [])), default=None)
            if self.langue is None:
                return super().execute(**kwargs)
            self.reset_execution_trackers()
            with self.setup_kernel(**kwargs):
                self.log.info(f"Executing notebook with kernel: {self.kernel_name}")
                self.papermill_execute_cells()
                self.nb.metadata["language_info"] = copy.deepcopy(self.langue)
                self.set_widgets_metadata()
            return self.nb

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
        self.process: subprocess.Popen | None = None
        self.fichier: Path | None = None  # its connection file
        self.km = None
        self.kc = None
        self.pages = 0  # pages run in this kernel (the first needs no reset)
        #: the namespace was emptied by the last page's last cell (:data:`RESET`)
        self.vide = False
        #: its ``language_info``, from its answer to ``kernel_info`` when it became ready
        self.langue: dict | None = None

    def lancer(self) -> None:
        """Launch the kernel process (it boots while the caller does other work): started
        as jupyter_client's local provisioner starts one (a session of its own, this
        process's pid to watch, the same interpreter through :data:`LANCEUR`), on a
        connection file of :func:`connexion`, without importing jupyter_client (0.1 s
        before the kernel could start); :meth:`pret` attaches jupyter_client to it."""
        atexit.register(self.arreter)  # whatever ends the command, the kernel goes with it
        self.fichier = connexion()
        argv = [sys.executable, "-c", LANCEUR, "-f", str(self.fichier), "--HistoryManager.hist_file=:memory:",
                *(f"--IPKernelApp.exec_lines={line}" for line in echauffement(self.entrepot))]
        self.process = subprocess.Popen(
            argv, env={**self.env, "JPY_PARENT_PID": str(os.getpid())}, cwd=str(self.cwd),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )

    def connecter(self) -> None:
        """Attach jupyter_client to the launched kernel (a manager on its connection file, a
        local provisioner holding its process) and open its channels. Done as early as
        possible, while the kernel still boots: a client that subscribes to IOPub only once
        the kernel answers misses its first status messages, and waiting for the kernel
        (:meth:`pret`) then costs jupyter_client's 0.2 s retry."""
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_client.provisioning import LocalProvisioner

        if self.kc is not None:
            return
        km = AsyncKernelManager(kernel_name=KERNEL_NAME, connection_file=str(self.fichier))
        km.load_connection_file()
        # no kernel spec looked up (0.05 s): it serves to launch, and the kernel is launched
        provisioner = LocalProvisioner(kernel_id=km.kernel_id, kernel_spec=None, parent=km)
        provisioner.connection_info = km.get_connection_info()
        provisioner.process, provisioner.pid = self.process, self.process.pid
        provisioner.pgid = os.getpgid(self.process.pid)
        km.provisioner = provisioner
        self.km = km
        self.kc = km.client()
        self.kc.start_channels()

    def pret(self, timeout: float = 300, en_attendant: Callable[[], None] | None = None) -> None:
        """Wait for the launched kernel (warmed up by its ``exec_lines``): jupyter_client's
        ``wait_for_ready`` (a ``kernel_info`` request a second until one is answered, IOPub
        then heard from) without its last step, which waits until IOPub has been silent for
        0.2 s (a fixed 0.2 s of every run). The messages of the wait left on both channels are
        dropped at once; nbclient reads only those of its own requests anyway.
        ``en_attendant``: called if the kernel does not answer at once (it still boots), to
        start what this process can do meanwhile."""
        from queue import Empty

        from jupyter_core.utils import run_sync

        self.connecter()
        kc = self.kc
        limite = time.monotonic() + timeout
        delai = 0.02 if en_attendant is not None else 1  # a kernel ready answers within it
        while True:
            kc.kernel_info()
            try:
                # any request's answer: one sent before may be answered after this one is sent
                reponse = run_sync(kc.get_shell_msg)(timeout=delai)
                pret = reponse["msg_type"] == "kernel_info_reply"
            except Empty:
                pret = False
            if not pret and en_attendant is not None:
                en_attendant()
                en_attendant, delai = None, 1
            if pret:
                self.langue = reponse["content"].get("language_info")
                try:
                    run_sync(kc.get_iopub_msg)(timeout=0.2)  # IOPub connected too
                    break
                except Empty:
                    pass
            if not self.vivant():
                raise RuntimeError("le noyau s'est arrêté avant d'être prêt")
            if time.monotonic() > limite:
                raise RuntimeError(f"le noyau ne répond pas ({timeout:.0f} s)")
        for lire in (kc.get_iopub_msg, kc.get_shell_msg):
            while True:
                try:
                    run_sync(lire)(timeout=0)
                except Empty:
                    break

    def demarrer(self) -> None:
        self.lancer()
        self.pret()

    def vivant(self) -> bool:
        return self.process is not None and self.process.poll() is None

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

    def tuer(self) -> None:
        """Kill the kernel process, without waiting for it to go: it ends (frees its memory)
        while this process goes on; :meth:`arreter` then reaps it."""
        try:
            if self.process is not None and self.process.poll() is None:
                self.process.kill()
        except OSError:  # gone already
            pass

    def arreter(self) -> None:
        """Stop the kernel at once: it holds nothing to save, so no graceful shutdown
        (which polls the process for 0.1 s or more); its connection file is removed."""
        try:
            if self.kc is not None:
                self.kc.stop_channels()
            self.tuer()
            if self.process is not None:
                attendre_fin(self.process, 5)
            if self.km is not None:
                from jupyter_core.utils import run_sync

                run_sync(self.km.cleanup_resources)()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
        if self.fichier is not None:
            self.fichier.unlink(missing_ok=True)
        self.km = self.kc = self.process = self.fichier = self.langue = None
        self.pages = 0
        self.vide = False
