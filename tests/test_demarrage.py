"""A report kernel's path stays without pandas and pyarrow (issue 21, « one dashboard from a
cold start »): importing them was the longest step of a kernel's start (0.4–0.6 s).

The kernel's start-up lines (:func:`territoires.reports.noyau.echauffement`) and then every
code cell of the report notebooks run in a fresh interpreter, as in a report kernel; the
test reads that interpreter's ``sys.modules`` at the end. It fails if the start-up lines
stop marking pandas and pyarrow absent (DuckDB's first bound parameter imports both), and
if a page's path needs either (``.pl()``, ``.df()``, ``import pandas``: the cell raises).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks" / "reports"

#: run in the child: the kernel's start-up lines, then each notebook's code cells with its
#: parameters (what papermill injects), then the names of the heavy modules really loaded
ENFANT = r"""
import json, sys
from pathlib import Path

from territoires.reports.noyau import echauffement

entrepot, carnets, pages = sys.argv[1], Path(sys.argv[2]), json.loads(sys.argv[3])
noyau = {}  # the kernel's namespace: its lines run one after the other in it
for ligne in echauffement(Path(entrepot)):
    exec(ligne, noyau)
for carnet, parametres in pages:
    cellules = [c for c in json.loads((carnets / carnet).read_text(encoding="utf-8"))["cells"]
                if c["cell_type"] == "code"]
    espace = {}
    exec("".join(cellules[0]["source"]), espace)  # the parameters cell, then papermill's values
    espace.update(parametres, entrepot=entrepot)
    for cellule in cellules[1:]:
        exec("".join(cellule["source"]), espace)
print("CHARGES=" + json.dumps(sorted(m for m in ("pandas", "pyarrow") if sys.modules.get(m) is not None)))
"""


def _charges(entrepot: Path, pages: list) -> list[str]:
    proc = subprocess.run([sys.executable, "-c", ENFANT, str(entrepot), str(NOTEBOOKS), json.dumps(pages)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ligne = [x for x in proc.stdout.splitlines() if x.startswith("CHARGES=")]
    assert ligne, proc.stdout[-2000:]
    return json.loads(ligne[-1].removeprefix("CHARGES="))


def test_pages_sans_pandas_ni_pyarrow(fixture_adherents):
    home, _ = fixture_adherents  # a register loaded: the membership sections run too
    pages = [
        ["tableau_de_bord.ipynb", {"niveau": "region", "code": "53"}],
        ["tableau_de_bord.ipynb", {"niveau": "departement", "code": "29"}],
        ["alliance.ipynb", {}],
        ["adoption_services.ipynb", {"niveau": "alliance", "code": "alliance"}],
    ]
    assert _charges(home / "data" / "processed" / "territoires.duckdb", pages) == []


def test_noyau_de_rapport_sans_debogueur(site_home, fixture_warehouse):
    """A report kernel starts without debugpy (JupyterLab's debugger, a quarter of
    ipykernel's own start), the same interpreter otherwise."""
    from jupyter_core.utils import run_sync

    from territoires.reports.noyau import Noyau, kernel_env

    noyau = Noyau(kernel_env(), site_home, fixture_warehouse)
    try:
        noyau.demarrer()
        msg_id = noyau.kc.execute("import sys; print(sys.modules.get('debugpy', 'non chargé'), sys.executable)")
        while True:
            msg = run_sync(noyau.kc.get_iopub_msg)(timeout=30)
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] in ("stream", "error"):
                break
    finally:
        noyau.arreter()
    assert msg["msg_type"] == "stream" and msg["content"]["text"].split() == ["None", sys.executable]


def test_un_noyau_plus_lent_qu_une_seconde_finit_pret(site_home, fixture_warehouse, monkeypatch):
    """A kernel still booting after a second answers each ``kernel_info`` request late, one
    behind the last sent: the wait accepts any answer (a wait for the latest one's never ends)."""
    from territoires.reports import noyau as module

    lignes = module.echauffement
    monkeypatch.setattr(module, "echauffement", lambda entrepot: (*lignes(entrepot), "import time; time.sleep(2.5)"))
    noyau = module.Noyau(module.kernel_env(), site_home, fixture_warehouse)
    try:
        noyau.lancer()
        noyau.pret(timeout=60)
        noyau.executer("assert 1 + 1 == 2")
        assert noyau.vivant()
    finally:
        noyau.arreter()
    assert not noyau.vivant()


def test_la_connexion_d_un_lanceur_disparu_est_effacee(tmp_path, monkeypatch):
    """A kernel's connection file holds its signing key: one left by a process that no longer
    exists (a worker killed by SIGKILL cannot remove it) goes when the next kernel is
    launched; a live process's stays, and the new one is readable by its owner only."""
    import tempfile

    from territoires.reports import noyau as module

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    mort = subprocess.Popen(["true"])
    mort.wait()  # a pid that no longer exists
    orpheline = tmp_path / f"{module.PREFIXE_CONNEXION}{mort.pid}-abc.json"
    vivante = tmp_path / f"{module.PREFIXE_CONNEXION}{os.getppid()}-def.json"
    autre = tmp_path / "kernel-123.json"  # not ours: left alone
    for f in (orpheline, vivante, autre):
        f.write_text("{}", encoding="utf-8")
    nouvelle = module.connexion()
    assert not orpheline.exists() and vivante.exists() and autre.exists()
    assert nouvelle.parent == tmp_path and nouvelle.name.startswith(f"{module.PREFIXE_CONNEXION}{os.getpid()}-")
    assert nouvelle.stat().st_mode & 0o777 == 0o600
    assert set(json.loads(nouvelle.read_text(encoding="utf-8"))) >= set(module.CANAUX) | {"key", "ip"}
