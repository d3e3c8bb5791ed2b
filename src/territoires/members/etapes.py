"""The loading steps of the members package: the entity types and service taxonomy
(package data files), and the operators' registers under ``data/raw/adherents/``
(validated, attached to the territories of ``staging.communes`` / ``staging.epci``).
The warehouse runs them (:mod:`territoires.warehouse.build`); this package owns them.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path

from territoires import empreintes
from territoires.entrepot.etapes import Etape
from territoires.entrepot.litteraux import inserer
from territoires.members import load as membres
from territoires.members.referentiel import Referentiel
from territoires.members.registres import empreinte_correspondances
from territoires.members.taxonomie import FICHIERS, chemin_donnees

#: the folder, in ``data/processed/``, of each operator's validated register rows
CACHE_REGISTRES = "registres-valides"

#: tables made by :func:`etape_adherents`
TABLES_ADHERENTS = ("raw.adherents", "raw.abonnements", "raw.adherents_rejets", "raw.registres")


def etape_taxonomie() -> Etape:
    """Entity types and the service taxonomy (package data files): their own step, so that
    importing a register leaves them, and every table reading them, as they are."""
    return Etape("raw.services, raw.types_entites", ("raw.types_entites", "raw.services",
                                                     "raw.services_correspondances"),
                 repr([chemin_donnees(n).read_bytes().hex() for n in FICHIERS.values()]),
                 lambda con: membres.charger_taxonomie(con))


def etape_adherents(adherents_dir: Path, empreintes_staging: tuple[str | None, ...], operateurs_file: Path,
                    telechargees: dict[Path, str] | None = None, cache: Path | None = None) -> Etape:
    """The member registers under ``data/raw/adherents/``: run once staging is built;
    ``telechargees`` (:func:`territoires.sources.etapes.anct_telechargees`): the fetched
    Suite territoriale exports, read by the same reader, so an operator present there
    (matched by SIRET) gets its members and subscriptions without a file of its own. Its
    fingerprint: the registers' bytes, the members' code and data files, and the
    reference it attaches to. ``cache``: where each operator's validated rows are kept
    (:func:`territoires.members.load.load_raw`), so that a register imported by one operator
    does not make the others' be validated again."""
    telechargees = telechargees or {}
    fichiers = membres.fichiers_registres(adherents_dir, operateurs_file=operateurs_file,
                                          anct_telechargees=tuple(telechargees))
    # what every operator's validation depends on besides its own files: the code it runs
    # (found from imports: the way the rows are written included, the cache holds them so),
    # the data files of territoires.members, operateurs.toml, the communes and EPCI it attaches to
    code = [*empreintes.fichiers(membres.__name__), *sorted(Path(membres.__file__).parent.glob("*.csv"))]
    cle_commune = hashlib.sha256(repr([p.read_bytes().hex() for p in code] + [
        operateurs_file.read_bytes().hex(), empreintes_staging]).encode()).hexdigest()
    fp = repr([(f.nom, f.sha256) for f in fichiers] + empreinte_correspondances(adherents_dir) + [cle_commune])

    def charger(con):
        membres.load_raw(con, adherents_dir, lambda: Referentiel.depuis_entrepot(con),
                         operateurs_file=operateurs_file, anct_telechargees=tuple(telechargees), cache=cache,
                         cle_cache=cle_commune)
        con.execute("create or replace table raw.registres (operateur varchar, fichier varchar, sha256 varchar,"
                    " importe_le timestamp, source_id varchar, chemin varchar)")
        if fichiers:
            inserer(con, "raw.registres",
                    [(f.operateur, f.nom, f.sha256, _date_import(f.chemin), telechargees.get(f.chemin),
                      str(f.chemin) if f.chemin in telechargees else None) for f in fichiers])

    return Etape("raw.adherents ← data/raw/adherents/", TABLES_ADHERENTS, fp, charger)


def _date_import(chemin: Path) -> datetime:
    """When a register was imported: its name's timestamp (``AAAAMMJJTHHMMSS-…``), else the
    file's modification time."""
    try:
        return datetime.strptime(chemin.name[:15], "%Y%m%dT%H%M%S")
    except ValueError:
        return datetime.fromtimestamp(chemin.stat().st_mtime, timezone.utc).replace(tzinfo=None, microsecond=0)
