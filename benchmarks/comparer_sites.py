"""Compare two generated sites, before and after a change (issue 21, « Must show »): the
files of each, byte for byte once the production dates are masked, and for an HTML page
that differs its visible text (scripts and styles left out) and its tables.

    territoires report --scope all --jobs 2 --force; cp -r reports /tmp/avant
    # … the change …
    territoires report --scope all --jobs 2 --force
    .venv/bin/python benchmarks/comparer_sites.py /tmp/avant reports

Exit status 1 when a page's visible text or a table differs, or a file is on one side only.
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

#: what differs by construction from one run to the next: when a page, the index or the
#: manifest were produced, how long it took (the manifest's page keys change with the code),
#: and the warehouse's fingerprint shown in the sources' note (it covers the build's code:
#: a change to the build's code changes it, the same data or not)
DATES = re.compile(rb"(Page p|P)roduit(e)? le \d\d/\d\d/\d{4} \xc3\xa0 \d\d:\d\d"
                   rb'|"(genere_le|debut|fin|duree_s|date)": [^,}\n]*|\(empreinte [0-9a-f]{12}\)')
DATES_TEXTE = re.compile(r"(Page p|P)roduit(e)? le \d\d/\d\d/\d{4} à \d\d:\d\d|\(empreinte [0-9a-f]{12}\)")


class Visible(HTMLParser):
    """The visible text of a page, one string per text node, and the text of each table."""

    def __init__(self) -> None:
        super().__init__()
        self.cache, self.texte, self.tables, self.table = 0, [], [], []

    def handle_starttag(self, tag, attrs):  # noqa: ARG002 - HTMLParser's signature
        self.cache += tag in ("script", "style")
        if tag == "table":
            self.table = []

    def handle_endtag(self, tag):
        self.cache -= tag in ("script", "style")
        if tag == "table":
            self.tables.append(" ".join(self.table))

    def handle_data(self, data):
        texte = DATES_TEXTE.sub("<date>", " ".join(data.split()))
        if texte and not self.cache:
            self.texte.append(texte)
            self.table.append(texte)


def visible(chemin: Path) -> Visible:
    v = Visible()
    v.feed(chemin.read_text(encoding="utf-8", errors="replace"))
    return v


def comparer(avant: Path, apres: Path) -> int:
    fa = {p.relative_to(avant) for p in avant.rglob("*") if p.is_file()}
    fb = {p.relative_to(apres) for p in apres.rglob("*") if p.is_file()}
    identiques, octets, textes, tables, exemples = 0, 0, 0, 0, []
    for rel in sorted(fa & fb):
        if DATES.sub(b"<date>", (avant / rel).read_bytes()) == DATES.sub(b"<date>", (apres / rel).read_bytes()):
            identiques += 1
            continue
        octets += 1
        exemples.append(str(rel))
        if rel.suffix == ".html":
            va, vb = visible(avant / rel), visible(apres / rel)
            textes += va.texte != vb.texte
            tables += va.tables != vb.tables
    print(f"only before: {len(fa - fb)} {sorted(map(str, fa - fb))[:10]}")
    print(f"only after: {len(fb - fa)} {sorted(map(str, fb - fa))[:10]}")
    print(f"files compared: {len(fa & fb)}; identical once dates are masked: {identiques}; differing bytes: {octets}"
          f" {exemples[:10]}; differing visible text: {textes}; differing tables: {tables}")
    return int(bool(textes or tables or fa ^ fb))


if __name__ == "__main__":
    sys.exit(comparer(Path(sys.argv[1]), Path(sys.argv[2])))
