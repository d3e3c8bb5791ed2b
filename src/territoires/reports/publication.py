"""HTML export of executed report notebooks, through our own nbconvert template.

In-process ``HTMLExporter`` (created once per process) with the ``territoires`` template
(``reports/templates/territoires``): no code cells, no prompts, no stream output; figures
carried as ``application/vnd.plotly.v1+json`` or ``application/vnd.territoires.carte+json``
are embedded as JSON and drawn by ``assets/territoires.js``. plotly.js is written once per
site to ``reports/assets/`` and referenced by a relative path; ``single_file`` inlines it
(and the style, the script and the CSV downloads) for a page sent by e-mail.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from territoires import espace, paquet
from territoires.charts import MIME_CARTE, MIME_PLOTLY
from territoires.fichiers import lire_toml
from territoires.reports import site
from territoires.html import lien_externe
from territoires.sources import sha256_file

PACKAGE_DIR = Path(__file__).parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
ASSETS_DIR = PACKAGE_DIR / "assets"
ASSET_FILES = ("territoires.css", "apercu.js", "territoires.js", "recherche.js")

_CSV_LINK = re.compile(r'href="data:text/csv;charset=utf-8;base64,([A-Za-z0-9+/=]+)"( download="([^"]*)")?')
#: a CSV whose download name starts so is every commune of the page: ``<page>-toutes-communes.csv``
TOUTES_COMMUNES = "toutes-les-communes"


#: the plotly.js the pages load, its origin, version, sha256, licence and trace types
PLOTLY_TOML = ASSETS_DIR / "plotly.toml"


@lru_cache(maxsize=1)
def plotly_js() -> dict[str, Any]:
    """The declaration of the shipped plotly.js (``assets/plotly.toml``), its file checked
    against its sha256 once per process: a file that differs is refused."""
    decl = lire_toml(PLOTLY_TOML, RuntimeError, "déclaration de plotly.js")["plotly_js"]
    path = ASSETS_DIR / decl["fichier"]
    if not path.is_file():
        raise RuntimeError(f"{path} : plotly.js absent du paquet territoires")
    empreinte = sha256_file(path)
    if empreinte != decl["sha256"]:
        raise RuntimeError(f"{path} : sha256 {empreinte}, {PLOTLY_TOML.name} déclare {decl['sha256']} — "
                           "fichier refusé ; le remplacer par celui de l'archive déclarée")
    return {**decl, "chemin": path}


def plotly_js_path() -> Path:
    """plotly.min.js shipped with the pages (a partial bundle, see ``assets/plotly.toml``; no CDN)."""
    return plotly_js()["chemin"]


def ecrire_fichier(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file (the one place where bytes of the site reach the disk:
    tests inject a full disk here)."""
    # the descriptor itself rather than a file object and a chmod by path: a third of the
    # user time of writing the 8,000 fiches of four regions
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    try:
        vue = memoryview(data)
        while vue:
            vue = vue[os.write(fd, vue):]
        os.fchmod(fd, 0o644)  # whatever the umask
    finally:
        os.close(fd)


def temporaire(path: Path) -> Path:
    """The temporary beside ``path``: ``.<name>.tmp-<pid>-<random>``. The pid tells a
    later command whether the process that wrote it is gone (then it is removed)."""
    return path.with_name(f".{path.name}.tmp-{os.getpid()}-{os.urandom(4).hex()}")


