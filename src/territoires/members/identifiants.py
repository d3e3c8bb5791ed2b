"""Identifiants des adhérents : SIREN, SIRET, code INSEE de commune.

Toutes les fonctions ``verifier_*`` acceptent n'importe quelle valeur (texte, nombre lu
dans un tableur, ``None``) et ne lèvent jamais d'exception : elles rendent une
:class:`Verification` (valeur normalisée, ou raison du refus en français, et un
avertissement éventuel).

Normalisation d'abord : espaces, espaces insécables (U+00A0, U+202F), points, tirets et
soulignés sont retirés (``"212 202 220"``, ``"212.202.220"``). Un nombre lu dans un tableur
(``21220222.0``) perd sa partie décimale nulle.

SIREN et SIRET sont vérifiés par python-stdnum (clé de Luhn ; l'exception de La Poste,
SIREN 356000000, dont les SIRET d'établissements ont une somme de chiffres multiple de 5,
est gérée par ``stdnum.fr.siret``).

Les codes INSEE restent du texte, jamais des entiers : ``01001``, ``2A004``, ``97101``.
Un code de 4 chiffres (``1001``, zéro initial perdu par un tableur) est complété en
``01001`` avec un avertissement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum import luhn
from stdnum.exceptions import ValidationError
from stdnum.fr import siren as _siren
from stdnum.fr import siret as _siret

__all__ = [
    "Verification",
    "compacter",
    "verifier_siren",
    "verifier_siret",
    "verifier_code_insee",
    "nature_identifiant",
    "siren_avec_cle",
    "siret_avec_cle",
    "siren_commune_presume",
    "code_insee_depuis_siren_presume",
]

#: séparateurs retirés avant vérification (espaces, insécables, points, tirets, soulignés)
_SEPARATEURS = re.compile(r"[\s.\u00a0\u202f\u2009\-_/]+")
_DECIMALE_NULLE = re.compile(r"^\s*(\d+)[.,]0+\s*$")
_CODE_INSEE = re.compile(r"^(?:\d{2}|2[AB])\d{3}$")


@dataclass(frozen=True)
class Verification:
    """Résultat d'une vérification : ``valeur`` normalisée si valide, sinon ``erreur``."""

    valeur: str | None
    erreur: str | None = None
    avertissement: str | None = None

    @property
    def valide(self) -> bool:
        return self.erreur is None and self.valeur is not None


def _texte(valeur: object) -> str:
    """Une valeur quelconque en texte ; un flottant entier perd sa partie décimale."""
    if valeur is None:
        return ""
    if isinstance(valeur, bool):
        return str(valeur)
    if isinstance(valeur, float):
        if valeur != valeur or valeur in (float("inf"), float("-inf")):
            return str(valeur)
        if valeur.is_integer():
            return str(int(valeur))
        return repr(valeur)
    if isinstance(valeur, int):
        return str(valeur)
    texte = str(valeur)
    m = _DECIMALE_NULLE.match(texte)
    if m and texte.count(".") + texte.count(",") == 1:
        return m.group(1)
    return texte


def compacter(valeur: object) -> str:
    """Retire espaces (y compris insécables), points, tirets et soulignés ; met en majuscules."""
    if type(valeur) is str and valeur.isdigit() and valeur.isascii():
        return valeur
    try:
        return _SEPARATEURS.sub("", _texte(valeur)).upper()
    except Exception:  # valeur exotique : jamais de trace d'appel
        return ""


#: somme de Luhn d'un chiffre doublé
_DOUBLE = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def _luhn(code: str) -> bool:
    """Clé de Luhn d'une suite de chiffres ASCII (même résultat que ``stdnum.luhn.is_valid``,
    vérifié par les tests ; écrite ici parce qu'elle tourne sur chaque ligne d'un gros registre)."""
    total = 0
    pair = False
    for c in reversed(code):
        d = ord(c) - 48
        total += _DOUBLE[d] if pair else d
        pair = not pair
    return total % 10 == 0


def verifier_siren(valeur: object) -> Verification:
    """SIREN : 9 chiffres, clé de Luhn."""
    code = compacter(valeur)
    if not code:
        return Verification(None, "SIREN vide")
    if not code.isascii() or not code.isdigit():
        return Verification(None, "SIREN non numérique (9 chiffres attendus)")
    if len(code) != 9:
        return Verification(None, f"SIREN de {len(code)} chiffres (9 attendus)")
    if _luhn(code):
        return Verification(code)
    return Verification(None, "clé de contrôle du SIREN invalide")


