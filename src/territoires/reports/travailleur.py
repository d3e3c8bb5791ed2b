"""A worker process of a report batch: its kernel, the notebooks, where pages go.

Each worker executes its pages in its one kernel (:mod:`.noyau`) and exports them to
HTML in-process (one ``HTMLExporter`` per process). A page swaps in whole: its executed
notebook, CSV files and HTML are written to temporaries (``.<name>.tmp-<pid>…``) and
renamed into place only when all of them are complete. A failing notebook, a cell over
the time limit, a dying kernel or a full disk leave the previous page's files
byte-identical; the failure is recorded (``echec``, the error) with the failed notebook
kept for audit beside the good one (``<code>.echec.ipynb``), and does not stop the
others; a dead or timed-out kernel is restarted.

A worker stopped by SIGTERM (the batch was interrupted) kills its kernel and removes its
temporaries before it exits; it ignores SIGINT, which the batch handles for it.
"""

from __future__ import annotations

import atexit
import gc
import math
import os
import signal
import time
from pathlib import Path
from typing import Any

from territoires.reports.noyau import ENGINE_NAME, KERNEL_NAME, RESET, Noyau, imports_legers, register_engine
from territoires import espace, noms
from territoires.config import Settings
from territoires.reports import publication, site
from territoires.reports.publication import exporter_en_fond

#: the report notebooks, in notebooks/reports/
NOTEBOOKS = ("tableau_de_bord.ipynb", "alliance.ipynb", "adoption_services.ipynb")


def secondes_papermill(timeout: float | None) -> int | None:
    """``--timeout`` as papermill wants it: nbclient's ``timeout`` is an ``Integer`` trait
    (a float raises « TraitError … expected an int »), so seconds are rounded up, 1 at least."""
    return None if timeout is None else max(1, math.ceil(timeout))


class Travailleur:
    """State of one worker process: its kernel, the notebooks, where pages go."""

    def __init__(self, home: str, reports_dir: str, notebooks_dir: str, single_file: bool,
                 timeout: float | None, env: dict[str, str], noyau: Noyau | None = None,
                 audit_dir: str | None = None, entrepot: str | None = None) -> None:
        self.reports_dir = Path(reports_dir)
        #: the warehouse the pages read: their ``entrepot`` parameter (``<home>``'s by default)
        self.entrepot = Path(entrepot) if entrepot else Settings(Path(home)).warehouse
        #: executed notebooks, outside the published folder (``<home>/audit``)
        self.audit_dir = Path(audit_dir) if audit_dir else Path(home) / "audit"
        self.notebooks_dir = Path(notebooks_dir)
        self.single_file = single_file
        self.timeout = secondes_papermill(timeout)
        self.temporaires: set[Path] = set()
        self.noyau = noyau or Noyau(env, Path(home), self.entrepot)
        atexit.register(self.noyau.arreter)
        # no garbage collection while nbformat, papermill and jupyter_client load (each walked
        # everything loaded, 0.03–0.05 s of the worker's start for the little garbage imports
        # leave); what they leave is then frozen out of its reach, as in the kernel
        collecte = gc.isenabled()
        gc.disable()
        try:
            imports_legers()
            # the kernel boots in its own process while this one imports papermill and nbconvert
            try:
                if self.noyau.process is None:
                    self.noyau.lancer()
                self.noyau.connecter()  # its channels open while it boots (see Noyau.connecter)
            except Exception:  # noqa: BLE001 - retried (and reported) by the first page
                self.noyau.arreter()
            import nbformat

            register_engine()
            sans_validation_des_noeuds()
            self.notebooks = {}
            for name in NOTEBOOKS:
                path = self.notebooks_dir / name
                if path.is_file():
                    self.notebooks[name] = nbformat.read(path, as_version=4)
            # the HTML exporter, needed once the page has run, builds by a thread while this
            # process waits on its kernel: as it boots if it is not ready (pret's en_attendant),
            # else once the page is asked for (a thread slows what this one still has to do)
            if self.noyau.process is not None:
                try:
                    self.noyau.pret(en_attendant=exporter_en_fond)
                except Exception:  # noqa: BLE001 - retried (and reported) by the first page
                    self.noyau.arreter()
        finally:
            if collecte:
                gc.freeze()
                gc.enable()

    def executer(self, page: dict[str, Any]) -> dict[str, Any]:
        """Execute one page and swap its files in, or record why not (see the module)."""
        import papermill
        from papermill.exceptions import PapermillExecutionError

        t0 = time.perf_counter()
        result: dict[str, Any] = {"portee": page["portee"], "statut": "echec", "erreur": None, "octets": 0}
        try:
            # paths from data (codes) must stay inside reports/
            html_path = noms.dans_dossier(self.reports_dir, page["html"])
            nb_path = noms.dans_dossier(self.audit_dir, page["ipynb"])
            echec_path = noms.dans_dossier(self.audit_dir, site.chemin_echec(page["ipynb"]))
        except ValueError as exc:
            result.update(erreur=f"{type(exc).__name__} : {exc}", duree_s=0.0)
            return result
        nb_path.parent.mkdir(parents=True, exist_ok=True)
        tmp_nb = nb_path.with_name(f".{nb_path.stem}.tmp-{os.getpid()}.ipynb")
        prets: list[tuple[Path, Path]] = []  # (temporary, final) of the page's files
        self.temporaires.add(tmp_nb)
        audit = False  # keep the failed notebook for audit (not after an interrupt)
        try:
            source = self.notebooks.get(page["notebook"])
            if source is None:
                raise RuntimeError(f"{self.notebooks_dir / page['notebook']}: carnet introuvable")
            if self.noyau.kc is None or not self.noyau.vivant():
                self.noyau.arreter()
                self.noyau.demarrer()
            if self.noyau.pages and not self.noyau.vide:
                self.noyau.executer(RESET)
            self.noyau.pages += 1
            self.noyau.vide = False
            # papermill copies the notebook it is given (it writes and reads it back)
            nb = papermill.execute_notebook(
                source, str(tmp_nb), parameters={**page["parametres"], "entrepot": str(self.entrepot)},
                engine_name=ENGINE_NAME,
                kernel_name=KERNEL_NAME, progress_bar=False, request_save_on_cell_execute=False,
                execution_timeout=self.timeout, km=self.noyau.km, kc=self.noyau.kc, langue=self.noyau.langue,
                apres=RESET, on_cell_execute=_pendant_la_page,
            )
            self.noyau.vide = True  # every cell ran without error: the last one emptied the namespace
            body, extra = publication.html_page(nb, page["html"], single_file=self.single_file,
                                                notebook_path=f"{self.audit_dir.name}/{page['ipynb']}")
            for rel, data in extra.items():
                final = noms.dans_dossier(self.reports_dir, rel)
                prets.append((publication.preparer(final, data), final))
                self.temporaires.add(prets[-1][0])
            prets.append((publication.preparer(html_path, body), html_path))
            self.temporaires.add(prets[-1][0])
            # everything is written: swap in, the HTML last (it links the others)
            os.replace(tmp_nb, nb_path)
            for tmp, final in prets:
                os.replace(tmp, final)
            echec_path.unlink(missing_ok=True)  # an older failure's notebook: superseded
            result.update(statut="ok", octets=len(body.encode("utf-8")) + sum(len(d) for d in extra.values()))
        except PapermillExecutionError as exc:
            audit = True
            result["erreur"] = f"{exc.ename} : {exc.evalue} (cellule {exc.exec_count})"
        except Exception as exc:  # noqa: BLE001 - any failure is recorded, the batch goes on
            audit = True
            result["erreur"] = _erreur(exc, self.timeout)
            self.noyau.arreter()  # dead, stuck or timed out: a fresh kernel for the next page
        finally:
            if audit and tmp_nb.exists():  # the failed notebook, beside the good one
                try:
                    os.replace(tmp_nb, echec_path)
                    result["carnet_echec"] = site.chemin_echec(page["ipynb"])
                except OSError:
                    pass
            for tmp in [tmp_nb, *(t for t, _ in prets)]:
                tmp.unlink(missing_ok=True)
                self.temporaires.discard(tmp)
        result["duree_s"] = round(time.perf_counter() - t0, 3)
        return result

    def arreter(self) -> None:
        """Kill the kernel and remove this worker's temporaries (interrupted batch)."""
        self.noyau.arreter()
        for tmp in list(self.temporaires):
            tmp.unlink(missing_ok=True)


