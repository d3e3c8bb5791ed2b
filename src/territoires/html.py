"""HTML fragments shown by the report notebooks and copied as-is into the pages.

Every text coming from data goes through :func:`e` (HTML escaping); numbers are
formatted by the caller with :mod:`territoires.formats`. A :class:`Bloc` displays as
``text/html`` in a notebook and may carry a CSV (``text/csv``) that the exporter turns
into a download link.
"""

from __future__ import annotations

import html as _html
import re
from typing import Any, Iterable, Sequence


def e(value: Any) -> str:
    """Escape a value for HTML text or attribute (``None`` → empty)."""
    return "" if value is None else _html.escape(str(value), quote=True)


class Bloc:
    """An HTML fragment for a dashboard (one cell output)."""

    def __init__(self, html: str, *, meta: dict | None = None, csv: str | None = None,
                 csv_nom: str | None = None) -> None:
        self.html = html
        self.meta = dict(meta or {})
        self.csv = csv
        if csv is not None:
            self.meta["csv_nom"] = csv_nom or "donnees.csv"

    def _repr_mimebundle_(self, include=None, exclude=None):
        data: dict[str, Any] = {"text/html": self.html}
        if self.csv is not None:
            data["text/csv"] = self.csv
        return data, ({"territoires": self.meta} if self.meta else {})

    def __repr__(self) -> str:
        return f"<Bloc HTML de {len(self.html)} caractères>"


class Cellule(str):
    """A table cell already formatted; ``num`` right-aligns it, ``html`` skips escaping."""

    num: bool = False
    brut: bool = False

    def __new__(cls, text: str, *, num: bool = False, html: bool = False, tri: Any = None):
        obj = super().__new__(cls, text)
        obj.num = num
        obj.brut = html
        obj.tri = tri
        return obj


def num(text: str, tri: Any = None) -> Cellule:
    """A numeric cell (right-aligned, tabular figures)."""
    return Cellule(text, num=True, tri=tri)


def brut(html: str) -> Cellule:
    """A cell holding trusted HTML (already escaped)."""
    return Cellule(html, html=True)


def _texte(entete: Any) -> str:
    """A column header as plain text (a header given as HTML loses its tags)."""
    if isinstance(entete, Cellule) and entete.brut:
        texte = re.sub(r"<[^>]*>", "", re.sub(r"<br\s*/?>", " · ", entete))  # a line break: a separator
        return " ".join(_html.unescape(texte).split())
    return str(entete)


def table(
    entetes: Sequence[str],
    lignes: Iterable[Sequence[Any]],
    *,
    legende: str | None = None,
    classe: str = "",
    entete_ligne: bool = True,
    numeriques: Sequence[int] = (),
    enveloppe: bool = True,
    secondaires: Sequence[int] = (),
) -> str:
    """An accessible table: caption, ``scope`` on headers, numbers right-aligned.

    ``entete_ligne``: the first cell of each row is a row header (``<th scope="row">``).
    ``enveloppe``: wrap in a horizontally scrolling ``div`` (narrow screens).
    ``secondaires``: columns hidden on a phone (class ``secondaire``).

    A table of three columns or more is ``empilable``: on a phone each row becomes a block,
    its header first, then each value after its column's name (``data-libelle``, shown by
    the style sheet), instead of columns scrolled sideways out of sight.
    """
    entetes = list(entetes)
    numeriques = set(numeriques)
    secondaires = set(secondaires)
    empilable = len(entetes) >= 3
    libelles = [f' data-libelle="{e(_texte(h))}"' if empilable and i else "" for i, h in enumerate(entetes)]

    def classes(i: int, is_num: bool) -> str:
        c = " ".join(x for x in ("num" if is_num else "", "secondaire" if i in secondaires else "") if x)
        return f' class="{c}"' if c else ""

    # a box that scrolls must be reachable by keyboard (axe: scrollable-region-focusable)
    defil = f'<div class="table-defil" {defilante(legende or "Tableau")}>'
    classe = " ".join(x for x in (classe, "empilable" if empilable else "") if x)
    out = [f'{defil}<table class="{e(classe)}">' if enveloppe else f'<table class="{e(classe)}">']
    if legende:
        out.append(f"<caption>{e(legende)}</caption>")
    out.append("<thead><tr>")
    for i, h in enumerate(entetes):
        text = h if isinstance(h, Cellule) and h.brut else e(h)
        out.append(f'<th scope="col"{classes(i, i in numeriques)}>{text}</th>')
    out.append("</tr></thead><tbody>")
    for row in lignes:
        out.append("<tr>")
        for i, cell in enumerate(row):
            text = cell if isinstance(cell, Cellule) and cell.brut else e(cell)
            is_num = i in numeriques or (isinstance(cell, Cellule) and cell.num)
            tag = "th" if (entete_ligne and i == 0) else "td"
            scope = ' scope="row"' if tag == "th" else ""
            libelle = libelles[i] if i < len(libelles) else ""
            out.append(f"<{tag}{scope}{classes(i, is_num)}{libelle}>{text}</{tag}>")
        out.append("</tr>")
    out.append("</tbody></table></div>" if enveloppe else "</tbody></table>")
    return "".join(out)