def verifier_siret(valeur: object) -> Verification:
    """SIRET : 14 chiffres, clé de Luhn (La Poste : somme des chiffres multiple de 5)."""
    code = compacter(valeur)
    if not code:
        return Verification(None, "SIRET vide")
    if not code.isascii() or not code.isdigit():
        return Verification(None, "SIRET non numérique (14 chiffres attendus)")
    if len(code) != 14:
        return Verification(None, f"SIRET de {len(code)} chiffres (14 attendus)")
    if not code.startswith("356000000") and _luhn(code) and _luhn(code[:9]):
        return Verification(code)  # cas courant, sans repasser par la normalisation de stdnum
    try:
        return Verification(_siret.validate(code))  # La Poste : somme des chiffres multiple de 5
    except ValidationError:
        if not _siren.is_valid(code[:9]):
            return Verification(None, "clé de contrôle du SIREN (9 premiers chiffres du SIRET) invalide")
        return Verification(None, "clé de contrôle du SIRET invalide")


def verifier_code_insee(valeur: object) -> Verification:
    """Code officiel géographique d'une commune : 5 caractères, ``2A``/``2B`` pour la Corse.

    Vérifie la forme seulement ; l'existence se vérifie contre un référentiel
    (:class:`territoires.members.validation.Referentiel`).
    """
    code = compacter(valeur)
    if not code:
        return Verification(None, "code INSEE vide")
    if not code.isascii():
        return Verification(None, "code INSEE invalide (5 caractères attendus, ex. 29019 ou 2A004)")
    avertissement = None
    if len(code) == 4 and code.isdigit():
        code = "0" + code
        avertissement = f"code INSEE de 4 chiffres complété en {code} (zéro initial perdu par un tableur ?)"
    if not _CODE_INSEE.match(code):
        return Verification(None, "code INSEE invalide (5 caractères attendus, ex. 29019 ou 2A004)")
    if code.startswith("00"):
        return Verification(None, "code INSEE invalide (département 00)")
    if code.startswith("20"):
        return Verification(None, "code INSEE invalide : la Corse s'écrit 2A ou 2B (ex. 2A004)")
    return Verification(code, None, avertissement)


def nature_identifiant(valeur: object) -> str | None:
    """``"siret"``, ``"siren"`` ou ``"code_insee"`` d'après la forme seule, sinon ``None``."""
    code = compacter(valeur)
    if code.isascii() and code.isdigit():
        return {14: "siret", 9: "siren", 5: "code_insee", 4: "code_insee"}.get(len(code))
    if _CODE_INSEE.match(code):
        return "code_insee"
    return None


def siren_avec_cle(prefixe8: str) -> str:
    """Complète 8 chiffres par leur clé de Luhn : un SIREN valide (tests, exemples)."""
    if len(prefixe8) != 8 or not prefixe8.isdigit():
        raise ValueError(f"8 chiffres attendus, reçu {prefixe8!r}")
    return prefixe8 + luhn.calc_check_digit(prefixe8)


def siret_avec_cle(prefixe13: str) -> str:
    """Complète 13 chiffres (SIREN valide + NIC sans clé) par la clé de Luhn du SIRET."""
    if len(prefixe13) != 13 or not prefixe13.isdigit():
        raise ValueError(f"13 chiffres attendus, reçu {prefixe13!r}")
    return prefixe13 + luhn.calc_check_digit(prefixe13)


def siren_commune_presume(code_insee: str) -> str | None:
    """SIREN **présumé** d'une commune d'après le motif ``21`` + département + ``0`` +
    numéro de commune + clé (Plouha 22222 → 212202220 ; outre-mer : ``21`` + 971 + ``0`` + 01 + clé).

    Une présomption seulement : les communes nouvelles ont des SIREN en ``200…``
    (Évellys 56144 → 200059244). Ne jamais s'y fier en silence : un rattachement fait
    ainsi est marqué ``siren_presume``. La Corse (2A, 2B) suit le motif avec ``20``.
    """
    v = verifier_code_insee(code_insee)
    if not v.valide:
        return None
    code = v.valeur.replace("2A", "20").replace("2B", "20")
    if code.startswith("97") or code.startswith("98"):
        prefixe = "21" + code[:3] + "0" + code[3:]
    else:
        prefixe = "21" + code[:2] + "0" + code[2:]
    return siren_avec_cle(prefixe)


def code_insee_depuis_siren_presume(siren: str) -> list[str]:
    """Codes INSEE candidats dont le SIREN présumé (motif ``21…``) est ``siren``.

    Pour la Corse, ``2A`` et ``2B`` sont tous deux candidats ; à vérifier contre un
    référentiel. Liste vide si le SIREN ne suit pas le motif.
    """
    if len(siren) != 9 or not siren.isdigit() or not siren.startswith("21") or not _siren.is_valid(siren):
        return []
    if siren[2:4] in ("97", "98"):
        if siren[5] != "0":
            return []
        code = siren[2:5] + siren[6:8]
        return [code]
    if siren[4] != "0":
        return []
    dep, num = siren[2:4], siren[5:8]
    if dep == "20":
        return ["2A" + num, "2B" + num]
    return [dep + num]
