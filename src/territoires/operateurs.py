"""The operators (OPSN): one file declares them, ``operateurs.toml``, read here only.

The package ships the alliance's four (``territoires/data/operateurs.toml``); a home may
hold its own ``operateurs.toml`` (another operator, a test operator) that replaces it,
without touching the package. Every operator code becomes a folder and a page name: it
must match :data:`MOTIF`, refused at load with the file and the entry otherwise.
"""

from __future__ import annotations

import re
from pathlib import Path

from territoires.entrepot.etapes import BuildError, Etape
from territoires.entrepot.litteraux import inserer
from territoires.fichiers import lire_toml

PAQUET = Path(__file__).with_name("data") / "operateurs.toml"
NOM_FICHIER = "operateurs.toml"
#: an operator code: a folder name and a page name
MOTIF = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
REQUIS = ("code", "nom", "region")


class OperateursError(ValueError):
    """``operateurs.toml`` is unreadable or invalid; the message names the file and the entry."""


def fichier(home: Path | None = None) -> Path:
    """The operators' file in force: ``<home>/operateurs.toml`` when present, else the package's."""
    if home is not None and (Path(home) / NOM_FICHIER).is_file():
        return Path(home) / NOM_FICHIER
    return PAQUET


def lire(chemin: Path = PAQUET) -> list[dict]:
    """The operators declared in ``chemin``, checked (required fields, code pattern, no duplicate)."""
    ops = lire_toml(chemin, OperateursError, "fichier des opérateurs").get("operateur", [])
    texte = chemin.read_text(encoding="utf-8")  # read whole: its lines name a fault
    vus: set[str] = set()
    for i, op in enumerate(ops, 1):
        manquants = [k for k in REQUIS if not op.get(k)]
        ligne = _ligne(texte, i)
        ligne_code = _ligne(texte, i, "code")
        if manquants:
            raise OperateursError(f"{chemin}, ligne {ligne} : opérateur n°{i} : champ(s) manquant(s) {manquants}")
        code = str(op["code"])
        if not MOTIF.match(code):
            raise OperateursError(f"{chemin}, ligne {ligne_code} : code d'opérateur « {code} » refusé (il devient un nom "
                                  "de dossier et de page : minuscules, chiffres, « - » et « _ », 32 caractères au plus)")
        if code in vus:
            raise OperateursError(f"{chemin}, ligne {ligne_code} : code d'opérateur « {code} » en double")
        vus.add(code)
    return ops


def _ligne(texte: str, n: int, cle: str | None = None) -> int:
    """Line of the ``n``-th ``[[operateur]]`` table of the file, or of its ``cle = …`` line
    (for messages)."""
    k, debut = 0, 0
    for i, ligne in enumerate(texte.splitlines(), 1):
        if ligne.strip() == "[[operateur]]":
            k += 1
            if k == n:
                debut = i
                if cle is None:
                    return i
            elif debut:
                break
        elif debut and ligne.split("=")[0].strip() == cle:
            return i
    return debut


def codes(chemin: Path = PAQUET) -> list[str]:
    return [str(o["code"]) for o in lire(chemin)]


def par_siret(chemin: Path = PAQUET) -> dict[str, str]:
    """SIRET → operator code (to recognise operators in the ANCT exports)."""
    return {str(o["siret"]).replace(" ", ""): str(o["code"]) for o in lire(chemin) if o.get("siret")}


def etape(chemin: Path) -> Etape:
    """The loading step of ``raw.operateurs`` from the operators' file in force."""
    def charger(con):
        try:
            ops = lire(chemin)
        except OperateursError as exc:
            raise BuildError(str(exc)) from exc
        con.execute(
            "create table raw.operateurs (code varchar, nom varchar, nom_long varchar, region varchar,"
            " departements varchar[], site varchar, siret varchar, alliance boolean, decp_plateforme varchar,"
            " plateforme_opendata varchar)"
        )
        if ops:
            inserer(
                con, "raw.operateurs",
                [(o["code"], o["nom"], o.get("nom_long", o["nom"]), str(o["region"]),
                  [str(d) for d in o.get("departements", [])], o.get("site", ""),
                  o.get("siret", ""), bool(o.get("alliance", False)), o.get("decp_plateforme", ""),
                  o.get("plateforme_opendata", "")) for o in ops],
            )

    return Etape("raw.operateurs", ("raw.operateurs",), chemin.read_bytes().hex(), charger)
