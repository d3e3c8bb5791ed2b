"""Plotly figures for dashboards, built as plain dicts (fast, no validation pass).

Figures display in a notebook as ``application/vnd.plotly.v1+json`` (JupyterLab draws
them). Maps carry their geometry encoded (see :mod:`territoires.geo`) under our own
MIME type ``application/vnd.territoires.carte+json``; the page's script decodes it
before plotly draws, and :meth:`Graphique.figure_plotly` rebuilds a full plotly figure
for analysts. Every figure has a text alternative (a sentence, and a data table in
``text/html``) so the page stays readable without the chart, by screen readers, in print.

Colours and map classes are declared in :mod:`territoires.couleurs`.
"""

from __future__ import annotations

import json
import math
from typing import Any, Sequence

from territoires import formats
from territoires.couleurs import (CLASSES_POINTS, CLASSES_TAUX, CONTEXTE, POLICE, SERIES, TEXTE, categories,
                                  categories_classes, echelle)
from territoires.geo import Geometries, cadre, geojson
from territoires.html import e

MIME_PLOTLY = "application/vnd.plotly.v1+json"
MIME_CARTE = "application/vnd.territoires.carte+json"

def layout_base(**extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "separators": ",\u202f",
        "font": {"family": POLICE, "size": 14, "color": TEXTE},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
        "hoverlabel": {"font": {"family": POLICE, "size": 14}, "bgcolor": "#ffffff", "bordercolor": "#333333"},
    }
    layout.update(extra)
    return layout


class Graphique:
    """A figure with its text alternative; displays in notebooks and exports to pages."""

    def __init__(self, figure: dict, *, alt: str, donnees_html: str = "", titre: str = "",
                 geometries: dict[str, Geometries] | None = None, hauteur: int | None = None,
                 partagees: Sequence[str] = ()) -> None:
        self.figure = figure
        #: geometries an earlier map of the same page already carries: written as a reference
        #: « #meme:<name>:<count> » that the page's script resolves (the page's weight counts
        #: a territory's shapes once)
        self.partagees = tuple(partagees)
        self.alt = alt
        self.titre = titre
        self.donnees_html = donnees_html
        self.geometries = geometries or {}
        self.hauteur = hauteur

    @property
    def est_carte(self) -> bool:
        return bool(self.geometries)

    def _repr_mimebundle_(self, include=None, exclude=None):
        meta = {"alt": self.alt, "titre": self.titre}
        if self.hauteur:
            meta["hauteur"] = self.hauteur
        fallback = (f"<p><strong>{_esc(self.titre)}</strong></p>" if self.titre else "") + \
            f"<p>{_esc(self.alt)}</p>{self.donnees_html}"
        data: dict[str, Any] = {"text/html": fallback}
        if self.est_carte:
            # one JSON string: an executed notebook stores it on one line (nbformat
            # indents nested lists one item per line, which doubles a map's weight)
            data[MIME_CARTE] = json.dumps(
                {"figure": self.figure, "geometries": {
                    k: f"#meme:{k}:{len(g)}" if k in self.partagees else g.to_json() for k, g in self.geometries.items()}},
                ensure_ascii=False, separators=(",", ":"))
        else:
            data[MIME_PLOTLY] = self.figure
        return data, {"territoires": meta}

    def __repr__(self) -> str:
        return f"<Graphique : {self.alt}>"

    def figure_plotly(self):
        """A ``plotly.graph_objects.Figure`` with the geometry decoded (for analysts)."""
        import copy

        import plotly.graph_objects as go

        fig = copy.deepcopy(self.figure)
        for trace in fig.get("data", []):
            ref = trace.get("geojson")
            if isinstance(ref, str) and ref.startswith("#geo:"):
                trace["geojson"] = geojson(self.geometries[ref[5:]])
            ref = trace.get("locations")
            if isinstance(ref, str) and ref.startswith("#ids:"):
                trace["locations"] = list(self.geometries[ref[5:]].ids)
            _etiquettes(trace, unwrap=True)
        for menu in fig.get("layout", {}).get("updatemenus", []):
            for b in menu.get("buttons", []):
                _etiquettes(b["args"][0], unwrap=False)
        fig.pop("legendes", None)  # drawn by the pages in HTML; plotly shows its colour bar
        return go.Figure(fig)


