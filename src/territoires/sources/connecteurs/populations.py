"""INSEE populations de référence (``ensemble.zip``): municipal population per commune.

The archive of https://www.insee.fr/fr/statistiques/8680726 (« Populations de référence
2023 », in force on 1 January 2026: publication 8681011; adopted by ANCT's st-home on
2026-01-05, commit 2beac59) holds ``donnees_communes.csv`` and
``donnees_collectivites.csv`` (Saint-Pierre-et-Miquelon, Saint-Barthélemy, Saint-Martin),
``;``-separated, UTF-8, with ``COM`` (the commune's INSEE code) and ``PMUN`` (municipal
population) — checked in github.com/suitenumerique/st-home ``data/tasks/dumps.py``.
Older editions split the code into ``DEP`` + ``CODCOM``: both layouts are read. The
other columns (``PCAP``, ``PTOT``, labels) are optional here.

Special cases, said where they are handled:

- Paris, Lyon and Marseille: the file lists their 45 arrondissements municipaux (75101–
  75120, 69381–69389, 13201–13216), not the three communes. Arrondissements are kept
  (``niveau = 'arrondissement'``) and each commune is rebuilt as their sum
  (``reconstituee = true``) unless the file already has it.
- Mayotte (976) follows its own census cycle: absent from the archive (no row is
  invented; the build keeps another population for it and must say so); some editions
  ship it apart as ``donnees_communes_mayotte.csv``, read when present.
- Populations may carry a space as thousands separator (``1 226``): removed.
"""

from __future__ import annotations

import tempfile
from contextlib import ExitStack
from pathlib import Path

from territoires.sources.archives import extraire_zip
from territoires.sources.connecteurs import colonnes, compter, csv_duckdb, entier, exiger, preparer, texte
from territoires.sources.erreurs import SourceError
from territoires.entrepot.litteraux import litteral

MEMBRES = ["donnees_communes.csv", "donnees_collectivites.csv", "donnees_communes_mayotte.csv"]
#: arrondissement code prefix → the commune they make up
PLM = {"751": "75056", "6938": "69123", "132": "13055"}


def _code(cols: list[str], path: Path) -> str:
    # older editions (populations légales 2021, read by github.com/etalab/decoupage-administratif
    # build/population.js): DEP + CODCOM, the code being DEP's first two characters +
    # CODCOM (971 + 101 → 97101), COM then holding the name
    dep = "CODDEP" if "CODDEP" in cols else ("DEP" if "DEP" in cols else None)
    if dep and "CODCOM" in cols:
        return f"left(trim(\"{dep}\"), 2) || lpad(trim(\"CODCOM\"), 3, '0')"
    if "COM" in cols:
        return "trim(\"COM\")"
    raise SourceError(f"{path}: ni colonne COM ni DEP + CODCOM (trouvées : {', '.join(cols)})")


def _lire(con, fichier: Path, niveau_defaut: str, fichiers: ExitStack) -> str:  # noqa: ANN001
    """The SQL of one member file; its UTF-8 copy, if any, lives as long as ``fichiers``."""
    rel = csv_duckdb(fichiers.enter_context(texte(fichier)), "delim=';', quote='\"', header=true, all_varchar=true")
    cols = colonnes(con, rel)
    exiger(fichier, cols, ["PMUN"])
    code = _code(cols, fichier)
    plm = " or ".join(f"starts_with(code, '{p}')" for p in PLM)
    opt = {c: (entier(f'"{c}"') if c in cols else "null") for c in ("PCAP", "PTOT")}
    return f"""
        select code, pmun, pcap, ptot,
               case when '{niveau_defaut}' = 'commune' and ({plm}) and code not in ({', '.join(litteral(v) for v in PLM.values())})
                    then 'arrondissement' else '{niveau_defaut}' end as niveau,
               false as reconstituee
        from (select {code} as code, {entier('"PMUN"')} as pmun, {opt['PCAP']} as pcap, {opt['PTOT']} as ptot
              from {rel})
        where code is not null and code <> ''
    """


def charger_populations(con, path: Path) -> int:  # noqa: ANN001
    """``ensemble.zip`` (or the folder it was extracted to) → ``raw.populations``
    (``code_insee``, ``pmun``, ``pcap``, ``ptot`` BIGINT, ``niveau``, ``reconstituee``)."""
    preparer(con)
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="territoires-pop-") as tmp, ExitStack() as fichiers:
        if path.is_dir():
            dossier = path
        elif path.name.endswith(".zip"):
            extrait = path.with_name(path.name[:-4])
            if all((extrait / m).is_file() for m in MEMBRES[:1]):
                dossier = extrait
            else:
                dossier = Path(tmp) / "ensemble"
                extraire_zip(path, dossier, [m for m in MEMBRES if _dans_zip(path, m)])
        else:
            raise SourceError(f"{path}: archive .zip ou dossier extrait attendu")
        communes = dossier / MEMBRES[0]
        if not communes.is_file():
            raise SourceError(f"{path}: {MEMBRES[0]} absent de l'archive")
        parties = [_lire(con, communes, "commune", fichiers)]
        if (dossier / MEMBRES[1]).is_file():
            parties.append(_lire(con, dossier / MEMBRES[1], "collectivite_outre_mer", fichiers))
        if (dossier / MEMBRES[2]).is_file():  # Mayotte, when an edition ships it apart
            parties.append(_lire(con, dossier / MEMBRES[2], "commune", fichiers))
        con.execute(f"""
            create or replace table raw.populations as
            select code as code_insee, pmun, pcap, ptot, niveau, reconstituee
            from ({' union all '.join(parties)})
        """)
    for prefixe, commune in PLM.items():
        con.execute(f"""
            insert into raw.populations
            select '{commune}', sum(pmun), sum(pcap), sum(ptot), 'commune', true
            from raw.populations
            where niveau = 'arrondissement' and starts_with(code_insee, '{prefixe}')
              and not exists (select 1 from raw.populations where code_insee = '{commune}')
            having count(*) > 0
        """)
    return compter(con, "raw.populations")


def _dans_zip(path: Path, membre: str) -> bool:
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            return any(Path(n).name == membre for n in zf.namelist())
    except zipfile.BadZipFile as exc:
        raise SourceError(f"{path}: archive zip illisible ({exc})") from exc
