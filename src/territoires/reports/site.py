"""Site layout: where each dashboard lives under ``reports/``, and what a scope means.

::

    reports/index.html                     site index with a search box
    reports/alliance.html                  the alliance (alliance.ipynb)
    reports/operateur/megalis.html         one page per operator, region, département, EPCI
    reports/region/53.html                 (tableau_de_bord.ipynb)
    reports/departement/29.html
    reports/epci/242900314.html
    reports/<niveau>/<code>-communes.csv   communes to act on, as CSV
    reports/commune/29019.html             a printable fiche per commune (reports.fiches, no notebook)
    reports/adoption/alliance.html         adoption of the operators' services (adoption_services.ipynb)
    reports/adoption/operateur/<code>.html
    reports/assets/                        plotly.min.js, style and script, written once per site
    audit/notebooks/<niveau>/<code>.ipynb     executed notebooks, kept for audit outside the
                                           published folder (``chemin_notebook`` is relative to audit/)
    reports/manifest.json                  one entry per page: status, duration, error, vintages…

Every path is relative to the ``reports`` folder, so the site works from ``file://``.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from territoires import niveaux, noms


def _verifier(niveau: str, code: str) -> None:
    """A level of the site and a code that can be a file name (see :mod:`territoires.noms`):
    ``../../x`` never becomes a path."""
    if niveau not in niveaux.PAGES:
        raise noms.NomInvalide(f"niveau {niveau!r} inconnu ; niveaux des pages : {', '.join(niveaux.PAGES)}")
    noms.verifier("operateur" if niveau == "operateur" else "territoire", code)


#: kinds of page: a territory's dashboard, or the adoption of the operators' services
GENRES = ("tableau", "adoption")


def chemin_page(niveau: str, code: str, genre: str = "tableau") -> str:
    """Path of a territory's HTML page, relative to ``reports/``."""
    prefixe = "adoption/" if genre == "adoption" else ""
    if niveau == "alliance":
        return f"{prefixe}alliance.html"
    _verifier(niveau, code)
    return f"{prefixe}{niveau}/{code}.html"


def chemin_notebook(niveau: str, code: str, genre: str = "tableau") -> str:
    """Path of the executed notebook kept for audit, relative to ``reports/``."""
    prefixe = "adoption/" if genre == "adoption" else ""
    if niveau == "alliance":
        return f"notebooks/{prefixe}alliance.ipynb"
    _verifier(niveau, code)
    return f"notebooks/{prefixe}{niveau}/{code}.ipynb"


def chemin_echec(chemin_ipynb: str) -> str:
    """Where the notebook of a failed run is kept for audit, beside the good one (which
    stays untouched): ``notebooks/epci/242900314.echec.ipynb``."""
    return chemin_ipynb.removesuffix(".ipynb") + ".echec.ipynb"


def relatif(depuis: str, vers: str) -> str:
    """Relative URL from one page to another path of the site (both relative to ``reports/``)."""
    base = posixpath.dirname(depuis) or "."
    return posixpath.relpath(vers, base)


def racine(depuis: str) -> str:
    """Prefix leading from a page back to ``reports/`` (``""`` or ``"../"``)."""
    depth = depuis.count("/")
    return "../" * depth


@dataclass(frozen=True)
class Page:
    """One dashboard to produce: a notebook, its parameters, where it goes."""

    niveau: str
    code: str
    nom: str = ""
    genre: str = "tableau"

    @property
    def portee(self) -> str:
        """Scope id as written on the command line: ``alliance``, ``region:53``,
        ``adoption:operateur:megalis``…"""
        base = "alliance" if self.niveau == "alliance" else f"{self.niveau}:{self.code}"
        return f"adoption:{base}" if self.genre == "adoption" else base

    @property
    def notebook(self) -> str:
        if self.genre == "adoption":
            return "adoption_services.ipynb"
        return "alliance.ipynb" if self.niveau == "alliance" else "tableau_de_bord.ipynb"

    @property
    def parametres(self) -> dict[str, str]:
        if self.genre == "adoption":
            return {"niveau": self.niveau, "code": self.code}
        return {} if self.niveau == "alliance" else {"niveau": self.niveau, "code": self.code}

    @property
    def html(self) -> str:
        return chemin_page(self.niveau, self.code, self.genre)

    @property
    def ipynb(self) -> str:
        return chemin_notebook(self.niveau, self.code, self.genre)


