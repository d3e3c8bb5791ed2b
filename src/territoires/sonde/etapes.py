"""The probe's loading step: every journal under ``data/processed/sondes/`` into
``raw.sondes`` (one row per finished check, with its campaign and time) and
``raw.sondes_cibles`` (one row per target line). Without a journal both tables exist,
empty: the models read one shape, and no indicator of the probe is catalogued.

The step's fingerprint is the journals' names, sizes and dates: a probe run (or a
resumed one) makes the next build reload them, and only them.
"""

from __future__ import annotations

from pathlib import Path

from territoires.entrepot.etapes import Etape
from territoires.entrepot.litteraux import litteral
from territoires.sonde.journal import campagnes

TABLES = ("raw.sondes", "raw.sondes_cibles")

_CONTROLES = ("campagne varchar, objet varchar, cle varchar, verifie_le timestamp, duree_s double, resultat json")
_CIBLES = ("campagne varchar, genre varchar, identifiant varchar, operateur varchar, nom varchar, "
           "code_commune varchar, url varchar, domaine_mail varchar, cle_web varchar, cle_mail varchar")


def journaux(dossier: Path) -> list[Path]:
    return campagnes(dossier)


def empreinte(dossier: Path) -> str:
    """What the build hashes of the journals: name, size, date of each."""
    return repr([(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in journaux(dossier)])


def charger(con, dossier: Path) -> None:
    """Create ``raw.sondes`` and ``raw.sondes_cibles`` from the journals (a torn last line,
    left by a process killed mid-write, is skipped: it was not a finished check)."""
    fichiers = journaux(dossier)
    con.execute(f"create or replace table raw.sondes ({_CONTROLES})")
    con.execute(f"create or replace table raw.sondes_cibles ({_CIBLES})")
    if not fichiers:
        return
    liste = "[" + ", ".join(litteral(str(p)) for p in fichiers) + "]"
    colonnes = ("{type: 'VARCHAR', objet: 'VARCHAR', cle: 'VARCHAR', verifie_le: 'VARCHAR', duree_s: 'DOUBLE', "
                "resultat: 'JSON', genre: 'VARCHAR', identifiant: 'VARCHAR', operateur: 'VARCHAR', nom: 'VARCHAR', "
                "code_commune: 'VARCHAR', url: 'VARCHAR', domaine_mail: 'VARCHAR', cle_web: 'VARCHAR', "
                "cle_mail: 'VARCHAR'}")
    source = (f"read_json({liste}, format = 'newline_delimited', columns = {colonnes}, filename = true, "
              "ignore_errors = true)")
    campagne = "regexp_extract(filename, '([^/]+)\\.jsonl$', 1)"
    con.execute(f"insert into raw.sondes select {campagne}, objet, cle, "
                "strptime(verifie_le, '%Y-%m-%dT%H:%M:%S.%fZ'), duree_s, resultat "
                f"from {source} where type = 'controle' and cle is not null")
    con.execute(f"insert into raw.sondes_cibles select {campagne}, genre, identifiant, operateur, nom, code_commune, "
                f"url, domaine_mail, cle_web, cle_mail from {source} where type = 'cible' and identifiant is not null")


def etape(dossier: Path) -> Etape:
    return Etape(f"raw.sondes ← {dossier}", TABLES, empreinte(dossier) + Path(__file__).read_bytes().hex(),
                 lambda con: charger(con, dossier))
