"""The territory levels, read from ``data/niveaux.toml``: the one declaration that Python
and SQL (``raw.niveaux`` → ``staging.niveaux``) both read.

::

    from territoires import niveaux
    niveaux.NOMS                    # ('commune', 'epci', 'departement', 'region', 'operateur', 'alliance')
    niveaux.libelle("epci")         # 'EPCI'
    niveaux.devant_nom("region")    # 'de la région '
    niveaux.pluriel("epci")         # 'EPCI' (in a sentence: « les 26 départements »)
    niveaux.get("region").ce        # 'cette région'
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from territoires.entrepot.etapes import Etape
from territoires.entrepot.litteraux import inserer
from territoires.fichiers import lire_toml

FICHIER = Path(__file__).with_name("data") / "niveaux.toml"
_CHAMPS = ("niveau", "libelle", "libelle_pluriel", "du", "devant_nom", "tolerance", "precision", "page", "tableau",
           "ce", "sous_niveau", "rang", "adoption", "code_public", "nom_precise")


@dataclass(frozen=True)
class Niveau:
    niveau: str
    ordre: int
    libelle: str
    libelle_pluriel: str
    du: str
    devant_nom: str
    tolerance: float
    precision: int
    page: bool
    tableau: bool
    #: how a sentence of its page names the territory: « ce département »
    ce: str
    #: the level of the territories its page details under it ("" for none)
    sous_niveau: str
    #: its page ranks the territory among its peers
    rang: bool
    #: it has an adoption page in ``report --scope all``
    adoption: bool
    #: its code is shown to readers (an operator's is an internal identifier)
    code_public: bool
    #: in a sentence its name is followed by the level: « Bretagne (région) »
    nom_precise: bool


@cache
def tous() -> tuple[Niveau, ...]:
    """Every level, from the commune up to the alliance (the file's order)."""
    data = lire_toml(FICHIER, RuntimeError, "fichier des niveaux")
    out = []
    for i, entree in enumerate(data.get("niveau", []), 1):
        manquants = [k for k in _CHAMPS if k not in entree]
        if manquants:
            raise RuntimeError(f"{FICHIER}: niveau n°{i} : champ(s) manquant(s) {manquants}")
        out.append(Niveau(ordre=i, **{k: entree[k] for k in _CHAMPS}))
    return tuple(out)


def _par_nom() -> dict[str, Niveau]:
    return {n.niveau: n for n in tous()}


def get(niveau: str) -> Niveau:
    """One level; a French error lists the valid ones."""
    try:
        return _par_nom()[niveau]
    except KeyError:
        raise ValueError(f"niveau « {niveau} » inconnu ; choix : {', '.join(NOMS)}") from None


def libelle(niveau: str) -> str:
    return get(niveau).libelle


def libelle_pluriel(niveau: str) -> str:
    return get(niveau).libelle_pluriel


def du(niveau: str) -> str:
    return get(niveau).du


def devant_nom(niveau: str) -> str:
    return get(niveau).devant_nom


def pluriel(niveau: str) -> str:
    """The plural label inside a sentence: lower case, an acronym kept (« départements », « EPCI »)."""
    mot = get(niveau).libelle_pluriel
    return mot if mot.isupper() else mot.lower()


def pairs(niveau: str) -> str:
    """A territory's peers, as a rank names them: « départements de l'alliance »."""
    return f"{pluriel(niveau)} {du('alliance')}"


def precision(niveau: str) -> int:
    return get(niveau).precision


NOMS: tuple[str, ...] = tuple(n.niveau for n in tous())
#: levels that have a dashboard page, from the top down (navigation order)
PAGES: tuple[str, ...] = tuple(n.niveau for n in reversed(tous()) if n.page)
#: levels of a territory's page (tableau_de_bord.ipynb, and adoption.ipynb past its first
#: branch): the alliance's pages are made apart
TABLEAU: tuple[str, ...] = tuple(n.niveau for n in reversed(tous()) if n.tableau)
#: levels whose pages rank the territory among its peers, from the top down
RANG: tuple[str, ...] = tuple(n.niveau for n in reversed(tous()) if n.rang)
#: levels that have an adoption page in ``report --scope all``, from the top down
ADOPTION: tuple[str, ...] = tuple(n.niveau for n in reversed(tous()) if n.adoption)


def etape() -> Etape:
    """The loading step of ``raw.niveaux`` (read by SQL as Python reads :func:`tous`)."""
    def charger(con):
        con.execute(
            "create table raw.niveaux (niveau varchar, ordre integer, libelle varchar, libelle_pluriel varchar,"
            " du varchar, devant_nom varchar, tolerance double, precision integer, page boolean, tableau boolean)"
        )
        inserer(con, "raw.niveaux", [(n.niveau, n.ordre, n.libelle, n.libelle_pluriel, n.du, n.devant_nom,
                                      n.tolerance, n.precision, n.page, n.tableau) for n in tous()])

    return Etape("raw.niveaux", ("raw.niveaux",), FICHIER.read_bytes().hex(), charger)
