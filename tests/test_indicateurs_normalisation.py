"""Edge cases of the website / e-mail parsing, run through the real SQL models.

A small in-memory database gets synthetic directory entries in the shape of
staging.communes and intermediate.perimetre_communes; the models of the warehouse
(intermediate.presence_sites, intermediate.presence_emails, marts.tranches_taille,
marts.presence_numerique) then run on it exactly as in the build, with their declared tests.
"""

from __future__ import annotations

import duckdb
import pytest

from territoires.indicators import load
from territoires.warehouse.build import model_test_failures, models

MODELES = ("presence_sites", "presence_emails", "tranches_taille", "presence_numerique")
HORAIRES = '[["lundi","vendredi",[["08:30:00","12:00:00"]]]]'

#: code → (site, e-mail, horaires, accessibilité); population 100 unless said otherwise
CAS = {
    "00001": (None, None, None, None),                                   # no directory entry
    "00002": ("   ", "", HORAIRES, "NAC"),                               # empty values
    "00003": (" HTTPS://WWW.Mairie-X.FR/Accueil ", " Mairie@Mairie-X.fr ", HORAIRES, "NAC"),
    "00004": ("http://www.x4.fr", "mairie@x4.fr", HORAIRES, "ACC"),
    "00005": ("https://x5.fr", "mairie@x5.fr", "[]", "NAC"),
    "00006": ("www.bajus.fr", "contact@bajus.fr", "pas du JSON", "NAC"),  # no scheme
    "00007": ("https:/www.troussencourt.fr", "mairie@troussencourt.fr", None, "NAC"),  # broken scheme
    "00008": ("mairiedesavilly@orange.fr", "mairiedesavilly@orange.fr", None, "NAC"),  # e-mail in site field
    "00009": ("https://mairie-x.wixsite.com/accueil", "mairie.x@wanadoo.fr", None, "NAC"),
    "00010": ("https://sites.google.com/view/x10", "x10@gmail.com", None, "NAC"),
    "00011": ("http://www.intramuros.org/ville-11", "mairie@orange.fr", None, "NAC"),
    "00012": ("http://vernais.free.fr/", "mairie@free.fr", None, "NAC"),
    "00013": ("https://brochon.cotedor.fr", "mairie@brochon.cotedor.fr", None, "NAC"),
    "00014": ("https://thézac17.fr/", "mairie@THÉZAC17.FR", None, "NAC"),  # internationalised
    "00015": ("https://www.xn--thzac17-cya.fr", "contact@xn--luc-dma.fr", None, "NAC"),  # punycode
    "00016": ("https://www.lucé.fr", "contact@xn--luc-dma.fr", None, "NAC"),
    "00017": ("http://exa mple.fr", "a@b.fr; c@d.fr", None, "NAC"),        # space inside the URL
    "00018": ("https://-bad-.fr", "mairie@@x.fr", None, "NAC"),           # invalid host, invalid e-mail
    "00019": ("ftp://x19.fr", "pas une adresse, mairie@x19.fr", None, "NAC"),
    "00020": ("https://x20.fr:8080/p?q=1#a", "mailto:<mairie@x20.fr>", None, "NAC"),
    "00021": ("https://user@x21.fr/", "mairie@x21", None, "NAC"),
    "00022": ("https://mairie.x22.gouv.fr", "mairie@ville.x22.gouv.fr", None, "NAC"),
    "70550": ("https://www.vesoul.fr/", "ville-vesoul@vesoul.fr", None, "NAC"),   # titular of vesoul.fr
    "70166": ("https://vesoul.fr/", "comberjon@vesoul.fr", None, "NAC"),          # uses Vesoul's domain
    "00023": ("https://www.x23.fr.", "secretariat@gmail.com ; mairie@x23.fr", None, "NAC"),
    "00024": ("https://mairie-y.fr", "x@mail.mairie-y.fr", HORAIRES, "DEM"),
    "00025": ("HTTP://WWW.X25.COM", "Mairie@X25.COM\u00a0", HORAIRES, "NAC"),
    "00026": ("https://a.b.c.x26.fr/", "m@x26.fr / n@y.fr", None, "NAC"),
    "00027": ("https://www.facebook.com/mairie27", "mairie@x27..fr", None, "NAC"),
}


