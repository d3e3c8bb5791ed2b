"""Validation des registres : lignes lues → adhérents acceptés, abonnements, rejets, avertissements.

Rien n'est perdu en silence : chaque ligne lue est soit acceptée, soit rejetée avec une
raison (``lues = acceptées + rejetées``, toujours) ; les avertissements n'empêchent pas
l'acceptation. Chaque problème s'écrit ``fichier:ligne: colonne, « valeur », raison``.

Une erreur qui empêche de lire tout le fichier (fichier vide, en-tête seul, colonne
requise absente, XLSX abîmé…) est une erreur de fichier : un message, pas de trace d'appel.

Contrôles par ligne :

- SIRET et SIREN (clé de Luhn, La Poste comprise), cohérence SIREN / SIRET ;
- code INSEE : forme (``2A``/``2B``, outre-mer ; 4 chiffres complétés avec avertissement),
  existence dans le :class:`Referentiel` (commune fusionnée : « commune fusionnée dans
  <nom> (<code>) », acceptée et rattachée à la commune qui l'a absorbée) ;
- type d'entité ramené à la liste unique (``types_entites.csv``) ;
- dates françaises et ISO, dates impossibles refusées, dates futures signalées ;
- services (cellule jointe par ``|``, ``;`` ou ``,``, ou colonnes de services) ramenés à la
  taxonomie ; un nom inconnu est gardé comme ``inconnu:<nom>`` avec un avertissement ;
- doublons (même opérateur, même identifiant principal : SIRET, sinon SIREN, sinon code
  INSEE) rejetés en citant la première ligne.

Rattachement au territoire (``statut_rattachement``) : ``siren_epci`` (le SIREN est celui
d'un EPCI), ``insee`` (code INSEE connu), ``siren_reference`` (SIREN de commune donné par
un référentiel), ``siren_presume`` (motif ``21…`` du SIREN : présomption, signalée par un
avertissement), ``non_rattache`` (gardé et compté).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from territoires.members.dates import lire_date
from territoires.members.identifiants import (
    Verification,
    code_insee_depuis_siren_presume,
    nature_identifiant,
    verifier_code_insee,
    verifier_siren,
    verifier_siret,
)
from territoires.members.lecture import NOMS_SEPARATEURS, SEPARATEURS, ErreurFichier, ouvrir
from territoires.members.schema import Colonnes, Correspondance, reconnaitre
from territoires.members.taxonomie import PREFIXE_INCONNU, Taxonomie, taxonomie
from territoires.members.texte import apercu, cle, nettoyer

__all__ = [
    "Referentiel",
    "Adherent",
    "Abonnement",
    "Probleme",
    "Bilan",
    "Resultat",
    "Validateur",
    "valider",
    "STATUTS_RATTACHEMENT",
]

STATUTS_RATTACHEMENT = ("insee", "siren_epci", "siren_reference", "siren_presume", "non_rattache")
OUI = {"oui", "o", "yes", "y", "x", "1", "vrai", "true", "ok", "souscrit", "abonne", "actif", "active"}
NON = {"", "non", "n", "no", "0", "faux", "false", "nonsouscrit", "inactif"}


# ------------------------------------------------------------------ référentiel
@dataclass
class Referentiel:
    """Ce qu'il faut savoir des territoires pour valider et rattacher les adhérents.

    - ``communes`` : code INSEE d'une commune en vigueur → nom ;
    - ``anciennes`` : code d'une commune déléguée, associée ou fusionnée → (code de la commune
      qui l'a absorbée, son nom, nom de l'ancienne commune) ;
    - ``arrondissements`` : code d'arrondissement municipal → (code de la commune, son nom, nom) ;
    - ``epci`` : SIREN d'EPCI → nom (le SIREN d'un EPCI est son code dans l'entrepôt) ;
    - ``siren_communes`` : SIREN de commune → code INSEE, d'après un fichier de référence
      (ANCT DPNT, BANATIC) quand il y en a un.

    Un référentiel vide (:meth:`vide`) ne vérifie pas l'existence des codes INSEE.
    """

    communes: dict[str, str] = field(default_factory=dict)
    anciennes: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    arrondissements: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    epci: dict[str, str] = field(default_factory=dict)
    siren_communes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def vide(cls) -> Referentiel:
        return cls()

    @property
    def verifie_insee(self) -> bool:
        """Vrai si l'existence des codes INSEE peut être vérifiée."""
        return bool(self.communes)

    @classmethod
    def depuis_entrepot(cls, con) -> Referentiel:
        """Lit ``staging.communes`` (COM ; COMD/COMA → ``code_parent`` ; ARM) et ``staging.epci``."""
        ref = cls()
        lignes = con.execute(
            "select c.code, c.type, c.nom, c.code_parent, p.nom from staging.communes c "
            "left join staging.communes p on p.code = c.code_parent and p.type = 'COM' "
            "where c.type in ('COM', 'COMD', 'COMA', 'ARM')"
        ).fetchall()
        for code, typ, nom, parent, nom_parent in lignes:
            if typ == "COM":
                ref.communes[code] = nom
        for code, typ, nom, parent, nom_parent in lignes:
            if code in ref.communes or not parent or parent not in ref.communes:
                continue
            cible = ref.arrondissements if typ == "ARM" else ref.anciennes
            cible[code] = (parent, nom_parent or ref.communes[parent], nom)
        ref.epci = dict(con.execute("select code, nom from staging.epci").fetchall())
        return ref

    def ajouter_sirens_communes(self, chemin: Path) -> int:
        """Ajoute la correspondance SIREN → code INSEE d'un CSV de référence (colonnes
        reconnues : SIREN et code INSEE, ex. un extrait de BANATIC ou de l'ANCT DPNT).
        Rend le nombre de correspondances ajoutées ; les lignes invalides sont ignorées."""
        n = 0
        with ouvrir(chemin) as lecteur:
            col = reconnaitre(lecteur.entetes, "*")
            if "siren" not in col.champs or "code_insee" not in col.champs:
                raise ErreurFichier(f"{chemin}: colonnes SIREN et code INSEE attendues "
                                    f"(trouvées : {', '.join(lecteur.entetes)})")
            i, j = col.champs["siren"], col.champs["code_insee"]
            for ligne in lecteur:
                c = ligne.cellules
                if max(i, j) >= len(c):
                    continue
                s, k = verifier_siren(c[i]), verifier_code_insee(c[j])
                if s.valide and k.valide:
                    self.siren_communes[s.valeur] = k.valeur
                    n += 1
        return n


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
    format: str | None = None
    encodage: str | None = None
    separateur: str | None = None
    #: en-tête → champ reconnu (``service:<id>`` pour une colonne de service)
    colonnes: dict[str, str] = field(default_factory=dict)
    ignorees: list[str] = field(default_factory=list)

    def description(self) -> str:
        """Une ligne : comment le fichier a été lu et quelles colonnes ont été reconnues."""
        from territoires.members.lecture import NOMS_SEPARATEURS

        lu = (self.format or "?").upper()
        if self.encodage:
            lu += f", encodage {self.encodage}"
        if self.separateur and self.format != "xlsx":
            lu += f", séparateur {NOMS_SEPARATEURS.get(self.separateur, repr(self.separateur))}"
        cols = ", ".join(f"{nettoyer(e)[:60]} → {c}" for e, c in self.colonnes.items()) or "aucune"
        texte = f"{self.fichier} : {lu} ; {self.genre} ; colonnes reconnues : {cols}"
        if self.ignorees:
            texte += f" ; ignorées : {', '.join(nettoyer(e)[:60] for e in self.ignorees)}"
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


