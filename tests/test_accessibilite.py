"""Accessibility of every kind of page, in headless Chromium: axe-core (WCAG 2.1 AA) finds
no serious or critical violation on the alliance, operator, region, département and EPCI
pages nor on the site index and a commune's printable fiche; the indicator selector and the search work from the keyboard.

axe-core is vendored in ``tests/fixtures/axe-core/`` (``axe.min.js`` as published on npm,
MPL-2.0, see its README) and injected through the DevTools protocol.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest


pytestmark = pytest.mark.browser

from test_browser import CHROMIUM, Chromium  # noqa: E402 - skips the module without chromium

AXE = Path(__file__).parent / "fixtures" / "axe-core" / "axe.min.js"
#: one page of each kind, from the Finistère fixture warehouse
PAGES = {"alliance": "alliance.html", "operateur": "operateur/megalis.html", "region": "region/53.html",
         "departement": "departement/29.html", "epci": "epci/242900314.html", "index": "index.html",
         "fiche_commune": "commune/29189.html"}

if not AXE.is_file():  # pragma: no cover - vendored
    pytest.skip(f"{AXE} absent (npm pack axe-core ; voir tests/fixtures/axe-core/README.md)", allow_module_level=True)


@pytest.fixture(scope="module")
def site(batch) -> Path:
    """The fixture site (conftest.batch: every page of the Finistère slice, a CC over two
    départements, Poher, included)."""
    return batch[0]


@pytest.fixture()
def browser(tmp_path):
    assert CHROMIUM
    b = Chromium(tmp_path / "profil", width=1366)
    for domain in ("Runtime", "Log", "Page", "Network"):
        b.send(f"{domain}.enable")
    b.send("Network.emulateNetworkConditions", offline=True, latency=0, downloadThroughput=-1, uploadThroughput=-1)
    yield b
    b.close()


def _ouvrir(b: Chromium, page: Path) -> None:
    b.send("Page.navigate", url=page.as_uri())
    b.wait_event("Page.loadEventFired")
    # figures drawn (or at least their preview), so axe sees what the reader sees
    # (a page without figure, the index, has nothing to wait for)
    b.eval("new Promise(function (r) { var t0 = Date.now(); (function f() {"
           " if (!document.querySelector('figure.graphique')"
           " || document.documentElement.getAttribute('data-figures') || Date.now() - t0 > 15000) r();"
           " else setTimeout(f, 50); })(); })")


def axe(b: Chromium) -> list[dict]:
    """axe-core's violations of WCAG 2.0/2.1 A and AA on the open page."""
    b.eval(AXE.read_text(encoding="utf-8") + ";true")
    res = b.eval("axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},"
                 " resultTypes: ['violations']}).then(r => JSON.stringify(r.violations.map(v => ({id: v.id,"
                 " impact: v.impact, help: v.help, noeuds: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))))")
    return json.loads(res)


@pytest.mark.parametrize("genre", list(PAGES))
def test_no_serious_or_critical_axe_violation(site, browser, genre):
    _ouvrir(browser, site / PAGES[genre])
    graves = [v for v in axe(browser) if v["impact"] in ("serious", "critical")]
    assert not graves, json.dumps(graves, ensure_ascii=False, indent=1)


def test_indicator_selector_from_the_keyboard(site, browser):
    _ouvrir(browser, site / PAGES["region"])
    select = "document.querySelector('.graphique.carte .selecteur select')"
    # Tab from the page's start until the selector has the focus
    for _ in range(200):
        browser.key("Tab", "Tab", 9)
        if browser.eval(f"document.activeElement === {select}"):
            break
    else:
        pytest.fail("le sélecteur d'indicateur n'est pas atteint au clavier")
    fill = "getComputedStyle(document.querySelector('.graphique.carte .trace path')).fill"
    avant = browser.eval(fill)
    browser.key("ArrowDown", "ArrowDown", 40)
    browser.eval("new Promise(r => setTimeout(r, 300))")
    assert browser.eval(f"{select}.value") == "1"
    assert browser.eval(fill) != avant
    assert "Site internet" in browser.eval("document.querySelector('.graphique.carte [id$=\"-alt\"]').textContent")


def test_interactive_map_toolbar_is_french_offers_no_cloud_upload_and_passes_axe(site, browser):
    from test_browser import INTERACTIVE

    _ouvrir(browser, site / PAGES["region"])
    assert browser.eval(INTERACTIVE)["paths"] > 0
    titres = browser.eval("Array.from(document.querySelectorAll('.modebar-btn')).map(x => x.getAttribute('data-title'))")
    assert titres and "Télécharger l'image (PNG)" in titres
    anglais = [t for t in titres if any(w in t for w in ("Share", "Cloud", "Download", "Zoom in", "Reset", "plot"))]
    assert not anglais, anglais
    graves = [v for v in axe(browser) if v["impact"] in ("serious", "critical")]
    assert not graves, json.dumps(graves, ensure_ascii=False, indent=1)


def test_index_search_knows_the_communautes_abbreviations(site, browser):
    """« CC Poher » finds Poher communauté (a communauté de communes), « Brest métropole »
    and « metropole brest » Brest Métropole; « 29 » the Finistère page, not an EPCI whose
    SIREN holds 29; the search box and the first result are reached with Tab."""
    from test_browser import _chercher

    browser.send("Page.navigate", url=(site / "index.html").as_uri())
    browser.wait_event("Page.loadEventFired")
    assert any("Poher" in p for p in _chercher(browser, "CC Poher")["pages"])
    assert any("Poher" in p for p in _chercher(browser, "communauté de communes poher")["pages"])
    assert any("Brest Métropole" in p for p in _chercher(browser, "metropole brest")["pages"])
    vingt_neuf = _chercher(browser, "29")["pages"]
    assert len(vingt_neuf) == 1 and vingt_neuf[0].startswith("Finistère"), vingt_neuf
    # keyboard: Tab reaches the search box, typing lists communes, Tab reaches the first one
    _chercher(browser, "")
    for _ in range(10):
        browser.key("Tab", "Tab", 9)
        if browser.eval("document.activeElement.id") == "recherche":
            break
    else:
        pytest.fail("la recherche n'est pas atteinte au clavier")
    browser.send("Input.insertText", text="quimper")
    browser.key("Tab", "Tab", 9)
    assert browser.eval("document.activeElement.closest('#resultats-communes') !== null")
    browser.key("Enter", "Enter", 13)
    browser.eval("new Promise(r => setTimeout(r, 200))")
    assert browser.eval("location.hash") == "#commune-29232"
    assert "Quimper (29232)" in browser.eval("document.getElementById('fiche-commune').innerText")