def _etiquettes(attrs: dict, unwrap: bool) -> None:
    """Expand ``_categories`` into hover texts (what the page's script does)."""
    cats = attrs.pop("_categories", None)
    if cats is None or cats == [None]:
        if attrs.get("text") == [None]:
            attrs.pop("text")
        return
    if unwrap:
        attrs["text"] = ["" if z is None else cats[int(z)] for z in attrs["z"]]
    else:
        attrs["text"] = [["" if z is None else lab[int(z)] for z in zs] for zs, lab in zip(attrs["z"], cats)]


def _esc(text: str) -> str:
    return e(text)


# ── maps ───────────────────────────────────────────────────────────────────────

def variante(libelle: str, valeurs: Sequence[float | None], textes: Sequence[str] | None = None, *,
             polarite: str | None = None, zmin: float | None = None, zmax: float | None = None,
             categories_: Sequence[tuple[str, str]] | None = None, unite: str = "%") -> dict:
    """One indicator that a map can show: values aligned on the map's ids.

    ``categories_``: ``[(label, colour), …]`` for integer values 0..n-1 (a commune fact),
    otherwise a continuous scale by ``polarite``; ``unite`` "%" shows a rate in [0, 1] as a
    percentage on the colour bar.
    """
    pct = unite == "%" and not categories_
    k = 100.0 if pct else 1.0
    if not categories_:
        # one binned scale on every map (no continuous ramp): the same value has the same
        # colour on every page, and a territory without data has its own labelled class
        if textes is None:
            textes = [f"{libelle} : " + ("–" if x is None else formats.pourcent(x) if pct else formats.decimal(x, 0))
                      for x in valeurs]
        return variante(libelle, classer(valeurs, k, CLASSES_TAUX if pct else CLASSES_POINTS), textes,
                        categories_=categories_classes(CLASSES_TAUX if pct else CLASSES_POINTS, polarite), unite=unite)
    # categories are class indices (k is 1): an int is its own JSON-safe number, without
    # _nombre's checks (a region map's 18,000 values, 0.01 s)
    return {"libelle": libelle, "valeurs": [float(x) if x.__class__ is int else _nombre(x, k) for x in valeurs],
            "textes": None if textes is None else list(textes),
            "polarite": polarite, "zmin": _nombre(zmin, k), "zmax": _nombre(zmax, k),
            "categories": list(categories_) if categories_ else None, "unite": unite}


def classer(valeurs: Sequence[float | None], k: float, classes: Sequence[tuple[float, str]]) -> list[int]:
    """The class index of each value (scaled by ``k``); missing values get the last class."""
    out = []
    for x in valeurs:
        x = _nombre(x, k)
        out.append(len(classes) if x is None else max([i for i, (lo, _) in enumerate(classes) if x >= lo] or [0]))
    return out


def _nombre(x: float | None, k: float = 1.0) -> float | None:
    """A JSON-safe number (NaN → None), scaled (rates are drawn as percentages)."""
    if x is None:
        return None
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        return None
    return round(x * k, 6)


def _style_variante(v: dict) -> tuple[dict, dict]:
    """Trace attributes and colour bar of one variant."""
    colorbar = {"orientation": "h", "x": 0.5, "xanchor": "center", "y": 0, "yanchor": "top",
                "thickness": 12, "len": 0.7, "outlinewidth": 0,
                "title": {"text": v["libelle"], "side": "top", "font": {"size": 13}},
                "tickfont": {"size": 12}}
    if v["categories"]:
        n = len(v["categories"])
        colorbar.update(tickvals=list(range(n)), ticktext=[c[0] for c in v["categories"]], len=min(0.9, 0.25 * n))
        attrs = {"colorscale": categories([c[1] for c in v["categories"]]), "zmin": -0.5, "zmax": n - 0.5}
    else:
        vals = [x for x in v["valeurs"] if x is not None]
        zmin = v["zmin"] if v["zmin"] is not None else (min(vals) if vals else 0)
        zmax = v["zmax"] if v["zmax"] is not None else (max(vals) if vals else 1)
        if zmax <= zmin:
            zmax = zmin + 1
        attrs = {"colorscale": echelle(v["polarite"]), "zmin": zmin, "zmax": zmax}
        if v["unite"] == "%":
            colorbar.update(ticksuffix="\u202f%")
    return attrs, colorbar


