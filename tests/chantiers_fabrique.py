"""A home where the alliance's three domains are measured: the open-data export and the
observatory (each with the committed fixture's rows plus rows for the register's fictitious
non-commune members: :func:`organisations_membres`), the DECP
and the ANCT's DPNT fetched through loopback (tests/sources_fabrique.py), a fictitious
operator's register loaded (conftest.registre_fictif) and a cybersecurity probe journal
written in the journal's own format (territoires.sonde.journal: « campagne », « cible »,
« controle », « fin » lines; the targets are read by the probe's own reader,
territoires.sonde.cibles), each check's result set by a rule on the target's rank, so the
tests can recount it.
"""

from __future__ import annotations

import json
from pathlib import Path

#: the probe's campaign: its journal's name is its UTC start time, the checks are dated that day
CAMPAGNE = "2026-11-30T08-00-00Z"
VERIFIE_LE = "2026-11-30T08:05:00.000000Z"


def resultat_web(k: int) -> dict:
    """The k-th website's checks: every 4th unreachable over HTTPS, every 4th (+1) with an
    expired certificate, every 3rd valid one with HSTS, every 2nd redirecting to HTTPS."""
    joignable = k % 4 != 0
    valide = joignable and k % 4 != 1
    return {"https_joignable": joignable, "https_statut": 200 if joignable else None,
            "https_erreur": None if joignable else "connexion refusée",
            "certificat_valide": valide, "certificat_erreur": None if valide or not joignable else "expire",
            "certificat_expire_le": "2027-01-31T00:00:00Z" if valide else ("2025-01-31T00:00:00Z" if joignable else None),
            "hsts": valide and k % 3 == 0, "hsts_valeur": "max-age=31536000" if valide and k % 3 == 0 else None,
            "http_joignable": True, "redirection_https": k % 2 == 0, "redirections": [], "boucle": False,
            "http_erreur": None, "dns_erreur": None}


def resultat_mail(k: int) -> dict:
    """The k-th mail domain's checks: every 3rd at a foreign webmail, every 2nd with SPF,
    DMARC none / quarantine / reject / absent in turn, every 5th signed by DNSSEC."""
    mx = "aspmx.l.google.com" if k % 3 == 0 else "mx1.mail.ovh.net"
    return {"mx": [f"10 {mx}."], "mx_principal": mx, "spf": k % 2 == 0,
            "spf_valeur": "v=spf1 mx ~all" if k % 2 == 0 else None,
            "dmarc": ("none", "quarantine", "reject", None)[k % 4],
            "dmarc_valeur": None, "dnssec": k % 5 == 0, "dnssec_ad": False, "erreur": None}


#: the register's non-commune members the open-data files name (conftest.registre_fictif: SIRET
#: siret(n)), with what each file says of them: data.gouv.fr (datasets, last modified) and the
#: observatory (datasets on its platform, its platform's address, datasets on data.gouv.fr);
#: None: not listed. The hospital (6002) is in neither: matched, not publishing.
MEMBRES_OUVERTS = {
    6001: ((3, "2026-09-15T10:00:00"), (2, "https://ccas-fictif.megalis.bretagne.bzh/donnees", 3)),
    6005: ((0, "2025-02-01T09:00:00"), (0, "", 0)),
    6006: (None, (4, "https://donnees.syndicat-fictif.example/", 0)),
}


def organisations_membres() -> dict[str, bytes]:
    """The bytes served for data.gouv.fr's export and the observatory: the committed fixture
    files, each with one row per member of :data:`MEMBRES_OUVERTS` it lists, in its format."""
    import csv
    import io

    from adherents_fabrique import siret
    from sources_fabrique import F, FIXTURES

    datagouv = (F / FIXTURES["datagouv-organisations"]).read_bytes().decode("utf-8")  # CRLF kept
    entete = next(csv.reader(io.StringIO(datagouv), delimiter=";"))
    buf = io.StringIO()
    w = csv.writer(buf, quoting=csv.QUOTE_NONNUMERIC, delimiter=";", quotechar='"', lineterminator="\r\n")
    odf = (F / FIXTURES["odf-observatoire"]).read_bytes().decode("utf-8")
    buf_odf = io.StringIO()
    w_odf = csv.writer(buf_odf, lineterminator="\r\n")
    for n, (dg, obs) in MEMBRES_OUVERTS.items():
        if dg:
            ligne = {k: ("{}" if k.endswith("_by_months") else 0) if k.startswith("metric.") or k in ("members_count", "downloads")
                     else "" for k in entete} | {
                "id": f"5f0c0000000000000000{n:04d}", "name": f"Adhérent fictif {n}", "slug": f"adherent-fictif-{n}",
                "url": f"https://www.data.gouv.fr/organizations/adherent-fictif-{n}/", "created_at": "2021-03-02T10:00:00",
                "last_modified": dg[1], "business_number_id": siret(n), "metric.datasets": dg[0]}
            w.writerow([ligne[k] for k in entete])
        if obs:
            w_odf.writerow([siret(n)[:9], f"Adhérent fictif {n}", "GRP", obs[1], obs[0] or "", "", obs[2], "", "", "",
                            "ptf", "Plateforme fictive"])
    return {"datagouv-organisations": (datagouv + buf.getvalue()).encode("utf-8"),
            "odf-observatoire": (odf + buf_odf.getvalue()).encode("utf-8")}


