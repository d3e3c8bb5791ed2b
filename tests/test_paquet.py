"""Installable outside the repository: ``territoires init``, and the wheel end to end."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import pytest

import territoires
from territoires.config import find_home

REPO = Path(__file__).parents[1]


def test_notebooks_dir_holds_the_report_and_exploration_notebooks():
    d = territoires.notebooks_dir()
    assert (d / "reports" / "tableau_de_bord.ipynb").is_file()
    assert (d / "reports" / "alliance.ipynb").is_file()
    assert (d / "exploration" / "01-decouvrir-l-entrepot.ipynb").is_file()


def test_init_creates_a_home_found_from_its_subfolders(tmp_path, monkeypatch):
    from territoires.cli import main

    monkeypatch.delenv("TERRITOIRES_HOME", raising=False)
    home = tmp_path / "observatoire"
    assert main(["init", str(home)]) == 0
    for sub in ("data/raw", "data/processed", "reports", "notebooks/reports", "notebooks/exploration"):
        assert (home / sub).is_dir(), sub
    marker = (home / "territoires.toml").read_text(encoding="utf-8")
    assert all(line.startswith("#") or not line.strip() for line in marker.splitlines())  # comments only
    import tomllib

    assert tomllib.loads(marker) == {}
    copied = sorted(p.relative_to(home / "notebooks").as_posix() for p in (home / "notebooks").rglob("*.ipynb"))
    shipped = sorted(p.relative_to(territoires.notebooks_dir()).as_posix()
                     for d in ("reports", "exploration") for p in (territoires.notebooks_dir() / d).glob("*.ipynb"))
    assert copied == shipped
    monkeypatch.chdir(home / "notebooks" / "exploration")
    assert find_home()[0] == home.resolve()


def test_init_again_keeps_what_is_there(tmp_path, capsys):
    from territoires.projet import init

    home = tmp_path / "obs"
    init(home)
    nb = home / "notebooks" / "reports" / "tableau_de_bord.ipynb"
    nb.write_text("{}", encoding="utf-8")  # an analyst's edit
    res = init(home)
    assert res.crees == []
    assert nb.read_text(encoding="utf-8") == "{}"


def test_init_refuses_a_file(tmp_path):
    from territoires.cli import main

    f = tmp_path / "fichier"
    f.write_text("x")
    assert main(["init", str(f)]) == 1


def _sources(dest: Path) -> Path:
    """The working tree's files (tracked, or new and not ignored), as a clean source tree."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, check=True,
                           capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


@pytest.mark.slow
def test_wheel_in_a_fresh_venv_inits_builds_and_reports(tmp_path):
    """Build the wheel, install it alone into a new virtual environment, then ``init``,
    ``build --departements 29`` and ``report --scope departement:29`` from a folder
    outside the repository.

    The new environment has no site packages of its own but this one's dependencies
    (a ``.pth`` line naming this environment's site-packages, whose own ``.pth`` files,
    the editable install among them, are not processed, and nbconvert's templates linked
    under ``share/jupyter``): ``territoires`` itself comes from the wheel only. Installing every dependency from the registry would take
    minutes; the package, its data files and its entry point are what is tested here.
    """
    t0 = time.perf_counter()
    src = _sources(tmp_path / "src")
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(wheels), str(src)], check=True, capture_output=True)
    (wheel,) = wheels.glob("territoires-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for rel in ("territoires/notebooks/reports/tableau_de_bord.ipynb", "territoires/notebooks/reports/alliance.ipynb",
                "territoires/notebooks/exploration/01-decouvrir-l-entrepot.ipynb",
                "territoires/reports/templates/territoires/index.html.j2", "territoires/reports/assets/territoires.js",
                "territoires/warehouse/sql/marts/indicateurs_presence.sql",
                "territoires/warehouse/sql/fragments/agregation_indicateurs.sql", "territoires/sources/registry.toml",
                "territoires/indicators/catalogue.toml", "territoires/data/operateurs.toml"):
        assert rel in names, rel
    assert not any("_territoires_build" in n for n in names)  # the build hook stays out

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    purelib = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "_dependances_territoires.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # and their data files where an installation puts them (nbconvert's base templates)
    (venv / "share" / "jupyter").mkdir(parents=True)
    (venv / "share" / "jupyter" / "nbconvert").symlink_to(Path(sys.prefix) / "share" / "jupyter" / "nbconvert")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps", "--no-index",
                    str(wheel)], check=True, capture_output=True)

    dehors = tmp_path / "ailleurs"
    dehors.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("TERRITOIRES_HOME", "PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["CI"] = "true"

    def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
        r = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=240)
        assert r.returncode == 0, f"{args}: {r.returncode}\n{r.stdout}\n{r.stderr}"
        return r

    where = run(py, "-c", "import territoires; print(territoires.__file__); print(territoires.notebooks_dir())",
                cwd=dehors).stdout.split()
    assert Path(where[0]).is_relative_to(venv) and Path(where[1]).is_relative_to(venv), where

    territoires_bin = venv / "bin" / "territoires"
    run(territoires_bin, "init", "observatoire", cwd=dehors)
    home = dehors / "observatoire"
    assert (home / "territoires.toml").is_file()
    run(territoires_bin, "build", "--departements", "29", cwd=home)
    assert (home / "data" / "processed" / "territoires.duckdb").is_file()
    # from a subfolder: the home is found by walking up
    r = run(territoires_bin, "report", "--scope", "departement:29", "--jobs", "1", cwd=home / "notebooks")
    page = home / "reports" / "departement" / "29.html"
    assert page.is_file(), r.stdout
    html = page.read_text(encoding="utf-8")
    assert "Finistère" in html and "<script" in html
    assert (home / "reports" / "index.html").is_file()
    assert time.perf_counter() - t0 < 150
