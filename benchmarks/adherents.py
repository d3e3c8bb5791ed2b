"""Benchmark: validating and importing a 100,000-row members' register.

    .venv/bin/python benchmarks/adherents.py            # 100,000 rows, prints the figures
    .venv/bin/python benchmarks/adherents.py --lignes 20000 --repeat 3

Budget (issue 8): validate + import under 5 s and under 500 MB peak. Each command runs in
its own process (``territoires adherents validate`` then ``import``), as a user runs it;
peak memory is the child's maximum resident set size (``resource.getrusage``), which
includes the interpreter and DuckDB (about 100 MB before reading a single row). The
load into DuckDB (``territoires.members.load.load_raw``, what the build runs) is timed
in its own process too (without the warehouse build around it).

Work files go to benchmarks/_work/adherents/ (git-ignored). The register is generated:
fictitious names, SIRETs with valid keys computed here.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "_work" / "adherents"
BIN = Path(sys.executable).parent

TYPES = ["Commune", "Communauté de communes", "SIVOM", "CCAS", "EHPAD", "Lycée", "OPH", "SEM", "Autre"]
SERVICES = ["Actes|Parapheur", "Salle des marchés", "Archivage;Open data", "", "Hélios|Actes|SIG"]


def generer(chemin: Path, lignes: int, codes_insee: list[str]) -> Path:
    """Un registre CSV « ; » UTF-8 de ``lignes`` adhérents valides et fictifs."""
    from territoires.members.identifiants import siren_avec_cle, siret_avec_cle

    chemin.parent.mkdir(parents=True, exist_ok=True)
    with chemin.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter=";", lineterminator="\r\n")
        w.writerow(["SIRET", "Raison sociale", "Type de collectivité", "Code INSEE", "Date d'adhésion",
                    "Services souscrits"])
        for i in range(lignes):
            siren = siren_avec_cle(f"{70000000 + i:08d}")
            w.writerow([siret_avec_cle(siren + "0001"), f"Entité fictive n° {i}", TYPES[i % len(TYPES)],
                        codes_insee[i % len(codes_insee)], f"{1 + i % 28:02d}/{1 + i % 12:02d}/{2010 + i % 15}",
                        SERVICES[i % len(SERVICES)]])
    return chemin


def _codes_insee(entrepot: Path | None) -> list[str]:
    if entrepot and entrepot.is_file():
        import duckdb

        con = duckdb.connect(str(entrepot), read_only=True)
        try:
            return [r[0] for r in con.execute("select code from staging.communes where type = 'COM' order by code")
                    .fetchall()]
        finally:
            con.close()
    return [f"{d:02d}{n:03d}" for d in range(1, 96) if d != 20 for n in range(1, 400)]


def _commande(args: list[str], home: Path) -> tuple[float, float, int, str, float]:
    """(secondes, pic de mémoire du processus en Mo, code de sortie, dernière ligne, secondes CPU)."""
    env = dict(os.environ, TERRITOIRES_HOME=str(home), CI="true")
    t = time.perf_counter()
    p = subprocess.Popen([str(BIN / "territoires"), *args], env=env, cwd=home,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(p.pid, 0)
    duree = time.perf_counter() - t
    out = p.stdout.read()
    p.stdout.close()
    p.stderr.close()
    derniere = [ligne for ligne in out.splitlines() if ligne.startswith("lues")]
    return (duree, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), (derniere or [""])[-1],
            usage.ru_utime + usage.ru_stime)


def _en_xlsx(source: Path, cible: Path) -> Path:
    """Le même registre en XLSX (toutes cellules en texte, comme un export de tableur)."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(cible), {"constant_memory": True, "strings_to_numbers": False,
                                          "strings_to_formulas": False, "strings_to_urls": False})
    ws = wb.add_worksheet("Adhérents")
    with source.open(encoding="utf-8", newline="") as f:
        for i, ligne in enumerate(csv.reader(f, delimiter=";")):
            for j, v in enumerate(ligne):
                ws.write_string(i, j, v)
    wb.close()
    return cible


def _charger(adherents_dir: Path, entrepot: Path | None) -> tuple[float, float, int, float]:
    """``load_raw`` dans son propre processus : (secondes, pic RSS en Mo, lignes chargées, secondes CPU
    du processus entier)."""
    args = [sys.executable, __file__, "--charger", str(adherents_dir)]
    if entrepot and entrepot.is_file():
        args += ["--entrepot", str(entrepot)]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(p.pid, 0)
    out = p.stdout.read().split()
    p.stdout.close()
    return float(out[0]), usage.ru_maxrss / 1024, int(out[1]), usage.ru_utime + usage.ru_stime


def _charger_ici(adherents_dir: Path, entrepot: Path | None) -> None:
    import duckdb

    from territoires.members.load import load_raw
    from territoires.members.validation import Referentiel

    ref = Referentiel.vide()
    if entrepot and entrepot.is_file():
        con = duckdb.connect(str(entrepot), read_only=True)
        ref = Referentiel.depuis_entrepot(con)
        con.close()
    con = duckdb.connect()
    t = time.perf_counter()
    load_raw(con, adherents_dir, ref)
    duree = time.perf_counter() - t
    print(duree, con.execute("select count(*) from raw.adherents").fetchone()[0])