def pages(con, portee: str) -> list[Page]:
    """Pages of a scope: ``all``, ``alliance``, ``<niveau>:<code>``, ``<niveau>:*``, and the
    adoption pages ``adoption:alliance``, ``adoption:<niveau>:<code>``, ``adoption:*``.

    Several scopes may be given separated by commas. Unknown scopes raise ``ValueError``
    with the valid choices, in French.
    """
    levels = ", ".join(f"'{n}'" for n in niveaux.PAGES)  # constants: no bound parameter (DuckDB would import pandas, 0.4 s)
    rows = con.execute(
        f"select niveau, code, nom from marts.territoires where niveau in ({levels}) order by code"
    ).fetchall()
    by_level: dict[str, dict[str, str]] = {n: {} for n in niveaux.PAGES}
    for niveau, code, nom in rows:
        by_level[niveau][code] = nom
    # adoption pages in `all` and `adoption:*`: the operators whose register is loaded, and
    # the alliance when one is (elsewhere the dashboards say no register is loaded)
    avec_registre = {c for (c,) in con.execute(
        "select distinct operateur from marts.registres union select distinct code_operateur from marts.adhesion_communes"
    ).fetchall()}
    adoption = {"operateur": {c: n for c, n in by_level["operateur"].items() if c in avec_registre},
                "alliance": by_level["alliance"] if avec_registre else {}}
    ordre = {n: i for i, n in enumerate(niveaux.PAGES)}
    wanted: dict[tuple[str, str, str], Page] = {}
    for part in (p.strip() for p in portee.split(",")):
        if not part:
            continue
        genre = "tableau"
        if part.startswith("adoption:"):
            genre, part = "adoption", part[len("adoption:"):]
            if part == "*":
                for niveau in niveaux.ADOPTION:  # every level accepts one on request
                    for code, nom in adoption[niveau].items():
                        wanted[(genre, niveau, code)] = Page(niveau, code, nom, genre)
                continue
        if part == "all" and genre == "tableau":
            for g, groupes in (("tableau", by_level), ("adoption", adoption)):
                for niveau in niveaux.PAGES:
                    for code, nom in groupes.get(niveau, {}).items():
                        wanted[(g, niveau, code)] = Page(niveau, code, nom, g)
            continue
        if part == "alliance":
            part = "alliance:alliance"
        niveau, sep, code = part.partition(":")
        if not sep or niveau not in niveaux.PAGES:
            raise ValueError(
                f"portée « {part} » inconnue ; portées possibles : all, alliance, communes, "
                + ", ".join(f"{n}:<code>" for n in niveaux.PAGES[1:])
                + " (ou <niveau>:* pour tout un niveau), adoption:alliance, adoption:<niveau>:<code>, adoption:*"
            )
        codes = by_level[niveau]
        if code == "*":
            for c, nom in codes.items():
                wanted[(genre, niveau, c)] = Page(niveau, c, nom, genre)
            continue
        if code not in codes:
            choix = ", ".join(f"{c} ({n})" for c, n in list(codes.items())[:40])
            more = f" … et {len(codes) - 40} autres" if len(codes) > 40 else ""
            raise ValueError(
                f"code « {code} » inconnu pour le niveau {niveau} dans cet entrepôt ; "
                f"codes possibles : {choix or 'aucun'}{more}"
            )
        wanted[(genre, niveau, code)] = Page(niveau, code, codes[code], genre)
    if not wanted:
        raise ValueError("aucune page à produire : précisez --scope (par exemple --scope all)")
    return sorted(wanted.values(), key=lambda p: (p.genre != "tableau", ordre[p.niveau], p.code))
