"""Sub-commands of the indicators: ``territoires indicateurs`` and ``territoires export``.

Imports stay light (no polars, no geopandas) for ``indicateurs``: the region table of the
four regions prints in well under 2 s from a built warehouse.
"""

from __future__ import annotations

import argparse

from territoires import formats
from territoires import niveaux
from territoires.sorties import reglages
from territoires.historique import evolution
from territoires.indicators.api import REQUETE_INCONNUS, requete_indicateurs, verifier_territoire
from territoires.indicators.export import exporter


def _liste(text: str | None) -> list[str] | None:
    if not text:
        return None
    return [t.strip() for t in text.split(",") if t.strip()]


def _valeur(taux: float | None, unite: str) -> str:
    if unite.startswith("points"):
        return "–" if taux is None else formats.decimal(taux * 100)
    return formats.pourcent(taux)


def _pied(catalogue: dict[str, dict], shown: list[str]) -> list[str]:
    """Footer lines: sources and vintages of the indicators shown."""
    sources: list[str] = []
    vintages: list[str] = []
    for ind in shown:
        for s in catalogue[ind]["sources"]:
            if s not in sources:
                sources.append(s)
        for part in (catalogue[ind]["millesime"] or "").split(" ; "):
            if part and part not in vintages:
                vintages.append(part)
    return [f"Sources : {', '.join(sources)} (détail : territoires sources)",
            f"Millésimes : {' ; '.join(vintages)}"]


def _catalogue(con) -> dict[str, dict]:
    rows = con.execute(
        "select indicateur, libelle, libelle_court, unite, tableau, sources, millesime, ordre "
        "from marts.indicateurs_catalogue order by ordre"
    ).fetchall()
    return {r[0]: {"libelle": r[1], "court": r[2], "unite": r[3], "tableau": r[4], "sources": r[5],
                   "millesime": r[6], "ordre": r[7]} for r in rows}


def _inconnus(con, limite: int) -> int:
    rows = con.execute(REQUETE_INCONNUS, [limite, limite]).fetchall()
    totals = dict(con.execute(
        """
        select 'site', count(distinct site_domaine) filter (where classe_hebergement = 'domaine_propre'
               and not site_classe_par_liste) from marts.presence_numerique
        union all
        select 'email', count(distinct email_domaine) filter (where classe_email = 'domaine_propre'
               and not email_classe_par_liste) from marts.presence_numerique
        """
    ).fetchall())
    for usage, titre, fichier in (("site", "Domaines de site non classés", "sites.csv"),
                                  ("email", "Domaines de messagerie non classés", "messageries.csv")):
        sel = [r for r in rows if r[0] == usage]
        partages = sum(1 for r in sel if r[2] > 1)
        print(f"{titre} : {formats.entier(totals.get(usage, 0))} domaine(s), classés « domaine propre » "
              f"par défaut ; les {len(sel)} plus fréquents ({partages} partagé(s) par plusieurs communes) ; "
              f"à compléter dans territoires/indicators/{fichier} :")
        print(formats.table([{"domaine": d, "communes": formats.entier(n), "exemples": ", ".join(ex)}
                             for _, d, n, ex in sel]))
        print()
    print("Un domaine utilisé par plusieurs communes est souvent une plateforme ou un fournisseur "
          "partagé ; un domaine propre n'apparaît qu'une fois.")
    return 0


def cmd_indicateurs(args: argparse.Namespace) -> int:
    from territoires.entrepot.connexion import connect  # paresseux : charge duckdb

    con = connect(reglages(args).warehouse)
    try:
        if args.inconnus is not None:
            return _inconnus(con, args.inconnus)
        verifier_territoire(con, args.niveau, args.code, args.region)
        cat = _catalogue(con)
        wanted = _liste(args.indicateurs)
        if wanted:
            unknown = [w for w in wanted if w not in cat]
            if unknown:
                raise ValueError(f"indicateur(s) inconnu(s) {unknown} ; choix : {', '.join(cat)}")
        if getattr(args, "evolution", False):
            return _evolution(con, args, cat, wanted or [i for i, c in cat.items() if c["tableau"]])
        if args.code and not args.tranches:
            return _detail(con, args, cat, wanted or list(cat))
        shown = wanted or [i for i, c in cat.items() if c["tableau"]]
        sql, params = requete_indicateurs(args.niveau, args.code, args.region, tranches=args.tranches,
                                          indicateurs=shown + ["part_fiche_mairie"])
        rows = con.execute(sql, params).fetchall()
    finally:
        con.close()
    if not rows:
        print("(aucun territoire)")
        return 0
    table: dict[tuple, dict] = {}
    for (niveau, code, nom, tranche, tranche_lib, ind, _lib, num, den, taux, _tp, _pop,
         unite, _pol, _src, _mil) in rows:
        key = (code, tranche)
        row = table.setdefault(key, {"code": code, "nom": nom[:40]})
        if args.tranches:
            row["tranche"] = tranche_lib
        if ind == "part_fiche_mairie":
            row["communes"] = formats.entier(den)
        row[ind] = _valeur(taux, unite)
    columns = ["code", "nom"] + (["tranche"] if args.tranches else []) + ["communes"] + shown
    out = []
    for r in table.values():
        out.append({("communes" if c == "communes" else cat[c]["court"] if c in cat else c): r.get(c, "")
                    for c in columns})
    print(formats.table(out))
    print()
    print("Taux en % (dénominateur : communes ayant une fiche mairie, ou déclarant un site pour "
          "les indicateurs « /sites ») ; score : moyenne sur 100. "
          f"Détail et dénominateurs : territoires indicateurs --niveau {args.niveau} --code CODE.")
    for line in _pied(cat, shown):
        print(line)
    return 0


