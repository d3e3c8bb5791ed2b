"""Benchmark: the whole test suite as ``make test`` runs it (issue 21: ≤ 5 minutes on 2 cores).

    .venv/bin/python benchmarks/suite.py

One run of the Makefile's command (``pytest -q -n <cores> --dist loadfile``, browser tests
included where Chromium is installed), as CI runs it (``CI=true``: no progress bars), timed
from the outside. A run takes about five minutes, so ``--repeat`` is not applied: the
section says the load it ran under instead. The slowest tests are listed, as pytest
reports them, for whoever wants to cut the time.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 300


def commande() -> list[str]:
    """The Makefile's ``test`` target, read from the Makefile itself (one way to run the suite)."""
    texte = (ROOT / "Makefile").read_text(encoding="utf-8")
    ligne = re.search(r"^test:.*\n\t@\$\(PY\) (-m pytest .*)$", texte, re.M)
    if ligne is None:
        raise SystemExit("Makefile : cible « test » introuvable")
    jobs = str(os.cpu_count() or 2)
    return [sys.executable, *ligne.group(1).replace("$(JOBS)", jobs).split(), "--durations=5", "-p", "no:cacheprovider"]


def bench(repeat: int = 1) -> dict:  # noqa: ARG001 - one run: see the module
    cmd = commande()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env={**os.environ, "CI": "true"}, capture_output=True, text=True)
    duree = time.perf_counter() - t0
    sortie = proc.stdout.splitlines()
    bilan = next((l.strip("= ") for l in reversed(sortie) if " in " in l and ("passed" in l or "failed" in l)), "?")
    lentes = [l for l in sortie if re.match(r"^\d+\.\d+s (call|setup|teardown) ", l)]
    return {"commande": " ".join(["python", *cmd[1:]]), "duree_s": duree, "code": proc.returncode, "bilan": bilan,
            "lentes": lentes, "coeurs": os.cpu_count()}


def report(r: dict) -> list[str]:
    ok = r["code"] == 0
    met = "yes" if ok and r["duree_s"] <= BUDGET_S else ("no" if ok else "no: the suite failed")
    lignes = ["## Test suite (`make test`)", "",
              "| measure | value | budget | met |", "|---|---|---|---|",
              f"| whole suite on {r['coeurs']} cores, `{r['commande']}` | {r['duree_s']:.0f} s ({r['bilan']}) "
              f"| ≤ {BUDGET_S} s | {met} |", "",
              "One run (five minutes): `--repeat` does not apply to this section. Slowest tests of that run:", ""]
    lignes += [f"- `{l}`" for l in r["lentes"]] or ["- (none listed)"]
    return lignes + [""]


def main() -> int:
    print("\n".join(report(bench())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
