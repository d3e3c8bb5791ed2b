"""The cybersecurity probe (``territoires sonde``), end to end against servers these tests
start on the loopback interface only (``sonde_serveurs``): HTTPS with valid (a ``trustme``
test CA), self-signed and expired certificates, redirect chains and loops, slow, failing
and cut servers, and a DNS server answering A, MX, TXT (SPF, DMARC) and DNSKEY/RRSIG.
The probe is pointed at them by its settings (resolver, ports, authorities), never by
patching sockets; a guard makes any connection outside 127.0.0.0/8 fail, in this process
and in the probes run as subprocesses.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import pytest
from sonde_serveurs import Certificats, ServeurDNS, ServeurWeb, SortieInterdite, installer_garde

from territoires.sonde import Reglages
from territoires.sonde.campagne import lancer
from territoires.sonde.cibles import Cible
from territoires.sonde.journal import lire

TESTS = Path(__file__).resolve().parent
SRC = TESTS.parent / "src"


@pytest.fixture(autouse=True)
def garde():
    retirer = installer_garde()
    yield
    retirer()


def test_the_guard_refuses_any_address_outside_loopback():
    with socket.socket() as s, pytest.raises(SortieInterdite):
        s.connect(("192.0.2.1", 80))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u, pytest.raises(SortieInterdite):
        u.sendto(b"x", ("9.9.9.9", 53))
    with socket.socket() as s:  # loopback is allowed (refused by the kernel: nothing listens there)
        assert s.connect_ex(("127.0.0.1", 9)) != 0


# ── every scenario, one campaign ─────────────────────────────────────────────────────

HOTES = {
    "ok.test": ("127.0.0.2", "ok"), "sanshsts.test": ("127.0.0.3", "sans_hsts"), "chaine.test": ("127.0.0.4", "chaine"),
    "boucle.test": ("127.0.0.5", "boucle"), "lent.test": ("127.0.0.6", "lent"), "panne.test": ("127.0.0.7", "panne"),
    "autosigne.test": ("127.0.0.8", "ok"), "expire.test": ("127.0.0.9", "ok"), "coupe.test": ("127.0.0.10", "coupe"),
    "bouclehttps.test": ("127.0.0.11", "boucle_https"),
}
DNSKEY = "257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="
RRSIG = "DNSKEY 13 1 300 20310101000000 20260101000000 2371 {} AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QA=="


def _enregistrements() -> dict:
    enr = {n: {"A": [a]} for n, (a, _) in HOTES.items()}
    enr["ok.test"].update({"MX": ["10 mx.ok.test.", "20 mx2.ok.test."], "TXT": ['"v=spf1 mx -all"', '"google-site=x"'],
                           "DNSKEY": [DNSKEY], "RRSIG:DNSKEY": [RRSIG.format("ok.test.")]})
    enr["_dmarc.ok.test"] = {"TXT": ['"v=DMARC1; p=reject; rua=mailto:dmarc@ok.test"']}
    # mail at a foreign webmail, DMARC « none », keys published but not signed
    enr["faible.test"] = {"MX": ["5 aspmx.l.google.com.", "10 alt1.aspmx.l.google.com."], "TXT": ['"sans spf"'],
                          "DNSKEY": [DNSKEY]}
    enr["_dmarc.faible.test"] = {"TXT": ['"v=DMARC1; p=none"']}
    enr["quarantaine.test"] = {"MX": ["10 mx1.mail.ovh.net."], "TXT": ['"v=spf1 include:mx.ovh.com ~all"']}
    enr["_dmarc.quarantaine.test"] = {"TXT": ['"v=DMARC1;p=quarantine;pct=100"']}
    enr["sansmx.test"] = {"TXT": ['"v=spf1 -all"']}
    return enr


def _reglages(web: ServeurWeb, dns_: ServeurDNS, certs: Certificats | None, **k) -> Reglages:
    base = dict(concurrence=4, delai=0.0, timeout=0.5, tentatives=2, attente=0.02, port_http=web.port_http,
                port_https=web.port_https, resolveur=("127.0.0.1", dns_.port),
                ca=str(certs.fichier_ca) if certs else None, proxy_environnement=False)
    return Reglages(**{**base, **k})


def test_each_check_against_loopback_servers(tmp_path):
    certs = Certificats([n for n in HOTES if n not in ("autosigne.test", "expire.test")], ["expire.test"], tmp_path)
    contexte = certs.contexte({"autosigne.test": "autosigne", "expire.test": "expire"})
    with ServeurDNS(_enregistrements(), valides=["ok.test"], lents=["lent-dns.test"]) as dns_, \
            ServeurWeb(HOTES, contexte, lenteur=2.0) as web:
        cibles = [Cible("commune", f"2900{i}", None, f"Commune fictive {i}", None, f"http://{n}/", None)
                  for i, n in enumerate(HOTES)]
        cibles += [Cible("commune", f"2910{i}", None, f"Commune fictive {i}", None, None, d)
                   for i, d in enumerate(["ok.test", "faible.test", "quarantaine.test", "sansmx.test", "lent-dns.test"])]
        cibles.append(Cible("commune", "29200", None, "Commune fictive sans nom", None, "http://inconnu.test/", None))
        cibles.append(Cible("commune", "29201", None, "Commune fictive muette", None, "http://lent-dns.test/", None))
        bilan = lancer(cibles, tmp_path / "sondes", _reglages(web, dns_, certs), quiet=True)
    assert (bilan.cibles, bilan.controles, bilan.faits, bilan.deja_faits, bilan.sans_reponse) == (17, 17, 17, 0, 2)
    res = {l["cle"]: l["resultat"] for l in lire(bilan.journal) if l["type"] == "controle"}
    web_ = {urlsplit(k).hostname: v for k, v in res.items() if "://" in k}

    ok = web_["ok.test"]
    assert ok["https_joignable"] and ok["certificat_valide"] and ok["hsts"] and ok["redirection_https"]
    assert ok["certificat_expire_le"] == "2031-05-17T12:00:00Z"  # notAfter of the test certificate
    assert ok["hsts_valeur"] == "max-age=31536000" and not ok["boucle"]
    assert web_["sanshsts.test"]["certificat_valide"] and not web_["sanshsts.test"]["hsts"]
    assert not web_["sanshsts.test"]["redirection_https"] and web_["sanshsts.test"]["http_statut"] == 200
    chaine = web_["chaine.test"]
    assert chaine["redirection_https"] and len(chaine["redirections"]) == 3 and chaine["redirections"][-1].startswith("https://")
    assert web_["boucle.test"]["boucle"] and not web_["boucle.test"]["redirection_https"]
    assert web_["boucle.test"]["http_erreur"] == "boucle de redirections"
    assert web_["bouclehttps.test"]["boucle"] and web_["bouclehttps.test"]["https_erreur"] == "boucle de redirections"
    for hote, raison in (("autosigne.test", "autosigne"), ("expire.test", "expire")):
        r = web_[hote]
        assert r["certificat_valide"] is False and r["certificat_erreur"] == raison, r
        assert r["https_joignable"] and not r["hsts"] and r["certificat_expire_le"] is None
    lent = web_["lent.test"]
    assert not lent["https_joignable"] and lent["https_erreur"] == "délai dépassé" and lent["http_erreur"] == "délai dépassé"
    assert web_["panne.test"]["https_statut"] == 503 and web_["panne.test"]["http_statut"] == 503
    assert web_["coupe.test"]["https_erreur"] == "connexion interrompue par le serveur"
    assert web_["inconnu.test"]["https_erreur"] == "nom inconnu (DNS)" and web_["inconnu.test"]["dns_erreur"] is None
    # the resolver silent for a site's host: nothing concluded about the site
    assert web_["lent-dns.test"]["dns_erreur"] == "délai dépassé" and web_["lent-dns.test"]["https_erreur"] is None
    # retried with back-off: twice (the setting) for the slow, failing and cut servers
    for hote in ("lent.test", "panne.test", "coupe.test"):
        assert web.requetes[(hote, "https", "/")] == 2, hote
    assert web.requetes[("ok.test", "https", "/")] == 1
    # politeness: one connection at a time per host; an honest User-Agent on every request
    assert max(web.max_par_hote.values()) == 1
    assert web.agents and all(a.startswith("territoires-sonde/0.1.0 (observatoire open data") for a in web.agents)

    assert res["ok.test"] == {"domaine": "ok.test", "mx": ["10 mx.ok.test", "20 mx2.ok.test"], "mx_principal": "mx.ok.test",
                              "spf": True, "spf_valeur": "v=spf1 mx -all", "dmarc": "reject",
                              "dmarc_valeur": "v=DMARC1; p=reject; rua=mailto:dmarc@ok.test", "dnssec": True,
                              "dnssec_ad": True, "erreur": None}
    faible = res["faible.test"]
    assert faible["mx_principal"] == "aspmx.l.google.com" and not faible["spf"] and faible["dmarc"] == "none"
    assert not faible["dnssec"] and not faible["dnssec_ad"]  # keys without signature: not signed
    assert res["quarantaine.test"]["dmarc"] == "quarantine" and res["quarantaine.test"]["spf"]
    assert res["sansmx.test"]["mx"] == [] and res["sansmx.test"]["spf"] and res["sansmx.test"]["dmarc"] is None
    assert res["lent-dns.test"]["erreur"] == "délai dépassé"
    assert dns_.requetes[("lent-dns.test", "MX")] == 2  # retried


def test_delay_between_two_requests_to_the_same_host(tmp_path):
    hotes = {"poli.test": ("127.0.0.12", "sans_hsts")}
    with ServeurDNS({"poli.test": {"A": ["127.0.0.12"]}}) as dns_, ServeurWeb(hotes, None) as web:
        cibles = [Cible("commune", str(i), None, "x", None, f"http://poli.test/p{i}", None) for i in range(4)]
        lancer(cibles, tmp_path / "s", _reglages(web, dns_, None, delai=0.15, tentatives=1), quiet=True)
    assert sum(web.requetes.values()) == 4 and web.max_par_hote["poli.test"] == 1
    assert web.ecarts_min["poli.test"] >= 0.14  # HTTPS refused at once, then the HTTP request: each waits its turn


# ── 2,000 targets: limits measured by the server, kill -9 and resumption ──────────────────

SCRIPT = """
import json, sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from sonde_serveurs import installer_garde
installer_garde()
from territoires.sonde import Reglages
from territoires.sonde.campagne import lancer
from territoires.sonde.cibles import Cible
cfg = json.loads(sys.argv[1])
cfg["reglages"]["resolveur"] = tuple(cfg["reglages"]["resolveur"])
cibles = [Cible("commune", f"{{i:05d}}", None, f"Commune fictive {{i}}", None, f"http://h{{i % 20}}.test/c{{i}}", None)
          for i in range(2000)]