def _detail(con, args, cat: dict[str, dict], shown: list[str]) -> int:
    sql, params = requete_indicateurs(args.niveau, args.code, None, indicateurs=shown)
    rows = con.execute(sql, params).fetchall()
    if not rows:
        print("(aucun indicateur)")
        return 0
    print(f"{rows[0][2]} ({args.niveau} {args.code})\n")
    print(formats.table([
        {"indicateur": lib, "numérateur": formats.entier(num), "dénominateur": formats.entier(den),
         "taux": _valeur(taux, unite), "pondéré population": _valeur(tp, unite)}
        for (_n, _c, _nom, _t, _tl, _ind, lib, num, den, taux, tp, _pop, unite, _pol, _src, _mil) in rows
    ]))
    print()
    for line in _pied(cat, [r[5] for r in rows]):
        print(line)
    return 0


def _evolution(con, args, cat: dict[str, dict], shown: list[str]) -> int:
    """Change of each indicator since the previous vintage (marts.historique_indicateurs)."""
    evo = evolution(con, args.niveau, args.code)
    if evo.is_empty():
        print("Pas d'évolution : l'historique ne contient pas de millésime précédent "
              "(il s'enrichit à chaque construction dont les millésimes changent).")
        return 0
    noms = dict(con.execute("select code, nom from marts.territoires where niveau = ?", [args.niveau]).fetchall())
    regions = None
    if args.region:
        regions = {c for (c,) in con.execute("select code from marts.territoires where niveau = ? "
                                             "and list_contains(regions, ?)", [args.niveau, args.region]).fetchall()}
    rows = []
    for r in evo.filter(evo["tranche_taille"] == "ensemble").iter_rows(named=True):
        if r["indicateur"] not in shown or (regions is not None and r["code"] not in regions):
            continue
        unite = cat[r["indicateur"]]["unite"]
        delta = r["evolution"]
        ecart = "–" if delta is None else ("+" if delta > 0 else "") + formats.decimal(delta * 100) + " pt"
        rows.append({"code": r["code"], "nom": (noms.get(r["code"]) or "")[:40], "indicateur": cat[r["indicateur"]]["court"],
                     "avant": _valeur(r["taux_precedent"], unite), "maintenant": _valeur(r["taux"], unite),
                     "évolution": ecart})
    print(f"Évolution depuis {evo['millesime_precedent'][0]}")
    print(formats.table(rows) if rows else "(aucun territoire)")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from territoires.entrepot.connexion import connect  # paresseux : charge duckdb

    cfg = reglages(args)
    con = connect(cfg.warehouse)
    try:
        paths = exporter(args.niveau, args.format, region=args.region, output=args.output, con=con,
                         forme=args.forme, tranches=args.tranches, home=cfg.home)
    finally:
        con.close()
    for p in paths:
        print(f"Écrit : {p} ({formats.taille(p.stat().st_size)})")
    return 0


def register(sub) -> None:
    """Add ``indicateurs`` and ``export`` to the ``territoires`` command line."""
    i = sub.add_parser(
        "indicateurs",
        help="indicateurs de présence numérique des mairies, à chaque niveau",
        description="Affiche les indicateurs de présence numérique (site, HTTPS, domaine, "
                    "messagerie, horaires, score) pour les territoires d'un niveau.",
    )
    i.add_argument("--niveau", default="region", choices=niveaux.NOMS, help="niveau de territoire (défaut : region)")
    i.add_argument("--code", help="un territoire : tous ses indicateurs, avec numérateurs et dénominateurs")
    i.add_argument("--region", help="seulement les territoires de cette région (code INSEE)")
    i.add_argument("--tranches", action="store_true", help="détailler par tranche de taille de commune")
    i.add_argument("--indicateurs", help="identifiants d'indicateurs, séparés par des virgules")
    i.add_argument("--evolution", action="store_true",
                   help="l'évolution depuis le millésime précédent (historique des constructions)")
    i.add_argument("--inconnus", nargs="?", type=int, const=20, metavar="N",
                   help="lister les N domaines non classés les plus fréquents (défaut 20)")
    i.set_defaults(func=cmd_indicateurs)

    e = sub.add_parser(
        "export",
        help="exporter les indicateurs (csv, xlsx, parquet, gpkg)",
        description="Exporte les indicateurs d'un niveau. CSV pour Excel/LibreOffice en français "
                    "(« ; », UTF-8 avec BOM, virgule décimale) avec un fichier compagnon "
                    "*.sources.csv ; GeoPackage en EPSG:4326 pour QGIS.",
    )
    e.add_argument("--niveau", default="commune", choices=niveaux.NOMS, help="niveau (défaut : commune)")
    e.add_argument("--format", default="csv", choices=("csv", "xlsx", "parquet", "gpkg"), help="format (défaut : csv)")
    e.add_argument("--region", help="seulement les territoires de cette région (code INSEE)")
    e.add_argument("--output", "-o", help="fichier à écrire (défaut : data/processed/exports/…)")
    e.add_argument("--forme", default="large", choices=("large", "longue"),
                   help="large : une ligne par territoire ; longue : une ligne par territoire × indicateur")
    e.add_argument("--tranches", action="store_true", help="ajouter le détail par tranche de taille")
    e.set_defaults(func=cmd_export)
