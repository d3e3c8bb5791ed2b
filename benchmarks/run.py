"""Benchmark harness: speed and size, each against a reference measured in the same run.

    make bench                       # everything, rewrites benchmarks/RESULTS.md
    .venv/bin/python benchmarks/run.py --only build --repeat 3

Work files go to benchmarks/_work/ (git-ignored). Timing assertions never go into
unit tests: budgets are stated next to the measured figures in RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import lzma
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "_work"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
BIN = Path(sys.executable).parent


def stats(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def fmt(s: dict, unit: str = "s") -> str:
    if s["n"] == 1:
        return f"{s['median']:.2f} {unit} (1 run)"
    return f"{s['median']:.2f} {unit} (min {s['min']:.2f} – max {s['max']:.2f}, {s['n']} runs)"


def timed(fn, repeat: int) -> dict:
    values = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        values.append(time.perf_counter() - t)
    return stats(values)


def run(cmd: list[str], home: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, TERRITOIRES_HOME=str(home), CI="true")
    return subprocess.run(cmd, env=env, cwd=home, check=check, capture_output=True, text=True)


# ---------------------------------------------------------------- build
def floor_read(files: list[Path]) -> None:
    """The floor: decompress the embedded lzma files and let DuckDB alone read them."""
    import duckdb

    con = duckdb.connect()
    with tempfile.TemporaryDirectory() as tmp:
        for f in files:
            out = Path(tmp) / f.name.removesuffix(".lzma")
            with lzma.open(f) as fin, open(out, "wb") as fout:
                shutil.copyfileobj(fin, fout, 1 << 22)
            con.execute(
                f"create table \"{out.stem}\" as select * from read_csv('{out}', header = true, "
                "all_varchar = true, delim = ',', quote = '\"', escape = '\"', nullstr = '\\N', "
                "max_line_size = 100000000)"
            )
    con.close()


def bench_build(repeat: int) -> dict:
    from territoires.sources import embedded_path, load_registry
    from territoires.warehouse.build import EMBEDDED_TABLES

    reg = load_registry()
    files = [embedded_path(reg[s]) for s in EMBEDDED_TABLES]
    home = WORK / "build"
    home.mkdir(parents=True, exist_ok=True)
    tb = str(BIN / "territoires")
    out: dict = {"floor": timed(lambda: floor_read(files), repeat)}
    # first build also extracts data/raw; time the steady state after one warm-up
    run([tb, "build", "--all-france", "--force"], home)
    out["france"] = timed(lambda: run([tb, "build", "--all-france", "--force"], home), repeat)
    out["france_size"] = (home / "data/processed/territoires.duckdb").stat().st_size
    out["alliance"] = timed(lambda: run([tb, "build", "--force"], home), repeat)
    out["alliance_size"] = (home / "data/processed/territoires.duckdb").stat().st_size
    out["region"] = timed(lambda: run([tb, "build", "--regions", "53", "--force"], home), repeat)
    run([tb, "build"], home)
    out["unchanged"] = timed(lambda: run([tb, "build"], home), repeat)
    # the same, in-process (without the CLI's Python start-up)
    from territoires.warehouse.build import build

    build(home=home, quiet=True)
    out["unchanged_inprocess"] = timed(lambda: build(home=home, quiet=True), repeat)
    return out


def report_build(r: dict) -> list[str]:
    ratio = r["france"]["median"] / r["floor"]["median"]
    lines = [
        "## Build",
        "",
        "| measure | figure | budget | met |",
        "| --- | --- | --- | --- |",
        f"| floor: DuckDB alone decompressing and reading the 4 embedded files | {fmt(r['floor'])} | reference | |",
        f"| full-France build (34 875 communes) | {fmt(r['france'])} | ≤ 3 × floor | {'yes' if ratio <= 3 else 'no'}: {ratio:.1f} × |",
        f"| four-region build (default, 7 907 communes) | {fmt(r['alliance'])} | | {r['alliance']['median'] / r['floor']['median']:.1f} × floor |",
        f"| one-region build (Bretagne) | {fmt(r['region'])} | | |",
        f"| unchanged rebuild, `territoires build` command | {fmt(r['unchanged'])} | < 1 s | {'yes' if r['unchanged']['median'] < 1 else 'no'} |",
        f"| unchanged rebuild, in-process | {fmt(r['unchanged_inprocess'])} | < 1 s | {'yes' if r['unchanged_inprocess']['median'] < 1 else 'no'} |",
        f"| warehouse size, France / four regions | {r['france_size'] / 1e6:.0f} MB / {r['alliance_size'] / 1e6:.0f} MB | | |",
        "",
    ]
    if ratio > 3:
        lines += [
            "The full-France build is over its budget: most of the time goes to geometry",
            "(cleaning the mainland's 34 000 commune polygons into one coverage, then coverage",
            "union and simplification per level), which the floor does not do. Reading the data",
            "itself costs about the floor.",
            "",
        ]
    return lines


SECTIONS = {"build": (bench_build, report_build)}


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import duckdb

    return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, DuckDB {duckdb.__version__}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--only", choices=sorted(SECTIONS), action="append")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    chosen = args.only or list(SECTIONS)
    raw: dict = {}
    lines = [f"# Benchmark results", "", f"Run {datetime.now():%Y-%m-%d %H:%M} on {machine()}.",
             f"Medians of {args.repeat} runs with min–max unless stated.", ""]
    t0 = time.perf_counter()
    for name in chosen:
        bench, report = SECTIONS[name]
        print(f"[bench] {name} …", file=sys.stderr, flush=True)
        raw[name] = bench(args.repeat)
        lines += report(raw[name])
    lines += [f"Total harness time: {time.perf_counter() - t0:.0f} s.", ""]
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    (WORK / "results.json").write_text(json.dumps(raw, indent=2, default=str))
    print(RESULTS.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
