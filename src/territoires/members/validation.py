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

from collections.abc import Callable
from datetime import date
from pathlib import Path

from territoires.members.attribution import Attribution, attribuer
from territoires.members.registres import DOSSIER_ANCT
from territoires.members.identifiants import (
    code_insee_depuis_siren_presume,
)
from territoires.lecture import NOMS_SEPARATEURS, SEPARATEURS, ErreurFichier, ouvrir
from territoires.members.schema import Colonnes, Correspondance, reconnaitre
from territoires.members.taxonomie import Taxonomie, taxonomie
from territoires.members.texte import apercu
from territoires.members.controles import NON, OUI, Controles, _texte  # noqa: F401
from territoires.members.referentiel import Referentiel
from territoires.members.resultats import Abonnement, Adherent, Bilan, Probleme, Resultat, _Ligne

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
def _ou(premier: int | str) -> str:
    return f"la ligne {premier}" if isinstance(premier, int) else premier


def _decouper_services(texte: str) -> list[str]:
    for sep in ("|", ";", ","):
        if sep in texte:
            return [s.strip() for s in texte.split(sep) if s.strip()]
    return [texte.strip()] if texte.strip() else []


class Validateur(Controles):
    """Valide les fichiers d'un opérateur, en gardant ce qui lie les fichiers entre eux
    (doublons, adhérents connus pour les abonnements).

    ``sur_adherent`` et ``sur_abonnement`` reçoivent chaque ligne acceptée : rien n'est gardé
    en mémoire au-delà des identifiants (flux, mémoire bornée).
    """

    def __init__(self, operateur: str, referentiel: Referentiel | None = None, *,
                 correspondance: Correspondance | None = None, tax: Taxonomie | None = None,
                 aujourdhui: date | None = None, operateurs_anct: dict[str, str] | None = None,
                 services_anct: dict[str, str] | None = None, codes_operateurs: set[str] | None = None) -> None:
        self.operateur = operateur
        self.ref = referentiel or Referentiel.vide()
        self.correspondance = correspondance
        self.tax = tax or taxonomie()
        self.aujourdhui = aujourdhui or date.today()
        #: identifiant d'opérateur ANCT → code d'opérateur, d'après l'export des opérateurs (SIRET) ;
        #: la décision par fichier est prise par :func:`territoires.members.attribution.attribuer`
        self.operateurs_anct = operateurs_anct or {}
        #: les codes d'operateurs.toml (vérifie [operateurs_anct] du correspondance.toml), si connus
        self.codes_operateurs = codes_operateurs
        self._attribution: Attribution | None = None
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
                self._attribution = None
                if "operateur_id" in col.champs:
                    self._attribution = bilan.attribution = self._attribuer(chemin, nom, col)
                    if self._attribution.erreur:
                        bilan.erreurs.append(Probleme(nom, None, "", "", self._attribution.erreur, "erreur"))
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


    def _attribuer(self, chemin, nom: str, col: Colonnes) -> Attribution:
        """Compte les lignes de chaque ``operateur_id`` (une première lecture du fichier) et
        décide à qui elles reviennent (:func:`territoires.members.attribution.attribuer`)."""
        c = self.correspondance
        comptes: dict[str, int] = {}
        i = col.champs["operateur_id"]
        with ouvrir(chemin, nom=nom, feuille=c.feuille if c else None,
                    separateur=c.separateur if c else None, encodage=c.encodage if c else None) as lecteur:
            for ligne in lecteur:
                oid = _texte(ligne.cellules[i]) if i < len(ligne.cellules) else ""
                if oid:
                    comptes[oid] = comptes.get(oid, 0) + 1
        return attribuer(comptes, self.operateur, explicite=c.operateurs_anct if c else None,
                         par_siret=self.operateurs_anct, national=self.operateur == DOSSIER_ANCT,
                         codes_connus=self.codes_operateurs)

    def _operateur_ligne(self, cellules: list, col: Colonnes, pb: _Ligne) -> str | None:
        """L'opérateur d'une ligne ; ``None`` (et une erreur dans ``pb``) pour une ligne de l'export
        national dont l'opérateur n'est pas suivi : jamais rangée sous un opérateur sans page."""
        if "operateur_id" not in col.champs or self._attribution is None:
            return self.operateur
        oid = _texte(self._valeur(cellules, col, "operateur_id"))
        code = self._attribution.operateur(oid) if oid else (None if self.operateur == DOSSIER_ANCT else self.operateur)
        if code is None:
            pb.erreurs.append((col.entete("operateur_id"), oid, (
                "opérateur de la Suite territoriale absent d'operateurs.toml (aucun SIRET d'opérateur suivi ne "
                "correspond dans l'export des opérateurs) : ligne non chargée" if oid else
                "identifiant d'opérateur vide : ligne non chargée")))
        return code

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
        operateur = self._operateur_ligne(cellules, col, pb)
        if operateur is None:
            self._clore(numero, pb, bilan)
            return
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


    # ------------------------------------------------------------ abonnements
    def _ligne_abonnement(self, numero: int, cellules: list, col: Colonnes, bilan: Bilan, lecteur,
                          sur_abonnement) -> None:
        pb = _Ligne()
        if not self._forme(cellules, col, lecteur, pb):
            self._clore(numero, pb, bilan)
            return
        operateur = self._operateur_ligne(cellules, col, pb)
        if operateur is None:
            self._clore(numero, pb, bilan)
            return
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

