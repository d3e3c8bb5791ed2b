"""Command line: ``territoires init | build | fetch | sources | info | indicateurs | export | report | page | sonde``.

Every error is printed in French with the file and the reason, and exits non-zero.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from territoires import formats, interruptions
from territoires.arguments import Parseur, codes, non_vide
from territoires.config import ALLIANCE_REGIONS, quiet_by_default
from territoires.interruptions import Arret
from territoires.sorties import (EXIT_ERREUR, EXIT_OCCUPE, EXIT_OK, EXIT_SIGINT, EXIT_SIGTERM,  # noqa: F401
                                 EXIT_NON_RAFRAICHIES, EXIT_USAGE, UsageError, Verrou, reglages)
from territoires.espace import message_disque_plein
from territoires import sources
from territoires.sources import SourceError, conservation
from territoires.sources.conservation import MOIS_PAR_DEFAUT as MOIS_GARDES
from territoires.sources.presence import etat_sources
from territoires.sources.telechargement import Reseau, dernier_telechargement, fetch
from territoires.warehouse.dictionnaire import lister

#: modules adding their own sub-commands through ``register(subparsers)``
EXTENSIONS = ("territoires.indicators.cli", "territoires.reports.cli", "territoires.projet", "territoires.carnet",
              "territoires.members.cli", "territoires.sonde.cli")


def cmd_build(args: argparse.Namespace) -> int:
    from territoires.warehouse.build import build  # paresseux : charge duckdb, stdnum

    # an empty --regions or --departements is refused by the parser: None means « not given »
    regions = None if args.all_france else (args.regions if args.regions is not None else ALLIANCE_REGIONS)
    result = build(
        regions,
        home=reglages(args).home,
        quiet=args.quiet,
        force=args.force,
        departements=args.departements,
    )
    if args.quiet:
        return 0
    print(f"Entrepôt : {result.path}")
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    cfg = reglages(args)
    raw_dir = cfg.raw_dir
    if args.elaguer:  # removes files: one writer per home, as build, report and fetch
        verrou = Verrou(cfg.home)
        verrou.prendre(attendre=True)
        try:
            _elaguer(raw_dir, args.garder_mois)
        finally:
            verrou.rendre()
    etats = etat_sources(raw_dir)
    rows = [
        {"source": r["id"], "état": r["etat"] + (f" ({r['paquet']})" if r.get("paquet") else ""),
         "millésime utilisé": r["millesime"], "producteur": r["producteur"].split(" (")[0].split(",")[0]}
        for r in etats
    ]
    print(formats.table_ajustee(rows, largeur=80, aligner_nombres=False))
    import textwrap

    def paragraphe(texte: str, retrait: str = "") -> None:
        print(textwrap.fill(texte, width=80, initial_indent=retrait, subsequent_indent=retrait + "  ",
                            break_on_hyphens=False, break_long_words=False))

    perimees = [r for r in etats if r.get("echec_depuis")]
    if perimees:
        print("\nNon rafraîchies (la copie en usage sert encore) :")
        for r in perimees:
            copie = f"copie du {r['rafraichi_le'][:10]}" if r.get("rafraichi_le") else "aucune copie"
            paragraphe(f"{r['id']} : {copie} ; échec depuis le {r['echec_depuis'][:10]}, dernière tentative "
                       f"le {r['derniere_tentative'][:10]} ({r['erreur']})", "  ")
    occ = conservation.occupation(raw_dir, mois=args.garder_mois)
    if occ:
        print("\nPlace occupée sous data/raw/ :")
        print(formats.table([{"source": r["id"], "copies": formats.entier(r["copies"]),
                              "disque": formats.taille(r["octets"]),
                              "élagage libérerait": formats.taille(r["liberables"]) if r["liberables"] else "–"}
                             for r in occ]))
        liberables = sum(r["liberables"] for r in occ)
        paragraphe(f"Total : {formats.taille(sum(r['octets'] for r in occ))}"
                   + (f" ; `territoires sources --elaguer` libérerait {formats.taille(liberables)}." if liberables
                      else " ; rien à élaguer.")
                   + f" Règle de conservation : la copie en usage et la dernière de chacun des {args.garder_mois} "
                   "derniers mois (--garder-mois) ; les registres d'adhérents ne sont jamais touchés.")
    return 0


def _elaguer(raw_dir: Path, mois: int) -> None:
    """Prune the fetched copies by the retention rule; one line per source pruned."""
    par: dict[str, list] = {}
    for c in conservation.elaguer(raw_dir, mois=mois):
        par.setdefault(c.source_id, []).append(c)
    for sid, cs in par.items():
        print(f"Élagage : {sid} : {len(cs)} copie(s) retirée(s) ({', '.join(c.dossier.name for c in cs)}), "
              f"{formats.taille(sum(c.octets for c in cs))} libérés")


def _copie_en_usage(src, raw_dir: Path) -> str:  # noqa: ANN001
    t = dernier_telechargement(src, raw_dir)
    if t is None:
        return "aucune copie encore (les données embarquées servent là où elles existent)"
    # a file republished in place: its folder is its download date; a pinned file: its vintage's folder
    date = t.millesime if src.empreinte == "variable" else (t.fiche.get("telecharge_le") or t.millesime)[:10]
    return f"la copie du {date} reste en usage"


def cmd_fetch(args: argparse.Namespace) -> int:
    reg = sources.load_registry()
    if args.all == bool(args.source):
        raise UsageError("indiquez une ou plusieurs sources, ou --all (voir `territoires sources`)")
    if args.url and len(args.source) != 1:
        raise UsageError("--url ne s'emploie qu'avec une seule source")
    if args.all:
        # every source that can be fetched: the embedded ones (extracted, hash checked, no
        # network) and the downloadable ones; a pinned source whose hash is not pinned yet
        # is skipped with a notice (fetched by its id, it shows the hash to review), and so
        # is the second format of the same data (DPNT: the JSON is taken, not the CSV)
        ids = []
        for s in reg.values():
            if s.telechargeable and s.empreinte != "variable" and not s.sha256 and not args.accepter_nouvelle_empreinte:
                print(f"{s.id} : ignorée, empreinte sha256 non épinglée "
                      f"(`territoires fetch {s.id}` la télécharge et donne l'empreinte à vérifier)")
            elif s.telechargeable and s.doublon_de:
                if not args.quiet:
                    print(f"{s.id} : ignorée, mêmes données que {s.doublon_de} dans un autre format "
                          f"(`territoires fetch {s.id}` la télécharge)")
            elif s.embedded or s.telechargeable:
                ids.append(s.id)
    else:
        ids = args.source
    cfg = reglages(args)
    raw_dir = cfg.raw_dir
    reseau = Reseau()  # an unreachable host is tried once per run
    echecs = []
    for sid in ids:
        try:
            path = fetch(sid, raw_dir, accepter_nouvelle_empreinte=args.accepter_nouvelle_empreinte,
                         progress=not args.quiet, url=args.url, registry=reg, reseau=reseau,
                         partage=cfg.partage)
        except SourceError as exc:
            if len(ids) == 1:
                raise
            suite = _copie_en_usage(reg[sid], raw_dir) if sid in reg else ""
            print(f"Erreur : {exc}" + (f" — {suite}" if suite else ""), file=sys.stderr)
            echecs.append(sid)
            continue
        print(f"{sid} : {path}")
    if args.all:
        _elaguer(raw_dir, args.garder_mois)
    if echecs:
        print(f"{len(echecs)} source(s) non téléchargée(s) : {', '.join(echecs)} — les copies précédentes restent "
              f"en usage (code {EXIT_NON_RAFRAICHIES})", file=sys.stderr)
        return EXIT_NON_RAFRAICHIES
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from territoires.entrepot.connexion import connect  # paresseux : charge duckdb

    cfg = reglages(args)
    con = connect(cfg.warehouse)
    if getattr(args, "dictionnaire", False):
        try:
            for table, col, typ, desc in lister(con):
                print(f"\nmarts.{table} — {desc}" if not col else f"  {col} ({typ.lower()}) : {desc}")
        finally:
            con.close()
        return 0
    try:
        construction = con.execute(
            "select regions, departements, version, construit_le, duree_s, avertissements from meta.build"
        ).fetchone()
        levels = con.execute(
            "select t.niveau, n.libelle_pluriel, count(*), sum(t.nb_communes_perimetre), "
            "count(*) filter (where t.a_cheval) from marts.territoires t "
            "join staging.niveaux n using (niveau) group by all order by any_value(n.ordre)"
        ).fetchall()
        sources = con.execute("select id, millesime, lignes, version_paquet, etat from marts.sources").fetchall()
        ecarts = con.execute(
            "select sujet, count(*), string_agg(distinct source_a || ' / ' || source_b, ', ') "
            "from marts.ecarts_sources group by sujet order by sujet").fetchall()
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
    print(formats.table([{"source": i, "état": etat, "millésime": m, "lignes": formats.entier(n), "version": v or ""}
                         for i, m, n, v, etat in sources]))
    if ecarts:
        print("\nÉcarts entre sources (marts.ecarts_sources) :")
        print(formats.table([{"sujet": sujet, "écarts": formats.entier(n), "sources comparées": paires}
                             for sujet, n, paires in ecarts]))
    else:
        print("\nÉcarts entre sources : aucun (aucune source officielle téléchargée ne contredit les données embarquées)")
    print("\nMillésimes par donnée :")
    for sid, key, mil, proof in vintages:
        print(f"  {sid} · {key} : {mil} — {proof}")
    for w in construction[5] or []:
        print(f"\nAttention : {w}")
    return 0


def _mois(texte: str) -> int:
    try:
        n = int(texte)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"« {texte} » : un nombre de mois entier, 0 ou plus")
    return n


def parser() -> argparse.ArgumentParser:
    p = Parseur(
        prog="territoires",
        description="Observatoire open data des opérateurs publics de services numériques.",
    )
    p.add_argument("--quiet", "-q", action="store_true", default=quiet_by_default(),
                   help="pas d'affichage de progression (par défaut en CI)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMANDE")

    b = sub.add_parser("build", help="construire l'entrepôt DuckDB depuis les données embarquées")
    scope = b.add_mutually_exclusive_group()
    scope.add_argument("--regions", type=codes,
                       help="codes INSEE de régions, séparés par des virgules (défaut : 11,24,27,53)")
    scope.add_argument("--all-france", action="store_true", help="toutes les régions")
    scope.add_argument("--departements", type=codes, help="une tranche de départements (tests, essais rapides)")
    b.add_argument("--force", action="store_true", help="reconstruire même si rien n'a changé (la géométrie "
                   "aux mêmes entrées est relue de data/processed/cache-modeles/)")
    b.set_defaults(func=cmd_build)

    s = sub.add_parser("sources", help="lister les sources : embarquée, téléchargée ou absente, millésime utilisé, "
                                       "place occupée")
    s.add_argument("--elaguer", action="store_true",
                   help="retirer les copies que la règle de conservation ne garde pas (voir --garder-mois)")
    s.add_argument("--garder-mois", type=_mois, default=MOIS_GARDES, metavar="N",
                   help=f"garder la copie en usage et la dernière de chacun des N derniers mois (défaut {MOIS_GARDES} ; "
                        "0 : la copie en usage seulement)")
    s.set_defaults(func=cmd_sources)

    f = sub.add_parser("fetch", help="télécharger des sources officielles (empreinte sha256 vérifiée)")
    f.add_argument("source", nargs="*", type=non_vide, help="identifiants dans le registre (voir `territoires sources`)")
    f.add_argument("--all", action="store_true", help="toutes les sources téléchargeables")
    f.add_argument("--accepter-nouvelle-empreinte", action="store_true",
                   help="enregistrer volontairement une empreinte inconnue ou changée (data/raw/empreintes.toml)")
    f.add_argument("--url", help="autre adresse pour une seule source (miroir)")
    f.add_argument("--garder-mois", type=_mois, default=MOIS_GARDES, metavar="N",
                   help="avec --all, élaguer ensuite : garder la copie en usage et la dernière de chacun des N "
                        f"derniers mois (défaut {MOIS_GARDES})")
    f.set_defaults(func=cmd_fetch)

    i = sub.add_parser("info", help="décrire l'entrepôt : comptes par niveau, millésimes, taille")
    i.add_argument("--dictionnaire", action="store_true",
                   help="la description de chaque table et colonne des marts (COMMENT ON de l'entrepôt)")
    i.set_defaults(func=cmd_info)

    for name in EXTENSIONS:
        importlib.import_module(name).register(sub)
    for nom, sp in sub.choices.items():  # `territoires build --quiet` as well as `territoires --quiet build`
        sp.add_argument("--quiet", "-q", action="store_true", default=argparse.SUPPRESS,
                        help="pas d'affichage de progression (par défaut en CI)")
        if nom in ECRIVAINS:
            sp.add_argument("--sans-attendre", action="store_true",
                            help="si une autre commande écrit déjà dans ce projet, sortir aussitôt (code 75) "
                                 "au lieu d'attendre qu'elle finisse")
    return p


#: commands that write into the home: one at a time per home
ECRIVAINS = ("build", "report", "fetch")


def _message_interruption(command: str, sigterm: bool) -> str:
    """The one French line saying what was kept."""
    done = {"build": "l'entrepôt précédent est intact",
            "report": "les pages déjà écrites sont complètes, les autres n'ont pas été remplacées",
            "fetch": "les fichiers déjà vérifiés sont gardés, aucun fichier partiel n'a été laissé",
            "sonde": "chaque contrôle terminé est dans le journal ; relancer `territoires sonde` reprend "
                     "sans rien refaire"}
    quoi = "Arrêté (SIGTERM)" if sigterm else "Interrompu"
    return f"{quoi} : {done.get(command, 'rien de partiel n’a été laissé')}."


def _interruption(command: str, sigterm: bool) -> int:
    print(_message_interruption(command, sigterm), file=sys.stderr)
    return EXIT_SIGTERM if sigterm else EXIT_SIGINT


def _reglages_connus(args: argparse.Namespace):
    """The command's settings, if a home can be found (an error message names its folders)."""
    try:
        return reglages(args)
    except RuntimeError:  # no home (HomeError): the message names the working directory
        return None


