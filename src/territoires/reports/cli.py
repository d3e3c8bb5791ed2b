"""Sub-command ``territoires report``: dashboards for a scope, in parallel, with a manifest."""

from __future__ import annotations

import argparse
import gc
import sys

from territoires import formats
from territoires.arguments import entier_positif, non_vide, secondes
from territoires.sorties import reglages


def lancer_noyau(args: argparse.Namespace):
    """The command's prelude (:func:`territoires.cli.main`): the kernel of a one-worker run
    launched before the lock is taken and the orphaned temporaries of the site looked for
    (0.01 s among the 9,000 files of a whole site), so that it boots while those and then
    the runner, papermill and nbconvert load (0.3–0.5 s of imports before the runner could
    launch it). Returns what stops it, for a command that ends before its pages."""
    from territoires.reports.noyau import anticipe  # paresseux : n'importe rien de lourd

    cfg = reglages(args)
    args.noyau = anticipe(cfg.home, cfg.warehouse, args.jobs) if args.scope != "communes" else None
    return args.noyau.arreter if args.noyau is not None else None


def cmd_report(args: argparse.Namespace) -> int:
    cfg = reglages(args)
    from territoires.reports.runner import run  # paresseux : charge duckdb

    rapport = run(
        args.scope,
        jobs=args.jobs,
        force=args.force,
        single_file=args.single_file,
        quiet=args.quiet,
        home=cfg.home,
        notebooks_dir=args.carnets,
        timeout=args.timeout,
        noyau=getattr(args, "noyau", None),  # launched by lancer_noyau, if it could be
    )
    produites, a_jour, echecs = rapport.produites, rapport.a_jour, rapport.echecs
    total = len(rapport.pages)
    octets = sum(p.get("octets") or 0 for p in produites)
    if total or not rapport.fiches:  # « --scope communes »: the fiches' line alone
        print(
            f"{formats.entier(total)} page{'s' if total > 1 else ''} : "
            f"{formats.entier(len(produites))} produite{'s' if len(produites) > 1 else ''}"
            f"{f' ({formats.taille(octets)})' if produites else ''}, "
            f"{formats.entier(len(a_jour))} déjà à jour, "
            f"{formats.entier(len(echecs))} en échec — {formats.decimal(rapport.duree_s)} s"
        )
    for p in echecs:
        garde = p.get("conservee")
        kept = f" — la page du {garde['du'][:10]} reste en ligne" if garde else ""
        print(f"  échec {p['portee']} ({p.get('nom', '')}) : {p.get('erreur')}{kept}", file=sys.stderr)
    if rapport.fiches:
        f = rapport.fiches
        print(f"{formats.entier(f['nombre'])} fiche{'s' if f['nombre'] > 1 else ''} de commune "
              f"({formats.taille(f['octets'])}) — {formats.decimal(f['duree_s'])} s")
    print(f"Manifeste : {rapport.manifest}")
    print(f"Index : {rapport.index}")
    # the command is about to end: spare the interpreter's last garbage collection over
    # the hundreds of thousands of objects nbconvert, papermill and jupyter_client left
    # (0.1–0.2 s of a one-page run); nothing here needs finalising
    gc.freeze()
    return 1 if echecs else 0


def register(sub) -> None:
    r = sub.add_parser(
        "report",
        help="produire les tableaux de bord HTML (papermill en parallèle, index, manifeste)",
        description=(
            "Exécute les carnets de notebooks/reports/ pour chaque territoire de la portée et exporte "
            "des pages HTML autonomes sous reports/. Une page déjà à jour (mêmes données, même code) "
            "n'est pas refaite, sauf --force."
        ),
    )
    r.add_argument(
        "--scope", default="all", metavar="PORTÉE", type=non_vide,
        help="all | alliance | operateur:megalis | region:53 | departement:29 | epci:<siren> | communes "
             "(plusieurs séparées par des virgules ; <niveau>:* pour tout un niveau ; communes : la fiche "
             "imprimable de chaque commune, reports/commune/<code>.html ; all les inclut ; défaut : all)",
    )
    r.add_argument("--jobs", "-j", type=entier_positif, default=None,
                   help="carnets exécutés en parallèle (défaut : nombre de processeurs)")
    r.add_argument("--single-file", action="store_true",
                   help="pages autonomes : plotly.js, style et CSV inclus (pour un envoi par courriel)")
    r.add_argument("--force", action="store_true", help="refaire aussi les pages à jour")
    r.add_argument("--carnets", default=None, metavar="DOSSIER", type=non_vide,
                   help="dossier des carnets (défaut : notebooks/reports/ du projet)")
    r.add_argument("--timeout", type=secondes, default=900, metavar="SECONDES",
                   help="durée maximale d'une cellule, en secondes (défaut : 900 ; arrondie à la seconde "
                        "supérieure, papermill comptant en secondes entières)")
    r.set_defaults(func=cmd_report, prelude=lancer_noyau)
