"""A region dashboard in headless Chromium, from file://, with the network off.

Drives Debian's ``chromium`` through the DevTools protocol (a few lines over
``websocket-client``): no console error, no request leaving the machine, the map drawn
(SVG paths), the indicator selector working from the keyboard, a phone-sized layout, and
screenshots saved in the test's temporary folder (look at them).
"""

from __future__ import annotations

import base64
import json
import re
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from territoires.reports import runner

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks" / "reports"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

if CHROMIUM is None:
    pytest.skip("Debian chromium absent (apt-get install chromium ; .ci/run l'installe) : "
                "test du navigateur ignoré", allow_module_level=True)
websocket = pytest.importorskip("websocket", reason="websocket-client absent (pip install -e '.[dev]')")


class Chromium:
    """Headless Chromium and one page, over the DevTools protocol."""

    def __init__(self, profile: Path, width: int = 1280, height: int = 900) -> None:
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-default-apps", "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={profile}",
             "--remote-debugging-port=0", f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.is_file() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                pytest.fail("chromium ne démarre pas (DevToolsActivePort absent)")
            time.sleep(0.05)
        port = port_file.read_text().split()[0]
        targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=10).read())
        page = next(t for t in targets if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30, suppress_origin=True)
        self.n = 0
        self.events: list[dict] = []

    def send(self, method: str, **params):
        self.n += 1
        self.ws.send(json.dumps({"id": self.n, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.n:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_event(self, name: str, timeout: float = 30) -> dict:
        for i, ev in enumerate(self.events):
            if ev.get("method") == name:
                return self.events.pop(i)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = json.loads(self.ws.recv())
            if msg.get("method") == name:
                return msg
            self.events.append(msg)
        raise TimeoutError(name)

    def eval(self, expression: str):
        r = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(r["exceptionDetails"])
        return r.get("result", {}).get("value")

    def screenshot(self, path: Path, full: bool = True) -> None:
        if full:
            width = self.eval("document.documentElement.clientWidth")
            height = self.eval("Math.ceil(document.documentElement.scrollHeight)")
            self.send("Emulation.setDeviceMetricsOverride", width=width, height=min(height, 16000),
                      deviceScaleFactor=1, mobile=width < 600)
            time.sleep(0.3)
        data = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=full)["data"]
        path.write_bytes(base64.b64decode(data))

    def key(self, key: str, code: str, keycode: int, shift: bool = False) -> None:
        mods = 8 if shift else 0
        for kind in ("rawKeyDown", "keyUp"):
            self.send("Input.dispatchKeyEvent", type=kind, key=key, code=code, windowsVirtualKeyCode=keycode,
                      modifiers=mods)

    def errors(self) -> list[str]:
        out = []
        for ev in self.events:
            m, p = ev.get("method"), ev.get("params", {})
            if m == "Runtime.exceptionThrown":
                out.append(json.dumps(p.get("exceptionDetails"))[:500])
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append(json.dumps(p.get("args"))[:500])
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                out.append(json.dumps(p["entry"])[:500])
        return out

    def requests(self) -> list[str]:
        return [ev["params"]["request"]["url"] for ev in self.events if ev.get("method") == "Network.requestWillBeSent"]

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="module")
def pages(batch) -> Path:
    """The fixture site (conftest.batch: every page of the Finistère slice, made once)."""
    return batch[0]


@pytest.fixture()
def browser(tmp_path):
    b = Chromium(tmp_path / "profil")
    for domain in ("Runtime", "Log", "Page", "Network"):
        b.send(f"{domain}.enable")
    b.send("Network.emulateNetworkConditions", offline=True, latency=0, downloadThroughput=-1, uploadThroughput=-1)
    yield b
    b.close()


MAP_DRAWN = """new Promise(function (resolve) {
  var t0 = performance.now(), cartes = document.querySelectorAll('.graphique.carte').length;
  (function check() {
    var n = document.querySelectorAll('.graphique.carte .trace svg.apercu path').length;
    // a page without a map (in its HTML) has none to wait for
    if (n > 0 || !cartes || performance.now() - t0 > 20000) { resolve({paths: n, ms: performance.now()}); return; }
    setTimeout(check, 10);
  })();
})"""

#: click « Carte interactive » on the first map, wait for plotly's map
INTERACTIVE = """new Promise(function (resolve) {
  var t0 = performance.now();
  document.querySelector('.graphique.carte button.interactif').click();
  (function check() {
    var n = document.querySelectorAll('.graphique.carte .trace path.choroplethlocation').length;
    if (n > 0 || performance.now() - t0 > 20000) { resolve({paths: n, ms: performance.now() - t0}); return; }
    setTimeout(check, 10);
  })();
})"""


#: every figure was drawn (mark « territoires:apercu ») before plotly.js was asked for, if it was
DESSINE_AVANT_PLOTLY = """(function () {
  var a = performance.getEntriesByName('territoires:apercu')[0], c = performance.getEntriesByName('territoires:chargement')[0];
  return !!a && (!c || c.startTime > a.startTime);
})()"""

#: wait (at most 10 s) for plotly.js loaded without a click, in idle time after the first paint
PLOTLY_PRECHARGE = """new Promise(function (resolve) {
  var t0 = performance.now();
  (function check() {
    if ((window.Plotly && window.Territoires.dessiner) || performance.now() - t0 > 10000) { resolve(typeof window.Plotly); return; }
    setTimeout(check, 20);
  })();
})"""


def _open(b: Chromium, page: Path) -> dict:
    """Open a page: its maps are drawn as SVG at once, plotly.js is not loaded."""
    b.send("Page.navigate", url=page.as_uri())
    b.wait_event("Page.loadEventFired")
    return b.eval(MAP_DRAWN)


def test_region_dashboard_draws_offline_without_errors(pages, browser, tmp_path):
    drawn = _open(browser, pages / "region" / "53.html")
    assert drawn["paths"] >= 270, drawn  # the fixture's 277 communes of Bretagne (some multi-part)
    assert browser.eval("document.documentElement.getAttribute('data-figures')") == "ok"
    # every figure drawn without plotly.js: maps in SVG, bars in HTML
    assert browser.eval("document.querySelectorAll('.trace[data-dessine]').length") == \
        browser.eval("document.querySelectorAll('figure.graphique').length") >= 3
    assert browser.eval(DESSINE_AVANT_PLOTLY)
    assert browser.eval("document.querySelectorAll('.barres .barre').length") > 10
    # the legend says every class, « donnée absente » included
    legende = browser.eval("document.querySelector('.graphique.carte .legende').innerText")
    assert "0 à 39" in legende and "Donnée absente" in legende
    assert browser.eval("document.documentElement.lang") == "fr"
    shot = tmp_path / "region-53.png"
    browser.screenshot(shot)
    assert shot.stat().st_size > 50_000
    # the interactive map, on request: plotly.js loaded from the site's assets, offline
    interactive = browser.eval(INTERACTIVE)
    assert interactive["paths"] >= 270, interactive
    assert browser.eval("typeof window.Plotly") == "object"
    print(f"\ncarte dessinée en {drawn['ms']:.0f} ms, interactive {interactive['ms']:.0f} ms après le clic ; capture : {shot}")
    assert not browser.errors(), browser.errors()
    outside = [u for u in browser.requests() if not u.startswith(("file:", "data:"))]
    assert not outside, outside


def test_indicator_selector_and_keyboard(pages, browser, tmp_path):
    _open(browser, pages / "region" / "53.html")
    # the first Tab reaches the skip link
    browser.key("Tab", "Tab", 9)
    assert browser.eval("document.activeElement.textContent") == "Aller au contenu"
    svg_fill = "document.querySelector('.graphique.carte svg.apercu path').getAttribute('fill')"
    avant_svg = browser.eval(svg_fill)
    assert browser.eval(INTERACTIVE)["paths"] > 0
    fill = "getComputedStyle(document.querySelector('.graphique.carte path.choroplethlocation')).fill"
    before = browser.eval(fill)
    options = browser.eval("Array.from(document.querySelectorAll('.selecteur select option')).map(o => o.textContent)")
    assert options[:3] == ["Score de présence numérique", "Site internet", "Adresse électronique"]
    browser.eval("(function(){var s=document.querySelector('.selecteur select'); s.focus();"
                 " s.value='2'; s.dispatchEvent(new Event('change'));})()")
    browser.eval("new Promise(r => setTimeout(r, 300))")
    assert browser.eval(fill) != before
    assert browser.eval(svg_fill) != avant_svg  # the SVG map (printed) follows the selector too
    hover = browser.eval("document.querySelector('.graphique.carte .trace')._fullData.slice(-1)[0].text[0]")
    assert hover in ("Domaine propre ou public", "Messagerie grand public", "Autre ou non déclarée",
                     "Donnée absente (pas de fiche mairie)")
    assert "Adresse électronique" in browser.eval("document.querySelector('.graphique.carte [id$=\"-alt\"]').textContent")
    assert "Adresse électronique" in browser.eval("document.querySelector('.graphique.carte .legende').innerText")
    assert not browser.errors(), browser.errors()


def test_phone_layout_and_alliance_page(pages, browser, tmp_path):
    browser.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
    drawn = _open(browser, pages / "region" / "53.html")
    assert drawn["paths"] > 0
    # nothing wider than the screen, not even a table in its box: a table of three columns or
    # more becomes a block per row, each value after its column's name
    wide = browser.eval("document.documentElement.scrollWidth")
    assert wide <= 392, wide
    assert _tables_defilantes(browser) == []
    libelle, avant = _libelle_empile(browser)
    assert libelle and avant == json.dumps(libelle, ensure_ascii=False), (libelle, avant)
    browser.screenshot(tmp_path / "region-53-telephone.png")
    drawn = _open(browser, pages / "alliance.html")
    assert _tables_defilantes(browser) == []
    browser.send("Emulation.clearDeviceMetricsOverride")
    drawn = _open(browser, pages / "alliance.html")
    assert drawn["paths"] > 0
    assert _libelle_empile(browser)[1] == "none"  # on a wide screen, columns as always
    browser.screenshot(tmp_path / "alliance.png")
    assert not browser.errors(), browser.errors()


def _tables_defilantes(b: Chromium) -> list[str]:
    """The captions of the tables whose box scrolls sideways."""
    return b.eval("Array.from(document.querySelectorAll('.table-defil')).filter(d => d.scrollWidth > d.clientWidth + 1)"
                  ".map(d => (d.querySelector('caption') || {}).textContent || '?')")


def _libelle_empile(b: Chromium) -> list[str]:
    """A stackable table's first value cell: its column's name, and what is shown before it."""
    return b.eval("(function () { var td = document.querySelector('table.empilable tbody td[data-libelle]');"
                  " return [td.getAttribute('data-libelle'), getComputedStyle(td, '::before').content]; })()")


def _chercher(b: Chromium, q: str) -> dict:
    return b.eval("(function (q) { var i = document.getElementById('recherche'); i.value = q;"
                  " i.dispatchEvent(new Event('input'));"
                  " return {communes: Array.from(document.querySelectorAll('#resultats-communes li a')).map(a => a.textContent),"
                  " pages: Array.from(document.querySelectorAll('#liste-pages li')).filter(l => !l.hidden).map(l => l.textContent),"
                  " compte: document.getElementById('compte-pages').textContent}; })(" + json.dumps(q) + ")")


def test_site_index_search_finds_every_commune_and_opens_its_card(pages, browser, tmp_path):
    """Every commune of the warehouse (not only the pages), by name whatever the case,
    accents, hyphens and apostrophes, or by INSEE code; a département or region code finds
    its page and no SIREN; the card says each criterion with its points."""
    browser.send("Page.navigate", url=(pages / "index.html").as_uri())
    browser.wait_event("Page.loadEventFired")
    assert browser.eval("document.documentElement.getAttribute('data-recherche')") == "communes"
    assert browser.eval("document.querySelectorAll('#liste-pages li').length") == 25  # the fixture site
    assert _chercher(browser, "plougastel daoulas")["communes"] == ["Plougastel-Daoulas"]  # no hyphen
    assert _chercher(browser, "PLOUGASTEL")["communes"] == ["Plougastel-Daoulas"]  # a prefix, any case
    assert _chercher(browser, "chateaulin")["communes"] == ["Châteaulin"]  # no accent
    assert _chercher(browser, "pont l abbe")["communes"] == ["Pont-l'Abbé"]  # no apostrophe
    assert _chercher(browser, "29189")["communes"] == ["Plougastel-Daoulas"]  # INSEE code
    assert "Brest" in _chercher(browser, "brest")["communes"]
    # a commune déléguée or associée by its name or its code: the card of its commune
    r = _chercher(browser, "plouneour")  # two communes, one of them also by its commune déléguée
    assert r["communes"] == ["Plounéour-Brignogan-plages", "Plounéour-Ménez", "Plounéour-Trez"], r
    assert r["compte"].startswith("2 communes et")
    assert _chercher(browser, "plouneour trez")["communes"] == ["Plounéour-Trez"]
    assert browser.eval("document.querySelector('#resultats-communes li a').getAttribute('href')") == "#commune-29021"
    assert browser.eval("document.querySelector('#resultats-communes li').innerText") == \
        "Plounéour-Trez 29203 — commune déléguée de Plounéour-Brignogan-plages (29021, Finistère)"
    assert _chercher(browser, "kernevel")["communes"] == ["Kernével"]  # commune associée de Rosporden
    assert _chercher(browser, "29092")["communes"] == ["Kernével"]
    browser.eval("location.hash = '#commune-29241'")  # its card says why it was found
    browser.eval("new Promise(r => setTimeout(r, 100))")
    assert "Commune associée : Kernével." in browser.eval("document.getElementById('fiche-commune').innerText")
    r = _chercher(browser, "53")
    assert r["communes"] == [] and len(r["pages"]) == 1 and r["pages"][0].startswith("Bretagne")
    assert r["compte"] == "0 commune et 1 page trouvées"
    # the group's count says what is shown, out of how many
    assert browser.eval("document.querySelector('[data-groupe]:not([hidden]) h2 .code').textContent") == "(1 sur 1)"
    r = _chercher(browser, "29")  # the département's page, never an EPCI whose SIREN holds « 29 »
    assert r["communes"] == [] and [p.split()[0] for p in r["pages"]] == ["Finistère"], r["pages"]
    # from the keyboard: type, Enter opens the first commune's card, which takes the focus
    _chercher(browser, "")
    browser.eval("document.getElementById('recherche').focus()")
    browser.send("Input.insertText", text="plougastel")
    browser.key("Enter", "Enter", 13)
    browser.eval("new Promise(r => setTimeout(r, 200))")
    assert browser.eval("location.hash") == "#commune-29189"
    assert browser.eval("document.activeElement.id") == "fiche-commune"
    carte = browser.eval("document.getElementById('fiche-commune').innerText")
    assert "Plougastel-Daoulas (29189)" in carte and "Score de présence numérique" in carte
    assert "Site internet déclaré" in carte and "/\u202f20" in carte  # each criterion with its points
    assert "Face aux communes de sa taille" in carte and "score moyen" in carte
    assert browser.eval("document.querySelector('#fiche-commune a[href^=\"https://lannuaire.service-public.fr\"]') !== null")
    browser.key("Tab", "Tab", 9)  # into the card: its first link
    assert browser.eval("document.getElementById('fiche-commune').contains(document.activeElement)")
    browser.screenshot(tmp_path / "fiche-commune.png")
    assert not browser.errors(), browser.errors()


def test_plotly_loads_only_for_the_interactive_map(pages, browser, tmp_path):
    """The SVG map is the default: plotly.js (1.4 MB) is asked for only once every figure is
    drawn, in idle time, so that the click on « Carte interactive » pays only for plotly's
    drawing; it draws nothing until the reader asks, then replaces the SVG on screen."""
    drawn = _open(browser, pages / "region" / "53.html")
    assert drawn["paths"] >= 270
    assert browser.eval(PLOTLY_PRECHARGE) == "object"
    assert browser.eval(DESSINE_AVANT_PLOTLY)
    assert browser.eval("performance.getEntriesByName('territoires:chargement').length") == 1
    assert [u for u in browser.requests() if u.endswith("plotly.min.js")]
    assert browser.eval("document.querySelectorAll('path.choroplethlocation').length") == 0
    assert browser.eval("getComputedStyle(document.querySelector('svg.apercu')).display") == "block"
    assert browser.eval(INTERACTIVE)["paths"] >= 270
    assert browser.eval("getComputedStyle(document.querySelector('svg.apercu')).display") == "none"
    assert browser.eval("performance.getEntriesByName('territoires:chargement').length") == 1  # loaded once
    assert not browser.errors(), browser.errors()


def test_without_plotly_js_the_svg_map_stays_and_the_click_says_so(pages, browser, tmp_path):
    """A failed preload is silent and forgotten: the click tries again, says the interactive
    map could not be loaded, and leaves the SVG map on screen, the button usable."""
    copie = tmp_path / "site"
    shutil.copytree(pages, copie)
    (copie / "assets" / "plotly.min.js").unlink()
    assert _open(browser, copie / "region" / "53.html")["paths"] >= 270
    assert browser.eval("""new Promise(function (resolve) {
      var t0 = performance.now();
      (function check() {
        var n = performance.getEntriesByName('territoires:chargement').length;
        if (n || performance.now() - t0 > 10000) { setTimeout(function () { resolve(n); }, 200); return; }
        setTimeout(check, 20);
      })();
    })""") == 1
    browser.eval("document.querySelector('.graphique.carte button.interactif').click()")
    browser.eval("new Promise(r => setTimeout(r, 300))")
    assert browser.eval("performance.getEntriesByName('territoires:chargement').length") == 2
    assert "n'a pas pu être chargée" in _texte(browser, ".graphique.carte .actions-carte .note")
    assert browser.eval("getComputedStyle(document.querySelector('svg.apercu')).display") == "block"
    assert not browser.eval("document.querySelector('.graphique.carte button.interactif').disabled")
    assert browser.eval("typeof window.Plotly") == "undefined"


@pytest.fixture(scope="module")
def pages_adherents(fixture_adherents) -> Path:
    """The fictitious operator's site (a register loaded): a dashboard and the adoption page."""
    home, _ = fixture_adherents
    rapport = runner.run("departement:29,adoption:operateur:fictif", jobs=1, quiet=True, home=home,
                         notebooks_dir=NOTEBOOKS)
    assert not rapport.echecs, rapport.echecs
    return home / "reports"


def _texte(b: Chromium, selecteur: str) -> str:
    return b.eval(f"(document.querySelector({json.dumps(selecteur)}) || {{innerText: ''}}).innerText")


def test_member_section_and_adoption_page_in_chromium(pages_adherents, browser, tmp_path):
    _open(browser, pages_adherents / "departement" / "29.html")
    adhesion = _texte(browser, "#adhesion")
    assert "Communes adhérentes" in adhesion and "Services par commune adhérente" in adhesion
    assert "importé le" in adhesion  # the register and its date under the figures
    assert "Aucun registre" not in adhesion
    assert "alert(" in _texte(browser, "#adherents")  # a hostile name shown as text, never run
    browser.screenshot(tmp_path / "departement-29-adherents.png")
    drawn = _open(browser, pages_adherents / "adoption" / "operateur" / "fictif.html")
    assert drawn["paths"] > 0  # the map of member communes, offline
    assert "Adhésion au fil des années" in browser.eval("document.body.innerText")
    browser.screenshot(tmp_path / "adoption-fictif.png")
    assert not browser.errors(), browser.errors()


@pytest.fixture(scope="module")
def pages_export_anct(fixture_export_anct) -> tuple[Path, list[str]]:
    """An ANCT-format export imported with --operateur fictif (issue 22): its operator's pages."""
    home, membres = fixture_export_anct
    rapport = runner.run("operateur:fictif,adoption:operateur:fictif", jobs=1, quiet=True, home=home,
                         notebooks_dir=NOTEBOOKS)
    assert not rapport.echecs, rapport.echecs
    return home / "reports", membres


@pytest.fixture(scope="module")
def pages_hors_territoire(fixture_registre_hors_territoire) -> Path:
    """A register loaded for the operator that attaches no line to its territory (issue 22)."""
    rapport = runner.run("departement:29,operateur:fictif,adoption:operateur:fictif", jobs=1, quiet=True,
                         home=fixture_registre_hors_territoire, notebooks_dir=NOTEBOOKS)
    assert not rapport.echecs, rapport.echecs
    return fixture_registre_hors_territoire / "reports"


def test_anct_export_members_on_the_operator_and_adoption_pages_in_chromium(pages_export_anct, browser, tmp_path):
    pages_, membres = pages_export_anct
    _open(browser, pages_ / "operateur" / "fictif.html")
    adhesion = _texte(browser, "#adhesion")
    assert f"{len(membres)} sur 277 communes" in adhesion and "adherents-quotidien.csv.gz, importé le" in adhesion
    assert "Aucun registre" not in adhesion and "aucune ligne rattachée" not in adhesion
    assert "Commune fictive n° 0 de l'export" in _texte(browser, "#adherents")
    browser.screenshot(tmp_path / "operateur-fictif-export-anct.png")
    _open(browser, pages_ / "adoption" / "operateur" / "fictif.html")
    corps = browser.eval("document.body.innerText")
    assert f"{len(membres)} sur 277 communes" in corps and "Entités adhérentes" in corps
    assert not browser.errors(), browser.errors()


def test_no_zero_beside_a_register_that_matches_nothing_in_chromium(pages_hors_territoire, browser, tmp_path):
    phrase = "aucune ligne rattachée à une commune du territoire — voir territoires adherents validate"
    for page in ("departement/29.html", "operateur/fictif.html"):
        _open(browser, pages_hors_territoire / page)
        adhesion = _texte(browser, "#adhesion")
        assert "Registre des adhérents importé le" in adhesion and "pour Opérateur fictif de test (" in adhesion and phrase in adhesion, page
        assert not re.search(r"\d+ sur \d", adhesion) and "%" not in adhesion, page
        assert _texte(browser, "#adherents") == "", page  # no list of every commune as a non-member
    browser.screenshot(tmp_path / "operateur-fictif-hors-territoire.png")
    _open(browser, pages_hors_territoire / "adoption" / "operateur" / "fictif.html")
    corps = browser.eval("document.body.innerText")
    assert phrase in corps and not re.search(r"\b0 sur \d", corps) and "Communes non adhérentes" not in corps
    assert not browser.errors(), browser.errors()


def test_without_register_the_page_says_so_in_chromium(pages, browser):
    _open(browser, pages / "region" / "53.html")
    adhesion = _texte(browser, "#adhesion")
    assert adhesion.startswith("Adhésion aux services de l'opérateur")
    assert "Aucun registre d'adhérents n'est chargé pour Mégalis Bretagne" in adhesion
    assert "%" not in adhesion
    assert not browser.errors(), browser.errors()


def test_region_page_prints_as_an_a4_fiche(pages, browser, tmp_path):
    """Printed (DevTools Page.printToPDF, the page's own @page size): A4, and page 1 holds
    the title, the key figures and the map with its legend."""
    import io

    pypdf = pytest.importorskip("pypdf", reason="pypdf absent (pip install -e '.[dev]')")
    _open(browser, pages / "region" / "53.html")
    browser.eval(INTERACTIVE)  # printed after the reader opened the interactive map: the SVG map prints
    pdf = base64.b64decode(browser.send("Page.printToPDF", preferCSSPageSize=True, printBackground=True)["data"])
    (tmp_path / "region-53.pdf").write_bytes(pdf)
    lecteur = pypdf.PdfReader(io.BytesIO(pdf))
    largeur, hauteur = float(lecteur.pages[0].mediabox.width), float(lecteur.pages[0].mediabox.height)
    assert abs(largeur - 595.3) < 2 and abs(hauteur - 841.9) < 2, (largeur, hauteur)  # A4 in points
    page1 = " ".join(lecteur.pages[0].extract_text().split())
    assert "Bretagne" in page1 and "Région" in page1
    for chiffre in ("Score de présence numérique", "Communes avec un site internet déclaré", "Communes à accompagner"):
        assert chiffre in page1, (chiffre, page1[:800])
    assert "Carte des communes" in page1 and "Légende : Score de présence numérique" in page1  # the map, whole
    assert "Aller au contenu" not in page1 and "Carte interactive" not in page1
    print(f"\n{len(lecteur.pages)} pages A4 ; page 1 : {page1[:200]}…")
