"""Command line: ``territoires build | fetch | sources | info | indicateurs | export | report``.

Every error is printed in French with the file and the reason, and exits non-zero.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from territoires import formats
from territoires.config import ALLIANCE_REGIONS, quiet_by_default, settings

#: modules adding their own sub-commands through ``register(subparsers)``
EXTENSIONS = ("territoires.indicators.cli", "territoires.reports.cli", "territoires.members.cli")


def _codes(text: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in text.split(",") if c.strip())


def cmd_build(args: argparse.Namespace) -> int:
    from territoires.warehouse.build import build

    regions = None if args.all_france else (_codes(args.regions) if args.regions else ALLIANCE_REGIONS)
    result = build(
        regions,
        quiet=args.quiet,
        force=args.force,
        departements=_codes(args.departements) if args.departements else None,
    )
    if args.quiet:
        return 0
    print(f"Entrepôt : {result.path}")
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    from territoires.sources import load_registry

    rows = [
        {"id": s.id, "producteur": s.producer[:48], "millésime": s.vintage, "format": s.format,
         "licence": s.licence[:40], "url / paquet": f"{s.package}=={s.package_version}" if s.package else s.url,
         "sha256": (s.sha256[:12] + "…") if s.sha256 else "(non épinglé)"}
        for s in load_registry().values()
    ]
    print(formats.table(rows))
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    from territoires.sources import fetch

    path = fetch(args.source, settings().raw_dir)
    print(f"{args.source} : {path}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from territoires.warehouse.connect import connect

    cfg = settings()
    con = connect(cfg.warehouse)
    try:
        construction = con.execute(
            "select regions, departements, version, construit_le, duree_s, avertissements from meta.build"
        ).fetchone()
        levels = con.execute(
            "select t.niveau, n.libelle_pluriel, count(*), sum(t.nb_communes_perimetre), "
            "count(*) filter (where t.a_cheval) from marts.territoires t "
            "join staging.niveaux n using (niveau) group by all order by any_value(n.ordre)"
        ).fetchall()
        sources = con.execute("select id, millesime, lignes, version_paquet from marts.sources").fetchall()
        vintages = con.execute(
            "select source_id, cle, millesime, preuve from raw.provenance order by all"
        ).fetchall()
        sans_epci = con.execute(
            "select string_agg(nom || ' (' || code || ')', ', ' order by code) from marts.territoires "
            "where niveau = 'commune' and code_epci is null"
        ).fetchone()[0]
    finally:
        con.close()
    size = cfg.warehouse.stat().st_size
    scope = (f"départements {construction[1]}" if construction[1]
             else "France entière" if construction[0] == "all" else f"régions {construction[0]}")
    print(f"Projet       {cfg.home} ({cfg.origine})")
    print(f"Entrepôt     {cfg.warehouse} ({formats.taille(size)})")
    print(f"Périmètre    {scope}")
    print(f"Construit le {construction[3]:%d/%m/%Y %H:%M} en {formats.decimal(construction[4])} s "
          f"(territoires {construction[2]})")
    print()
    print(formats.table(
        [{"niveau": lvl, "territoires": formats.entier(n), "communes": formats.entier(c),
          "à cheval sur une limite régionale": formats.entier(ch)} for _, lvl, n, c, ch in levels]
    ))
    print(f"\nCommunes sans EPCI : {sans_epci or 'aucune'}")
    print()
    print(formats.table([{"source": i, "millésime": m, "lignes": formats.entier(n), "version": v or ""}
                         for i, m, n, v in sources]))
    print("\nMillésimes par donnée :")
    for sid, key, mil, proof in vintages:
        print(f"  {sid} · {key} : {mil} — {proof}")
    for w in construction[5] or []:
        print(f"\nAttention : {w}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="territoires",
        description="Observatoire open data des opérateurs publics de services numériques.",
    )
    p.add_argument("--quiet", "-q", action="store_true", default=quiet_by_default(),
                   help="pas d'affichage de progression (par défaut en CI)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMANDE")

    b = sub.add_parser("build", help="construire l'entrepôt DuckDB depuis les données embarquées")
    scope = b.add_mutually_exclusive_group()
    scope.add_argument("--regions", help="codes INSEE de régions, séparés par des virgules (défaut : 11,24,27,53)")
    scope.add_argument("--all-france", action="store_true", help="toutes les régions")
    scope.add_argument("--departements", help="une tranche de départements (tests, essais rapides)")
    b.add_argument("--force", action="store_true", help="reconstruire même si rien n'a changé")
    b.set_defaults(func=cmd_build)

    s = sub.add_parser("sources", help="lister le registre des sources")
    s.set_defaults(func=cmd_sources)

    f = sub.add_parser("fetch", help="télécharger une source officielle (empreinte sha256 vérifiée)")
    f.add_argument("source", help="identifiant dans le registre (voir `territoires sources`)")
    f.set_defaults(func=cmd_fetch)

    i = sub.add_parser("info", help="décrire l'entrepôt : comptes par niveau, millésimes, taille")
    i.set_defaults(func=cmd_info)

    for name in EXTENSIONS:
        importlib.import_module(name).register(sub)
    for sp in sub.choices.values():  # `territoires build --quiet` as well as `territoires --quiet build`
        sp.add_argument("--quiet", "-q", action="store_true", default=argparse.SUPPRESS,
                        help="pas d'affichage de progression (par défaut en CI)")
    return p


def main(argv: list[str] | None = None) -> int:
    import duckdb

    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        done = {"build": "l'entrepôt précédent est intact",
                "report": "les pages déjà écrites sont complètes, les autres n'ont pas été remplacées"}
        print(f"Interrompu : {done.get(args.command, 'rien de partiel n’a été laissé')}.", file=sys.stderr)
        return 130
    except (RuntimeError, OSError, ValueError, duckdb.Error) as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
