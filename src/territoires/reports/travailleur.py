"""A worker process of a report batch: its kernel, the notebooks, where pages go.

Each worker executes its pages in its one kernel (:mod:`.noyau`), exports them to HTML
in-process (one ``HTMLExporter`` per process) and writes them atomically. A failing
notebook is recorded (``echec``, the error, the executed notebook kept for audit) and
does not stop the others; a dead or timed-out kernel is restarted.
"""

from __future__ import annotations

import atexit
import os
import time
from pathlib import Path
from typing import Any

from territoires.reports.noyau import ENGINE_NAME, KERNEL_NAME, RESET, Noyau, imports_legers, register_engine
from territoires.reports.publication import write_atomic

#: the report notebooks, in notebooks/reports/
NOTEBOOKS = ("tableau_de_bord.ipynb", "alliance.ipynb", "adoption_services.ipynb")


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
        imports_legers()
        import nbformat

        from territoires.reports.publication import exporter

        register_engine()
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

        from territoires.reports import publication

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
            body, extra = publication.html_page(nb, page["html"], single_file=self.single_file,
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


def init_worker(kwargs: dict[str, Any]) -> None:
    global _TRAVAILLEUR
    _TRAVAILLEUR = Travailleur(**kwargs)


def run_page(page: dict[str, Any]) -> dict[str, Any]:
    assert _TRAVAILLEUR is not None
    return _TRAVAILLEUR.executer(page)