def _annuaire(con, cas: dict) -> None:
    """The raw tables and the directory entries ``cas`` (code → site, e-mail, hours,
    accessibility) that the presence models read, on a new database."""
    load.load_raw(con)
    con.execute("create schema staging; create schema intermediate; create schema marts")
    con.execute(
        "create table raw.provenance (source_id varchar, cle varchar, millesime varchar, preuve varchar)")
    con.execute(
        "create table staging.communes (code varchar, type varchar, mairie_site varchar, mairie_email varchar,"
        " mairie_telephone varchar, mairie_adresse varchar, mairie_horaires varchar,"
        " mairie_accessibilite varchar, mairie_accessibilite_details varchar)")
    con.execute(
        "create table intermediate.perimetre_communes (code varchar, nom varchar, population bigint,"
        " population_millesime varchar, code_epci varchar, code_departement varchar, code_region varchar,"
        " dans_perimetre boolean)")
    # the fetched DILA directory, not fetched here: the embedded entries serve
    con.execute("create table staging.annuaire_mairies (code varchar, site varchar, email varchar)")
    for code, (site, email, horaires, acc) in cas.items():
        adresse = None if code == "00001" else "1 place de la Mairie"
        con.execute("insert into staging.communes values (?, 'COM', ?, ?, null, ?, ?, ?, null)",
                    [code, site, email, adresse, horaires, acc])
        con.execute("insert into intermediate.perimetre_communes values (?, ?, ?, null, null, '00', '00', true)",
                    [code, f"Commune {code}", 100])


@pytest.fixture(scope="module")
def faits():
    con = duckdb.connect()
    _annuaire(con, CAS)
    for model in models():
        if model.name in MODELES:
            con.execute(f"create table {model.table} as\n{model.sql}")
            assert model_test_failures(con, model) == [], model.table
    rows = con.execute("from marts.presence_numerique").fetchall()
    cols = [d[0] for d in con.description]
    yield {r[0]: dict(zip(cols, r)) for r in rows}
    con.close()


def _site(f):
    return (f["site_declare"], f["url_valide"], f["https"], f["site_hote"], f["site_domaine"],
            f["classe_hebergement"])


def _email(f):
    return (f["email_declare"], f["email_valide"], f["nb_emails"], f["email"], f["email_domaine"], f["classe_email"])


def test_vides_et_fiche_absente(faits):
    assert faits["00001"]["fiche_mairie"] is False and faits["00001"]["score_presence"] is None
    assert _site(faits["00002"]) == (False, False, False, None, None, "sans_site")
    assert _email(faits["00002"]) == (False, False, 0, None, None, "sans_email")
    assert faits["00002"]["fiche_mairie"] and faits["00002"]["score_presence"] == 0  # hours only: published by nearly all, out of the score


def test_majuscules_espaces_et_www(faits):
    assert _site(faits["00003"]) == (True, True, True, "www.mairie-x.fr", "mairie-x.fr", "domaine_propre")
    assert _email(faits["00003"]) == (True, True, 1, "mairie@mairie-x.fr", "mairie-x.fr", "domaine_propre")
    assert faits["00003"]["email_meme_domaine"]
    assert faits["00003"]["mairie_site"] == " HTTPS://WWW.Mairie-X.FR/Accueil "  # raw value kept
    assert _site(faits["00025"])[:5] == (True, True, False, "www.x25.com", "x25.com")
    assert faits["00025"]["email"] == "mairie@x25.com" and faits["00025"]["email_meme_domaine"]
    assert faits["00025"]["extension"] == "com" and not faits["00025"]["extension_souveraine"]


def test_http_et_https(faits):
    assert _site(faits["00004"])[:3] == (True, True, False)
    assert _site(faits["00005"])[:3] == (True, True, True)
    assert faits["00004"]["site_schema"] == "http" and faits["00005"]["site_schema"] == "https"


def test_adresses_mal_formees(faits):
    # no scheme: declared, host read, not well formed, not https
    assert _site(faits["00006"]) == (True, False, False, "www.bajus.fr", "bajus.fr", "domaine_propre")
    # broken scheme: https declared but the URL is malformed
    assert _site(faits["00007"]) == (True, False, True, "www.troussencourt.fr", "troussencourt.fr", "domaine_propre")
    # an e-mail typed in the site field is not a website
    assert _site(faits["00008"]) == (False, False, False, None, None, "sans_site")
    assert _site(faits["00017"])[:2] == (True, False)
    assert _site(faits["00018"]) == (True, False, True, None, None, "indetermine")
    assert _site(faits["00019"])[:3] == (True, False, False) and faits["00019"]["classe_hebergement"] == "domaine_propre"
    assert _site(faits["00020"])[:4] == (True, True, True, "x20.fr")
    assert _site(faits["00021"])[:4] == (True, False, True, "x21.fr")  # user info refused
    assert _site(faits["00023"])[:5] == (True, True, True, "www.x23.fr", "x23.fr")  # trailing dot


