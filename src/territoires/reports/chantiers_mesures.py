"""How the alliance's domains judge what they measure, for communes and the other members
alike (:mod:`.chantiers`, :mod:`.chantiers_adherents`): an entity's facts are
``(numerator, base)`` per indicator; it meets an indicator when all of its base meets the
criterion (or none of it, « baisse favorable »); it is « to support » when it misses one.
"""

from __future__ import annotations

from typing import Any

from territoires import formats
from territoires.reports.page import court

#: above this many entities to support, the page shows the first ones (the CSV has them all)
MAX_LISTE = 100


def favorable(ind: dict[str, Any], n: int, d: int) -> bool:
    """A measured entity's outcome: all of its base meets the criterion (« hausse
    favorable »), or none of it does (« baisse favorable »)."""
    return n >= d if ind.get("polarite") != "baisse_favorable" else n == 0


def oui_non(n: int, d: int) -> bool:
    """Whether every value of an indicator's base is a yes/no fact (0 or 1)."""
    return d <= 1


def pourcentage(c: dict[str, Any]) -> bool:
    """A share (unit %): mapped, listed and said in the findings; any other unit (a mean
    distance in km) is shown in the figures and tables only."""
    return c.get("unite", "%") == "%"


def pct(n: int, d: int) -> str:
    return f"{formats.pourcent(n / d)} ({formats.entier(n)} / {formats.entier(d)})" if d else "–"


def val(c: dict[str, Any], n: float, d: float) -> str:
    """A cell: « 46,6 % (129 / 277) », or a mean with its unit and base « 12,3 km (45) »."""
    if pourcentage(c) or not d:
        return pct(n, d)
    return f"{formats.decimal(n / d, 1)} {c['unite']} ({formats.entier(d)})"


def cellule(n: int, d: int) -> str:
    """An entity's value in a CSV: « oui », « non », a count « 3/5 », or empty (not measured)."""
    return "" if not d else (("oui" if n else "non") if oui_non(n, d) else f"{n}/{d}")


def a_accompagner(rows: list[dict[str, Any]], inds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entities measured by at least one indicator that miss at least one (unfavourable
    outcome), the most criteria missed first, then the largest population."""
    out = []
    for r in rows:
        motifs = [court(c) for c, (n, d) in zip(inds, r["faits"]) if d and not favorable(c, n, d)]
        if motifs:
            out.append({**r, "motifs": motifs})
    out.sort(key=lambda r: (-len(r["motifs"]), -(r.get("population") or 0), r["code"]))
    return out
