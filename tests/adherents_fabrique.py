"""Fabrique de registres d'adhérents pour les tests : noms fictifs, clés de contrôle valides
calculées ici (jamais recopiées d'une entité réelle), dans tous les formats lus."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

from territoires.members.identifiants import siren_avec_cle, siret_avec_cle
from territoires.members.validation import Referentiel

ENTETE = ["SIRET", "Raison sociale", "Type de collectivité", "Code INSEE", "Date d'adhésion", "Services souscrits"]


def siren(n: int) -> str:
    """Un SIREN valide et fictif (préfixe 80…), différent pour chaque ``n``."""
    return siren_avec_cle(f"{80000000 + n:08d}")


def siret(n: int, nic: int = 1) -> str:
    """Un SIRET valide et fictif : SIREN ``siren(n)`` + NIC ``nic`` + clé."""
    return siret_avec_cle(f"{siren(n)}{nic:04d}")


def mauvaise_cle(code: str) -> str:
    """Le même identifiant, dernier chiffre changé : clé invalide."""
    return code[:-1] + str((int(code[-1]) + 1) % 10)


def lignes_simples() -> list[list[str]]:
    """Trois adhérents valides (référentiel :func:`referentiel_mini`)."""
    return [
        ENTETE,
        [siret(1), "Commune fictive A", "Commune", "29019", "15/03/2021", "Actes|Parapheur électronique"],
        [siret(2), "Communauté de communes fictive B", "Communauté de communes", "", "2021-09-01", "Salle des marchés"],
        [siret(3), "CCAS fictif de C", "Centre communal d'action sociale", "29232", "15 mars 2022", ""],
    ]


def referentiel_mini() -> Referentiel:
    """Un petit référentiel écrit à la main (codes de forme réelle, noms fictifs)."""
    return Referentiel(
        communes={"29019": "Commune fictive A", "29232": "Commune fictive C", "29003": "Commune fictive D",
                  "2A004": "Commune corse fictive", "97101": "Commune ultramarine fictive",
                  "01001": "Commune de l'Ain fictive", "22222": "Commune fictive P"},
        anciennes={"29052": ("29003", "Commune fictive D", "Ancienne commune fictive")},
        arrondissements={},
        epci={siren(900): "EPCI fictif"},
        siren_communes={siren(901): "29232"},
    )


def texte_csv(lignes: list[list[str]], sep: str = ";") -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=sep, lineterminator="\r\n").writerows(lignes)
    return buf.getvalue()


def ecrire_csv(chemin: Path, lignes: list[list[str]], *, sep: str = ";", encodage: str = "utf-8",
               gz: bool = False) -> Path:
    donnees = texte_csv(lignes, sep).encode(encodage)
    chemin.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        with gzip.open(chemin, "wb") as f:
            f.write(donnees)
    else:
        chemin.write_bytes(donnees)
    return chemin


def ecrire_xlsx(chemin: Path, lignes: list[list], *, feuille: str = "Adhérents", autres_feuilles=()) -> Path:
    import xlsxwriter

    chemin.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(chemin), {"strings_to_formulas": False, "strings_to_numbers": False,
                                           "strings_to_urls": False})
    for nom in autres_feuilles:
        wb.add_worksheet(nom).write(0, 0, "rien")
    ws = wb.add_worksheet(feuille)
    fmt_date = wb.add_format({"num_format": "dd/mm/yyyy"})
    for i, ligne in enumerate(lignes):
        for j, v in enumerate(ligne):
            if v is None:
                continue
            if hasattr(v, "year"):
                ws.write_datetime(i, j, v, fmt_date)
            elif isinstance(v, (int, float)):
                ws.write_number(i, j, v)
            else:
                ws.write_string(i, j, v)
    wb.close()
    return chemin


def comptes_justes(bilan) -> bool:
    return bilan.lues == bilan.acceptees + bilan.rejetees


# ── exports de la Suite territoriale (format « adherents » de l'ANCT) ─────────

#: en-tête de l'export « adherents » (github.com/suitenumerique/st-deploycenter, datagouv.py ;
#: tests/fixtures/sources/README.md)
ENTETE_ANCT_ADHERENTS = ["operateur_id", "organisation_siret", "organisation_type", "organisation_nom",
                         "organisation_code_insee", "role"]
#: des identifiants d'opérateur de la Suite territoriale inventés (UUID de forme réelle)
OPERATEUR_ANCT_FICTIF = "0f1c2d3e-4b5a-4697-8a1b-2c3d4e5f6a7b"
OPERATEUR_ANCT_FICTIF_2 = "9e8d7c6b-5a49-4382-b716-a5b4c3d2e1f0"


def siret_commune(code_insee: str, nic: int = 1) -> str:
    """Un SIRET de forme communale pour ``code_insee`` (``21`` + département + ``0`` + numéro
    + clé, puis NIC + clé) : le motif suffit à des tests, ce n'est pas un référentiel."""
    return siret_avec_cle(f"{siren_avec_cle('21' + code_insee[:2] + '0' + code_insee[2:])}{nic:04d}")


def export_anct_adherents(chemin: Path, lignes: list[tuple[str, str]], *, gz: bool = True) -> Path:
    """Un export « adherents » de la Suite territoriale : ``lignes`` = (operateur_id, code INSEE)
    de communes, noms fictifs ; écrit comme l'ANCT (``;``, CRLF, UTF-8, gzip)."""
    rows = [ENTETE_ANCT_ADHERENTS]
    for k, (oid, code) in enumerate(lignes):
        rows.append([oid, siret_commune(code), "commune", f"Commune fictive n° {k} de l'export", code, "admin"])
    return ecrire_csv(chemin, rows, gz=gz)