def test_plateformes_et_sous_domaines(faits):
    assert _site(faits["00009"])[4:] == ("mairie-x.wixsite.com", "constructeur_commercial")
    assert faits["00009"]["hebergeur"] == "Wix"
    assert _site(faits["00010"])[4:] == ("sites.google.com", "constructeur_commercial")
    assert faits["00010"]["hebergeur"] == "Google Sites"  # longest entry wins
    assert _site(faits["00011"])[4:] == ("intramuros.org", "constructeur_commercial")
    assert _site(faits["00012"])[4:] == ("vernais.free.fr", "pages_perso_fai")
    assert _site(faits["00013"])[4:] == ("brochon.cotedor.fr", "plateforme_publique")
    assert _site(faits["00026"])[3:] == ("a.b.c.x26.fr", "x26.fr", "domaine_propre")
    assert _site(faits["00027"])[5] == "constructeur_commercial"
    # gouv.fr is a public suffix: the domain is x22.gouv.fr for site and e-mail alike
    assert faits["00022"]["site_domaine"] == faits["00022"]["email_domaine"] == "x22.gouv.fr"
    assert faits["00022"]["email_meme_domaine"]


def test_domaine_titulaire(faits):
    assert faits["70550"]["classe_hebergement"] == "domaine_propre"
    assert faits["70550"]["classe_email"] == "domaine_propre"
    assert faits["70166"]["classe_hebergement"] == "plateforme_publique"
    assert faits["70166"]["classe_email"] == "plateforme_publique"
    assert faits["70166"]["email_meme_domaine"]  # both on the shared public domain


def test_messageries(faits):
    assert faits["00009"]["classe_email"] == "webmail_grand_public"
    assert faits["00012"]["classe_email"] == "webmail_grand_public"
    # same registrable domain "free.fr" but a consumer webmail: never "same domain"
    assert not faits["00012"]["email_meme_domaine"]
    assert _email(faits["00013"])[4:] == ("brochon.cotedor.fr", "plateforme_publique")
    assert faits["00013"]["email_meme_domaine"]
    assert not faits["00009"]["email_meme_domaine"]


def test_plusieurs_adresses_dans_un_champ(faits):
    assert _email(faits["00017"]) == (True, True, 2, "a@b.fr", "b.fr", "domaine_propre")
    assert faits["00017"]["emails"] == ["a@b.fr", "c@d.fr"]
    # the first well-formed address is the commune's, in the field's order
    assert _email(faits["00023"])[2:] == (2, "secretariat@gmail.com", "gmail.com", "webmail_grand_public")
    assert _email(faits["00019"])[1:4] == (True, 1, "mairie@x19.fr")
    assert faits["00026"]["emails"] == ["m@x26.fr", "n@y.fr"]


def test_adresses_invalides(faits):
    assert _email(faits["00018"]) == (True, False, 0, None, None, "invalide")
    assert _email(faits["00021"]) == (True, False, 0, None, None, "invalide")  # no extension
    assert _email(faits["00027"])[:3] == (True, False, 0)                      # empty label
    assert faits["00020"]["email"] == "mairie@x20.fr"                           # mailto:, <>


def test_domaines_internationalises(faits):
    assert faits["00014"]["site_hote"] == faits["00015"]["site_hote"].removeprefix("www.") == "thézac17.fr"
    assert faits["00014"]["url_valide"] and faits["00015"]["url_valide"]
    assert faits["00014"]["email"] == "mairie@thézac17.fr" and faits["00014"]["email_meme_domaine"]
    # an e-mail in punycode and a site in Unicode are the same domain
    assert faits["00016"]["email_domaine"] == faits["00016"]["site_domaine"] == "lucé.fr"
    assert faits["00016"]["email_meme_domaine"]


def test_sous_domaine_de_messagerie_et_score(faits):
    f = faits["00024"]
    assert f["email_domaine"] == "mairie-y.fr" and f["email_meme_domaine"]
    assert f["horaires_publies"] and f["accessibilite_renseignee"]  # DEM counts, NAC does not
    assert f["score_presence"] == 100 and f["criteres_manquants"] == []
    assert not faits["00003"]["accessibilite_renseignee"]
    assert not faits["00005"]["horaires_publies"] and not faits["00006"]["horaires_publies"]
    assert faits["00009"]["score_presence"] == 20 + 15  # site, https (a declared e-mail is out of the score)
    assert "email_non_generique" in faits["00009"]["criteres_manquants"]


