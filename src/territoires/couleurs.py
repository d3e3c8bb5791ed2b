"""The colours of every figure and the classes of every map, declared once: read by the
figures (:mod:`territoires.charts`), the pages' categorical maps
(:mod:`territoires.reports.categories`) and the analysts' maps (:func:`territoires.carte`).

Readable by colour-blind readers: every map is binned in five fixed classes
(:data:`CLASSES`, dark orange for the weakest, the most visible, to blue for the best)
plus a labelled « donnée absente » class, so a territory has the same colour on every
page; the Okabe–Ito palette for series, with dark enough tones for a 3:1 contrast on white.
"""

from __future__ import annotations

from typing import Sequence

POLICE = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
TEXTE = "#1b1b1b"
GRIS_TEXTE = "#4a4a4a"

#: series colours (Okabe–Ito, darkened where needed for 3:1 contrast on white)
BLEU = "#0868ac"
VERMILLON = "#c4520a"
GRIS = "#5f5f5f"
VERT = "#00795c"
POURPRE = "#a8508a"
SERIES = (BLEU, VERMILLON, GRIS, VERT, POURPRE)

#: sequential scales, light → dark, colour-blind safe (ColorBrewer YlGnBu when more is
#: better, Oranges when more is worse); kept for analysts' continuous maps
BLEUS = [[0.0, "#edf8b1"], [0.15, "#c7e9b4"], [0.3, "#7fcdbb"], [0.45, "#41b6c4"], [0.6, "#1d91c0"],
         [0.75, "#225ea8"], [0.9, "#253494"], [1.0, "#081d58"]]
ORANGES = [[0.0, "#feedde"], [0.25, "#fdbe85"], [0.5, "#fd8d3c"], [0.75, "#e6550d"], [1.0, "#a63603"]]
#: five ordered classes, the weakest first: the weakest is the most visible (dark orange),
#: the best a plain blue; orange and blue stay apart for every colour vision deficiency.
#: Every map of the site uses them (binned, :data:`CLASSES_TAUX`), so a territory keeps
#: its colour from one page to the next.
CLASSES = ("#a63603", "#e6550d", "#fdae6b", "#6baed6", "#2171b5")
CONTEXTE = "#eeeeee"
#: the « donnée absente » class of every map (labelled in its legend)
SANS_DONNEE = "#cfcfcf"
DONNEE_ABSENTE = "Donnée absente"
#: classes of a rate on every map: (lower bound in %, label), ascending
CLASSES_TAUX = ((0, "moins de 20 %"), (20, "20 à 39 %"), (40, "40 à 59 %"), (60, "60 à 79 %"),
                (80, "80 % et plus"))
#: classes of a 0–100 score (the commune maps' score bands)
CLASSES_POINTS = ((0, "0 à 39"), (40, "40 à 64"), (65, "65 à 79"), (80, "80 à 99"), (100, "100"))

#: yes / no / unknown for a commune fact: « no » (what to act on) the most visible
OUI, NON, INCONNU = "#2171b5", "#a63603", SANS_DONNEE


def echelle(polarite: str | None) -> list:
    """Sequential scale whose dark end is 'more': blues if more is better, else oranges."""
    return ORANGES if polarite == "baisse_favorable" else BLEUS


def categories(couleurs: Sequence[str]) -> list:
    """A stepped colour scale for integer categories 0..n-1."""
    n = len(couleurs)
    scale = []
    for i, c in enumerate(couleurs):
        scale += [[i / n, c], [(i + 1) / n, c]]
    return scale


def categories_classes(classes: Sequence[tuple[float, str]], polarite: str | None = None) -> list[tuple[str, str]]:
    """``[(label, colour), …]`` of binned classes, then « donnée absente ». When more is
    worse (``baisse_favorable``) the colours run the other way: the weakest class, the
    most visible, is then the highest."""
    couleurs = CLASSES if polarite != "baisse_favorable" else tuple(reversed(CLASSES))
    return [(label, c) for (_, label), c in zip(classes, couleurs)] + [(DONNEE_ABSENTE, SANS_DONNEE)]
