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

from territoires.members.texte import cle, cle_normalisee

__all__ = [
    "FAMILLES",
    "PREFIXE_INCONNU",
    "lire_donnees",
    "REGLES",
    "Resolution",
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


#: how a service name was recognised (shown by ``territoires adherents services``)
REGLES = ("exact", "correspondance", "normalisé")


@dataclass(frozen=True)
class Resolution:
    """What a service name read in a register is: ``service`` (None when unknown or
    ambiguous), the rule that matched (``exact`` : the taxonomy's id or label;
    ``correspondance`` : a line of services_correspondances.csv or of the operator's
    correspondance.toml; ``normalisé`` : one of those after :func:`cle_normalisee`), and,
    for an ambiguous normalised name, the services it could be."""

    service: str | None
    regle: str | None = None
    candidats: tuple[str, ...] = ()

    @property
    def ambigu(self) -> bool:
        return len(self.candidats) > 1


@dataclass
class Taxonomie:
    """Types d'entités et services, avec leurs variantes indexées par :func:`cle`."""

    types: dict[str, str] = field(default_factory=dict)          # type → libellé
    variantes_types: dict[str, str] = field(default_factory=dict)  # clé de variante → type
    services: dict[str, dict[str, str]] = field(default_factory=dict)  # service → ligne
    #: (operateur ou "*", clé du nom source) → service
    correspondances: dict[tuple[str, str], str] = field(default_factory=dict)
    #: (operateur ou "*", nom source tel qu'écrit) → service (pour la comparaison normalisée)
    noms_correspondances: dict[tuple[str, str], str] = field(default_factory=dict)
    _index_normalise: dict[tuple, dict[str, set[str]]] = field(default_factory=dict, repr=False, compare=False)

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
        """L'identifiant de service d'un nom lu chez ``operateur``, sinon ``None`` (inconnu ou
        ambigu) : voir :meth:`resoudre`."""
        return self.resoudre(nom, operateur, extra).service

    def resoudre(self, nom: str, operateur: str, extra: dict[str, str] | None = None) -> Resolution:
        """Ce qu'est un nom de service lu chez ``operateur``, et par quelle règle.

        Ordre : correspondances propres au registre (``extra`` : nom tel qu'écrit → service,
        « correspondance ») ; l'identifiant ou le libellé de la taxonomie (« exact ») ; les
        correspondances de l'opérateur puis celles valables partout (``*``, « correspondance ») ; enfin les mêmes noms
        comparés par :func:`cle_normalisee` (articles, pluriels, accents, casse ignorés) —
        « normalisé ». Un nom normalisé qui mène à deux services n'est pas deviné : la
        résolution est vide, avec ses ``candidats``.
        """
        k = cle(nom)
        if not k:
            return Resolution(None)
        for n, s in (extra or {}).items():
            if cle(n) == k:
                return Resolution(s, "correspondance")
        for sid, ligne in self.services.items():
            if k == cle(sid) or k == cle(ligne["libelle"]):
                return Resolution(sid, "exact")
        for op in (operateur, "*"):
            s = self.correspondances.get((op, k))
            if s:
                return Resolution(s, "correspondance")
        candidats = self._normalises(operateur, extra).get(cle_normalisee(nom), set())
        if len(candidats) == 1:
            return Resolution(next(iter(candidats)), "normalisé")
        return Resolution(None, None, tuple(sorted(candidats)))

    def _normalises(self, operateur: str, extra: dict[str, str] | None) -> dict[str, set[str]]:
        """Clé normalisée → services, pour les noms connus chez ``operateur`` (taxonomie,
        correspondances de l'opérateur et de tous, et ``extra``), gardé par opérateur."""
        cle_index = (operateur, tuple(sorted((extra or {}).items())))
        if cle_index in self._index_normalise:
            return self._index_normalise[cle_index]
        index: dict[str, set[str]] = self._index_normalise.setdefault(cle_index, {})

        def ajouter(texte: str, service: str) -> None:
            n = cle_normalisee(texte)
            if n:
                index.setdefault(n, set()).add(service)

        for sid, ligne in self.services.items():
            ajouter(sid, sid)
            ajouter(ligne["libelle"], sid)
        for (op, nom_source), service in self.noms_correspondances.items():
            if op in (operateur, "*"):
                ajouter(nom_source, service)
        for n, service in (extra or {}).items():
            ajouter(n, service)
        return index


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
        t.noms_correspondances[(r["operateur"], r["nom_source"])] = r["service"]
    return t