def _restyle(v: dict) -> dict:
    """Trace attributes of one variant, as plotly ``restyle`` arguments (arrays wrapped).

    A categorical variant without its own texts carries ``_categories`` (its labels):
    the page's script turns each ``z`` into its label for the hover text, so a map of
    3,685 communes does not repeat "Site déclaré" 3,685 times per indicator.
    """
    a, cb = _style_variante(v)
    attrs: dict[str, Any] = {"z": [list(v["valeurs"])], "colorscale": [a["colorscale"]], "zmin": a["zmin"],
                             "zmax": a["zmax"], "colorbar": cb, "name": v["libelle"]}
    if v["textes"] is not None:
        attrs["text"] = [list(v["textes"])]
        attrs["hovertemplate"] = "<b>%{customdata}</b><br>%{text}<extra></extra>"
    elif v["categories"]:
        attrs["_categories"] = [[c[0] for c in v["categories"]]]
        attrs["hovertemplate"] = f"<b>%{{customdata}}</b><br>{_esc(v['libelle'])} : %{{text}}<extra></extra>"
    else:
        fmt = ":.1f" if v["unite"] == "%" else ":.0f"
        suffix = "\u202f%" if v["unite"] == "%" else ""
        attrs["hovertemplate"] = f"<b>%{{customdata}}</b><br>{_esc(v['libelle'])} : %{{z{fmt}}}{suffix}<extra></extra>"
    return attrs


def legende(v: dict) -> dict:
    """The legend of a variant, drawn in HTML by the page (readable at any width, every
    class labelled, « donnée absente » included): ``{"titre", "classes": [[label, colour]…]}``."""
    return {"titre": v["libelle"], "classes": [list(c) for c in (v["categories"] or [])]}


def _premier(attrs: dict) -> dict:
    """Restyle arguments → attributes of the trace itself (arrays unwrapped)."""
    return {k: (v[0] if k in ("z", "text", "colorscale", "_categories") else v) for k, v in attrs.items()}


def carte(geometries: Geometries, noms: Sequence[str], variantes: Sequence[dict], *,
          titre: str, alt: str, donnees_html: str = "", contexte: Geometries | None = None,
          hauteur: int = 560, nom_geo: str = "zone", partagee: bool = False) -> Graphique:
    """A choropleth of ``geometries`` (ids aligned with ``noms`` and each variant's values).

    Several variants → a selector (plotly ``updatemenus``, turned into a keyboard-usable
    ``<select>`` in the page). ``contexte``: polygons drawn faintly around, without hover.
    ``locations`` is written ``#ids:<name>``: the ids of the geometry collection.
    ``partagee``: an earlier map of the page carries the same geometries under ``nom_geo``
    (the page writes a reference instead of the shapes).
    """
    if not variantes:
        raise ValueError("une carte demande au moins une variante")
    data: list[dict] = []
    geoms = {nom_geo: geometries}
    if contexte is not None and len(contexte):
        geoms[nom_geo + "_contexte"] = contexte
        data.append({
            "type": "choropleth", "geojson": f"#geo:{nom_geo}_contexte", "locations": f"#ids:{nom_geo}_contexte",
            "z": [0] * len(contexte), "colorscale": [[0, CONTEXTE], [1, CONTEXTE]], "showscale": False,
            "hoverinfo": "skip", "marker": {"line": {"color": "#ffffff", "width": 0.5}}, "name": "alentours",
        })
    main = {
        "type": "choropleth", "geojson": f"#geo:{nom_geo}", "locations": f"#ids:{nom_geo}",
        "customdata": list(noms), "marker": {"line": {"color": "#ffffff", "width": 0.3}},
        **_premier(_restyle(variantes[0])),
    }
    data.append(main)
    idx = len(data) - 1
    layout = layout_base(
        height=hauteur, dragmode=False,
        margin={"l": 0, "r": 0, "t": 0, "b": 60},
        geo=_geo_layout(geometries),
    )
    if len(variantes) > 1:
        buttons = []
        for v in variantes:
            args = _restyle(v)
            for k in ("text", "_categories"):  # reset what the previous variant had
                args.setdefault(k, [None])
            buttons.append({"label": v["libelle"], "method": "restyle", "args": [args, [idx]]})
        layout["updatemenus"] = [{"type": "dropdown", "buttons": buttons, "x": 0, "y": 1, "xanchor": "left",
                                  "yanchor": "top", "showactive": True, "bgcolor": "#ffffff"}]
    return Graphique({"data": data, "layout": layout, "legendes": [legende(v) for v in variantes]}, alt=alt,
                     donnees_html=donnees_html, titre=titre, geometries=geoms, hauteur=hauteur,
                     partagees=(nom_geo,) if partagee else ())


