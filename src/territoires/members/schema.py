"""Reconnaissance des colonnes d'un registre d'après ses en-têtes français, sans configuration.

Casse, accents, espaces et ponctuation sont ignorés : « Date d'adhésion », « DATE ADHESION »
et « date_adhesion » désignent le même champ. Les champs reconnus :

=================  =========================================================================
champ              en-têtes reconnus (exemples)
=================  =========================================================================
``siret``          SIRET, N° SIRET, organisation_siret
``siren``          SIREN, N° SIREN
``code_insee``     Code INSEE, code_commune, INSEE, COG, organisation_code_insee
``identifiant``    Identifiant (SIRET, SIREN ou code INSEE, reconnu à sa forme)
``nom``            Raison sociale, Nom, Libellé, Dénomination, organisation_nom
``type``           Type de collectivité, Type, Catégorie, organisation_type
``date_adhesion``  Date d'adhésion, Adhésion, Date d'entrée
``services``       Services souscrits, Services (une cellule, noms joints par ``|``, ``;`` ou ``,``)
``service``        Service, service_id (fichier d'abonnements : un service par ligne)
``date``           Date, Date de souscription, date_creation (fichier d'abonnements)
``operateur_id``   operateur_id (exports ANCT)
``role``           role (exports ANCT)
=================  =========================================================================

Services en colonnes : un en-tête qui est le nom d'un service connu (taxonomie, ou
correspondances de l'opérateur) devient une colonne de service ; la cellule vaut
oui/non, x, 1/0, vrai/faux, ou une date (souscrit à cette date).

Un fichier ``correspondance.toml`` par opérateur (``data/raw/adherents/<operateur>/``)
remplace cette reconnaissance : voir :class:`Correspondance`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from territoires.operateurs import MOTIF as OPERATEUR_MOTIF
from territoires.fichiers import lire_toml
from territoires.members.taxonomie import Taxonomie, taxonomie
from territoires.members.texte import cle

__all__ = [
    "CHAMPS",
    "CHAMPS_IDENTIFIANT",
    "Correspondance",
    "Colonnes",
    "lire_correspondance",
    "reconnaitre",
]

#: en-têtes reconnus (sous forme de clé, voir :func:`territoires.members.texte.cle`) par champ
SYNONYMES: dict[str, tuple[str, ...]] = {
    "siret": ("siret", "nsiret", "numerosiret", "nosiret", "numsiret", "organisationsiret", "siretorganisation",
              "siretadherent", "siretdeladherent", "siretcollectivite", "codesiret"),
    "siren": ("siren", "nsiren", "numerosiren", "nosiren", "numsiren", "organisationsiren", "sirenadherent",
              "sirencollectivite", "codesiren"),
    "code_insee": ("codeinsee", "insee", "codecommune", "cog", "codecog", "organisationcodeinsee",
                   "codeinseecommune", "inseecommune", "codeinseedelacommune", "codegeo", "depcom",
                   "codeofficielgeographique", "communecodeinsee"),
    "identifiant": ("identifiant", "identifiantadherent", "identifiantorganisation"),
    "nom": ("raisonsociale", "nom", "libelle", "denomination", "organisationnom", "nomcollectivite",
            "nomdelacollectivite", "collectivite", "nomadherent", "adherent", "nomentite", "entite",
            "nomstructure", "structure", "organisme", "nomorganisme", "intitule", "libellecollectivite",
            "denominationsociale", "nomdeladherent"),
    "type": ("typedecollectivite", "typecollectivite", "type", "categorie", "typedentite", "typeentite",
             "organisationtype", "typedestructure", "typestructure", "typeadherent", "typedadherent",
             "categoriecollectivite", "categoriedecollectivite", "typeorganisme", "typedorganisme"),
    "date_adhesion": ("datedadhesion", "dateadhesion", "adhesion", "datedebutadhesion", "datedentree",
                      "dateentree", "membredepuis", "adherentdepuis", "datedeladhesion"),
    "services": ("servicessouscrits", "services", "servicesouscrit", "abonnements", "servicesabonnes",
                 "offressouscrites", "prestations", "listedesservices"),
    "service": ("service", "serviceid", "nomduservice", "nomservice", "codeservice", "libelleservice",
                "offre", "prestation"),
    "date": ("date", "datecreation", "datedesouscription", "datesouscription", "datedebut",
             "datedabonnement", "dateabonnement", "datedebutabonnement", "souscritle"),
    "operateur_id": ("operateurid", "idoperateur"),
    "role": ("role",),
}

CHAMPS: tuple[str, ...] = tuple(SYNONYMES)
CHAMPS_IDENTIFIANT: tuple[str, ...] = ("siret", "siren", "code_insee", "identifiant")
#: valeur de correspondance qui fait ignorer une colonne
IGNORER = "ignorer"
#: préfixe d'une colonne de service dans correspondance.toml : ``"Parapheur" = "service:parapheur"``
PREFIXE_SERVICE = "service:"

_INDEX = {syn: champ for champ, syns in SYNONYMES.items() for syn in syns}


class CorrespondanceError(ValueError):
    """Fichier correspondance.toml illisible ou incohérent (message en français)."""


@dataclass
class Correspondance:
    """Contenu d'un ``correspondance.toml`` d'opérateur.

    .. code-block:: toml

        [colonnes]                 # en-tête tel qu'écrit dans l'export = champ
        "N° de SIRET" = "siret"
        "Structure" = "nom"
        "Parapheur (O/N)" = "service:parapheur"
        "Commentaire" = "ignorer"

        [services]                 # nom de service de l'opérateur = service de la taxonomie
        "Pack dématérialisation" = "actes"

        [operateurs_anct]          # export de la Suite territoriale : operateur_id = code d'opérateur
        "d23b0d53-8150-4023-aea5-8136817daf6b" = "arnia"

        [lecture]
        feuille = "Adhérents"      # XLSX : nom de la feuille (défaut : la première)
        separateur = ";"           # CSV : imposé au lieu d'être deviné
        encodage = "cp1252"        # CSV : imposé au lieu d'être deviné
    """

    colonnes: dict[str, str] = field(default_factory=dict)   # clé d'en-tête → champ
    services: dict[str, str] = field(default_factory=dict)   # nom tel qu'écrit → service
    operateurs_anct: dict[str, str] = field(default_factory=dict)  # operateur_id ANCT → code d'opérateur
    feuille: str | None = None
    separateur: str | None = None
    encodage: str | None = None
    chemin: Path | None = None


def lire_correspondance(chemin: Path, tax: Taxonomie | None = None) -> Correspondance:
    """Lit un ``correspondance.toml`` ; lève :class:`CorrespondanceError` avec le fichier et la raison."""
    tax = tax or taxonomie()
    data = lire_toml(chemin, CorrespondanceError, "fichier de correspondance")
    c = Correspondance(chemin=chemin)
    for entete, champ in (data.get("colonnes") or {}).items():
        champ = str(champ)
        if champ.startswith(PREFIXE_SERVICE):
            if champ[len(PREFIXE_SERVICE):] not in tax.services:
                raise CorrespondanceError(
                    f"{chemin}: colonne {entete!r} : service inconnu {champ[len(PREFIXE_SERVICE):]!r} "
                    f"(services connus : {', '.join(tax.services)})")
        elif champ not in CHAMPS and champ != IGNORER:
            raise CorrespondanceError(
                f"{chemin}: colonne {entete!r} : champ inconnu {champ!r} "
                f"(champs possibles : {', '.join(CHAMPS)}, {IGNORER}, service:<service>)")
        c.colonnes[cle(entete)] = champ
    for nom, service in (data.get("services") or {}).items():
        if service not in tax.services:
            raise CorrespondanceError(f"{chemin}: service {nom!r} → {service!r} : service inconnu de la taxonomie")
        c.services[str(nom)] = service
    for oid, code in (data.get("operateurs_anct") or {}).items():
        if not isinstance(code, str) or not OPERATEUR_MOTIF.match(code):
            raise CorrespondanceError(f"{chemin}: [operateurs_anct] « {oid} » = {code!r} : un code d'opérateur "
                                      "est attendu (minuscules, chiffres, - ou _ ; voir operateurs.toml)")
        c.operateurs_anct[str(oid).strip()] = code
    lecture = data.get("lecture") or {}
    c.feuille = lecture.get("feuille")
    sep = lecture.get("separateur")
    if sep is not None:
        sep = {"tab": "\t", "tabulation": "\t", "\\t": "\t"}.get(sep, sep)
        if sep not in (";", ",", "\t", "|"):
            raise CorrespondanceError(f"{chemin}: séparateur {sep!r} non pris en charge (; , tab ou |)")
    c.separateur = sep
    c.encodage = lecture.get("encodage")
    return c


@dataclass
class Colonnes:
    """Les colonnes reconnues d'un en-tête : champ → index, et colonnes de services."""

    entetes: list[str]
    champs: dict[str, int] = field(default_factory=dict)
    #: index de colonne → (service ou None si inconnu, en-tête)
    services: dict[int, tuple[str, str]] = field(default_factory=dict)
    ignorees: list[str] = field(default_factory=list)
    doublons: list[str] = field(default_factory=list)

    @property
    def identifiants(self) -> list[str]:
        return [c for c in CHAMPS_IDENTIFIANT if c in self.champs]

    @property
    def genre(self) -> str:
        """« abonnements » pour un fichier d'abonnements (une colonne ``service``, un service
        par ligne), sinon « registre ». Un registre qui aurait une colonne « Service » (le
        service municipal d'un contact, par exemple) reste un registre s'il a un type ou une
        date d'adhésion ; un export ANCT avec ``operateur_id`` et ``service_id`` est un
        fichier de souscriptions."""
        if "service" not in self.champs or "services" in self.champs or self.services:
            return "registre"
        if "operateur_id" in self.champs:
            return "abonnements"
        if "date_adhesion" in self.champs or "type" in self.champs:
            return "registre"
        return "abonnements"

    def entete(self, champ: str) -> str:
        """L'en-tête tel qu'écrit dans le fichier pour ``champ``."""
        return self.entetes[self.champs[champ]]


def reconnaitre(entetes: list[str], operateur: str, *, correspondance: Correspondance | None = None,
                tax: Taxonomie | None = None) -> Colonnes:
    """Reconnaît les champs d'un en-tête. Une colonne non reconnue est ignorée (listée)."""
    tax = tax or taxonomie()
    extra = correspondance.services if correspondance else None
    col = Colonnes(entetes=list(entetes))
    for i, entete in enumerate(entetes):
        k = cle(entete)
        if not k:
            col.ignorees.append(entete or f"(colonne {i + 1} sans en-tête)")
            continue
        champ = correspondance.colonnes.get(k) if correspondance else None
        if champ == IGNORER:
            col.ignorees.append(entete)
            continue
        if champ and champ.startswith(PREFIXE_SERVICE):
            col.services[i] = (champ[len(PREFIXE_SERVICE):], entete)
            continue
        champ = champ or _INDEX.get(k)
        if champ:
            if champ in col.champs:
                col.doublons.append(entete)
            else:
                col.champs[champ] = i
            continue
        service = tax.service(entete, operateur, extra)
        if service:
            col.services[i] = (service, entete)
        else:
            col.ignorees.append(entete)
    return col