def preparer(path: Path, data: str | bytes) -> Path:
    """Write ``data`` to a temporary beside ``path``; return the temporary, to be renamed
    into place with ``os.replace`` once everything it belongs with is written too. A full
    disk raises :class:`territoires.espace.DisquePlein` naming the folder."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporaire(path)
    try:
        ecrire_fichier(tmp, raw)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        espace.verifier(exc, path.parent, len(raw))
        raise
    return tmp


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write a file through a temporary sibling and ``os.replace``: never half-written."""
    tmp = preparer(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_assets(reports_dir: Path) -> list[Path]:
    """Copy plotly.min.js, the style sheet and the script to ``reports/assets/`` (if changed)."""
    out = reports_dir / "assets"
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for src in [plotly_js_path(), *(ASSETS_DIR / f for f in ASSET_FILES)]:
        dst = out / src.name
        data = src.read_bytes()
        if not dst.is_file() or dst.read_bytes() != data:
            write_atomic(dst, data)
        written.append(dst)
    return written


def _json_script(value: Any) -> str:
    """JSON safe inside ``<script type="application/json">`` (no ``</script>``, no ``<!--``)."""
    if isinstance(value, list):  # a string split in lines by nbformat
        value = "".join(value)
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _lien_externe(url: Any, texte: Any = None):
    from markupsafe import Markup

    return Markup(lien_externe(url, texte))


def _join_lines(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


#: one exporter built at a time: a page that needs it waits for the one under way
_CONSTRUCTION = threading.Lock()


def exporter():
    """The configured HTMLExporter (template loading is the slow part: once per process)."""
    with _CONSTRUCTION:
        return _exporter()


#: the thread building the exporter, once started (:func:`exporter_en_fond`)
_EN_FOND: list[threading.Thread] = []


def exporter_en_fond() -> None:
    """Build the exporter in a thread of its own (importing nbconvert and loading the
    template: 0.15–0.4 s) while this process waits on its kernel, as it boots or runs
    the page: a one-page run no longer spends that time before it can ask for the page.
    Started once per process; the page that needs it waits for it (:func:`exporter`);
    should the thread fail, that page builds it itself."""
    def construire() -> None:
        try:
            exporter()
        except Exception:  # noqa: BLE001 - the page's own call raises it again
            pass

    if not _EN_FOND:
        _EN_FOND.append(threading.Thread(target=construire, name="exportateur"))
        _EN_FOND[0].start()


@lru_cache(maxsize=1)
def _exporter():
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from traitlets.config import Config

    class Exportateur(HTMLExporter):
        """HTMLExporter without its BeautifulSoup pass nor its preprocessing.

        Stock HTMLExporter re-parses and re-serialises every page (0.1–0.3 s on a region
        page) to add ``alt`` to images and ``tabindex`` to JupyterLab cells; our template
        has neither JupyterLab cells nor images without a text alternative.
        """

        def from_notebook_node(self, nb, resources=None, **kw):
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

        def _preprocess(self, nb, resources):
            """No preprocessing. Of the stock preprocessors, three are enabled and change
            nothing our template shows: tag and regex removal have nothing configured to
            remove, magics highlighting marks code inputs, which pages exclude. What
            nbconvert does around them (a second deep copy of the notebook and of the
            resources, its normalisation, a schema check after each) cost 1–2 ms a page;
            the executed notebook was checked when papermill wrote it."""
            return nb, resources

    c = Config()
    c.HTMLExporter.extra_template_basedirs = [str(TEMPLATES_DIR)]
    c.HTMLExporter.template_name = "territoires"
    c.HTMLExporter.exclude_input = True
    c.HTMLExporter.exclude_input_prompt = True
    c.HTMLExporter.exclude_output_prompt = True
    exp = Exportateur(config=c)
    exp.register_filter("json_script", _json_script)
    exp.register_filter("join_lines", _join_lines)
    # a URL from data becomes a link only when http(s): {{ url | lien_externe(texte) }}
    exp.register_filter("lien_externe", _lien_externe)
    # nbconvert loads (and compiles) the template at the first export, after the first page
    # has run: here it loads while a worker's kernel starts and runs the page (0.1–0.3 s of
    # a one-page run)
    exp.template  # noqa: B018 - the property loads it
    return exp


@lru_cache(maxsize=4)
def _read_text(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def _page_info(nb) -> dict[str, str]:
    """Title and description from the first output that declares them (``territoires`` metadata)."""
    info: dict[str, str] = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            meta = out.get("metadata", {}).get("territoires", {})
            for key in ("page_titre", "page_description"):
                if key in meta and key not in info:
                    info[key] = meta[key]
    return info


def html_page(nb, page_path: str, *, single_file: bool = False, reports_dir: Path | None = None,
              notebook_path: str | None = None) -> tuple[str, dict[str, bytes]]:
    """Render an executed notebook to one HTML page.

    ``page_path`` is where the page goes, relative to ``reports/`` (links and assets are
    relative to it). Returns the HTML and the side files to write (CSV downloads), as
    ``{path relative to reports/: bytes}``; in ``single_file`` mode CSV stay inline.
    """
    info = _page_info(nb)
    racine = site.racine(page_path)
    resources = {
        "territoires": {
            "titre": info.get("page_titre", "Tableau de bord"),
            "description": info.get("page_description", ""),
            "version": paquet.__version__,
            "date": datetime.now().strftime("%d/%m/%Y à %H:%M"),
            "racine": racine,
            "assets": racine + "assets/",
            "single_file": single_file,
            # kept for audit outside the published folder: named, not linked
            "carnet": notebook_path if notebook_path and not single_file else "",
            "mime_plotly": MIME_PLOTLY,
            "mime_carte": MIME_CARTE,
            "css": _read_text(str(ASSETS_DIR / "territoires.css")) if single_file else "",
            "js": _read_text(str(ASSETS_DIR / "territoires.js")) if single_file else "",
            "apercu_js": _read_text(str(ASSETS_DIR / "apercu.js")) if single_file else "",
            "plotly_js": _read_text(str(plotly_js_path())) if single_file else "",
        }
    }
    body, _ = exporter().from_notebook_node(nb, resources=resources)
    extra: dict[str, bytes] = {}
    if not single_file:
        stem = page_path[:-5] if page_path.endswith(".html") else page_path
        count = 0

        def _extract(m: re.Match) -> str:
            nonlocal count
            if (m.group(3) or "").startswith(TOUTES_COMMUNES):
                rel = f"{stem}-toutes-communes.csv"
            else:
                count += 1
                rel = f"{stem}-communes.csv" if count == 1 else f"{stem}-donnees-{count}.csv"
            extra[rel] = base64.b64decode(m.group(1))
            return f'href="{site.relatif(page_path, rel)}"' + (m.group(2) or "")

        body = _CSV_LINK.sub(_extract, body)
    return body, extra


def csv_data_uri(text: str) -> str:
    """A CSV as a ``data:`` URI (UTF-8 with BOM so spreadsheet software reads accents)."""
    raw = ("\ufeff" + text).encode("utf-8")
    return "data:text/csv;charset=utf-8;base64," + base64.b64encode(raw).decode("ascii")