def _erreurs_connues() -> tuple[type[BaseException], ...]:
    """The errors a command reports in one French line. DuckDB is imported only when one
    is raised: ``territoires report`` launches its kernel in those 0.04 s."""
    import duckdb

    return (RuntimeError, OSError, ValueError, duckdb.Error)


def main(argv: list[str] | None = None) -> int:
    """Run one command; return its exit status: 0 done, 1 error (or some pages failed),
    2 wrong usage, 3 ``fetch`` of several sources: some not refreshed (their last good copy
    stays in use), 75 another command is writing into the same home, 130 interrupted
    (Ctrl-C, SIGINT), 143 terminated (SIGTERM).

    SIGINT and SIGTERM act within two seconds (:mod:`territoires.interruptions`): the
    running DuckDB statement is interrupted, the command removes its own temporaries and
    ends with one French line saying what was kept. A command that writes first removes
    the temporaries left by processes that no longer exist."""
    args = parser().parse_args(argv)
    code = _executer(args)
    if argv is None and args.command == "report":  # the process's own command line: it ends here
        _quitter(code)
    return code


def _quitter(code: int) -> None:
    """End the process as the interpreter would once the command returned, less its teardown:
    threads are waited for, the exit handlers run (the kernel's, logging's), the output is
    flushed, then the process exits with ``code``. A report leaves the objects of papermill,
    nbconvert, jupyter_client and zmq, which teardown frees one by one after the pages are
    written: 0.02–0.05 s of a one-page run."""
    import atexit
    import os
    import threading

    fin_des_fils = getattr(threading, "_shutdown", None)  # CPython's own, private: absent elsewhere
    if fin_des_fils is None:
        return  # the interpreter's ordinary exit, teardown included
    fin_des_fils()  # what the interpreter's exit does first: non-daemon threads end
    atexit._run_exitfuncs()
    for flux in (sys.stdout, sys.stderr):
        try:
            flux.flush()
        except (OSError, ValueError):  # closed, or a reader gone: as at any exit, nothing more to say
            pass
    os._exit(code)


