"""The printable fiche of every commune (``reports/commune/<code>.html``, issue 21 item 2):
made by ``territoires report`` with the site (``--scope all`` or ``communes``) in one pass
without notebooks; its figures are the warehouse's; in Chromium at 485 px it prints on A4
with title, score, criteria and map on page 1; the index card links to it."""

from __future__ import annotations

import base64
import io
import re
from html import unescape

import duckdb
import pytest

from territoires import noms
from territoires.reports import fiches


def test_scope_word_and_paths():
    assert fiches.separer("all") == (True, "all")
    assert fiches.separer("communes") == (True, "")
    assert fiches.separer("region:53, communes") == (True, "region:53")
    assert fiches.separer("region:53") == (False, "region:53")
    assert fiches.chemin_fiche("2A004") == "commune/2A004.html"
    with pytest.raises(noms.NomInvalide):
        fiches.chemin_fiche("../../etc")


def _texte(path) -> str:
    html = path.read_text(encoding="utf-8")
    html = re.sub(r"<svg.*?</svg>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).replace("\u202f", " ").split())


def test_map_coordinates_are_rounded_to_three_places_without_trailing_zeros():
    """ST_AsSVG writes every coordinate with all its digits: the fiche's map keeps three
    places, trailing zeros and a bare point dropped, the rest of the path as it was."""
    svg = ("M 2.45279213387217 -47.258577627262234 L 2.4 -47.0004 10.1000 -3.9996 Z "
           "M -0.0004 1.2345678 L 100 2 Z")
    assert fiches._arrondi(svg) == "M 2.453 -47.259 L 2.4 -47 10.1 -4 Z M -0 1.235 L 100 2 Z"
    assert fiches._arrondi("M 1.23456 2 L 3.2 4.4 Z", decimales=1) == "M 1.2 2 L 3.2 4.4 Z"
    assert fiches._arrondi("") == ""


def test_a_commune_too_small_to_see_on_its_map_is_ringed_and_the_caption_says_so(fixture_warehouse):
    """Île-de-Sein (29083, 0.6 km², 8 km off the Finistère's tip) is a speck on the
    département's map: the fiche rings it, round and wholly inside the map, and its caption
    says so; Brest (29019) is seen as it is, without a ring."""
    import territoires

    con = territoires.connect(fixture_warehouse)
    try:
        geo_c = fiches._contours(con, "commune", 0.0005)
        geo_d = fiches._contours(con, "departement", 0.004)
        geo_e = fiches._contours(con, "epci", 0.002)
    finally:
        con.close()
    sein = fiches.carte_svg("Île-de-Sein", geo_c["29083"], geo_d["29"], None)
    brest = fiches.carte_svg("Brest", geo_c["29019"], geo_d["29"], geo_e["242900314"])
    assert fiches.REPERE in sein and fiches.REPERE not in brest
    x, y, w, h = map(float, re.search(r'viewBox="([^"]+)"', sein).group(1).split())
    cercle = re.search(r'<g class="repere"><circle cx="([^"]+)" cy="([^"]+)" r="([^"]+)"', sein)
    cx, cy, r = map(float, cercle.groups())
    assert x <= cx - r and cx + r <= x + w and y <= cy - r and cy + r <= y + h  # all of it on the map
    assert 0.03 * max(w, h) < r < 0.1 * max(w, h)  # seen, not covering the map
    assert "scale(" not in sein[sein.index('class="repere"'):]  # outside the squeezed group: a circle
    c = {"nom": "Île-de-Sein"}
    assert fiches.contexte_page(_ligne(**c), _ctx(), None, None, None, {}, sein)["carte_entouree"]
    assert not fiches.contexte_page(_ligne(**c), _ctx(), None, None, None, {}, brest)["carte_entouree"]


def test_every_commune_has_a_small_fiche_with_the_warehouse_figures(batch, fixture_warehouse):
    reports, rapport = batch
    con = duckdb.connect(str(fixture_warehouse), read_only=True)
    try:
        codes = [c for (c,) in con.execute("select code from marts.territoires where niveau = 'commune'").fetchall()]
        rows = con.execute("""select t.code, t.code_departement, p.tranche_taille, p.score_presence
                              from marts.territoires t join marts.presence_numerique p using (code)
                              where t.niveau = 'commune' and p.fiche_mairie""").fetchall()
    finally:
        con.close()
    assert rapport.fiches and rapport.fiches["nombre"] == len(codes) == 277
    tailles = [(reports / fiches.chemin_fiche(c)).stat().st_size for c in codes]
    assert max(tailles) <= 150_000, max(tailles)
    # two communes: score and rank among the communes of their size in their département,
    # computed here from the warehouse
    for code in ("29189", "29232"):
        _, dep, bande, score = next(r for r in rows if r[0] == code)
        pairs = [r[3] for r in rows if r[1] == dep and r[2] == bande]
        rang = 1 + sum(1 for s in pairs if s > score)
        texte = _texte(reports / fiches.chemin_fiche(code))
        assert f"Score de présence numérique {score} / 100" in texte, texte[:600]
        if len(pairs) >= fiches.MIN_COMPARAISON:
            rang_txt = "1re" if rang == 1 else f"{rang}e"
            assert f"Dans le département Finistère : {rang_txt} sur {len(pairs)}" in texte, texte
        else:  # too few to rank: said, not left out in silence
            seul = "seule commune de sa taille, pas de classement"
            assert (f"Dans le département Finistère : {len(pairs)} communes de sa taille seulement, trop peu pour un classement"
                    if len(pairs) > 1 else f"Dans le département Finistère : {seul}") in texte, texte
        # links stay inside the site: département page, index
        assert 'href="../departement/29.html"' in (reports / fiches.chemin_fiche(code)).read_text(encoding="utf-8")
    texte = _texte(reports / "commune" / "29189.html")
    # no register loaded in the fixture site: said, never a 0
    assert "Aucun registre d'adhérents" in texte and "n'est chargé" in texte
    assert "Non chargés pour cette publication" in texte  # neither DPNT nor the probe in the fixture
    assert "lannuaire.service-public.fr" in texte and "Ce qui ferait progresser le score" in texte
    assert "Source : fiches mairie de l'Annuaire de l'administration (DILA)" in texte and "calculé le" in texte


@pytest.mark.browser
def test_fiche_prints_page_one_at_485px_and_the_index_card_opens_it(batch, tmp_path):
    from test_browser import CHROMIUM, Chromium, _chercher

    pypdf = pytest.importorskip("pypdf", reason="pypdf absent (pip install -e '.[dev]')")
    assert CHROMIUM
    reports = batch[0]
    b = Chromium(tmp_path / "profil", width=485, height=900)
    try:
        for domain in ("Runtime", "Log", "Page", "Network"):
            b.send(f"{domain}.enable")
        b.send("Network.emulateNetworkConditions", offline=True, latency=0, downloadThroughput=-1, uploadThroughput=-1)
        # the index: search, Enter opens the card, its link opens the fiche
        b.send("Page.navigate", url=(reports / "index.html").as_uri())
        b.wait_event("Page.loadEventFired")
        _chercher(b, "")
        b.eval("document.getElementById('recherche').focus()")
        b.send("Input.insertText", text="plougastel")
        b.key("Enter", "Enter", 13)
        b.eval("new Promise(r => setTimeout(r, 200))")
        lien = "document.querySelector('#fiche-commune .lien-fiche a')"
        assert b.eval(f"{lien}.textContent") == "Fiche imprimable de Plougastel-Daoulas"
        b.eval(f"{lien}.click()")
        b.wait_event("Page.loadEventFired")
        assert b.eval("location.pathname").endswith("/commune/29189.html")
        assert b.eval("document.querySelector('h1').textContent") == "Plougastel-Daoulas (29189)"
        assert b.eval("document.querySelectorAll('svg.carte-fiche path').length") >= 2
        b.screenshot(tmp_path / "fiche-485.png")
        pdf = base64.b64decode(b.send("Page.printToPDF", preferCSSPageSize=True, printBackground=True)["data"])
        (tmp_path / "fiche-29189.pdf").write_bytes(pdf)
        lecteur = pypdf.PdfReader(io.BytesIO(pdf))
        largeur, hauteur = float(lecteur.pages[0].mediabox.width), float(lecteur.pages[0].mediabox.height)
        assert abs(largeur - 595.3) < 2 and abs(hauteur - 841.9) < 2, (largeur, hauteur)
        page1 = " ".join(lecteur.pages[0].extract_text().split())
        for attendu in ("Plougastel-Daoulas (29189)", "Score de présence numérique", "Critères du score",
                        "Site internet déclaré", "Adresse électronique sur le domaine du site",
                        "En orange, Plougastel-Daoulas"):  # the map's caption, printed under it
            assert attendu in page1, (attendu, page1[:1200])
        assert "Aller au contenu" not in page1
        assert not b.errors(), b.errors()
        assert all(u.startswith("file:") for u in b.requests()), b.requests()
    finally:
        b.close()


def _ligne(**autres):
    c = {"code": "29999", "nom": "Commune-Fictive", "dep": "29", "epci": None, "op": "fictif", "population": 120,
         "bande": "0-499", "fiche": True, "score": 40, "c_site_declare": True, "c_https": False,
         "n_dep": 3, "moy_dep": 50.0, "rang_dep": 2, "bas_dep": 1, "eg_dep": 0,
         "n_all": 3, "moy_all": 50.0, "rang_all": 2, "bas_all": 1, "eg_all": 0}
    c.update(autres)
    return c


def _ctx(**autres):
    ctx = fiches.Contexte(
        criteres=[["site_declare", "site internet déclaré", 60, "déclarer le site"], ["https", "https", 40, "servir en https"]],
        bandes={"0-499": "moins de 500 hab."}, departements={"29": "Finistère"}, epci={},
        operateurs={"fictif": "Opérateur Fictif"}, registres={}, services={"s1": "Parapheur"},
        dpnt=False, sonde=False, libelles={})
    for k, v in autres.items():
        setattr(ctx, k, v)
    return ctx


def test_membership_and_checks_say_what_is_not_known_never_a_zero():
    f = fiches.contexte_page(_ligne(), _ctx(), None, None, None, {}, "")
    assert f["adhesion"].startswith("Aucun registre d'adhérents de l'opérateur n'est chargé") and f["operateur"]["nom"] == "Opérateur Fictif"
    # fewer than 5 communes of its size: no rank, and the reason said (once: the alliance has the same 3)
    assert f["rangs"] == ["Dans le département Finistère : 3 communes de sa taille seulement, trop peu pour un classement (5 au moins)"]
    assert fiches.contexte_page(_ligne(score=None), _ctx(), None, None, None, {}, "")["rangs"] == []  # no score, nothing to rank
    assert [m["points"] for m in f["manques"]] == [40]
    assert f["sources_absentes"] and not f["controles"]
    # a register loaded that matched no commune: said so, no membership figure
    f = fiches.contexte_page(_ligne(), _ctx(registres={"fictif": 0}), None, None, None, {}, "")
    assert "n'a été rapproché d'aucune commune" in f["adhesion"] and not f["services"]
    # a member with its services; DPNT loaded but the commune absent from it
    adh = {"operateur": "fictif", "adherente": True, "date": None, "services": ["s1", "s2"]}
    ctrl = {"dpnt_commune": False, "sonde_site": True, "sonde_https_valide": True}
    f = fiches.contexte_page(_ligne(), _ctx(registres={"fictif": 12}, dpnt=True, sonde=True), adh, ctrl, None, {}, "")
    assert f["adhesion"].startswith("Commune adhérente, d'après le registre") and f["services"] == ["Parapheur", "s2"]
    assert "n'apparaît pas dans les données de l'ANCT" in f["controles"][0]["note"]
    assert ("sonde_https_valide", True) in f["controles"][1]["lignes"]
    # no fiche mairie: no score, no criterion met
    f = fiches.contexte_page(_ligne(fiche=False, score=None), _ctx(), None, None, None, {}, "")
    assert f["score"] is None and not any(c["ok"] for c in f["criteres"]) and f["rangs"] == []


def test_report_scope_communes_makes_the_fiches_alone(tmp_path, fixture_warehouse, monkeypatch, capsys):
    """``territoires report --scope communes``: the fiches and the index, no notebook; the
    index card knows which communes have one."""
    import json
    import os

    from territoires.cli import main

    (tmp_path / "data" / "processed").mkdir(parents=True)
    os.symlink(fixture_warehouse, tmp_path / "data" / "processed" / "territoires.duckdb")
    monkeypatch.setenv("TERRITOIRES_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert main(["report", "--scope", "communes", "--jobs", "2"]) == 0
    sortie = capsys.readouterr().out
    assert sortie.startswith("277 fiches de commune ("), sortie
    reports = tmp_path / "reports"
    assert len(list((reports / "commune").glob("*.html"))) == 277
    assert not list((reports / "commune").glob(".*"))  # no temporary left
    assert not (reports / "region").exists()  # no dashboard
    assert (reports / "assets" / "territoires.css").is_file()
    # no dashboard built: the fiche names its département without a link
    assert 'href="../departement/' not in (reports / "commune" / "29189.html").read_text(encoding="utf-8")
    script = (reports / "communes.js").read_text(encoding="utf-8")
    donnees = json.loads(script.split("=", 1)[1].strip().rstrip(";"))
    i = donnees["colonnes"].index("imprimable")
    assert all(c[i] == 1 for c in donnees["communes"])
    manifeste = json.loads((reports / "manifest.json").read_text(encoding="utf-8"))
    assert manifeste["derniere_execution"]["fiches_communes"]["nombre"] == 277


def test_fiche_of_a_member_names_its_operator_membership_and_services(fixture_adherents):
    """With a register loaded (the fixture's fictitious operator): a member commune's fiche
    says it is a member, since when, and the services it uses; a commune of the register's
    territory that is not a member says so."""
    from territoires.entrepot.connexion import connect

    home, _ = fixture_adherents
    con = connect(home / "data" / "processed" / "territoires.duckdb")
    try:
        ici = "code in (select code from marts.territoires where niveau = 'commune')"
        membre, services = con.execute(f"""select code, services from marts.adhesion_communes
                                           where adherente and len(services) > 0 and {ici} order by code limit 1""").fetchone()
        autre = con.execute(f"select code from marts.adhesion_communes where not adherente and {ici} "
                            "order by code limit 1").fetchone()[0]
        libelles = dict(con.execute("select service, libelle from marts.services").fetchall())
        pages = dict(fiches.fiches(con, {}, codes=[membre, autre]))
    finally:
        con.close()
    texte = " ".join(unescape(re.sub(r"<[^>]+>", " ", pages[fiches.chemin_fiche(membre)])).split())
    assert "Opérateur fictif de test" in texte and "Commune adhérente depuis le " in texte, texte
    assert "Services utilisés : " + ", ".join(libelles.get(s, s) for s in services) in texte
    texte = " ".join(unescape(re.sub(r"<[^>]+>", " ", pages[fiches.chemin_fiche(autre)])).split())
    assert "Commune non adhérente d'après le registre" in texte and "Services utilisés" not in texte


def test_the_fiches_fast_jinja_environment_renders_the_same_bytes_as_jinjas_own():
    """The fiches' environment (dict keys read first, plain strings escaped to plain strings:
    index._rapide) makes the same page as a plain Jinja environment, escaping included."""
    from markupsafe import Markup

    from territoires.reports.index import _environnement

    piege = "Saint-<b>\"Jean\"</b> & l'Île"
    adh = {"operateur": "fictif", "adherente": True, "date": None, "services": ["s1", "<s2>"]}
    ctrl = {"dpnt_commune": True, "dpnt_https": True, "sonde_site": True, "sonde_https_valide": False}
    cas = [
        fiches.contexte_page(_ligne(nom=piege), _ctx(departements={"29": piege}), None, None, None,
                             {("departement", "29"): "departement/29.html"}, ""),
        fiches.contexte_page(_ligne(epci="2400", fiche=False, score=None),
                             _ctx(epci={"2400": piege}, registres={"fictif": 3}, dpnt=True, sonde=True), adh, ctrl,
                             None, {("epci", "2400"): "epci/2400.html", ("operateur", "fictif"): "operateur/fictif.html"},
                             '<svg class="carte-fiche"><title>x &amp; y</title></svg>'),
    ]
    page = {"titre": f"{piege} — fiche", "description": piege, "racine": "../", "assets": "../assets/",
            "single_file": False, "version": "0"}
    rapide, lent = fiches._gabarit(), _environnement().get_template("fiche_commune.html.j2")
    assert type(rapide.environment) is not type(lent.environment)
    for f in cas:
        args = {"t": page, "f": f, "date": "01/12/2026", "source": Markup("<p class='source'>Source &amp; date</p>")}
        html = rapide.render(**args)
        assert html == lent.render(**args)
        assert "Saint-&lt;b&gt;&#34;Jean&#34;&lt;/b&gt; &amp; l&#39;Île" in html or f["nom"] != piege
        # a commune without an outline (the four restored in the Cantal in 2025): no map, and why
        assert ("Pas de carte : la commune n'a pas de contour" in html) == (not f["carte"])