lancer(cibles, Path(cfg["dossier"]), Reglages(**cfg["reglages"]), quiet=True)
"""


def test_2000_targets_keep_the_limits_survive_kill_9_and_resume(tmp_path):
    hotes = {f"h{i}.test": (f"127.0.1.{i + 1}", "sans_hsts") for i in range(20)}
    dossier = tmp_path / "sondes"
    with ServeurDNS({n: {"A": [a]} for n, (a, _) in hotes.items()}) as dns_, \
            ServeurWeb(hotes, None, duree=0.004) as web:
        reglages = dict(concurrence=8, delai=0.0, timeout=5, tentatives=1, attente=0.02, port_http=web.port_http,
                        port_https=web.port_https, resolveur=["127.0.0.1", dns_.port], proxy_environnement=False)
        commande = [sys.executable, "-c", SCRIPT.format(tests=str(TESTS)),
                    json.dumps({"dossier": str(dossier), "reglages": reglages})]
        env = {**os.environ, "PYTHONPATH": str(SRC)}
        p = subprocess.Popen(commande, env=env)
        fin = time.monotonic() + 60
        faits = 0
        while time.monotonic() < fin and p.poll() is None:
            journaux = list(dossier.glob("*.jsonl"))
            if journaux:
                faits = journaux[0].read_bytes().count(b'"type":"controle"')
                if faits >= 300:
                    break
            time.sleep(0.02)
        os.kill(p.pid, signal.SIGKILL)
        assert p.wait(10) == -signal.SIGKILL
        (journal,) = dossier.glob("*.jsonl")
        avant = [l["cle"] for l in lire(journal) if l["type"] == "controle"]
        assert 300 <= len(avant) < 2000, len(avant)
        requetes_avant = Counter(web.requetes)

        fini = subprocess.run(commande, env=env, timeout=120)
        assert fini.returncode == 0
    lignes = lire(journal)
    cles = [l["cle"] for l in lignes if l["type"] == "controle"]
    # nothing lost, nothing done twice: one line per check, those finished before the kill kept
    assert len(cles) == len(set(cles)) == 2000
    assert set(avant) <= set(cles)
    assert [l["type"] for l in lignes].count("cible") == 2000
    assert {"campagne", "reprise", "fin"} <= {l["type"] for l in lignes}
    for cle in avant:  # a finished check is never requested again
        u = urlsplit(cle)
        assert web.requetes[(u.hostname, "http", u.path)] == requetes_avant[(u.hostname, "http", u.path)] == 1
    assert all(web.requetes[(f"h{i % 20}.test", "http", f"/c{i}")] >= 1 for i in range(2000))
    # the limits, as the server measured them: one connection per host, eight at most overall
    assert max(web.max_par_hote.values()) == 1
    assert 2 <= web.max_total <= 8


# ── the command, then the build: marts.sondes, indicators, sources ─────────────────────────

LANCER_CLI = """
import sys
sys.path.insert(0, {tests!r})
from sonde_serveurs import installer_garde
installer_garde()
from territoires.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_no_probe_no_indicator(con):
    """Without a probe run, no indicator of it is catalogued nor computed: never a 0 %."""
    assert con.execute("select count(*) from marts.sondes").fetchone()[0] == 0
    assert con.execute("select count(*) from marts.indicateurs_catalogue where 'sonde-cybersecurite' in sources"
                       ).fetchone()[0] == 0
    assert con.execute("select count(*) from marts.indicateurs where indicateur like '%\\_sonde' escape '\\'"
                       ).fetchone()[0] == 0
    assert con.execute("select count(*) from marts.sources where id = 'sonde-cybersecurite'").fetchone()[0] == 0


