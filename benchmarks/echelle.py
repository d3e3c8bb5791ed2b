"""Benchmark: how the cost grows with the scope (issue 21) — 1 region, 4 regions, France.

    .venv/bin/python benchmarks/run.py --only scaling

For each scope, in one home (``benchmarks/_work/scaling/``): the cold build
(``territoires build --force``, the geometry computed: its cache is removed first), the commune fiches alone (``territoires report --scope
communes --force --jobs 2``) and the whole site (``--scope all --force --jobs 2``: every
dashboard and the fiches), each command timed end to end in its own process. Peak memory
is the largest sum of the resident set sizes of the command's whole process tree (the
command, its workers and their Jupyter kernels), read from ``/proc`` every 50 ms: a
maximum over single processes (``getrusage``) would miss that workers run side by side.

The cost curve (pages per second of the whole site, and fiches per second, against the
number of communes) is written as ``benchmarks/echelle.svg`` by plain Python.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from territoires.warehouse.cache import DOSSIER as DOSSIER_CACHE

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "_work" / "scaling"
SVG = ROOT / "benchmarks" / "echelle.svg"
BIN = Path(sys.executable).parent

PORTEES = (("1 region (53)", ["--regions", "53"]), ("4 regions", []), ("France", ["--all-france"]))
#: budgets of issue 21: fiches' seconds by scope (`--jobs 2`), one fiche's bytes, the
#: all-France site's bytes, a France run's peak memory
BUDGET_FICHES_S = {"4 regions": 120, "France": 480}
#: the whole site's seconds by scope (`--jobs 2`)
BUDGET_SITE_S = {"4 regions": 20, "France": 60}
BUDGET_FICHE_OCTETS = 150_000
BUDGET_SITE_FRANCE = 1e9
BUDGET_MEMOIRE = 4 * 2**30


# ---------------------------------------------------------------- measuring
def _enfants() -> dict[int, list[int]]:
    """Children of every process, from ``/proc/<pid>/stat`` (ppid is the 4th field)."""
    arbre: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path(f"/proc/{d}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        arbre.setdefault(ppid, []).append(int(d))
    return arbre


def rss_arbre(pid: int) -> int:
    """Bytes resident in ``pid`` and all its descendants, now."""
    arbre, total, pile = _enfants(), 0, [pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while pile:
        p = pile.pop()
        try:
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * page
        except (OSError, IndexError, ValueError):
            pass
        pile.extend(arbre.get(p, []))
    return total


def mesurer(args: list[str], home: Path) -> dict:
    """Run ``territoires <args>`` in ``home``: wall seconds, exit code, peak memory of its
    process tree, its output."""
    env = dict(os.environ, TERRITOIRES_HOME=str(home), CI="true")
    t = time.perf_counter()
    p = subprocess.Popen([str(BIN / "territoires"), *args], env=env, cwd=home,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pic = [0]

    def sonder() -> None:
        while p.poll() is None:
            pic[0] = max(pic[0], rss_arbre(p.pid))
            time.sleep(0.05)

    fil = threading.Thread(target=sonder, daemon=True)
    fil.start()
    out, err = p.communicate()
    duree = time.perf_counter() - t
    fil.join()
    return {"s": duree, "rc": p.returncode, "pic": pic[0], "out": out[-2000:], "err": err[-2000:]}


def _octets(dossier: Path) -> int:
    return sum(f.stat().st_size for f in dossier.rglob("*") if f.is_file())


def bench(repeat: int) -> dict:
    """One run of each command per scope (a France site takes minutes)."""
    WORK.mkdir(parents=True, exist_ok=True)
    out: dict = {"charge": []}
    for label, args in PORTEES:
        r: dict = {}
        out["charge"].append(os.getloadavg()[0])
        # a cold build computes the geometry: the cache kept between builds is removed first
        shutil.rmtree(WORK / "data/processed" / DOSSIER_CACHE, ignore_errors=True)
        r["build"] = mesurer(["build", "--force", *args], WORK)
        con = subprocess.run([str(BIN / "python"), "-c",
                              "import duckdb,sys;c=duckdb.connect(sys.argv[1],read_only=True);"
                              "print(c.execute(\"select count(*) from marts.territoires where niveau='commune'\").fetchone()[0])",
                              str(WORK / "data/processed/territoires.duckdb")], capture_output=True, text=True, check=True)
        r["communes"] = int(con.stdout.strip())
        reports = WORK / "reports"
        shutil.rmtree(reports, ignore_errors=True)
        r["fiches"] = mesurer(["report", "--scope", "communes", "--force", "--jobs", "2"], WORK)
        tailles = [f.stat().st_size for f in (reports / "commune").glob("*.html")]
        r["nb_fiches"] = len(tailles)
        r["fiche_max"] = max(tailles, default=0)
        r["fiche_mediane"] = statistics.median(tailles) if tailles else 0
        shutil.rmtree(reports, ignore_errors=True)
        r["site"] = mesurer(["report", "--scope", "all", "--force", "--jobs", "2"], WORK)
        manifest = json.loads((reports / "manifest.json").read_text())
        r["pages"] = len(manifest.get("pages", []))
        r["octets"] = _octets(reports)
        r["actifs"] = _octets(reports / "assets")
        m = re.search(r"fiches? de commune \([^)]*\) — ([\d\s\u202f\u00a0]+(?:,\d+)?) s", r["site"]["out"])
        r["fiches_dans_site"] = float(re.sub(r"\s", "", m.group(1)).replace(",", ".")) if m else None
        m = re.search(r"pages? : [^\n]* — ([\d\s\u202f\u00a0]+(?:,\d+)?) s", r["site"]["out"])
        r["pages_dans_site"] = float(re.sub(r"\s", "", m.group(1)).replace(",", ".")) if m else None
        out[label] = r
        out["charge"].append(os.getloadavg()[0])
    ecrire_svg(out)
    return out


# ---------------------------------------------------------------- report
def _oui(ok: bool) -> str:
    return "yes" if ok else "no"


def report(r: dict) -> list[str]:
    lignes = ["## Scaling", "",
              "| scope | communes | build | whole site (`--jobs 2`) | dashboard pages | per dashboard page | commune fiches alone (`--jobs 2`) "
              "| per fiche | largest fiche (median) | site bytes | peak memory (build / fiches / site) |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for label, _ in PORTEES:
        x = r[label]
        b, f, s = x["build"], x["fiches"], x["site"]
        lignes.append(
            f"| {label} | {x['communes']:,} | {b['s']:.1f} s | {s['s']:.0f} s (exit {s['rc']}; fiches {x.get('fiches_dans_site') or 0:.0f} s) | {x['pages']:,} | "
            f"{par_page(x):.3f} s | {f['s']:.1f} s for {x['nb_fiches']:,} (exit {f['rc']}) | "
            f"{1000 * f['s'] / max(x['nb_fiches'], 1):.1f} ms | {x['fiche_max'] / 1e3:.0f} KB ({x['fiche_mediane'] / 1e3:.0f} KB) | "
            f"{x['octets'] / 1e6:.0f} MB | {b['pic'] / 2**30:.2f} / {f['pic'] / 2**30:.2f} / {s['pic'] / 2**30:.2f} GB |")
    fr, al = r["France"], r["4 regions"]
    pic_fr = max(fr[k]["pic"] for k in ("build", "fiches", "site"))
    fiche_max = max(r[label]["fiche_max"] for label, _ in PORTEES)
    lignes += [
        "", "| budget | figure | met |", "| --- | --- | --- |",
        f"| all-France site ({fr['pages']:,} pages and its fiches, `--scope all`) ≤ 60 s, `--jobs 2` | {fr['site']['s']:.0f} s "
        f"(pages {fr.get('pages_dans_site') or 0:.0f} s, fiches beside them {fr.get('fiches_dans_site') or 0:.0f} s) | {_oui(fr['site']['s'] <= BUDGET_SITE_S['France'] and fr['site']['rc'] == 0)} |",
        f"| four-region site ({al['pages']:,} pages and its fiches) ≤ 20 s, `--jobs 2` | {al['site']['s']:.0f} s "
        f"(pages {al.get('pages_dans_site') or 0:.0f} s, fiches beside them {al.get('fiches_dans_site') or 0:.0f} s) | {_oui(al['site']['s'] <= BUDGET_SITE_S['4 regions'] and al['site']['rc'] == 0)} |",
        f"| commune fiches of the alliance ({al['nb_fiches']:,}) ≤ 2 min, `--jobs 2` | {al['fiches']['s']:.0f} s | "
        f"{_oui(al['fiches']['s'] <= BUDGET_FICHES_S['4 regions'] and al['fiches']['rc'] == 0)} |",
        f"| commune fiches of all France ({fr['nb_fiches']:,}) ≤ 8 min, `--jobs 2` | {fr['fiches']['s']:.0f} s | "
        f"{_oui(fr['fiches']['s'] <= BUDGET_FICHES_S['France'] and fr['fiches']['rc'] == 0)} |",
        f"| each fiche ≤ 150 KB (shared assets once per site) | largest {fiche_max / 1e3:.0f} KB | "
        f"{_oui(fiche_max <= BUDGET_FICHE_OCTETS)} |",
        f"| site for all France ≤ 1 GB | {fr['octets'] / 1e6:.0f} MB (of which shared assets {fr['actifs'] / 1e6:.1f} MB) | "
        f"{_oui(fr['octets'] <= BUDGET_SITE_FRANCE)} |",
        f"| peak memory of a France run ≤ 4 GB (largest of build, fiches, site) | {pic_fr / 2**30:.2f} GB | "
        f"{_oui(pic_fr <= BUDGET_MEMOIRE)} |",
        "",
        f"One run of each command per scope, in one home; load average (1 min) before and after each scope"
        f": {' → '.join(f'{c:.1f}' for c in r['charge'])}. Each figure is a whole "
        "command (Python start-up included). The whole site is `--scope all`: every dashboard "
        "(for France 18 regions, 101 départements and every EPCI) and the commune fiches; "
        "dashboard pages are its manifest's entries, and per dashboard page is the time of the pages "
        "(as the command prints it; the fiches are written meanwhile, their own time printed beside), over them. Peak memory: the "
        "largest sum of resident memory "
        "over the command's process tree (workers and kernels included), sampled every 50 ms.",
        "",
        f"![Cost curve: dashboard pages and commune fiches per second as the scope grows]({SVG.name})",
        "",
    ]
    return lignes


# ---------------------------------------------------------------- the curve
def par_page(x: dict) -> float:
    """Seconds per dashboard page of the whole site: the time its pages took (as the command
    reports them: the fiches are written meanwhile), over its manifest's pages."""
    return (x.get("pages_dans_site") or x["site"]["s"]) / max(x["pages"], 1)