def bench_adherents(lignes: int = 100_000, repeat: int = 1, entrepot: Path | None = None) -> dict:
    """Mesure validate, import (chacun dans son processus) et le chargement dans DuckDB."""
    import duckdb

    from territoires.members.load import load_raw
    from territoires.members.validation import Referentiel

    if WORK.exists():
        shutil.rmtree(WORK)
    home = WORK / "home"
    (home / "data" / "raw").mkdir(parents=True)
    (home / "territoires.toml").write_text("", encoding="utf-8")
    if entrepot and entrepot.is_file():
        (home / "data" / "processed").mkdir(parents=True)
        (home / "data" / "processed" / "territoires.duckdb").symlink_to(entrepot.resolve())
    t = time.perf_counter()
    registre = generer(WORK / f"registre_{lignes}.csv", lignes, _codes_insee(entrepot))
    generation = time.perf_counter() - t

    registre_xlsx = _en_xlsx(registre, WORK / f"registre_{lignes}.xlsx")
    validate, imports, validate_xlsx = [], [], []
    for k in range(repeat):
        validate.append(_commande(["adherents", "validate", str(registre), "--operateur", "megalis"], home))
        shutil.rmtree(home / "data" / "raw" / "adherents", ignore_errors=True)
        imports.append(_commande(["adherents", "import", str(registre), "--operateur", "megalis"], home))
        validate_xlsx.append(_commande(["adherents", "validate", str(registre_xlsx), "--operateur", "megalis"], home))

    charges = [_charger(home / "data" / "raw" / "adherents", entrepot) for _ in range(repeat)]
    return {
        "lignes": lignes, "octets": registre.stat().st_size, "generation_s": generation,
        "avec_entrepot": bool(entrepot and entrepot.is_file()),
        "validate": validate, "import": imports, "validate_xlsx": validate_xlsx, "load": charges, "comptes": validate[-1][3],
    }


def _tenu(wall: float, cpu: float, mo: float) -> str:
    if mo > 500:
        return "NO (memory)"
    if wall <= 5:
        return "yes"
    if cpu <= 5:
        return f"by CPU time only: wall {wall:.1f} s on a loaded machine"
    return "NO"


def rapport(r: dict) -> list[str]:
    med = lambda xs: statistics.median(xs)  # noqa: E731
    v_s, v_mo = med([x[0] for x in r["validate"]]), max(x[1] for x in r["validate"])
    i_s, i_mo = med([x[0] for x in r["import"]]), max(x[1] for x in r["import"])
    l_s, l_mo = med([x[0] for x in r["load"]]), max(x[1] for x in r["load"])
    v_cpu, i_cpu = med([x[4] for x in r["validate"]]), med([x[4] for x in r["import"]])
    x_s, x_mo, x_cpu = (med([x[0] for x in r["validate_xlsx"]]), max(x[1] for x in r["validate_xlsx"]),
                        med([x[4] for x in r["validate_xlsx"]]))
    l_cpu = med([x[3] for x in r["load"]])
    n = len(r["validate"])
    return [
        f"## Members' register: {r['lignes']:,} rows ({r['octets'] / 2**20:.1f} MB CSV), "
        f"{'INSEE codes checked against the warehouse' if r['avec_entrepot'] else 'no warehouse (INSEE form only)'}",
        "",
        "| measure | figure | budget | met |",
        "| --- | --- | --- | --- |",
        f"| `territoires adherents validate` (own process) | {v_s:.2f} s wall, {v_cpu:.2f} s CPU, peak RSS {v_mo:.0f} MB ({n} run(s)) | | |",
        f"| `territoires adherents import` (validates, then copies) | {i_s:.2f} s wall, {i_cpu:.2f} s CPU, peak RSS {i_mo:.0f} MB | "
        f"≤ 5 s, ≤ 500 MB | {_tenu(i_s, i_cpu, i_mo)} |",
        f"| the same register as XLSX: `validate` (python-calamine) | {x_s:.2f} s wall, {x_cpu:.2f} s CPU, "
        f"peak RSS {x_mo:.0f} MB | | |",
        f"| load into DuckDB (`load_raw`, what the build runs; own process) | {l_s:.2f} s wall, {l_cpu:.2f} s CPU (whole process), peak RSS {l_mo:.0f} MB "
        f"({r['load'][-1][2]:,} members) | | |",
        "",
        f"Counts: {r['comptes']}",
        f"Machine load average when measured: {os.getloadavg()[0]:.1f} (wall times grow with it; CPU times do not).",
    ]


def bench(repeat: int) -> dict:
    """For benchmarks/run.py's SECTIONS: ``"adherents": (adherents.bench, adherents.report)``.
    Uses the warehouse the build section left in benchmarks/_work/build/ when present."""
    candidats = [ROOT / "benchmarks" / "_work" / "build" / "data" / "processed" / "territoires.duckdb",
                 ROOT / "data" / "processed" / "territoires.duckdb"]
    return bench_adherents(100_000, repeat, next((c for c in candidats if c.is_file()), None))


report = rapport


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--lignes", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--entrepot", type=Path, default=ROOT / "data" / "processed" / "territoires.duckdb",
                   help="warehouse for INSEE checks (default: the repository's, when built)")
    p.add_argument("--charger", type=Path, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.charger:
        _charger_ici(a.charger, a.entrepot)
        return 0
    r = bench_adherents(a.lignes, a.repeat, a.entrepot)
    print("\n".join(rapport(r)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