def decp_membres() -> bytes:
    """The DECP served: the committed fixture's rows, plus a copy of one Finistère buyer's
    rows (its contracts, modifications and titulaires) bought by the register's CCAS
    (SIRET siret(6001)), so a non-commune member has purchases to count."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq
    from adherents_fabrique import siret
    from sources_fabrique import F, FIXTURES

    t = pq.read_table(F / FIXTURES["decp-consolide"])
    lignes = t.to_pylist()
    copie = [{**r, "acheteur_id": siret(6001), "acheteur_nom": "CCAS FICTIF",
              "uid": siret(6001) + r["uid"][len(r["acheteur_id"]):]}
             for r in lignes if r["acheteur_id"] == "21290022900015"]
    assert copie
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(lignes + copie, schema=t.schema), buf)
    return buf.getvalue()


def membres_sondes(communes: list[str]) -> list:
    """Probe targets for two of the register's non-commune members (the CCAS, a syndicat),
    at fictitious addresses under ``.example`` (the register carries no site: the probe
    would take the DPNT's, which lists no fictitious member)."""
    from adherents_fabrique import siret
    from conftest import OPERATEUR_FICTIF

    from territoires.sonde.cibles import Cible
    from territoires.sonde.interpretation import normaliser_url

    return [Cible("adherent", siret(6001), OPERATEUR_FICTIF, "CCAS fictif", communes[1],
                  normaliser_url("https://ccas-fictif.example/"), "ccas-fictif.example"),
            Cible("adherent", siret(6005), OPERATEUR_FICTIF, "Syndicat fictif", communes[4],
                  normaliser_url("https://syndicat-fictif.example/"), "syndicat-fictif.example")]


def ecrire_journal(home: Path, warehouse: Path, portee: str = "all", membres: list | None = None) -> Path:
    """Write a finished probe campaign over the communes of ``portee`` of ``warehouse``
    (and the member targets ``membres``: :func:`membres_sondes`) into ``home``'s journal
    folder; return its path."""
    import duckdb

    from territoires.sonde.cibles import cibles

    with duckdb.connect(str(warehouse), read_only=True) as con:
        liste = [c for c in cibles(con, portee) if c.genre == "commune"] + list(membres or [])
    urls = sorted({c.cle_web for c in liste if c.cle_web})
    domaines = sorted({c.cle_mail for c in liste if c.cle_mail})
    lignes = [{"type": "campagne", "debut": VERIFIE_LE, "portee": portee}]
    lignes += [c.ligne() for c in liste]
    lignes += [{"type": "controle", "objet": "web", "cle": u, "verifie_le": VERIFIE_LE, "duree_s": 0.1,
                "resultat": resultat_web(k)} for k, u in enumerate(urls)]
    lignes += [{"type": "controle", "objet": "mail", "cle": d, "verifie_le": VERIFIE_LE, "duree_s": 0.1,
                "resultat": resultat_mail(k)} for k, d in enumerate(domaines)]
    lignes.append({"type": "fin", "le": VERIFIE_LE, "controles": len(urls) + len(domaines)})
    dossier = home / "data" / "processed" / "sondes"
    dossier.mkdir(parents=True, exist_ok=True)
    chemin = dossier / f"{CAMPAGNE}.jsonl"
    chemin.write_text("".join(json.dumps(l, ensure_ascii=False) + "\n" for l in lignes), encoding="utf-8")
    return chemin


def home_chantiers(home: Path, warehouse: Path, departement: str) -> Path:
    """Fetch the domains' sources, load a fictitious register, write a probe journal over
    ``warehouse``'s communes and build ``home`` for ``departement``; return ``home``."""
    import duckdb
    from adherents_fabrique import ecrire_csv
    from conftest import OPERATEUR_FICTIF, registre_fictif
    from sources_fabrique import telecharger_fixtures

    from territoires import operateurs
    from territoires.warehouse.build import build

    texte = operateurs.PAQUET.read_text(encoding="utf-8")
    texte = texte.replace('code = "megalis"', f'code = "{OPERATEUR_FICTIF}"').replace(
        'nom = "Mégalis Bretagne"', 'nom = "Opérateur fictif de test"')
    (home / "operateurs.toml").write_text(texte, encoding="utf-8")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        communes = [c for (c,) in con.execute(
            "select code from marts.territoires where niveau = 'commune' order by code").fetchall()]
        epci = con.execute("select code from marts.territoires where niveau = 'epci' order by code").fetchone()[0]
    rows, _ = registre_fictif(communes, epci)
    ecrire_csv(home / "data" / "raw" / "adherents" / OPERATEUR_FICTIF / "registre-fictif.csv", rows)
    telecharger_fixtures(home / "data" / "raw", ["datagouv-organisations", "odf-observatoire", "decp-consolide",
                                                 "anct-dpnt-json", "banatic-perimetre-epci"],
                         contenus={**organisations_membres(), "decp-consolide": decp_membres()})
    ecrire_journal(home, warehouse, membres=membres_sondes(communes))
    build(departements=(departement,), home=home, quiet=True)
    return home