def _geo_layout(geometries: Geometries, domaine: dict | None = None, aspect: float = 1.4) -> dict:
    geo: dict[str, Any] = {"visible": False, "projection": {"type": "mercator"},
                           "bgcolor": "rgba(0,0,0,0)", "showframe": False}
    if geometries.bbox:
        x0, y0, x1, y1 = cadre(geometries.bbox, aspect=aspect)
        geo["lonaxis"] = {"range": [round(x0, 4), round(x1, 4)]}
        geo["lataxis"] = {"range": [round(y0, 4), round(y1, 4)]}
        geo["center"] = {"lon": round((x0 + x1) / 2, 4), "lat": round((y0 + y1) / 2, 4)}
    else:
        geo["fitbounds"] = "locations"
    if domaine:
        geo["domain"] = domaine
    return geo


def cartes_multiples(panneaux: Sequence[tuple[str, Geometries, Sequence[str]]], variantes: Sequence[Sequence[dict]],
                     *, titre: str, alt: str, donnees_html: str = "", hauteur: int = 760) -> Graphique:
    """Small multiples: one map per panel (title, geometries, names), one shared colour scale.

    ``variantes[k][i]`` is variant ``k`` for panel ``i``; the selector switches all panels.
    """
    n = len(panneaux)
    cols = 2 if n > 1 else 1
    rows = (n + cols - 1) // cols
    data, geoms, annotations = [], {}, []
    layout = layout_base(height=hauteur, dragmode=False, margin={"l": 0, "r": 0, "t": 10, "b": 60})
    first = variantes[0]
    attrs, colorbar = _style_variante(_fusion(first))
    for i, (nom, geo, noms) in enumerate(panneaux):
        r, c = divmod(i, cols)
        gap = 0.04
        dom = {"x": [c / cols + (gap if c else 0), (c + 1) / cols - (0 if c else gap)],
               "y": [1 - (r + 1) / rows + 0.02 + (0.06 if r == rows - 1 else 0), 1 - r / rows - 0.06]}
        key = "geo" if i == 0 else f"geo{i + 1}"
        layout[key] = _geo_layout(geo, domaine=dom, aspect=0)
        geoms[f"panneau{i}"] = geo
        v = first[i]
        data.append({
            "type": "choropleth", "geo": key, "geojson": f"#geo:panneau{i}", "locations": geo.ids,
            "z": v["valeurs"], "text": v["textes"], "customdata": list(noms),
            "hovertemplate": "<b>%{customdata}</b><br>%{text}<extra></extra>",
            "marker": {"line": {"color": "#ffffff", "width": 0.3}}, "coloraxis": "coloraxis", "name": nom,
        })
        annotations.append({"text": f"<b>{_esc(nom)}</b>", "x": (dom["x"][0] + dom["x"][1]) / 2, "y": dom["y"][1] + 0.01,
                            "xref": "paper", "yref": "paper", "xanchor": "center", "yanchor": "bottom",
                            "showarrow": False, "font": {"size": 14}})
    layout["annotations"] = annotations
    layout["coloraxis"] = {"colorscale": attrs["colorscale"], "cmin": attrs["zmin"], "cmax": attrs["zmax"],
                           "colorbar": colorbar}
    if len(variantes) > 1:
        buttons = []
        for vs in variantes:
            a, cb = _style_variante(_fusion(vs))
            buttons.append({
                "label": vs[0]["libelle"], "method": "update",
                "args": [{"z": [v["valeurs"] for v in vs], "text": [v["textes"] for v in vs]},
                         {"coloraxis.colorscale": a["colorscale"], "coloraxis.cmin": a["zmin"],
                          "coloraxis.cmax": a["zmax"], "coloraxis.colorbar.title.text": vs[0]["libelle"]}],
            })
        layout["updatemenus"] = [{"type": "dropdown", "buttons": buttons, "x": 0, "y": 1.0, "xanchor": "left",
                                  "yanchor": "bottom", "showactive": True, "bgcolor": "#ffffff"}]
    return Graphique({"data": data, "layout": layout, "legendes": [legende(vs[0]) for vs in variantes]}, alt=alt,
                     donnees_html=donnees_html, titre=titre, geometries=geoms, hauteur=hauteur)