def defilante(nom: str) -> str:
    """Attributes of a box that may scroll: focusable, a named region (keyboard users
    scroll it with the arrow keys)."""
    return f'tabindex="0" role="region" aria-label="{e(nom)}"'


def section(titre: str, contenu: str, *, ident: str, intro: str | None = None, niveau: int = 2) -> str:
    """A titled section; ``ident`` is the anchor used by the page's table of contents."""
    intro_html = f'<p class="intro">{intro}</p>' if intro else ""
    return (f'<section class="bloc" id="{e(ident)}" aria-labelledby="{e(ident)}-titre">'
            f'<h{niveau} id="{e(ident)}-titre">{e(titre)}</h{niveau}>{intro_html}{contenu}</section>')


def lien(href: str, texte: str, **attrs: str) -> str:
    """A link to a path of the site (built by the code, never from data: see :func:`lien_externe`)."""
    extra = "".join(f' {k.replace("_", "-")}="{e(v)}"' for k, v in attrs.items())
    return f'<a href="{e(href)}"{extra}>{e(texte)}</a>'


#: schemes a URL from data may have to become a link
SCHEMAS_SURS = ("http", "https")


def url_sure(url: Any) -> str | None:
    """``url`` cleaned if it is an absolute ``http``/``https`` URL with a host, else ``None``.

    Browsers ignore tabs and line breaks inside a URL and strip leading spaces and
    control characters: ``java\tscript:`` or `` javascript:`` run script all the same.
    So the scheme is judged on the URL as a browser reads it, and anything that is not
    plainly http(s) (``javascript:``, ``data:``, ``vbscript:``, ``file:``, relative or
    protocol-relative ``//host``) is refused.
    """
    from urllib.parse import urlsplit

    if not isinstance(url, str):
        return None
    lu = "".join(ch for ch in url if ch not in "\t\n\r").strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c"
                                                           "\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18"
                                                           "\x19\x1a\x1b\x1c\x1d\x1e\x1f\x20")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7f for ch in lu):
        return None
    try:
        parts = urlsplit(lu)
    except ValueError:
        return None
    if parts.scheme.lower() not in SCHEMAS_SURS or not parts.hostname:
        return None
    return lu


def lien_externe(url: Any, texte: Any = None, **attrs: str) -> str:
    """A URL from data (registers, directory, sources registry) as HTML: a link for
    ``http``/``https`` only (:func:`url_sure`), anything else shown as escaped text.
    ``texte`` defaults to the URL itself."""
    sure = url_sure(url)
    label = url if texte is None else texte
    if sure is None:
        return e(label)
    extra = "".join(f' {k.replace("_", "-")}="{e(v)}"' for k, v in attrs.items())
    return f'<a href="{e(sure)}"{extra}>{e(label)}</a>'