def test_une_conversion_idna_par_hote(monkeypatch):
    """The presence models convert each distinct host once, not once per row and per
    filter reading the result (DuckDB copied a pure function's call into each of them:
    about five calls per France's address)."""
    appels: list[str] = []

    def compter(f):
        return lambda hote: appels.append(hote) or f(hote)
    for nom in ("idna_ascii", "idna_unicode"):  # the UDFs, and their calls to each other
        monkeypatch.setattr(load, nom, compter(getattr(load, nom)))
    con = duckdb.connect()
    _annuaire(con, {f"{i:05d}": (f"https://www.hote{i % 4}.fr/", f"mairie{i}@hote{i % 4}.fr", None, "NAC")
                    for i in range(2, 202)})
    appels.clear()  # the classification lists, validated by load_raw
    for model in models():
        if model.name in ("presence_sites", "presence_emails"):
            con.execute(f"create table {model.table} as\n{model.sql}")
    assert con.execute("select count(distinct site_hote) from intermediate.presence_sites").fetchone() == (4,)
    assert 0 < len(appels) <= 8 * 4, len(appels)  # 200 rows each: 1,000 calls and more before


def test_idna():
    assert load.idna_ascii("Thézac17.fr") == "xn--thzac17-cya.fr"
    assert load.idna_unicode("WWW.XN--THZAC17-CYA.FR.") == "www.thézac17.fr"
    assert load.idna_unicode("xn--zz.fr") is None
    assert load.idna_ascii("a..fr") is None and load.idna_ascii("a" * 64 + ".fr") is None
    assert load.idna_ascii(None) is None and load.idna_ascii("  ") is None


@pytest.mark.parametrize("hote", [
    "mairie-brest.fr", "WWW.Quimper.BZH.", " a.b ", "1.2.3.4", "a" * 63 + ".fr", "a" * 64 + ".fr",
    ("abc." * 63)[:253], ("abc." * 64)[:254], "ab--cd.fr", "a---b.fr", "x.ab--c", "xn--thzac17-cya.fr",
    "xn--zz.fr", "-a.fr", "a-.fr", "a_b.fr", "a..fr", ".fr", "mairie.fr.", "é.fr", "a b.fr", "a*.fr"])
def test_idna_raccourci_ascii(hote):
    """The shortcut for plain ASCII hosts answers as the ``idna`` package does."""
    import idna

    def attendu_ascii(h):
        h = h.strip().rstrip(".")
        try:
            return idna.encode(h, uts46=True).decode("ascii").lower() if h else None
        except (idna.IDNAError, UnicodeError, ValueError):
            return None

    a = attendu_ascii(hote)
    try:
        u = None if a is None else idna.decode(a).lower()
    except (idna.IDNAError, UnicodeError, ValueError):
        u = None
    assert (load.idna_ascii(hote), load.idna_unicode(hote)) == (a, u)


def test_listes_invalides_refusees(tmp_path, monkeypatch):
    bad = tmp_path / "sites.csv"
    bad.write_text("# commentaire\ndomaine,classe,libelle,commune_titulaire,origine\n"
                   "wix.com,constructeur_commercial,Wix,,x\nWix.com,inconnue,Wix,,x\n", encoding="utf-8")
    monkeypatch.setattr(load, "SITES_FILE", bad)
    with pytest.raises(load.DonneesError, match=r"sites\.csv, ligne 4 : domaine « Wix\.com » à écrire en minuscules"):
        load.load_raw(duckdb.connect())
    bad.write_text("domaine,classe,libelle,commune_titulaire,origine\nwix.com,inconnue,Wix,,x\n", encoding="utf-8")
    with pytest.raises(load.DonneesError, match="classe « inconnue » inconnue"):
        load.load_raw(duckdb.connect())
    cat = tmp_path / "catalogue.toml"
    cat.write_text(load.CATALOGUE_FILE.read_text(encoding="utf-8").replace("poids = 20", "poids = 25"),
                   encoding="utf-8")
    with pytest.raises(load.DonneesError, match="les poids du score font 105, pas 100"):
        load.read_catalogue(cat)


def test_une_liste_modifiee_change_l_empreinte(tmp_path, monkeypatch):
    """Editing a list (no code change) makes the next build rebuild, never skip."""
    from territoires.sources import load_registry
    from territoires.warehouse import build as build_mod

    reg = load_registry()
    before = build_mod._fingerprint(reg, ("53",), None)
    copy = tmp_path / "sites.csv"
    copy.write_text(load.SITES_FILE.read_text(encoding="utf-8") + "exemple-plateforme.fr,plateforme_publique,X,,test\n",
                    encoding="utf-8")
    monkeypatch.setattr(load, "FICHIERS", tuple(copy if p == load.SITES_FILE else p for p in load.FICHIERS))
    assert build_mod._fingerprint(reg, ("53",), None) != before
