"""The alliance's domains (« chantiers »: cybersecurity, open data, responsible purchasing),
declared once in ``catalogue.toml`` (``[domaines.<id>]``): title, intro sentence, ordered
indicator ids, source ids, the sentence said when none of them is computed, and who is
« to support ». Pages read them here; adding an indicator to a domain is a data change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from territoires.indicators.load import CATALOGUE_FILE, DonneesError
from territoires.fichiers import lire_toml

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
CHAMPS = ("titre", "intro", "indicateurs", "sources", "absente", "liste")


@dataclass(frozen=True)
class Domaine:
    id: str
    titre: str
    intro: str
    indicateurs: tuple[str, ...]
    sources: tuple[str, ...]
    absente: str
    liste: str
    #: the short label of each indicator (catalogue.toml), to name those not measured
    courts: tuple[str, ...] = ()

    @property
    def ancre(self) -> str:
        """The section's anchor on a page: « donnees-ouvertes »."""
        return self.id.replace("_", "-")


def lire(path: Path = CATALOGUE_FILE) -> list[Domaine]:
    """The domains of ``path``, in declaration order; a French error naming the file and
    the domain for a missing field or an indicator the catalogue does not declare."""
    data = lire_toml(path, DonneesError, "catalogue des indicateurs")
    courts = {i.get("id"): i.get("libelle_court") or i.get("id") for i in data.get("indicateur", [])}
    ids = set(courts)
    out = []
    for did, d in (data.get("domaines") or {}).items():
        if not _ID.match(did) or not isinstance(d, dict):
            raise DonneesError(f"{path} : [domaines.{did}] : identifiant en minuscules attendu (lettres, chiffres, _)")
        manquants = [k for k in CHAMPS if not d.get(k)]
        if manquants:
            raise DonneesError(f"{path} : [domaines.{did}] : champ(s) manquant(s) {manquants}")
        inconnus = [i for i in d["indicateurs"] if i not in ids]
        if inconnus:
            raise DonneesError(f"{path} : [domaines.{did}] : indicateur(s) {inconnus} absent(s) des blocs "
                               "[[indicateur]] du catalogue ; ajoutez le bloc ou retirez l'identifiant")
        out.append(Domaine(did, d["titre"], " ".join(d["intro"].split()), tuple(d["indicateurs"]),
                           tuple(d["sources"]), " ".join(d["absente"].split()), d["liste"],
                           tuple(courts[i] for i in d["indicateurs"])))
    return out


@cache
def domaines() -> tuple[Domaine, ...]:
    """The domains of the shipped catalogue (read once per process)."""
    return tuple(lire())