def test_command_then_build(tmp_path, fixture_warehouse):
    from serveur_local import ServeurLocal

    from territoires.sonde.cibles import cibles as lire_cibles
    from territoires.sonde.interpretation import normaliser_url
    from territoires.sources.telechargement import fetch

    home = tmp_path / "home"
    (home / "data" / "processed").mkdir(parents=True)
    (home / "territoires.toml").write_text("", encoding="utf-8")
    shutil.copyfile(fixture_warehouse, home / "data" / "processed" / "territoires.duckdb")  # reuse geometry
    with duckdb.connect(str(fixture_warehouse), read_only=True) as c:
        epci = c.execute(
            "select code_epci from marts.presence_numerique where dans_perimetre and code_epci is not null "
            "group by 1 having count(*) filter (where url_valide) between 4 and 12 order by 1 limit 1").fetchone()[0]
        cibles = lire_cibles(c, f"epci:{epci}")
        # 29001: the ANCT's test (DPNT fixture) found its site not served over HTTPS
        (site_29001,) = c.execute("select mairie_site from marts.presence_numerique where code = '29001' and url_valide"
                                  ).fetchone()
    portee = f"epci:{epci},commune:29001"
    hotes_web = sorted({urlsplit(x.url).hostname for x in cibles if x.url})
    hote_29001 = urlsplit(normaliser_url(site_29001)).hostname
    hotes_web += [hote_29001] if hote_29001 not in hotes_web else []
    domaines = sorted({x.domaine_mail for x in cibles if x.domaine_mail})
    assert len(hotes_web) >= 5 and len(domaines) >= 2
    expire, sans_hsts, muet = [h for h in hotes_web if h != hote_29001][:3]  # muet: the resolver never answers
    certs = Certificats([h for h in hotes_web if h != expire], [expire], tmp_path)
    contexte = certs.contexte({expire: "expire"})
    enr = {domaines[0]: {"MX": ["10 aspmx.l.google.com."], "TXT": ['"v=spf1 include:_spf.google.com ~all"'],
                         "DNSKEY": [DNSKEY], "RRSIG:DNSKEY": [RRSIG.format(domaines[0] + ".")]},
           "_dmarc." + domaines[0]: {"TXT": ['"v=DMARC1; p=reject"']},
           domaines[1]: {"MX": ["10 mx1.mail.ovh.net."]}}
    hotes = {h: ("127.0.0.2", "sans_hsts" if h == sans_hsts else "ok") for h in hotes_web}
    env = {**os.environ, "PYTHONPATH": str(SRC), "TERRITOIRES_HOME": str(home), "CI": "true"}
    with ServeurDNS(enr, defaut="127.0.0.2", lents=[muet]) as dns_, ServeurWeb(hotes, contexte) as web:
        r = subprocess.run(
            [sys.executable, "-c", LANCER_CLI.format(tests=str(TESTS)), "sonde", "--scope", portee,
             "--resolveur", f"127.0.0.1:{dns_.port}", "--ports-web", f"{web.port_http},{web.port_https}",
             "--ca", str(certs.fichier_ca), "--delai", "0", "--timeout", "2", "--tentatives", "1",
             "--contact", "https://example.invalid/contact"],
            env=env, cwd=home, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert f"{len(cibles) + ('29001' not in {x.identifiant for x in cibles})} cible(s)" in r.stdout
    assert "le résolveur DNS n'a pas répondu" in r.stderr
    assert all(a.endswith("; +https://example.invalid/contact)") for a in web.agents)
    (journal,) = (home / "data" / "processed" / "sondes").glob("*.jsonl")
    lignes = lire(journal)
    res = {(l["objet"], l["cle"]): l["resultat"] for l in lignes if l["type"] == "controle"}

    with ServeurLocal() as s:  # the ANCT's DPNT, to compare with
        fetch("anct-dpnt-json", home / "data" / "raw", progress=False,
              url=s.servir("/dpnt", (TESTS / "fixtures" / "sources" / "dpnt" / "dpnt-quotidien.json.gz").read_bytes()))
    r = subprocess.run([sys.executable, "-m", "territoires.cli", "build", "--departements", "29"], env=env, cwd=home,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr

    # the same indicators recomputed in plain Python from the journal, commune by commune
    communes = [x for x in cibles if x.genre == "commune"]
    web_ok = [x for x in communes if x.url and not res[("web", x.url)]["dns_erreur"]]
    https = sum(1 for x in web_ok if res[("web", x.url)]["https_joignable"] and res[("web", x.url)]["certificat_valide"])
    hsts = sum(1 for x in web_ok if res[("web", x.url)]["hsts"])
    mail = [x for x in communes if x.domaine_mail and not res[("mail", x.domaine_mail)]["erreur"]]
    dmarc = sum(1 for x in mail if res[("mail", x.domaine_mail)]["dmarc"] in ("reject", "quarantine"))
    avec_mx = [x for x in mail if res[("mail", x.domaine_mail)]["mx"]]
    etranger = sum(1 for x in avec_mx if res[("mail", x.domaine_mail)]["mx_principal"].endswith(".google.com"))
    assert 0 < https < len(web_ok) and 0 < hsts < len(web_ok) and 0 < dmarc < len(mail)
    with duckdb.connect(str(home / "data" / "processed" / "territoires.duckdb"), read_only=True) as c:
        valeurs = dict((i, (n, d)) for i, n, d in c.execute(
            "select indicateur, numerateur, denominateur from marts.indicateurs where niveau = 'epci' and code = ? "
            "and tranche_taille = 'ensemble' and indicateur like '%\\_sonde' escape '\\'", [epci]).fetchall())
        assert valeurs["part_https_valide_sonde"] == (https, len(web_ok))
        assert valeurs["part_hsts_sonde"] == (hsts, len(web_ok))
        assert valeurs["part_dmarc_sonde"] == (dmarc, len(mail))
        assert valeurs["part_mx_etranger_sonde"] == (etranger, len(avec_mx))
        jour = lignes[-1]["le"][:10]
        (mil,) = c.execute("select millesime from marts.indicateurs_catalogue where indicateur = 'part_dmarc_sonde'"
                           ).fetchone()
        assert mil == f"sonde de cybersécurité (date des contrôles) : {jour}"
        assert c.execute("select etat, lignes, millesime from marts.sources where id = 'sonde-cybersecurite'"
                         ).fetchone() == ("sonde exécutée", len(res), jour)
        # one row per target and check, with its time; the expired certificate named
        x = next(x for x in communes if x.url and urlsplit(x.url).hostname == expire)
        assert c.execute("select resultat, conforme from marts.sondes where genre = 'commune' and identifiant = ? "
                         "and controle = 'certificat'", [x.identifiant]).fetchone() == ("expire", False)
        assert c.execute("select count(distinct identifiant), count(*) filter (where verifie_le is null) "
                         "from marts.sondes where genre = 'commune'").fetchone() == (len(communes), 0)
        # nothing concluded where the resolver was silent: in no denominator, null in marts.sondes
        assert len(web_ok) < len([x for x in communes if x.url])
        assert set(c.execute("select resultat, conforme, detail from marts.sondes where objet = 'web' and cle like ?",
                             [f"%//{muet}/%"]).fetchall()) == {(None, None, "délai dépassé")}
        assert c.execute("select resultat from marts.sondes where cle = ? and controle = 'operateur_mx' limit 1",
                         [domaines[0]]).fetchone() == ("webmail_etranger",)
        # the probe beside the ANCT's test: 29001 served over HTTPS with a valid certificate by
        # the probe, not by the DPNT; the one disagreement on the communes both checked
        assert res[("web", normaliser_url(site_29001))]["certificat_valide"]
        assert c.execute("select code, source_a, source_b, valeur_a, valeur_b from marts.ecarts_sources "
                         "where sujet = 'https_sonde'").fetchall() == [
            ("29001", "sonde-cybersecurite", "anct-dpnt-json", "oui", "non")]


def test_targets_members_and_scopes(tmp_path, fixture_warehouse):
    """Members carry no site in their register: a member commune has its town hall's, another
    member the site and e-mail the ANCT lists for its SIRET (DPNT), else it is no target."""
    from territoires.sonde.cibles import cibles as lire_cibles
    from territoires.sonde.interpretation import normaliser_url

    copie = tmp_path / "entrepot.duckdb"
    shutil.copyfile(fixture_warehouse, copie)
    with duckdb.connect(str(copie)) as c:
        code, site, hote = c.execute(
            "select code, mairie_site, email_hote from marts.presence_numerique where url_valide and email_valide "
            "and dans_perimetre order by code limit 1").fetchone()
        c.execute("delete from marts.adherents")
        c.execute(f"""insert into marts.adherents by name
            select * from (values
                ('megalis', '21290001000011', '21290001000011', 'Commune adhérente fictive', 'commune', true, '{code}'),
                ('megalis', '20000000000001', '20000000000001', 'Syndicat fictif', 'syndicat', false, '{code}'),
                ('megalis', '20000000000002', '20000000000002', 'Syndicat fictif sans site', 'syndicat', false, null))
            as t(operateur, identifiant, siret, nom, type, commune_adherente, code_commune)""")
        c.execute("create or replace table raw.dpnt_organisations as select * from (values "
                  "('20000000000001', 'www.syndicat-fictif.fr/accueil', 'contact@Syndicat-Fictif.fr')) "
                  "as t(siret, site_internet, adresse_messagerie)")
        tout = lire_cibles(c, "all")
        assert len([x for x in tout if x.genre == "commune"]) == c.execute(
            "select count(*) from marts.presence_numerique where dans_perimetre and (url_valide or email_valide)"
        ).fetchone()[0]
        membres = {x.identifiant: x for x in lire_cibles(c, "operateur:megalis") if x.genre == "adherent"}
        assert set(membres) == {"21290001000011", "20000000000001"}
        assert membres["21290001000011"].url == normaliser_url(site)
        assert membres["21290001000011"].domaine_mail == hote.lower()
        assert (membres["20000000000001"].url, membres["20000000000001"].domaine_mail) == (
            "http://www.syndicat-fictif.fr/accueil", "syndicat-fictif.fr")
        une = lire_cibles(c, f"commune:{code}")
        assert [(x.genre, x.identifiant) for x in une] == [("commune", code), ("adherent", "20000000000001"),
                                                           ("adherent", "21290001000011")]
        with pytest.raises(ValueError, match="portée « region » inconnue"):
            lire_cibles(c, "region")
        with pytest.raises(ValueError, match="code « 99 » inconnu pour le niveau departement"):
            lire_cibles(c, "departement:99")


@pytest.mark.parametrize("argv, message", [
    (["sonde", "--concurrence", "0"], "un nombre entier supérieur ou égal à 1 est attendu"),
    (["sonde", "--delai", "-1"], "une durée positive en secondes est attendue"),
    (["sonde", "--resolveur", "resolveur.example"], "adresse IP de résolveur attendue"),
    (["sonde", "--ports-web", "80"], "deux ports séparés par une virgule attendus"),
    (["sonde", "--reprendre", "--nouvelle"], "argument --nouvelle : incompatible avec l'argument --reprendre"),
    (["sonde", "--scope", ""], "argument --scope : valeur vide"),
])
def test_command_usage_errors_are_french(argv, message, capsys):
    from territoires import cli

    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == cli.EXIT_USAGE
    assert message in capsys.readouterr().err


def test_a_second_probe_on_the_same_journal_is_told_busy(tmp_path):
    from territoires.sonde.journal import Journal, JournalOccupe

    j = Journal.ouvrir(tmp_path / "c.jsonl")
    try:
        with pytest.raises(JournalOccupe, match="une autre sonde écrit déjà dans ce journal"):
            Journal.ouvrir(tmp_path / "c.jsonl")
    finally:
        j.fermer()


def test_a_torn_last_line_is_cut_off_on_reopening(tmp_path):
    from territoires.sonde.journal import Journal

    chemin = tmp_path / "c.jsonl"
    chemin.write_bytes(b'{"type":"controle","objet":"mail","cle":"a.test","verifie_le":"x","resultat":{}}\n'
                       b'{"type":"controle","objet":"mail","cle":"b.te')
    j = Journal.ouvrir(chemin)
    j.fermer()
    assert j.faits == {("mail", "a.test")}
    assert chemin.read_bytes().endswith(b'"resultat":{}}\n')


def test_campaigns_new_resumed_or_continued(tmp_path):
    """A finished campaign is followed by a new one; ``reprendre`` continues it (another
    scope: only the checks not done yet are run); ``nouvelle`` starts afresh."""
    hotes = {"a.test": ("127.0.0.13", "sans_hsts"), "b.test": ("127.0.0.14", "sans_hsts")}
    with ServeurDNS({n: {"A": [a]} for n, (a, _) in hotes.items()}) as dns_, ServeurWeb(hotes, None) as web:
        r = _reglages(web, dns_, None, tentatives=1)
        a = [Cible("commune", "1", None, "x", None, "http://a.test/", None)]
        ab = a + [Cible("commune", "2", None, "y", None, "http://b.test/", None)]
        premier = lancer(a, tmp_path, r, quiet=True)
        suite = lancer(ab, tmp_path, r, quiet=True, reprendre=True)
        assert suite.journal == premier.journal and suite.reprise and (suite.deja_faits, suite.faits) == (1, 1)
        time.sleep(1.1)  # campaigns are named by their start, to the second
        nouvelle = lancer(ab, tmp_path, r, quiet=True)
        assert nouvelle.journal != premier.journal and not nouvelle.reprise and nouvelle.faits == 2
    assert web.requetes[("a.test", "http", "/")] == 2 and web.requetes[("b.test", "http", "/")] == 2


def test_sigterm_stops_the_command_keeping_every_finished_check(tmp_path, fixture_warehouse):
    home = tmp_path / "home"
    (home / "data" / "processed").mkdir(parents=True)
    (home / "territoires.toml").write_text("", encoding="utf-8")
    shutil.copyfile(fixture_warehouse, home / "data" / "processed" / "territoires.duckdb")
    env = {**os.environ, "PYTHONPATH": str(SRC), "TERRITOIRES_HOME": str(home), "CI": "true"}
    with ServeurDNS({}, defaut="127.0.0.15") as dns_, ServeurWeb({"x.test": ("127.0.0.15", "lent")}, None,
                                                                 lenteur=30, defaut="lent") as web:
        p = subprocess.Popen(
            [sys.executable, "-c", LANCER_CLI.format(tests=str(TESTS)), "sonde", "--scope", "departement:29",
             "--resolveur", f"127.0.0.1:{dns_.port}", "--ports-web", f"{web.port_http},{web.port_https}",
             "--delai", "0", "--timeout", "20", "--tentatives", "1"],
            env=env, cwd=home, stderr=subprocess.PIPE, text=True)
        fin = time.monotonic() + 30
        while time.monotonic() < fin and not web.requetes:
            time.sleep(0.05)
        assert web.requetes, "the probe never reached the server"
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        err = p.communicate(timeout=10)[1]
    assert p.returncode == 143 and time.monotonic() - t0 < 5, err  # its stderr says why, if not
    assert "Arrêté (SIGTERM) : chaque contrôle terminé est dans le journal" in err
    (journal,) = (home / "data" / "processed" / "sondes").glob("*.jsonl")
    assert journal.read_bytes().endswith(b"\n") and not any(l["type"] == "fin" for l in lire(journal))


def test_mx_list_is_checked_line_by_line(tmp_path):
    from territoires.indicators.load import MX_FILE, DonneesError, _classement_mx

    lignes = _classement_mx(MX_FILE)
    assert {c for _, c, *_ in lignes} == {"operateur_public_francais", "hebergeur_francais", "webmail_etranger"}
    assert all(origine for *_, origine, _ in lignes)
    faux = tmp_path / "mx.csv"
    faux.write_text("# commentaire\ndomaine,classe,libelle,origine\ngoogle.com,etranger,Google,doc\n", encoding="utf-8")
    with pytest.raises(DonneesError, match=r"mx\.csv, ligne 3 : classe « etranger » inconnue ; choix : "):
        _classement_mx(faux)
