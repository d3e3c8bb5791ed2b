"""The site index, ``reports/index.html``: every page by level, with a search box.

Built from the manifest (what exists, what failed) and the warehouse (names, the
département of each EPCI), so the search also finds an EPCI by its département; rendered
through ``templates/territoires/site_index.html.j2``, which shares the frame of every page
(``cadre.html.j2``) with the dashboards. Works from ``file://``: plain links, the filter is
a few lines of script, no network.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any, Iterable

from territoires import paquet
from territoires import formats, niveaux, noms
from territoires.entrepot.connexion import connect
from territoires.reports import communes
from territoires.reports.publication import TEMPLATES_DIR, write_atomic
from territoires.html import lien_externe
from territoires.reports.donnees import a_table


#: the index's template, in ``templates/territoires``
GABARIT = "site_index.html.j2"

#: words an EPCI is searched by, from its legal nature (« CC Haut-Léon » finds
#: « Haut-Léon Communauté » whatever its name says)
NATURES = {"CC": "cc communauté de communes", "CA": "ca communauté d'agglomération", "CU": "cu communauté urbaine",
           "ME": "métropole"}


def lire(warehouse: Path) -> dict[str, Any]:
    """What the index reads from the warehouse, on one connection: a short description per
    page (EPCI → their départements, départements → region…), the words an EPCI is searched
    by, and every commune (:func:`territoires.reports.communes.lire`). The runner reads it
    while the pages run; empty when the warehouse cannot be read (the index still lists
    the pages)."""
    try:
        con = connect(warehouse, spatial=False)
    except Exception:  # noqa: BLE001 - the index is still useful without it
        return {"contexte": {}, "natures": {}, "communes": None}
    try:
        return {"contexte": _contexte(con), "natures": _natures(con), "communes": communes.lire(con)}
    finally:
        con.close()


def preparer(warehouse: Path, reports_dir: Path, pages: Iterable[str] = (), fiches: bool = False) -> dict[str, Any]:
    """:func:`lire`, with what else the index can learn before the run's pages are written:
    whether each of ``pages`` (those the run does not write) is on the site (``presentes``),
    the communes' script but for its links (:func:`.communes.preparer`; not when the run
    writes ``fiches``, which it lists) and its template, compiled. The runner does this in
    a thread while the pages run, so a one-page run does not end with 343 pages looked at,
    7,907 communes written out and a template compiled."""
    lu = lire(warehouse)
    lu["presentes"] = {page: _present(reports_dir, page) for page in pages}
    if not fiches and lu["communes"] is not None:
        lu["communes_pretes"] = communes.preparer(reports_dir, lu["communes"])
    _environnement().get_template(GABARIT)
    return lu


def _natures(con) -> dict[str, str]:
    return {code: NATURES.get(nature or "", "") for code, nature in con.execute(
        "select code, nature from marts.territoires where niveau = 'epci'").fetchall()}


def _contexte(con) -> dict[tuple[str, str], str]:
    """A short description per page: EPCI → their départements, départements → region…"""
    out: dict[tuple[str, str], str] = {}
    # every département by name, built or not (an EPCI may reach into one outside the scope)
    dep = dict(con.execute("select code, nom from " + ("staging.departements" if a_table(con, "staging.departements")
                                                       else "marts.territoires where niveau = 'departement'")).fetchall())
    reg = dict(con.execute("select code, nom from marts.territoires where niveau = 'region'").fetchall())
    for niveau, code, deps, regs, pop, n in con.execute(
        "select niveau, code, departements, regions, population, nb_communes from marts.territoires "
        "where niveau in ('epci', 'departement', 'region', 'operateur')"
    ).fetchall():
        where = ""
        if niveau == "epci":
            where = ", ".join(dep.get(d, d) for d in deps or [])
        elif niveau == "departement":
            where = ", ".join(reg.get(r, r) for r in regs or [])
        elif niveau == "operateur":
            where = ", ".join(reg.get(r, r) for r in regs or [])
        bits = [where] if where else []
        bits.append(f"{formats.entier(n)} commune{'s' if (n or 0) > 1 else ''}")
        out[(niveau, code)] = " · ".join(bits)
    return out


def write_index(reports_dir: Path, manifest: dict[str, Any], warehouse: Path,
                lu: dict[str, Any] | None = None) -> Path:
    """Write ``reports/index.html`` from the manifest and what :func:`lire` (or
    :func:`preparer`) read of the warehouse (read here when not given); return its path."""
    lu = lu if lu is not None else lire(warehouse)
    ctx, natures = lu["contexte"], lu["natures"]
    pages = manifest.get("pages", [])
    by_level: dict[str, list[dict[str, Any]]] = {n: [] for n in niveaux.PAGES}
    adoption: list[dict[str, Any]] = []
    for p in pages:
        if p.get("genre", "tableau") == "adoption":
            adoption.append(p)
        elif p.get("niveau") in by_level:
            by_level[p["niveau"]].append(p)
    # each page's file looked at once (two uses below), some already by :func:`preparer`
    presentes: dict[str, bool] = dict(lu.get("presentes", {}))

    def present(page: Any) -> bool:
        if not isinstance(page, str):
            return False
        if page not in presentes:
            presentes[page] = _present(reports_dir, page)
        return presentes[page]

    n_ok = sum(1 for p in pages if p.get("statut") == "ok")
    n_ko = sum(1 for p in pages if p.get("statut") == "echec")
    sections = []
    for niveau in niveaux.PAGES:
        items = sorted(by_level[niveau], key=lambda p: (p.get("nom") or "").lower())
        if not items:
            continue
        entrees = []
        for p in items:
            desc = ctx.get((niveau, p["code"]), "")
            ok = p.get("statut") == "ok" and present(p.get("page"))
            # a failed or interrupted update keeps the previous page: still linked, dated
            garde = p.get("statut") in ("echec", "interrompue") and present(p.get("page"))
            entrees.append({
                # an operator's code is an internal slug (arnia, recia): never shown to readers
                "nom": p.get("nom"), "code": p["code"] if niveaux.get(niveau).code_public else "", "contexte": desc,
                "recherche": " ".join([p.get("nom") or "", p["code"], desc, niveaux.libelle(niveau),
                                       natures.get(p["code"], "") if niveau == "epci" else ""]),
                "lien": p["page"] if ok or garde else "",
                "note": (_note_conservee(reports_dir, p) if garde
                         else "page non disponible : génération interrompue" if p.get("statut") == "interrompue"
                         else ""),
            })
        sections.append({"niveau": niveau, "titre": niveaux.libelle_pluriel(niveau), "compte": formats.entier(len(items)),
                         "pages": entrees})
    if adoption:
        entrees = []
        for p in sorted(adoption, key=lambda p: (p.get("niveau") != "alliance", (p.get("nom") or "").lower())):
            ok = p.get("statut") == "ok" and (reports_dir / p["page"]).is_file()
            entrees.append({"nom": p.get("nom"), "code": "", "contexte": "adoption des services",
                            "recherche": " ".join([p.get("nom") or "", p["code"], "adoption services adhérents"]),
                            "lien": p["page"] if ok else ""})
        sections.insert(1 if sections else 0, {"niveau": "adoption", "titre": "Adoption des services des opérateurs",
                                               "compte": formats.entier(len(adoption)), "pages": entrees})
    # every commune, for the search and the commune cards (recherche.js)
    liens = {(p["niveau"], p["code"]): p["page"] for p in pages
             if p.get("genre", "tableau") == "tableau" and p.get("statut") in ("ok", "echec", "interrompue")
             and present(p.get("page"))}
    script_communes = communes.ecrire(reports_dir, lu["communes"], liens, lu.get("communes_pretes"))
    page = {"titre": "Présence numérique des communes — tous les tableaux de bord",
            "description": ("Tableaux de bord de la présence numérique des communes de l'alliance des opérateurs "
                            "publics de services numériques."),
            "racine": "", "assets": "assets/", "single_file": False, "version": paquet.__version__}
    body = _environnement().get_template(GABARIT).render(
        t=page, sections=sections, communes=script_communes.name if script_communes else "", n_ok=formats.entier(n_ok), n_ko=formats.entier(n_ko) if n_ko else "",
        echecs=n_ko, date=datetime.now().strftime("%d/%m/%Y à %H:%M"))
    path = reports_dir / "index.html"
    write_atomic(path, body)
    return path


def _present(reports_dir: Path, page: Any) -> bool:
    """The page exists inside ``reports/`` (a path read back from the manifest is data)."""
    if not isinstance(page, str) or ":" in page or page.startswith("/"):
        return False
    try:
        return noms.dans_dossier(reports_dir, page).is_file()
    except ValueError:
        return False


def _note_conservee(reports_dir: Path, p: dict[str, Any]) -> str:
    """« page du 01/12/2026, la mise à jour a échoué »."""
    du = None
    conservee = p.get("conservee") or {}
    try:
        du = datetime.fromisoformat(conservee["du"]).astimezone()
    except (KeyError, TypeError, ValueError):
        try:
            du = datetime.fromtimestamp((reports_dir / p["page"]).stat().st_mtime, timezone.utc).astimezone()
        except OSError:
            pass
    quoi = "a été interrompue" if p.get("statut") == "interrompue" else "a échoué"
    return f"page du {du:%d/%m/%Y}, la mise à jour {quoi}" if du else f"la mise à jour {quoi}"


@cache
def _environnement(dicts: bool = False):
    """Jinja environment on our templates folder, escaping automatic. ``dicts``: for the
    fiches, 8,000 to 35,000 renders a run of templates that read plain dicts only
    (:func:`_rapide`)."""
    import jinja2

    from markupsafe import Markup

    env = (_rapide(jinja2) if dicts else jinja2.Environment)(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR / "territoires"), autoescape=True, keep_trailing_newline=True)
    # a URL from data becomes a link only when http(s): {{ url | lien_externe(texte) }}
    env.filters["lien_externe"] = lambda url, texte=None: Markup(lien_externe(url, texte))
    if dicts:  # the frame each fiche extends, not looked at on disk again for each (a stat)
        env.auto_reload = False
    return env


def _rapide(jinja2):
    """A Jinja environment class whose templates render the same bytes (tests/test_fiches.py
    compares), faster: ``{{ f.nom }}`` reads a dict's key before an attribute (Jinja tries the
    attribute first, and its failure, an exception a lookup, a hundred a fiche, was a third of
    the fiches' render loop), and ``{{ … }}`` escapes a plain string to a plain string and an
    int to its digits (markupsafe's ``escape`` makes a ``Markup`` of each, then joined into
    the page all the same: a fifth of what was left)."""
    from markupsafe import escape

    try:
        from markupsafe import _escape_inner  # the C function that escape wraps (MarkupSafe ≥ 3)
    except ImportError:  # older: escape is C itself
        _escape_inner = escape

    def echapper(s: Any) -> str:
        # only for the templates' `{{ … }}`, whose pieces are joined into the page
        sorte = type(s)
        if sorte is str:
            return _escape_inner(s)
        return str(s) if sorte is int else escape(s)  # the points of each criterion

    class Gabarit(jinja2.Template):
        @classmethod
        def from_code(cls, environment, code, globals, uptodate=None):  # noqa: A002 - Jinja's names
            t = super().from_code(environment, code, globals, uptodate)
            # the template module's own name (`from jinja2.runtime import escape`), for its functions
            t.root_render_func.__globals__["escape"] = echapper
            return t

    class Environnement(jinja2.Environment):
        template_class = Gabarit

        def getattr(self, obj: Any, attribute: str) -> Any:
            if type(obj) is dict:
                try:
                    return obj[attribute]
                except KeyError:
                    pass
            return super().getattr(obj, attribute)

    return Environnement
