"""BANATIC (DGCL): the pre-generated national export of groupements and their members, XLSX.

``https://www.banatic.interieur.gouv.fr/consultation/api/export/pregenere/telecharger/France``:
one sheet, header on row 1, one row per groupement × member (~140 000 rows, ~120 columns,
~75 MB). It is the current membership: ANCT's st-home switched to it on 2026-05-29 (commit
a2c71b7, « url changed at Banatic without warning ») and takes from it the perimeter of the
EPCI à fiscalité propre (``data/tasks/dumps.py``, ``dump_groupements_memberships``, and
``lib.py``: ``Nature juridique`` in CC, CA, CU, METRO, MET69 and ``Catégorie des membres du
groupement`` = ``commune``), while the « périmètre des EPCI » CSV is republished yearly.

Columns read, by name (st-home; github.com/faits-politiques/faits-politiques checks the
same names at fixed positions): ``N° SIREN``, ``Nom du groupement``, ``Nature juridique``,
``Siren membre``, ``Nom membre``, ``Catégorie des membres du groupement``; optional
``Département`` (« 29 - Finistère »), ``Date de création``, ``Date d'effet``. A member
commune is given by its SIREN only: its INSEE code comes from a fetched reference
(``staging.communes_siren``). SIRENs read as numbers are written back on 9 digits.

The sheet is read with python-calamine (one block in memory, Rust) through the member
registers' reader (:class:`territoires.lecture.Lecteur`), and written row by row
to a buffer file that DuckDB reads (:class:`territoires.entrepot.litteraux.Tampon`).
Measured on a synthetic sheet of the real size (140 000 rows × 120 columns, 33 MB): 26 s,
1.2 GB peak memory. A streamed read of the sheet's XML (``xml.etree.iterparse``, only the
columns above) took 79 s and 25 MB on the same file: the trade-off to revisit if the real
75 MB file pushes the build past its memory budget.
"""

from __future__ import annotations

import datetime
import tempfile
from pathlib import Path

from territoires.entrepot.litteraux import Tampon
from territoires.sources.connecteurs import compter, exiger, preparer
from territoires.sources.erreurs import SourceError
from territoires.lecture import ErreurFichier, Lecteur

#: sheet column → raw column
COLONNES = {
    "N° SIREN": "groupement_siren",
    "Nom du groupement": "groupement_nom",
    "Nature juridique": "nature_juridique",
    "Siren membre": "membre_siren",
    "Nom membre": "membre_nom",
    "Catégorie des membres du groupement": "categorie_membre",
}
FACULTATIVES = {"Département": "departement", "Date de création": "date_creation", "Date d'effet": "date_effet"}
#: natures juridiques of the EPCI à fiscalité propre (st-home tasks/defs.py EPCI_FP_NATURES)
NATURES_EPCI_FP = ("CC", "CA", "CU", "METRO", "MET69")


def _texte(v) -> str | None:  # noqa: ANN001
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    t = str(v).strip()
    return t or None


def _siren(v) -> str | None:  # noqa: ANN001
    t = _texte(v)
    return t.zfill(9) if t and t.isdigit() and len(t) <= 9 else t


def _date(v) -> datetime.date | None:  # noqa: ANN001
    if isinstance(v, datetime.datetime):
        return v.date()
    if isinstance(v, datetime.date):
        return v
    t = _texte(v)
    if t:
        for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
            try:
                return datetime.datetime.strptime(t, fmt).date()
            except ValueError:
                pass
    return None


def charger_groupements(con, path: Path) -> int:  # noqa: ANN001
    """The XLSX export → ``raw.banatic_groupements``: one row per groupement × member."""
    preparer(con)
    colonnes = [(c, "varchar") for c in [*COLONNES.values(), "departement"]] + [
        ("date_creation", "date"), ("date_effet", "date")]
    with tempfile.TemporaryDirectory(prefix="territoires-banatic-") as tmp:
        tampon = Tampon(tmp, "groupements", colonnes)
        try:
            with Lecteur(Path(path), nom=str(path)) as lu:
                exiger(path, lu.entetes, list(COLONNES))
                pos = {nom: lu.entetes.index(nom) for nom in [*COLONNES, *FACULTATIVES] if nom in lu.entetes}

                def cellule(cellules, nom):  # noqa: ANN001, ANN202
                    i = pos.get(nom)
                    return cellules[i] if i is not None and i < len(cellules) else None

                for ligne in lu:
                    c = ligne.cellules
                    tampon.ajouter([_siren(cellule(c, "N° SIREN")), _texte(cellule(c, "Nom du groupement")),
                                    _texte(cellule(c, "Nature juridique")), _siren(cellule(c, "Siren membre")),
                                    _texte(cellule(c, "Nom membre")),
                                    _texte(cellule(c, "Catégorie des membres du groupement")),
                                    _texte(cellule(c, "Département")), _date(cellule(c, "Date de création")),
                                    _date(cellule(c, "Date d'effet"))])
        except ErreurFichier as exc:
            tampon.fermer()
            raise SourceError(f"{exc} — le fichier n'est pas l'export XLSX de BANATIC attendu ; "
                              "téléchargez-le à nouveau s'il est tronqué (territoires fetch banatic-groupements)") from exc
        tampon.creer(con, "raw.banatic_groupements")
    return compter(con, "raw.banatic_groupements")