def sans_validation_des_noeuds() -> None:
    """nbformat's v4 constructors without their schema check, in a worker: nbclient makes
    each output of a page with ``new_output``, which checks it against the notebook schema
    (jsonschema, 0.9 ms an output, seven a dashboard: four regions, each worker 4.75 s →
    4.1 s of CPU); what IPython sends is valid, and the notebook written for audit is still checked
    whole by nbformat (a failure logged, as always). The same nodes, the same files."""
    from nbformat.v4 import nbbase

    nbbase.validate = _valide


def _valide(node, ref=None) -> None:  # noqa: ARG001 - nbbase.validate's signature
    return None


def _pendant_la_page(**_) -> None:
    """nbclient's ``on_cell_execute``: a cell is sent to the kernel, this process now waits."""
    exporter_en_fond()


def _erreur(exc: Exception, timeout: int | None) -> str:
    """The reason of a failure, in French where we know it."""
    if isinstance(exc, TimeoutError) or type(exc).__name__ == "CellTimeoutError":
        return f"délai dépassé : une cellule a duré plus de {timeout} s (--timeout)"
    if type(exc).__name__ == "DeadKernelError":
        return f"le noyau Jupyter s'est arrêté pendant l'exécution ({exc})"
    if isinstance(exc, espace.DisquePlein):
        return str(exc)
    return f"{type(exc).__name__} : {exc}"


_TRAVAILLEUR: Travailleur | None = None


def _sur_sigterm(signum, frame):  # noqa: ARG001 - signal handler signature
    if _TRAVAILLEUR is not None:
        _TRAVAILLEUR.arreter()
    os._exit(128 + signum)


def init_worker(kwargs: dict[str, Any]) -> None:
    global _TRAVAILLEUR
    # Ctrl-C reaches the whole process group: the batch decides, then stops its workers
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _sur_sigterm)
    _TRAVAILLEUR = Travailleur(**kwargs)


def run_page(page: dict[str, Any]) -> dict[str, Any]:
    assert _TRAVAILLEUR is not None
    return _TRAVAILLEUR.executer(page)

