"""The map's classes at commune level: score bands and yes/no categories, with their
colours and French labels (the dashboards' maps and :func:`territoires.carte` share them).
"""

from __future__ import annotations

from typing import Any

from territoires import charts, couleurs, formats

#: the « donnée absente » class of the commune maps
ABSENTE = f"{couleurs.DONNEE_ABSENTE} (pas de fiche mairie)"
CAT_SITE = [("Site déclaré", couleurs.OUI), ("Pas de site déclaré", couleurs.NON), (ABSENTE, couleurs.INCONNU)]
CAT_EMAIL = [("Domaine propre ou public", couleurs.OUI), ("Messagerie grand public", couleurs.NON),
             ("Autre ou non déclarée", "#6b6b6b"), (ABSENTE, couleurs.INCONNU)]
CAT_OUI_NON = [("Oui", couleurs.OUI), ("Non", couleurs.NON), (ABSENTE, couleurs.INCONNU)]


def cat_oui_non(r: dict | None, col: str) -> int:
    if not r or not r.get("fiche_mairie"):
        return 2
    return 0 if r.get(col) else 1


def cat_email(r: dict | None) -> int:
    if not r or not r.get("fiche_mairie"):
        return 3
    if r.get("email_non_generique"):
        return 0
    if r.get("email_webmail_grand_public"):
        return 1
    return 2


def variantes_communes(ids: list[str], pres: dict[str, dict[str, Any]], cat: dict[str, dict]) -> list[dict]:
    """The map's indicators at commune level: score, website, e-mail, HTTPS, opening hours."""
    rows = [pres.get(c) for c in ids]
    score = [(r or {}).get("score_presence") for r in rows]
    classe = charts.classer(score, 1, couleurs.CLASSES_POINTS)  # the score bands of every map
    out = [charts.variante(
        cat.get("score_presence", {}).get("libelle", "Score de présence numérique"), classe,
        [("Score : " + (formats.entier(s) + "\u202f/\u202f100" if s is not None else "pas de fiche mairie")) for s in score],
        categories_=couleurs.categories_classes(couleurs.CLASSES_POINTS)[:-1] + [(ABSENTE, couleurs.INCONNU)],
    )]

    def cat_var(libelle: str, values: list[int], cats: list[tuple[str, str]]) -> dict:
        return charts.variante(libelle, values, categories_=cats)

    out.append(cat_var("Site internet", [cat_oui_non(r, "site_declare") for r in rows], CAT_SITE))
    out.append(cat_var("Adresse électronique", [cat_email(r) for r in rows], CAT_EMAIL))
    out.append(cat_var("Site en HTTPS", [cat_oui_non(r, "https") for r in rows], CAT_OUI_NON))
    out.append(cat_var("Horaires publiés", [cat_oui_non(r, "horaires_publies") for r in rows], CAT_OUI_NON))
    return out


def oui_non(r: dict | None, col: str) -> str:
    if not r or not r.get("fiche_mairie"):
        return "–"
    return "oui" if r.get(col) else "non"


def email_label(r: dict | None) -> str:
    return CAT_EMAIL[cat_email(r)][0].lower() if r else "–"
