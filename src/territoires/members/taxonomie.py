"""Types d'entités et taxonomie des services : des fichiers de données, lus une fois.

- ``types_entites.csv`` : type, libelle, variantes (séparées par ``|``), origine ;
- ``services.csv`` : service, libelle, famille, origine ;
- ``services_correspondances.csv`` : operateur (ou ``*``), nom_source, service, origine.

Les lignes commençant par ``#`` sont des commentaires. Les mêmes fichiers sont chargés dans
l'entrepôt (``raw.types_entites``, ``raw.services``, ``raw.services_correspondances``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from territoires.members.texte import cle

__all__ = [
    "FAMILLES",
    "PREFIXE_INCONNU",
    "lire_donnees",
    "Taxonomie",
    "taxonomie",
]

FAMILLES: tuple[str, ...] = (
    "commande_publique", "actes_finances", "signature", "archivage", "donnees_ouvertes", "rgpd",
    "cybersecurite", "sites_communication", "identite", "education_ent", "ia", "sig", "autre",
)
#: préfixe d'un service non reconnu : ``inconnu:<nom tel que lu>``
PREFIXE_INCONNU = "inconnu:"

FICHIERS = {
    "types_entites": "types_entites.csv",
    "services": "services.csv",
    "services_correspondances": "services_correspondances.csv",
}


def chemin_donnees(nom: str) -> Path:
    """Chemin d'un fichier de données du paquet (``services.csv`` …)."""
    return Path(str(resources.files("territoires.members").joinpath(nom)))


def lire_donnees(nom: str) -> list[dict[str, str]]:
    """Les lignes d'un fichier de données du paquet (commentaires ``#`` ignorés)."""
    with chemin_donnees(nom).open(encoding="utf-8", newline="") as f:
        lignes = [ligne for ligne in f if ligne.strip() and not ligne.startswith("#")]
    return [dict(r) for r in csv.DictReader(lignes)]


@dataclass
class Taxonomie:
    """Types d'entités et services, avec leurs variantes indexées par :func:`cle`."""

    types: dict[str, str] = field(default_factory=dict)          # type → libellé
    variantes_types: dict[str, str] = field(default_factory=dict)  # clé de variante → type
    services: dict[str, dict[str, str]] = field(default_factory=dict)  # service → ligne
    #: (operateur ou "*", clé du nom source) → service
    correspondances: dict[tuple[str, str], str] = field(default_factory=dict)

    def type_entite(self, texte: str) -> str | None:
        """Le type normalisé d'un libellé (``"Communauté de communes"`` → ``"epci"``), sinon ``None``."""
        k = cle(texte)
        if not k:
            return None
        if k in self.variantes_types:
            return self.variantes_types[k]
        # « Communauté de communes du Pays de … » : la plus longue variante (≥ 5 caractères) en tête
        meilleur = None
        for var, typ in self.variantes_types.items():
            if len(var) >= 5 and k.startswith(var) and (meilleur is None or len(var) > len(meilleur[0])):
                meilleur = (var, typ)
        return meilleur[1] if meilleur else None

    def service(self, nom: str, operateur: str, extra: dict[str, str] | None = None) -> str | None:
        """L'identifiant de service d'un nom lu chez ``operateur``, sinon ``None``.

        Ordre : correspondances propres au registre (``extra``, clé → service), celles de
        l'opérateur, celles valables partout (``*``), puis l'identifiant ou le libellé de la
        taxonomie eux-mêmes.
        """
        k = cle(nom)
        if not k:
            return None
        if extra and k in extra:
            return extra[k]
        for op in (operateur, "*"):
            s = self.correspondances.get((op, k))
            if s:
                return s
        for sid, ligne in self.services.items():
            if k == cle(sid) or k == cle(ligne["libelle"]):
                return sid
        return None


@lru_cache(maxsize=1)
def taxonomie() -> Taxonomie:
    """La taxonomie du paquet (lue une fois). Lève ``ValueError`` si un fichier est incohérent."""
    t = Taxonomie()
    for r in lire_donnees(FICHIERS["types_entites"]):
        t.types[r["type"]] = r["libelle"]
        t.variantes_types[cle(r["type"])] = r["type"]
        t.variantes_types.setdefault(cle(r["libelle"]), r["type"])
        for v in (r.get("variantes") or "").split("|"):
            if cle(v):
                t.variantes_types.setdefault(cle(v), r["type"])
    for r in lire_donnees(FICHIERS["services"]):
        if r["famille"] not in FAMILLES:
            raise ValueError(f"services.csv : famille inconnue {r['famille']!r} pour {r['service']}")
        t.services[r["service"]] = r
    for r in lire_donnees(FICHIERS["services_correspondances"]):
        if r["service"] not in t.services:
            raise ValueError(f"services_correspondances.csv : service inconnu {r['service']!r}")
        t.correspondances[(r["operateur"], cle(r["nom_source"]))] = r["service"]
    return t