# ------------------------------------------------------------------ validation
def _texte(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return nettoyer(v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, datetime):
        return v.date().isoformat() if (v.hour, v.minute, v.second) == (0, 0, 0) else v.isoformat()
    return nettoyer(str(v))


def _ou(premier: int | str) -> str:
    return f"la ligne {premier}" if isinstance(premier, int) else premier


def _decouper_services(texte: str) -> list[str]:
    for sep in ("|", ";", ","):
        if sep in texte:
            return [s.strip() for s in texte.split(sep) if s.strip()]
    return [texte.strip()] if texte.strip() else []


class _Ligne:
    """Problèmes d'une ligne en cours de validation."""

    __slots__ = ("erreurs", "avertissements")

    def __init__(self) -> None:
        self.erreurs: list[tuple[str, str, str]] = []
        self.avertissements: list[tuple[str, str, str]] = []


class Validateur:
    """Valide les fichiers d'un opérateur, en gardant ce qui lie les fichiers entre eux
    (doublons, adhérents connus pour les abonnements).

    ``sur_adherent`` et ``sur_abonnement`` reçoivent chaque ligne acceptée : rien n'est gardé
    en mémoire au-delà des identifiants (flux, mémoire bornée).
    """

    def __init__(self, operateur: str, referentiel: Referentiel | None = None, *,
                 correspondance: Correspondance | None = None, tax: Taxonomie | None = None,
                 aujourdhui: date | None = None, operateurs_anct: dict[str, str] | None = None,
                 services_anct: dict[str, str] | None = None) -> None:
        self.operateur = operateur
        self.ref = referentiel or Referentiel.vide()
        self.correspondance = correspondance
        self.tax = tax or taxonomie()
        self.aujourdhui = aujourdhui or date.today()
        #: identifiant d'opérateur ANCT → code d'opérateur (sinon « anct:<id> »)
        self.operateurs_anct = operateurs_anct or {}
        #: identifiant de service ANCT → nom du service (``services-quotidien.csv``)
        self.services_anct = services_anct or {}
        self._extra = correspondance.services if correspondance else None
        #: première occurrence : numéro de ligne, ou « fichier:ligne » si c'était un autre fichier
        self._vus: dict[tuple[str, str], int | str] = {}
        self._abonnements_vus: dict[tuple[str, str, str], int | str] = {}
        self._fichier_courant: str | None = None
        #: opérateur → SIRET/SIREN/code INSEE → identifiant principal de l'adhérent
        self.membres: dict[str, dict[str, str]] = {}
        self._services_cache: dict[str, str | None] = {}
        self._avec_registre: set[str] = set()

    # ---------------------------------------------------------------- entrée
    def fichier(self, chemin: str | Path, *, nom: str | None = None, genre: str | None = None,
                sur_adherent: Callable[[Adherent], None] | None = None,
                sur_abonnement: Callable[[Abonnement], None] | None = None) -> Bilan:
        """Valide un fichier : registre d'adhérents, ou fichier d'abonnements (reconnu à sa
        colonne ``service`` quand ``genre`` n'est pas imposé). Ne lève jamais pour un
        fichier mauvais : les erreurs sont dans le bilan."""
        nom = nom or str(chemin)
        self._changer_de_fichier(nom)
        bilan = Bilan(fichier=nom, genre=genre or "registre")
        c = self.correspondance
        try:
            with ouvrir(chemin, nom=nom, feuille=c.feuille if c else None,
                        separateur=c.separateur if c else None, encodage=c.encodage if c else None) as lecteur:
                bilan.format, bilan.encodage, bilan.separateur = lecteur.format, lecteur.encodage, lecteur.separateur
                col = reconnaitre(lecteur.entetes, self.operateur, correspondance=c, tax=self.tax)
                if genre is None:
                    bilan.genre = col.genre
                bilan.colonnes = {col.entetes[i]: c for c, i in sorted(col.champs.items(), key=lambda x: x[1])}
                bilan.colonnes.update({e: f"service:{sid}" for sid, e in col.services.values()})
                bilan.ignorees = list(col.ignorees)
                self._verifier_entete(lecteur, col, bilan)
                if bilan.erreurs:
                    return bilan
                try:
                    for ligne in lecteur:
                        bilan.lues += 1
                        if bilan.genre == "registre":
                            self._ligne_registre(ligne.numero, ligne.cellules, col, bilan, lecteur,
                                                 sur_adherent, sur_abonnement)
                        else:
                            self._ligne_abonnement(ligne.numero, ligne.cellules, col, bilan, lecteur,
                                                   sur_abonnement)
                except ErreurFichier as exc:
                    bilan.erreurs.append(Probleme(nom, None, "", "", str(exc).removeprefix(f"{nom}: "), "erreur"))
                finally:
                    bilan.lignes_vides = lecteur.lignes_vides
                if bilan.lues == 0 and not bilan.erreurs:
                    bilan.erreurs.append(Probleme(
                        nom, None, "", "", f"en-tête seul (ligne {lecteur.ligne_entete}), aucune ligne de données", "erreur"))
        except ErreurFichier as exc:
            bilan.erreurs.append(Probleme(nom, None, "", "", str(exc).removeprefix(f"{nom}: "), "erreur"))
        return bilan

    def _changer_de_fichier(self, nom: str) -> None:
        """Les premières occurrences d'un fichier précédent se citent avec leur fichier."""
        if self._fichier_courant is not None and self._fichier_courant != nom:
            ancien = self._fichier_courant
            for d in (self._vus, self._abonnements_vus):
                for k, v in d.items():
                    if isinstance(v, int):
                        d[k] = f"{ancien}:{v}"
        self._fichier_courant = nom

    def _verifier_entete(self, lecteur, col: Colonnes, bilan: Bilan) -> None:
        nom = bilan.fichier
        trouvees = ", ".join(apercu(e, 40) for e in lecteur.entetes) or "aucune"
        if len(lecteur.entetes) == 1 and lecteur.format != "xlsx":
            autres = [s for s in SEPARATEURS if s != lecteur.separateur and s in lecteur.entetes[0]]
            if autres:
                bilan.erreurs.append(Probleme(nom, None, "", "", (
                    f"l'en-tête (ligne {lecteur.ligne_entete}) ne forme qu'une colonne avec le séparateur "
                    f"{NOMS_SEPARATEURS[lecteur.separateur]} et contient {NOMS_SEPARATEURS[autres[0]]} : "
                    f"mauvais séparateur ? (colonne lue : {apercu(lecteur.entetes[0], 80)})"), "erreur"))
                return
        manquantes = []
        if not col.identifiants:
            manquantes.append("un identifiant (SIRET, SIREN, Code INSEE ou Identifiant)")
        if bilan.genre == "registre" and "nom" not in col.champs:
            manquantes.append("le nom (Raison sociale, Nom, Libellé ou Dénomination)")
        if bilan.genre == "abonnements" and "service" not in col.champs:
            manquantes.append("le service (Service)")
        if manquantes:
            bilan.erreurs.append(Probleme(nom, None, "", "", (
                f"colonne(s) requise(s) absente(s) : {' ; '.join(manquantes)} — colonnes trouvées "
                f"(ligne {lecteur.ligne_entete}) : {trouvees}"), "erreur"))
            return
        for e in col.doublons:
            bilan.avertissements.append(Probleme(nom, lecteur.ligne_entete, e, e,
                                                 "colonne en double, seule la première est lue", "avertissement"))

    # ---------------------------------------------------------- outils ligne
    def _forme(self, cellules: list, col: Colonnes, lecteur, pb: _Ligne) -> bool:
        """Vérifie le nombre de champs ; faux si la ligne est inexploitable."""
        n = len(col.entetes)
        if len(cellules) == 1 and n > 1 and lecteur.format != "xlsx" and isinstance(cellules[0], str):
            autres = [s for s in SEPARATEURS if s != lecteur.separateur and s in cellules[0]]
            if autres:
                pb.erreurs.append(("(ligne)", cellules[0], (
                    f"une seule colonne contenant {NOMS_SEPARATEURS[autres[0]]} alors que l'en-tête est séparé "
                    f"par {NOMS_SEPARATEURS[lecteur.separateur]} : mauvais séparateur")))
                return False
        if len(cellules) > n and any(_texte(c) for c in cellules[n:]):
            pb.erreurs.append(("(ligne)", _texte(cellules[n]), f"{len(cellules)} champs pour {n} colonnes d'en-tête"))
            return False
        return True

    @staticmethod
    def _valeur(cellules: list, col: Colonnes, champ: str) -> object:
        i = col.champs.get(champ)
        if i is None or i >= len(cellules):
            return None
        return cellules[i]

    def _identifiants(self, cellules: list, col: Colonnes, pb: _Ligne) -> tuple[str | None, str | None, str | None]:
        """(siret, siren, code_insee) vérifiés ; les erreurs vont dans ``pb``."""
        trouves: dict[str, str] = {}

        def verifier(champ: str, entete: str, brut: object, nature: str) -> None:
            v: Verification = {"siret": verifier_siret, "siren": verifier_siren,
                               "code_insee": verifier_code_insee}[nature](brut)
            if v.erreur:
                pb.erreurs.append((entete, _texte(brut), v.erreur))
            else:
                if v.avertissement:
                    pb.avertissements.append((entete, _texte(brut), v.avertissement))
                if nature in trouves and trouves[nature] != v.valeur:
                    pb.erreurs.append((entete, _texte(brut), f"{nature.upper().replace('_', ' ')} différent de "
                                       f"celui d'une autre colonne ({trouves[nature]})"))
                trouves.setdefault(nature, v.valeur)

        for champ in ("siret", "siren", "code_insee", "identifiant"):
            brut = self._valeur(cellules, col, champ)
            if brut is None or not _texte(brut):
                continue
            entete = col.entete(champ)
            if champ == "identifiant":
                nature = nature_identifiant(brut)
                if nature is None:
                    pb.erreurs.append((entete, _texte(brut), "identifiant non reconnu (SIRET de 14 chiffres, "
                                       "SIREN de 9 chiffres ou code INSEE de 5 caractères attendu)"))
                    continue
            else:
                nature = champ
            verifier(champ, entete, brut, nature)
        siret, siren, insee = trouves.get("siret"), trouves.get("siren"), trouves.get("code_insee")
        if siret and siren and siret[:9] != siren:
            pb.erreurs.append((col.entete("siren") if "siren" in col.champs else "SIREN", siren,
                               f"SIREN différent des 9 premiers chiffres du SIRET {siret}"))
        if siret and not siren:
            siren = siret[:9]
        if not (siret or siren or insee) and not pb.erreurs:
            pb.erreurs.append((" / ".join(col.entete(c) for c in col.identifiants), "",
                               "aucun identifiant : SIRET, SIREN ou code INSEE requis"))
        return siret, siren, insee

    def _commune(self, insee: str, entete: str, pb: _Ligne) -> str | None:
        """Code de la commune de rattachement d'un code INSEE, ``None`` si inconnu (erreur)."""
        if not self.ref.verifie_insee or insee in self.ref.communes:
            return insee
        if insee in self.ref.anciennes:
            code, nom, ancien = self.ref.anciennes[insee]
            pb.avertissements.append((entete, insee, f"commune fusionnée dans {nom} ({code}) : "
                                      f"{ancien} rattachée à {nom}"))
            return code
        if insee in self.ref.arrondissements:
            code, nom, arr = self.ref.arrondissements[insee]
            pb.avertissements.append((entete, insee, f"arrondissement municipal ({arr}) de {nom} ({code}) : "
                                      f"rattaché à {nom}"))
            return code
        pb.erreurs.append((entete, insee, "code INSEE inconnu du référentiel des communes (COG)"))
        return None

    def _service(self, nom: str) -> str | None:
        k = cle(nom)
        if k not in self._services_cache:
            self._services_cache[k] = self.tax.service(nom, self.operateur, self._extra)
        return self._services_cache[k]

    def _resoudre_service(self, nom: str, entete: str, bilan: Bilan, pb: _Ligne) -> str:
        sid = self._service(nom)
        if sid:
            return sid
        bilan.services_inconnus[nom] += 1
        pb.avertissements.append((entete, nom, "service inconnu de la taxonomie, gardé comme "
                                  f"« {PREFIXE_INCONNU}{nom} » (voir territoires adherents services --inconnus)"))
        return PREFIXE_INCONNU + nom

    def _date(self, brut: object, entete: str, lecteur, pb: _Ligne) -> date | None:
        d, erreur = lire_date(brut if not isinstance(brut, str) else nettoyer(brut), tableur=lecteur.format == "xlsx")
        if erreur:
            pb.erreurs.append((entete, _texte(brut), erreur))
        elif d and d > self.aujourdhui:
            pb.avertissements.append((entete, _texte(brut), f"date future ({d:%d/%m/%Y})"))
        return d

    def _operateur_ligne(self, cellules: list, col: Colonnes) -> str:
        if "operateur_id" not in col.champs:
            return self.operateur
        oid = _texte(self._valeur(cellules, col, "operateur_id"))
        return self.operateurs_anct.get(oid, f"anct:{oid}" if oid else self.operateur)

    def _clore(self, numero: int, pb: _Ligne, bilan: Bilan) -> bool:
        """Enregistre les problèmes de la ligne ; vrai si elle est acceptée."""
        for colonne, valeur, raison in pb.avertissements:
            bilan.avertissements.append(Probleme(bilan.fichier, numero, colonne, valeur, raison, "avertissement"))
        if pb.erreurs:
            colonne, valeur, raison = pb.erreurs[0]
            if len(pb.erreurs) > 1:
                raison += " ; et " + " ; ".join(f"{c} : {r}" for c, _, r in pb.erreurs[1:])
            bilan.rejets.append(Probleme(bilan.fichier, numero, colonne, valeur, raison, "rejet"))
            bilan.rejetees += 1
            return False
        bilan.acceptees += 1
        return True

    # -------------------------------------------------------------- registre
    def _ligne_registre(self, numero: int, cellules: list, col: Colonnes, bilan: Bilan, lecteur,
                        sur_adherent, sur_abonnement) -> None:
        pb = _Ligne()
        if not self._forme(cellules, col, lecteur, pb):
            self._clore(numero, pb, bilan)
            return
        operateur = self._operateur_ligne(cellules, col)
        siret, siren, insee = self._identifiants(cellules, col, pb)
        nom = _texte(self._valeur(cellules, col, "nom"))
        if not nom:
            pb.avertissements.append((col.entete("nom"), "", "nom vide"))
        code_commune = self._commune(insee, col.entete("code_insee") if "code_insee" in col.champs
                                     else col.entete("identifiant"), pb) if insee else None

        # type d'entité
        type_source = _texte(self._valeur(cellules, col, "type")) or None
        typ = self.tax.type_entite(type_source) if type_source else None
        if type_source and typ is None:
            pb.avertissements.append((col.entete("type"), type_source,
                                      "type d'entité non reconnu, classé autre_public (voir types_entites.csv)"))
            typ = "autre_public"

        # rattachement
        statut, code_ter, niveau = "non_rattache", None, None
        if siren and siren in self.ref.epci:
            statut, code_ter, niveau = "siren_epci", siren, "epci"
        elif code_commune:
            statut, code_ter, niveau = "insee", code_commune, "commune"
        elif siren and siren in self.ref.siren_communes:
            statut, code_ter, niveau = "siren_reference", self.ref.siren_communes[siren], "commune"
        elif siren and self.ref.verifie_insee:
            candidats = [c for c in code_insee_depuis_siren_presume(siren) if c in self.ref.communes]
            if len(candidats) == 1:
                statut, code_ter, niveau = "siren_presume", candidats[0], "commune"
                pb.avertissements.append(("SIREN", siren, (
                    f"rattachement présumé à {self.ref.communes[candidats[0]]} ({candidats[0]}) d'après le motif "
                    "du SIREN (21 + département + 0 + numéro de commune) : à confirmer par un référentiel "
                    "(les communes nouvelles ont des SIREN en 200…)")))
        if typ is None:
            if statut == "siren_epci":
                typ = "epci"
            elif (statut == "insee" and not siret and not siren) or statut in ("siren_reference", "siren_presume"):
                typ = "commune"
            elif siren and siren.startswith("21"):
                typ = "commune"
                pb.avertissements.append((col.entete("type") if "type" in col.champs else "type", "",
                                          "type d'entité absent, déduit du SIREN (21… : commune)"))
            else:
                typ = "autre_public"
                if "type" not in col.champs or not type_source:
                    pb.avertissements.append((col.entete("type") if "type" in col.champs else "type", "",
                                              "type d'entité absent, classé autre_public"))

        # date d'adhésion
        d = None
        if "date_adhesion" in col.champs:
            d = self._date(self._valeur(cellules, col, "date_adhesion"), col.entete("date_adhesion"), lecteur, pb)

        # services
        services: list[tuple[str, str, date | None]] = []
        brut = _texte(self._valeur(cellules, col, "services"))
        if brut:
            for s in _decouper_services(brut):
                services.append((self._resoudre_service(s, col.entete("services"), bilan, pb), s, d))
        for i, (sid, entete) in col.services.items():
            if i >= len(cellules):
                continue
            v = cellules[i]
            sd = self._cellule_service(v, entete, lecteur, pb)
            if sd is not False:
                services.append((sid, entete, sd if isinstance(sd, date) else d))

        identifiant = siret or siren or insee
        if identifiant and not pb.erreurs:
            premier = self._vus.get((operateur, identifiant))
            if premier is not None:
                pb.erreurs.append((col.entete(col.identifiants[0]), identifiant, f"doublon de {_ou(premier)}"))
        if not self._clore(numero, pb, bilan):
            return
        self._vus[(operateur, identifiant)] = numero
        self._avec_registre.add(operateur)
        membres = self.membres.setdefault(operateur, {})
        for ident in (siret, siren, insee):
            if ident:
                membres.setdefault(ident, identifiant)
        ids = []
        for sid, source, sd in services:
            if sid in ids:
                continue
            ids.append(sid)
            if sur_abonnement:
                sur_abonnement(Abonnement(operateur, identifiant, sid, source, sd, bilan.fichier, numero))
        if sur_adherent:
            sur_adherent(Adherent(operateur, identifiant, siret, siren, insee, nom, typ, type_source, d, ids,
                                  statut, code_ter, niveau, bilan.fichier, numero))

    def _cellule_service(self, v: object, entete: str, lecteur, pb: _Ligne) -> date | bool | None:
        """Une cellule de colonne de service : ``False`` (non souscrit), ``None`` (souscrit,
        sans date) ou la date de souscription."""
        if v is None:
            return False
        if isinstance(v, bool):
            return None if v else False
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if v in (0, 1):
                return None if v == 1 else False
        if isinstance(v, (date, datetime)) or (isinstance(v, (int, float)) and lecteur.format == "xlsx"):
            d, _ = lire_date(v, tableur=True)
            return d if d else False
        texte = _texte(v)
        k = cle(texte)
        if k in NON:
            return False
        if k in OUI or texte in ("✓", "✔", "☑"):
            return None
        d, erreur = lire_date(texte)
        if d and not erreur:
            return d
        pb.avertissements.append((entete, texte, "valeur non reconnue pour une colonne de service "
                                  "(oui/non, x, 1/0 ou une date attendus) : service non compté"))
        return False

    # ------------------------------------------------------------ abonnements
    def _ligne_abonnement(self, numero: int, cellules: list, col: Colonnes, bilan: Bilan, lecteur,
                          sur_abonnement) -> None:
        pb = _Ligne()
        if not self._forme(cellules, col, lecteur, pb):
            self._clore(numero, pb, bilan)
            return
        operateur = self._operateur_ligne(cellules, col)
        siret, siren, insee = self._identifiants(cellules, col, pb)
        brut = _texte(self._valeur(cellules, col, "service"))
        entete_service = col.entete("service")
        sid = None
        if not brut:
            pb.erreurs.append((entete_service, "", "service vide"))
        else:
            nom_service = self.services_anct.get(brut, brut) if "operateur_id" in col.champs else brut
            sid = self._resoudre_service(nom_service, entete_service, bilan, pb)
        d = None
        if "date" in col.champs:
            d = self._date(self._valeur(cellules, col, "date"), col.entete("date"), lecteur, pb)
        identifiant = None
        if not pb.erreurs:
            membres = self.membres.get(operateur, {})
            for ident in (siret, siren, insee):
                if ident and ident in membres:
                    identifiant = membres[ident]
                    break
            if identifiant is None:
                identifiant = siret or siren or insee
                if operateur in self._avec_registre and "operateur_id" not in col.champs:
                    pb.erreurs.append((col.entete(col.identifiants[0]), identifiant,
                                       "adhérent absent du registre de l'opérateur"))
        if not pb.erreurs:
            premier = self._abonnements_vus.get((operateur, identifiant, sid))
            if premier is not None:
                pb.erreurs.append((entete_service, brut, f"doublon de {_ou(premier)} (même adhérent, même service)"))
        if not self._clore(numero, pb, bilan):
            return
        self._abonnements_vus[(operateur, identifiant, sid)] = numero
        if sur_abonnement:
            sur_abonnement(Abonnement(operateur, identifiant, sid, brut, d, bilan.fichier, numero))


def valider(chemin: str | Path, operateur: str, referentiel: Referentiel | None = None, *,
            abonnements: str | Path | None = None, correspondance: Correspondance | None = None,
            aujourdhui: date | None = None, nom: str | None = None) -> Resultat:
    """Valide un registre (et son fichier d'abonnements) en gardant tout en mémoire.

    Pratique pour les petits fichiers et les tests ; pour un gros registre, utiliser
    :class:`Validateur` avec ``sur_adherent`` / ``sur_abonnement``.
    """
    r = Resultat()
    v = Validateur(operateur, referentiel, correspondance=correspondance, aujourdhui=aujourdhui)
    r.bilans.append(v.fichier(chemin, nom=nom, sur_adherent=r.adherents.append,
                              sur_abonnement=r.abonnements.append))
    if abonnements is not None:
        r.bilans.append(v.fichier(abonnements, genre="abonnements", sur_abonnement=r.abonnements.append))
    return r

