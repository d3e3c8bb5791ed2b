"""Command line: ``territoires build | fetch | sources | info | indicateurs | export | report``.

Every error is printed in French with the file and the reason, and exits non-zero.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from territoires import formats
from territoires.config import ALLIANCE_REGIONS, quiet_by_default, settings

#: modules adding their own sub-commands through ``register(subparsers)``
EXTENSIONS = ("territoires.indicators.cli", "territoires.reports.cli")


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
    from territoires.sources.telechargement import etat_sources

    rows = [
        {"source": r["id"], "état": r["etat"] + (f" ({r['paquet']})" if r.get("paquet") else ""),
         "millésime utilisé": r["millesime"], "producteur": r["producteur"].split(" (")[0].split(",")[0]}
        for r in etat_sources(settings().raw_dir)
    ]
    print(formats.table_ajustee(rows, largeur=80, aligner_nombres=False))
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    from territoires.sources import SourceError, load_registry
    from territoires.sources.telechargement import fetch

    reg = load_registry()
    if args.all == bool(args.source):
        raise SourceError("indiquez une ou plusieurs sources, ou --all (voir `territoires sources`)")
    if args.url and len(args.source) != 1:
        raise SourceError("--url ne s'emploie qu'avec une seule source")
    ids = [s.id for s in reg.values() if s.telechargeable] if args.all else args.source
    echecs = []
    for sid in ids:
        try:
            path = fetch(sid, settings().raw_dir, accepter_nouvelle_empreinte=args.accepter_nouvelle_empreinte,
                         progress=not args.quiet, url=args.url, registry=reg)
        except SourceError as exc:
            if len(ids) == 1:
                raise
            print(f"Erreur : {exc}", file=sys.stderr)
            echecs.append(sid)
            continue
        print(f"{sid} : {path}")
    if echecs:
        print(f"{len(echecs)} source(s) non téléchargée(s) : {', '.join(echecs)}", file=sys.stderr)
        return 1
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from territoires.warehouse.connect import connect

    cfg = settings()
    con = connect(cfg.warehouse)
    try:
        build = con.execute(
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
    scope = f"départements {build[1]}" if build[1] else ("France entière" if build[0] == "all" else f"régions {build[0]}")
    print(f"Entrepôt     {cfg.warehouse} ({formats.taille(size)})")
    print(f"Périmètre    {scope}")
    print(f"Construit le {build[3]:%d/%m/%Y %H:%M} en {formats.decimal(build[4])} s (territoires {build[2]})")
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
    for w in build[5] or []:
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

    s = sub.add_parser("sources", help="lister les sources : embarquée, téléchargée ou absente, millésime utilisé")
    s.set_defaults(func=cmd_sources)

    f = sub.add_parser("fetch", help="télécharger des sources officielles (empreinte sha256 vérifiée)")
    f.add_argument("source", nargs="*", help="identifiants dans le registre (voir `territoires sources`)")
    f.add_argument("--all", action="store_true", help="toutes les sources téléchargeables")
    f.add_argument("--accepter-nouvelle-empreinte", action="store_true",
                   help="enregistrer volontairement une empreinte inconnue ou changée (data/raw/empreintes.toml)")
    f.add_argument("--url", help="autre adresse pour une seule source (miroir)")
    f.set_defaults(func=cmd_fetch)

    i = sub.add_parser("info", help="décrire l'entrepôt : comptes par niveau, millésimes, taille")
    i.set_defaults(func=cmd_info)

    for name in EXTENSIONS:
        importlib.import_module(name).register(sub)
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