def _fusion(vs: Sequence[dict]) -> dict:
    """One variant spanning several panels (for a shared colour scale)."""
    merged = dict(vs[0])
    merged["valeurs"] = [x for v in vs for x in v["valeurs"]]
    return merged


# ── bars ───────────────────────────────────────────────────────────────────────

def coupe(texte: str, largeur: int = 26) -> str:
    """Wrap a label on several lines (``<br>``) for narrow screens."""
    lignes, courante = [], ""
    for mot in (m for m in texte.split(" ") if m):  # not str.split(): keep "3\u202f499" whole
        if courante and len(courante) + 1 + len(mot) > largeur:
            lignes.append(courante)
            courante = mot
        else:
            courante = f"{courante} {mot}".strip()
    if courante:
        lignes.append(courante)
    return "<br>".join(_esc(x) for x in lignes)


def barres(categories_: Sequence[str], series: Sequence[dict], *, titre: str, alt: str,
           donnees_html: str = "", pourcent: bool = True, horizontal: bool = True,
           hauteur: int | None = None, decimales: int = 1) -> Graphique:
    """Grouped bars. ``series``: ``[{"nom", "valeurs", "textes"?, "couleur"?}, …]``.

    Horizontal bars keep long French labels readable on a phone (labels wrapped). Rates
    are in [0, 1] and drawn as percentages.
    """
    data = []
    categories_ = [coupe(c, 26 if horizontal else 14) for c in categories_]
    for i, s in enumerate(series):
        textes = s.get("textes") or [
            (formats.pourcent(v, decimales) if pourcent else formats.decimal(v, decimales)) if v is not None else "–"
            for v in s["valeurs"]
        ]
        vals = [_nombre(v, 100.0 if pourcent else 1.0) for v in s["valeurs"]]
        trace = {
            "type": "bar", "name": s["nom"], "marker": {"color": s.get("couleur") or SERIES[i % len(SERIES)]},
            "text": textes, "textposition": "outside", "cliponaxis": False,
            "textfont": {"size": 12, "color": TEXTE},
            "hovertemplate": f"<b>{_esc(s['nom'])}</b><br>%{{{'y' if horizontal else 'x'}}} : %{{text}}<extra></extra>",
        }
        if horizontal:
            trace.update(orientation="h", y=list(categories_), x=vals)
        else:
            trace.update(x=list(categories_), y=vals)
        data.append(trace)
    n_cat, n_ser = len(categories_), max(1, len(series))
    if hauteur is None:
        hauteur = (120 + n_cat * (22 * n_ser + 22)) if horizontal else 420
    value_axis = {"rangemode": "tozero", "gridcolor": "#e6e6e6", "zeroline": True, "zerolinecolor": "#999999",
                  "automargin": True}
    if pourcent:
        top = max([v for s in series for v in s["valeurs"] if v is not None] or [1]) * 100
        top = max(top, 10.0)
        step = 20 if top > 50 else 10
        value_axis.update(ticksuffix="\u202f%", range=[0, top * (1.16 if horizontal else 1.1) + 2],
                          tickvals=list(range(0, int(min(top, 100)) + 1, step)),
                          ticktext=[f"{v}\u202f%" for v in range(0, int(min(top, 100)) + 1, step)])
    cat_axis = {"automargin": True, "ticks": "", "tickfont": {"size": 13}}
    if horizontal:
        cat_axis["autorange"] = "reversed"
    layout = layout_base(
        height=hauteur, barmode="group", bargap=0.25, bargroupgap=0.05,
        legend={"orientation": "h", "x": 0, "y": 1.02, "xanchor": "left", "yanchor": "bottom",
                "traceorder": "normal"},
        margin={"l": 10, "r": 30, "t": 40, "b": 30},
        xaxis=value_axis if horizontal else cat_axis,
        yaxis=cat_axis if horizontal else value_axis,
        showlegend=len(series) > 1,
    )
    return Graphique({"data": data, "layout": layout}, alt=alt, donnees_html=donnees_html, titre=titre,
                     hauteur=hauteur)