def ecrire_svg(r: dict) -> None:
    """Dashboard pages per second (whole site) and commune fiches per second against the
    communes of the scope; both axes logarithmic, in plain SVG."""
    import math

    points = [(label, r[label]["communes"], 1 / par_page(r[label]),
               r[label]["nb_fiches"] / r[label]["fiches"]["s"]) for label, _ in PORTEES]
    series = (("dashboard pages per second (whole site)", 2, "#0868ac"),
              ("commune fiches per second (--scope communes)", 3, "#d95f02"))
    L, H, g, d, h, b = 680, 460, 70, 45, 50, 120
    xs = [math.log10(p[1]) for p in points]
    x0, x1 = math.floor(min(xs)), math.ceil(max(xs))
    ys = [math.log10(v) for p in points for v in p[2:]]
    y0, y1 = math.floor(min(ys)), math.ceil(max(ys) + 0.15)  # room for the labels above the points
    px = lambda v: g + (math.log10(v) - x0) / (x1 - x0) * (L - g - d)  # noqa: E731
    py = lambda v: H - b - (math.log10(v) - y0) / (y1 - y0) * (H - b - h)  # noqa: E731
    s = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{L}" height="{H}" viewBox="0 0 {L} {H}" '
         'font-family="sans-serif" font-size="13" role="img" aria-labelledby="titre">',
         '<title id="titre">Cost curve: dashboard pages and commune fiches produced per second as the scope '
         'grows (1 region, 4 regions, France)</title>',
         f'<rect width="{L}" height="{H}" fill="#ffffff"/>',
         f'<text x="{L / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">'
         'Throughput as the scope grows (--jobs 2, 2 cores)</text>']
    for e in range(y0, y1 + 1):
        y = py(10 ** e)
        s.append(f'<line x1="{g}" x2="{L - d}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e6e6e6"/>'
                 f'<text x="{g - 8}" y="{y + 4:.1f}" text-anchor="end">{10 ** e:,}</text>')
    for e in range(x0, x1 + 1):
        x = px(10 ** e)
        s.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{h}" y2="{H - b}" stroke="#e6e6e6"/>'
                 f'<text x="{x:.1f}" y="{H - b + 18}" text-anchor="middle">{10 ** e:,}</text>')
    s.append(f'<line x1="{g}" x2="{L - d}" y1="{H - b}" y2="{H - b}" stroke="#333"/>'
             f'<line x1="{g}" x2="{g}" y1="{h}" y2="{H - b}" stroke="#333"/>')
    for p in points:
        s.append(f'<line x1="{px(p[1]):.1f}" x2="{px(p[1]):.1f}" y1="{H - b}" y2="{H - b + 5}" stroke="#333"/>'
                 f'<text x="{px(p[1]):.1f}" y="{H - b + 34}" text-anchor="middle" font-size="12" fill="#555">'
                 f'{p[0]} ({p[1]:,})</text>')
    s.append(f'<text x="{(g + L - d) / 2}" y="{H - b + 56}" text-anchor="middle">communes in the scope (log scale)</text>')
    s.append(f'<text transform="translate(18 {(h + H - b) / 2}) rotate(-90)" text-anchor="middle">'
             'per second (log scale)</text>')
    for nom, i, couleur in series:
        pts = [(px(p[1]), py(p[i])) for p in points]
        s.append(f'<polyline fill="none" stroke="{couleur}" stroke-width="2.5" points="'
                 + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts) + '"/>')
        for (x, y), p in zip(pts, points):
            s.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{couleur}"/>'
                     f'<text x="{x:.1f}" y="{y - 10:.1f}" text-anchor="middle" fill="{couleur}">{p[i]:.{1 if p[i] < 100 else 0}f}</text>')
    for k, (nom, _, couleur) in enumerate(series):
        x, y = g, H - 32 + k * 20
        s.append(f'<line x1="{x}" x2="{x + 24}" y1="{y - 4}" y2="{y - 4}" stroke="{couleur}" stroke-width="2.5"/>'
                 f'<text x="{x + 30}" y="{y}">{nom}</text>')
    s.append("</svg>")
    SVG.write_text("\n".join(s) + "\n", encoding="utf-8")
