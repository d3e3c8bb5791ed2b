"""Benchmark: the cybersecurity probe's rate (``territoires sonde``), on loopback servers.

    .venv/bin/python benchmarks/sonde.py                 # 2,000 websites on 50 hosts, prints the figures
    .venv/bin/python benchmarks/sonde.py --cibles 500 --repeat 3

The probe runs in its own process against the tests' loopback DNS and HTTP servers
(``tests/sonde_serveurs.py``: every host on its own 127.0.1.x address; HTTPS refused at
once, so each check is one refused connection and one HTTP request), with no delay
between requests to a host and the default global cap (20). The figure is the rate of
finished checks, journal written, what bounds a real run apart from the network and the
politeness delay (one request per second per host by default). Work files go to
benchmarks/_work/sonde/ (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "_work" / "sonde"
HOTES = 50

SCRIPT = """
import json, sys
from pathlib import Path
from territoires.sonde import Reglages
from territoires.sonde.campagne import lancer
from territoires.sonde.cibles import Cible
cfg = json.loads(sys.argv[1])
cfg["reglages"]["resolveur"] = tuple(cfg["reglages"]["resolveur"])
cibles = [Cible("commune", f"{i:05d}", None, f"Commune fictive {i}", None, f"http://h{i % cfg['hotes']}.test/c{i}", None)
          for i in range(cfg["cibles"])]
lancer(cibles, Path(cfg["dossier"]), Reglages(**cfg["reglages"]), quiet=True)
"""


def bench(repeat: int, cibles: int = 2000) -> dict:
    sys.path.insert(0, str(ROOT / "tests"))
    from sonde_serveurs import ServeurDNS, ServeurWeb

    hotes = {f"h{i}.test": (f"127.0.1.{i + 1}", "sans_hsts") for i in range(HOTES)}
    durees, maxima = [], []
    with ServeurDNS({n: {"A": [a]} for n, (a, _) in hotes.items()}) as dns_, ServeurWeb(hotes, None) as web:
        for _ in range(repeat):
            shutil.rmtree(WORK, ignore_errors=True)
            WORK.mkdir(parents=True)
            reglages = dict(concurrence=20, delai=0.0, timeout=10, tentatives=1, port_http=web.port_http,
                            port_https=web.port_https, resolveur=["127.0.0.1", dns_.port], proxy_environnement=False)
            cfg = {"dossier": str(WORK), "reglages": reglages, "cibles": cibles, "hotes": HOTES}
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(cfg)], check=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
            durees.append(time.perf_counter() - t)
            maxima.append((max(web.max_par_hote.values()), web.max_total))
    return {"cibles": cibles, "hotes": HOTES, "durees": durees, "maxima": maxima}


def report(r: dict) -> list[str]:
    d = statistics.median(r["durees"])
    par_hote, total = max(m[0] for m in r["maxima"]), max(m[1] for m in r["maxima"])
    return ["## Cybersecurity probe (loopback)", "",
            f"{r['cibles']:,} websites on {r['hotes']} hosts, global cap 20, no delay: "
            f"{d:.1f} s median of {len(r['durees'])} (min {min(r['durees']):.1f} – max {max(r['durees']):.1f}), "
            f"{r['cibles'] / d:.0f} checks/s including the interpreter's start; at most {par_hote} connection per "
            f"host and {total} overall, as the server measured.",
            "A real run is bound by the politeness delay (1 s per host by default) and the network, not by this.", ""]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--cibles", type=int, default=2000)
    p.add_argument("--repeat", type=int, default=1)
    args = p.parse_args()
    print("\n".join(report(bench(args.repeat, args.cibles))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
