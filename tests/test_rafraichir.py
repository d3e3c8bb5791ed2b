"""Refreshing every week (issue 22, items 8 and 9), through the command line against a
loopback server: an unchanged file adds nothing; copies are pruned by the retention rule;
an unreachable publisher costs one attempt, one French line, exit code 3, and the
previous copy stays in use — named as stale by marts.sources and the pages."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import socket
import time
from pathlib import Path

import pytest

from territoires.sources import load_registry
from territoires.sources import telechargement as tl

SOURCES = Path(__file__).parent / "fixtures" / "sources"
RAW = Path("data") / "raw"
OPERATEURS = (SOURCES / "anct" / "operateurs-quotidien.csv").read_bytes()
SERVICES = (SOURCES / "anct" / "services-quotidien.csv").read_bytes()
BANATIC = (SOURCES / "banatic" / "perimetre-epci-a-fp.csv").read_bytes()


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("TERRITOIRES_HOME", str(tmp_path))
    monkeypatch.delenv("CI", raising=False)  # the lines read here are the progress a terminal or log shows
    return tmp_path


def cli(*args: str) -> int:
    from territoires.cli import main

    return main(list(args))


def le(monkeypatch, jour: str) -> None:
    """Run the next fetches as on ``jour`` (the vintage folder of a file republished in place)."""
    monkeypatch.setattr(tl, "aujourdhui", lambda: dt.date.fromisoformat(jour))


def fichiers(dossier: Path) -> list[str]:
    return sorted(str(p.relative_to(dossier)) for p in (dossier / RAW).rglob("*") if p.is_file()
                  and p.name != "etat-telechargements.json")


def registre(monkeypatch, urls: dict[str, str]) -> dict:
    """The registry's sources that need no network (embedded, repository files) and the
    fetched sources of ``urls`` pointing there: what ``fetch --all`` then takes."""
    import territoires.sources as sources

    base = load_registry()
    reg = {sid: s for sid, s in base.items() if not s.telechargeable}
    for sid, url in urls.items():
        reg[sid] = dataclasses.replace(base[sid], url=url)
    monkeypatch.setattr(sources, "load_registry", lambda *a, **k: reg)
    return reg


def port_ferme() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed once the block ends: connections are refused


# ── item 8: refresh without bloat ──────────────────────────────────────────────


def test_weekly_fetch_all_against_an_unchanged_server_adds_no_file(serveur, tmp_path, monkeypatch, capsys):
    date = "Wed, 25 Nov 2026 04:00:00 GMT"
    registre(monkeypatch, {
        # honours If-None-Match: 304
        "anct-st-operateurs": serveur.servir("/op", OPERATEURS, etag='"v1"'),
        # ignores the conditions, same Last-Modified and size: the body is not read
        "anct-st-services": serveur.servir("/sv", SERVICES, date=date, conditionnel=False),
        # no validator at all: downloaded, same hash, not kept
        "banatic-perimetre-epci": serveur.servir("/bn", BANATIC),
    })
    le(monkeypatch, "2026-11-25")
    assert cli("-q", "fetch", "--all") == 0
    premiere = fichiers(tmp_path)
    assert len([f for f in premiere if f.endswith(".source.json")]) == 3
    fiche = json.loads((tmp_path / RAW / "anct" / "anct-st-operateurs" / "2026-11-25"
                        / "operateurs-quotidien.csv.source.json").read_text(encoding="utf-8"))
    assert fiche["etag"] == '"v1"'
    envois = dict(serveur.envois)

    le(monkeypatch, "2026-12-02")
    assert cli("fetch", "--all") == 0
    err = capsys.readouterr().err
    assert fichiers(tmp_path) == premiere, "an unchanged file adds no folder and no file"
    assert serveur.envois["/op"] == envois["/op"], "304: no body sent"
    assert serveur.envois["/bn"] == envois["/bn"] + 1, "no validator: the body comes, its hash says unchanged"
    assert "le serveur la dit inchangée" in err and "contenu identique" in err
    assert "la copie du 2026-11-25 reste en usage" in err
    fiche = json.loads((tmp_path / RAW / "anct" / "anct-st-operateurs" / "2026-11-25"
                        / "operateurs-quotidien.csv.source.json").read_text(encoding="utf-8"))
    assert fiche["verifie_le"].startswith(dt.date.today().isoformat())

    # a new content is a new copy, beside the previous one
    serveur.servir("/op", OPERATEURS + b"\r\n", etag='"v2"')
    le(monkeypatch, "2026-12-09")
    assert cli("-q", "fetch", "--all") == 0
    nouveaux = sorted(set(fichiers(tmp_path)) - set(premiere))
    assert nouveaux == ["data/raw/anct/anct-st-operateurs/2026-12-09/operateurs-quotidien.csv",
                        "data/raw/anct/anct-st-operateurs/2026-12-09/operateurs-quotidien.csv.source.json"]


def test_fetch_all_takes_one_dpnt_format_the_other_stays_fetchable_by_id(serveur, tmp_path, monkeypatch, capsys):
    reg = load_registry()
    assert reg["anct-dpnt-csv"].doublon_de == "anct-dpnt-json" and reg["anct-dpnt-json"].doublon_de is None
    dpnt = (SOURCES / "dpnt" / "dpnt-quotidien.json.gz").read_bytes()
    registre(monkeypatch, {"anct-dpnt-json": serveur.servir("/json", dpnt),
                           "anct-dpnt-csv": serveur.servir("/csv", b"x")})
    assert cli("fetch", "--all") == 0
    out = capsys.readouterr().out
    assert "anct-dpnt-csv : ignorée, mêmes données que anct-dpnt-json" in out
    assert serveur.requetes["/csv"] == 0 and serveur.requetes["/json"] == 1


def _copie(raw: Path, jour: str, corps: bytes = b"TYPE;X\n") -> Path:
    dossier = raw / "anct" / "anct-st-operateurs" / jour
    dossier.mkdir(parents=True)
    (dossier / "operateurs-quotidien.csv").write_bytes(corps * 100)
    (dossier / "operateurs-quotidien.csv.source.json").write_text(json.dumps({"telecharge_le": f"{jour}T05:00:00Z"}),
                                                                   encoding="utf-8")
    return dossier


def test_pruning_keeps_the_copy_in_use_and_the_last_of_each_month(tmp_path, monkeypatch, capsys):
    raw = tmp_path / RAW
    jours = ["2026-09-10", "2026-10-03", "2026-10-20", "2026-11-05", "2026-11-25", "2026-12-01"]
    for j in jours:
        _copie(raw, j)
    registre_adherents = raw / "adherents" / "20261101T120000-registre.csv"
    registre_adherents.parent.mkdir(parents=True)
    registre_adherents.write_text("x\n", encoding="utf-8")
    le(monkeypatch, "2026-12-02")

    def presentes() -> list[str]:
        return sorted(d.name for d in (raw / "anct" / "anct-st-operateurs").iterdir())

    # the default rule (12 months): the copy in use and the last one of each month
    assert cli("sources") == 0
    out = capsys.readouterr().out
    ligne = next(ligne for ligne in out.splitlines() if ligne.startswith("anct-st-operateurs") and "ko" in ligne)
    assert ligne.split()[1] == "6", ligne  # six copies on disk
    assert "`territoires sources --elaguer` libérerait" in out
    assert presentes() == jours, "showing changes nothing"

    assert cli("sources", "--elaguer") == 0
    out = capsys.readouterr().out
    assert "Élagage : anct-st-operateurs : 2 copie(s) retirée(s) (2026-10-03, 2026-11-05)" in out
    assert presentes() == ["2026-09-10", "2026-10-20", "2026-11-25", "2026-12-01"]

    # two months: December (the copy in use) and November
    assert cli("sources", "--elaguer", "--garder-mois", "2") == 0
    assert presentes() == ["2026-11-25", "2026-12-01"]
    # none: the copy in use only; the build still reads it
    assert cli("-q", "sources", "--elaguer", "--garder-mois", "0") == 0
    assert presentes() == ["2026-12-01"]
    assert registre_adherents.read_text(encoding="utf-8") == "x\n", "member registers are never pruned"
    assert not [p for p in raw.rglob(".*tmp-*")]


def test_fetch_all_prunes_by_the_rule(serveur, tmp_path, monkeypatch):
    for j in ["2026-10-03", "2026-10-20"]:
        _copie(tmp_path / RAW, j)
    registre(monkeypatch, {"anct-st-operateurs": serveur.servir("/op", OPERATEURS)})
    le(monkeypatch, "2026-12-02")
    assert cli("-q", "fetch", "--all", "--garder-mois", "1") == 0
    assert sorted(d.name for d in (tmp_path / RAW / "anct" / "anct-st-operateurs").iterdir()) == ["2026-12-02"]


# ── item 9: a failed download never cancels the report ─────────────────────────


def test_offline_fetch_all_is_fast_one_french_line_each_and_exits_3(tmp_path, monkeypatch, capsys):
    """No network: a host name that does not resolve (``.invalid`` is reserved for that)
    is tried once for all its sources; a closed port is retried, then not tried again."""
    ferme = port_ferme()
    registre(monkeypatch, {
        "anct-st-operateurs": "https://hote-introuvable.invalid/r/operateurs",
        "anct-st-services": "https://hote-introuvable.invalid/r/services",
        "banatic-perimetre-epci": f"http://127.0.0.1:{ferme}/bn",
        "dila-annuaire": f"http://127.0.0.1:{ferme}/dila",
    })
    from territoires.sources import extract_embedded

    for src in load_registry().values():  # the embedded data, extracted beforehand: not what is timed
        if src.embedded:
            extract_embedded(src, tmp_path / RAW)
    debut = time.monotonic()
    assert cli("-q", "fetch", "--all") == 3
    duree = time.monotonic() - debut
    err = capsys.readouterr().err
    # the closed port is retried once (1 s + 2 s of back-off), then not tried again; before,
    # every source took its three attempts: 4 × 3 s
    assert err.count("nouvelle tentative") == 2
    assert duree < 7, f"{duree:.1f} s"
    lignes = [ligne for ligne in err.splitlines() if ligne.startswith("Erreur")]
    assert len(lignes) == 4
    assert "nom d'hôte introuvable : pas de réseau ?" in lignes[0]
    assert "non tenté, hote-introuvable.invalid injoignable plus tôt" in lignes[1]
    assert "connexion refusée" in lignes[2] and "après 3 tentative(s)" in lignes[2]
    assert "non tenté" in lignes[3] and "connexion refusée" in lignes[3]
    for anglais in ("Max retries", "HTTPConnection", "NameResolutionError", "Errno", "Caused by"):
        assert anglais not in err
    assert "4 source(s) non téléchargée(s)" in err and "(code 3)" in err
    etat = json.loads((tmp_path / RAW / "etat-telechargements.json").read_text(encoding="utf-8"))["sources"]
    assert etat["dila-annuaire"]["erreur"] == "connexion refusée" and etat["dila-annuaire"]["echec_depuis"]


def test_503_is_one_french_line_and_the_previous_copy_stays(serveur, tmp_path, monkeypatch, capsys):
    le(monkeypatch, "2026-11-25")
    url = serveur.servir("/op", OPERATEURS)
    assert cli("-q", "fetch", "anct-st-operateurs", "--url", url) == 0
    serveur.servir("/op", OPERATEURS, pannes=["503"] * 3)
    registre(monkeypatch, {"anct-st-operateurs": url, "anct-st-services": serveur.servir("/sv", SERVICES)})
    le(monkeypatch, "2026-12-02")
    assert cli("-q", "fetch", "--all") == 3
    err = capsys.readouterr().err
    [ligne] = [ligne for ligne in err.splitlines() if ligne.startswith("Erreur")]
    assert "(HTTP 503 Service Unavailable)" in ligne and "la copie du 2026-11-25 reste en usage" in ligne
    assert [d.name for d in (tmp_path / RAW / "anct" / "anct-st-operateurs").iterdir()] == ["2026-11-25"]

    from territoires.sources.presence import etat_sources

    rows = {r["id"]: r for r in etat_sources(tmp_path / RAW)}
    assert rows["anct-st-operateurs"]["rafraichi_le"].startswith(dt.date.today().isoformat())
    assert rows["anct-st-operateurs"]["erreur"] == "HTTP 503 Service Unavailable"
    assert rows["anct-st-operateurs"]["echec_depuis"] and rows["anct-st-services"]["echec_depuis"] is None
    premier = rows["anct-st-operateurs"]["echec_depuis"]

    # it fails again: « since » keeps the first failure; then it comes back: no longer stale
    serveur.servir("/op", OPERATEURS, pannes=["503"] * 3)
    assert cli("-q", "fetch", "--all") == 3
    assert {r["id"]: r for r in etat_sources(tmp_path / RAW)}["anct-st-operateurs"]["echec_depuis"] == premier
    assert cli("-q", "sources") == 0
    out = capsys.readouterr().out
    assert "anct-st-operateurs : copie du" in out and "(HTTP 503 Service Unavailable)" in out
    serveur.servir("/op", OPERATEURS)
    assert cli("-q", "fetch", "--all") == 0
    assert {r["id"]: r for r in etat_sources(tmp_path / RAW)}["anct-st-operateurs"]["echec_depuis"] is None


def test_offline_the_recipe_builds_and_reports_from_the_last_good_copies(serveur, tmp_path, monkeypatch):
    """The README's recipe: fetch --all (3: not refreshed), then build and report anyway;
    marts.sources and the page name the stale source and since when."""
    import duckdb

    from conftest import FIXTURE_DEPARTEMENT

    le(monkeypatch, "2026-11-25")
    assert cli("-q", "fetch", "banatic-perimetre-epci", "--url", serveur.servir("/bn", BANATIC)) == 0
    with monkeypatch.context() as m:
        registre(m, {"banatic-perimetre-epci": f"http://127.0.0.1:{port_ferme()}/bn"})
        le(m, "2026-12-02")  # a week later, the publisher unreachable
        assert cli("-q", "fetch", "--all") == 3
    assert cli("-q", "build", "--departements", FIXTURE_DEPARTEMENT) == 0
    con = duckdb.connect(str(tmp_path / "data" / "processed" / "territoires.duckdb"), read_only=True)
    try:
        rafraichi, echec, erreur, lignes = con.execute(
            "select rafraichi_le, echec_depuis, erreur_telechargement, lignes from marts.sources"
            " where id = 'banatic-perimetre-epci'").fetchone()
        frais = con.execute("select count(*) from marts.sources where echec_depuis is not null").fetchone()[0]
    finally:
        con.close()
    assert lignes > 0, "the last good copy is loaded"
    assert rafraichi.date() == dt.date.today() and echec.date() == dt.date.today() and erreur == "connexion refusée"
    assert frais == 1
    assert cli("-q", "report", "--scope", f"departement:{FIXTURE_DEPARTEMENT}", "-j", "1") == 0
    [page] = [p for p in (tmp_path / "reports").rglob(f"{FIXTURE_DEPARTEMENT}.html")]
    html = page.read_text(encoding="utf-8")
    jour = dt.date.today().strftime("%d/%m/%Y")
    assert (f"Périmètre des EPCI à fiscalité propre : communes membres, SIREN des communes et populations : "
            f"copie du {jour}, le téléchargement du {jour} a échoué (connexion refusée)") in html


def test_a_server_that_never_answers_is_one_french_line(tmp_path):
    """A socket that accepts connections and never answers: « délai dépassé », no English."""
    from territoires.sources import SourceError

    with socket.socket() as muet:
        muet.bind(("127.0.0.1", 0))
        muet.listen(8)  # connections complete in the backlog; nothing is ever read nor sent
        url = f"http://127.0.0.1:{muet.getsockname()[1]}/op"
        with pytest.raises(SourceError) as exc:
            tl.fetch("anct-st-operateurs", tmp_path / RAW, url=url, timeout=0.5, tentatives=1, progress=False)
    message = str(exc.value)
    assert "(délai dépassé)" in message and exc.value.raison == "délai dépassé"
    assert "Read timed out" not in message and "HTTPConnectionPool" not in message


def test_validators_are_sent_only_to_the_address_that_gave_them(serveur, tmp_path, monkeypatch):
    """A mirror (`--url`) knows nothing of the copy's ETag: it is asked without conditions,
    and its identical bytes are recognised by their hash — still no file added."""
    le(monkeypatch, "2026-11-25")
    assert cli("-q", "fetch", "anct-st-operateurs", "--url", serveur.servir("/op", OPERATEURS, etag='"v1"')) == 0
    avant = fichiers(tmp_path)
    le(monkeypatch, "2026-12-02")
    miroir = serveur.servir("/miroir/op", OPERATEURS, etag='"v1"')
    assert cli("-q", "fetch", "anct-st-operateurs", "--url", miroir) == 0
    assert serveur.envois["/miroir/op"] == 1, "no If-None-Match sent to another address"
    assert fichiers(tmp_path) == avant
