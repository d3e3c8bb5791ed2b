"""À quel opérateur reviennent les lignes d'un export de la Suite territoriale (colonne
``operateur_id``, un UUID de l'ANCT) : une décision par fichier, prise avant d'en lire les
lignes, la même à la validation, à l'import et au build.

Règles, dans l'ordre, pour chaque identifiant du fichier :

1. ``[operateurs_anct]`` du ``correspondance.toml`` de l'opérateur (``"<uuid>" = "<code>"``) ;
2. l'export des opérateurs de la Suite territoriale (``operateurs-quotidien.csv``, téléchargé
   ou déposé dans ``data/raw/adherents/anct/``) : le SIRET de l'opérateur ANCT est celui d'un
   opérateur d'``operateurs.toml`` ;
3. un fichier importé chez un opérateur (``--operateur``) qui ne contient **qu'un**
   identifiant : c'est celui de cet opérateur (l'utilisateur a dit à qui est le fichier).

Un fichier importé chez un opérateur qui contient plusieurs identifiants dont un au moins
reste sans correspondance est refusé (erreur de fichier) : les identifiants, leurs lignes
et la manière de les relier sont dans le message. Un fichier d'un seul identifiant que
l'export des opérateurs donne à un autre opérateur est refusé aussi (on ne contredit pas
la preuve du SIRET sans le dire). Dans l'export national (dossier ``anct/``), les lignes
d'un opérateur non suivi sont rejetées une à une, avec la raison : jamais rangées sous un
opérateur qu'aucune page ne montre.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from territoires import formats

__all__ = ["Attribution", "attribuer", "REGLE_CORRESPONDANCE", "REGLE_SIRET", "REGLE_OPERATEUR"]

REGLE_CORRESPONDANCE = "correspondance.toml"
REGLE_SIRET = "SIRET (export des opérateurs de la Suite territoriale)"
REGLE_OPERATEUR = "--operateur (seul identifiant du fichier)"


@dataclass(frozen=True)
class Attribution:
    """La décision pour un fichier : ``carte`` identifiant → (code d'opérateur, règle),
    ``comptes`` identifiant → lignes, ``erreur`` (fichier refusé) ou ``None``."""

    carte: dict[str, tuple[str, str]] = field(default_factory=dict)
    comptes: dict[str, int] = field(default_factory=dict)
    erreur: str | None = None

    def operateur(self, oid: str) -> str | None:
        c = self.carte.get(oid)
        return c[0] if c else None

    def description(self) -> str:
        """Une ligne par identifiant, pour la sortie de ``validate`` et ``import``."""
        lignes = []
        for oid, n in sorted(self.comptes.items(), key=lambda kv: (-kv[1], kv[0])):
            code, regle = self.carte.get(oid, (None, None))
            cible = f"{code} ({regle})" if code else (
                "sans correspondance" if self.erreur else "aucun opérateur suivi : lignes rejetées")
            lignes.append(f"opérateur de la Suite territoriale {oid} ({formats.entier(n)} ligne{'s' if n > 1 else ''})"
                          f" → {cible}")
        return "\n".join(lignes)


def _liste(comptes: dict[str, int], oids: list[str]) -> str:
    return ", ".join(f"{oid} ({formats.entier(comptes[oid])} ligne{'s' if comptes[oid] > 1 else ''})"
                     for oid in sorted(oids, key=lambda o: (-comptes[o], o)))


def attribuer(comptes: dict[str, int], dossier: str, *, explicite: dict[str, str] | None = None,
              par_siret: dict[str, str] | None = None, national: bool = False,
              codes_connus: set[str] | None = None) -> Attribution:
    """Décide à quel opérateur reviennent les lignes de chaque identifiant ``operateur_id``.

    ``comptes`` : identifiant → lignes du fichier (identifiants vides exclus) ; ``dossier`` :
    l'opérateur chez qui le fichier est importé (``--operateur``) ; ``explicite`` :
    ``[operateurs_anct]`` de son ``correspondance.toml`` ; ``par_siret`` : identifiant →
    code d'après l'export des opérateurs ; ``national`` : l'export national (``anct/``), où
    un identifiant non suivi est rejeté ligne à ligne ; ``codes_connus`` : les codes
    d'``operateurs.toml`` (une correspondance vers un autre code est une erreur).
    """
    explicite = explicite or {}
    par_siret = par_siret or {}
    carte: dict[str, tuple[str, str]] = {}
    for oid in comptes:
        if oid in explicite and not national:
            code = explicite[oid]
            if codes_connus is not None and code not in codes_connus:
                return Attribution({}, dict(comptes), (
                    f"correspondance.toml, [operateurs_anct] : « {oid} » = « {code} », opérateur absent "
                    f"d'operateurs.toml (codes possibles : {', '.join(sorted(codes_connus))})"))
            carte[oid] = (code, REGLE_CORRESPONDANCE)
        elif oid in par_siret:
            carte[oid] = (par_siret[oid], REGLE_SIRET)
    sans = [oid for oid in comptes if oid not in carte]
    if national:
        return Attribution(carte, dict(comptes))
    aide = (f"ajoutez dans data/raw/adherents/{dossier}/correspondance.toml une section [operateurs_anct] qui "
            "relie chaque identifiant à un code d'operateurs.toml (une ligne par identifiant, par exemple "
            f"« \"{(sans or list(comptes) or ['<identifiant>'])[0]}\" = \"{dossier}\" »), ou déposez l'export "
            "national dans data/raw/adherents/anct/ avec l'export des opérateurs (operateurs-quotidien.csv), "
            "qui relie les opérateurs par leur SIRET")
    if len(comptes) == 1:
        (oid,) = comptes
        if not sans and carte[oid][1] == REGLE_SIRET and carte[oid][0] != dossier:
            code = carte[oid][0]
            return Attribution(carte, dict(comptes), (
                f"l'identifiant d'opérateur {oid} ({formats.entier(comptes[oid])} lignes) est celui de « {code} » "
                "d'après l'export des opérateurs de la Suite territoriale (rapprochement par SIRET), pas de "
                f"« {dossier} » : importez ce fichier avec --operateur {code} ; s'il s'agit bien du registre de "
                f"« {dossier} », ajoutez dans data/raw/adherents/{dossier}/correspondance.toml une section "
                f"[operateurs_anct] avec « \"{oid}\" = \"{dossier}\" »"))
        if sans:
            carte[oid] = (dossier, REGLE_OPERATEUR)
        return Attribution(carte, dict(comptes))
    if sans:
        return Attribution(carte, dict(comptes), (
            f"{len(comptes)} opérateurs de la Suite territoriale dans ce fichier (colonne operateur_id), dont "
            f"{len(sans)} sans correspondance : {_liste(comptes, sans)} ; un fichier importé avec --operateur "
            f"{dossier} ne peut être attribué d'office que s'il n'en contient qu'un. Pour le lire, {aide}"))
    return Attribution(carte, dict(comptes))
