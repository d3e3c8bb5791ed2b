"""Ce que la validation produit : adhérents acceptés, abonnements, problèmes (rejets,
avertissements, erreurs de fichier) et bilans qui comptent les lignes (lues = acceptées +
rejetées, toujours)."""

from __future__ import annotations

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from territoires.lecture import NOMS_SEPARATEURS
from territoires.members.texte import apercu, nettoyer


# ------------------------------------------------------------------ résultats
@dataclass(slots=True)
class Adherent:
    operateur: str
    identifiant: str
    siret: str | None
    siren: str | None
    code_insee: str | None
    nom: str
    type: str
    type_source: str | None
    date_adhesion: date | None
    services: list[str]
    statut_rattachement: str
    code_territoire: str | None
    niveau_territoire: str | None
    fichier: str
    ligne: int


@dataclass(slots=True)
class Abonnement:
    operateur: str
    identifiant: str
    service: str
    service_source: str
    date_debut: date | None
    fichier: str
    ligne: int


@dataclass(slots=True)
class Probleme:
    """Un rejet, un avertissement ou une erreur de fichier (``ligne`` None : tout le fichier)."""

    fichier: str
    ligne: int | None
    colonne: str
    valeur: str
    raison: str
    niveau: str = "rejet"  # rejet | avertissement | erreur

    def __str__(self) -> str:
        if self.ligne is None:
            return f"{self.fichier}: {self.raison}"
        return f"{self.fichier}:{self.ligne}: {self.colonne or '(ligne)'}, {apercu(self.valeur)}, {self.raison}"


@dataclass
class Bilan:
    """Comptes et problèmes d'un fichier."""

    fichier: str
    genre: str = "registre"  # registre | abonnements
    lues: int = 0
    acceptees: int = 0
    rejetees: int = 0
    lignes_vides: int = 0
    erreurs: list[Probleme] = field(default_factory=list)
    rejets: list[Probleme] = field(default_factory=list)
    avertissements: list[Probleme] = field(default_factory=list)
    services_inconnus: Counter = field(default_factory=Counter)
    #: (nom lu, service ou None, règle ou None, candidats d'un nom ambigu) → occurrences
    services_lus: Counter = field(default_factory=Counter)
    format: str | None = None
    encodage: str | None = None
    separateur: str | None = None
    #: en-tête → champ reconnu (``service:<id>`` pour une colonne de service)
    colonnes: dict[str, str] = field(default_factory=dict)
    ignorees: list[str] = field(default_factory=list)
    #: export de la Suite territoriale : à qui reviennent les lignes de chaque operateur_id
    attribution: object = None  # territoires.members.attribution.Attribution

    def description(self) -> str:
        """Une ligne : comment le fichier a été lu et quelles colonnes ont été reconnues."""

        lu = (self.format or "?").upper()
        if self.encodage:
            lu += f", encodage {self.encodage}"
        if self.separateur and self.format != "xlsx":
            lu += f", séparateur {NOMS_SEPARATEURS.get(self.separateur, repr(self.separateur))}"
        cols = ", ".join(f"{nettoyer(e)[:60]} → {c}" for e, c in self.colonnes.items()) or "aucune"
        texte = f"{self.fichier} : {lu} ; {self.genre} ; colonnes reconnues : {cols}"
        if self.ignorees:
            texte += f" ; ignorées : {', '.join(nettoyer(e)[:60] for e in self.ignorees)}"
        if self.attribution is not None and self.attribution.comptes:
            texte += "\n" + self.attribution.description()
        return texte

    @property
    def ok(self) -> bool:
        return not self.erreurs

    def problemes(self) -> list[Probleme]:
        """Erreurs, puis rejets et avertissements dans l'ordre des lignes."""
        autres = sorted(self.rejets + self.avertissements, key=lambda p: (p.ligne or 0, p.niveau != "rejet"))
        return self.erreurs + autres


@dataclass
class Resultat:
    """Tout ce qu'a produit une validation gardée en mémoire (petits fichiers, tests)."""

    adherents: list[Adherent] = field(default_factory=list)
    abonnements: list[Abonnement] = field(default_factory=list)
    bilans: list[Bilan] = field(default_factory=list)

    def total(self, attribut: str) -> int:
        return sum(len(getattr(b, attribut)) if isinstance(getattr(b, attribut), list) else getattr(b, attribut)
                   for b in self.bilans)

    @property
    def rejets(self) -> list[Probleme]:
        return [p for b in self.bilans for p in b.rejets]

    @property
    def avertissements(self) -> list[Probleme]:
        return [p for b in self.bilans for p in b.avertissements]

    @property
    def erreurs(self) -> list[Probleme]:
        return [p for b in self.bilans for p in b.erreurs]


class _Ligne:
    """Problèmes d'une ligne en cours de validation."""

    __slots__ = ("erreurs", "avertissements")

    def __init__(self) -> None:
        self.erreurs: list[tuple[str, str, str]] = []
        self.avertissements: list[tuple[str, str, str]] = []
