"""Contrôles cellule par cellule des registres (identifiants, code INSEE, dates, services),
partagés par les lignes de registre et d'abonnements : la moitié « cellule » de
:class:`territoires.members.validation.Validateur`."""

from __future__ import annotations

from __future__ import annotations

from datetime import date, datetime

from territoires.members.dates import lire_date
from territoires.members.identifiants import (
    Verification,
    nature_identifiant,
    verifier_code_insee,
    verifier_siren,
    verifier_siret,
)
from territoires.members.schema import Colonnes
from territoires.members.taxonomie import PREFIXE_INCONNU
from territoires.members.texte import cle, nettoyer

from territoires.members.referentiel import Referentiel  # noqa: F401
from territoires.members.resultats import Bilan, _Ligne  # noqa: F401


OUI = {"oui", "o", "yes", "y", "x", "1", "vrai", "true", "ok", "souscrit", "abonne", "actif", "active"}
NON = {"", "non", "n", "no", "0", "faux", "false", "nonsouscrit", "inactif"}


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



class Controles:
    """Méthodes de contrôle d'une cellule ; l'objet qui les emploie fournit ``ref``,
    ``tax``, ``operateur``, ``aujourdhui``, ``services_anct`` (voir ``Validateur``)."""

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

    def _service(self, nom: str):
        k = cle(nom)
        if k not in self._services_cache:
            self._services_cache[k] = self.tax.resoudre(nom, self.operateur, self._extra)
        return self._services_cache[k]

    def _resoudre_service(self, nom: str, entete: str, bilan: Bilan, pb: _Ligne) -> str:
        r = self._service(nom)
        bilan.services_lus[(nom, r.service, r.regle, r.candidats)] += 1
        if r.service:
            return r.service
        bilan.services_inconnus[nom] += 1
        if r.ambigu:
            pb.avertissements.append((entete, nom, (
                f"nom de service ambigu : après normalisation, il correspond à {' et '.join(r.candidats)} ; "
                f"gardé comme « {PREFIXE_INCONNU}{nom} » — précisez-le dans [services] du correspondance.toml "
                "de l'opérateur (voir territoires adherents services --noms)")))
        else:
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