def _executer(args: argparse.Namespace) -> int:
    import signal

    verrou = None
    fin_prelude = None
    with interruptions.Garde(lambda sigterm: _message_interruption(args.command, sigterm)):
        try:
            # what a command starts before it takes the lock and removes orphaned temporaries
            # (report: its kernel, which boots meanwhile), undone when the command ends
            prelude = getattr(args, "prelude", None)
            fin_prelude = prelude(args) if prelude is not None else None
            if args.command in ECRIVAINS:
                verrou = Verrou(reglages(args).home)
                if not verrou.prendre(attendre=not getattr(args, "sans_attendre", False)):
                    print(f"Occupé : une autre commande territoires (processus {verrou.qui()}) écrit déjà dans ce "
                          "projet ; réessayez quand elle sera terminée.", file=sys.stderr)
                    return EXIT_OCCUPE
            if args.command in ECRIVAINS or args.command == "export":
                # only files whose process is gone (checked with os.kill(pid, 0)): safe without the lock
                interruptions.nettoyer_orphelins(reglages(args).home, lambda m: print(m, file=sys.stderr))
            return args.func(args)
        except KeyboardInterrupt as exc:
            return _interruption(args.command, isinstance(exc, Arret) or signal.SIGTERM in interruptions.SIGNAUX)
        except UsageError as exc:
            print(f"Erreur d'utilisation : {exc}", file=sys.stderr)
            return EXIT_USAGE
        except _erreurs_connues() as exc:
            if interruptions.SIGNAUX:  # the interruption, reported by a library as its own error
                return _interruption(args.command, signal.SIGTERM in interruptions.SIGNAUX)

            print(message_disque_plein(exc, args.command, _reglages_connus(args)) or f"Erreur : {exc}",
                  file=sys.stderr)
            return EXIT_ERREUR
        finally:
            if fin_prelude is not None:
                fin_prelude()
            if verrou is not None:
                verrou.rendre()


if __name__ == "__main__":
    sys.exit(main())
