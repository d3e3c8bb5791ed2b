"""Sous-commandes ``territoires adherents [liste] | validate | import | services``.

Codes de sortie : 0 tout va bien ; 1 erreur de fichier, ou lignes rejetées avec
``--strict`` ; 2 usage (opérateur inconnu, fichier absent) ; 75 (``import``) une autre
commande écrit déjà dans le projet.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from territoires import formats, operateurs
from territoires.sorties import EXIT_OCCUPE, UsageError, Verrou, reglages
from territoires.operateurs import MOTIF as OPERATEUR_MOTIF
from territoires.members.imports import dans, importer, lire_journal_sans_deplacer
from territoires.members.schema import CorrespondanceError, lire_correspondance
from territoires.members.taxonomie import taxonomie
from territoires.sources import SourceError, load_registry

__all__ = ["register", "verifier_operateur", "ErreurUsage"]


class ErreurUsage(UsageError):
    """Mauvaise utilisation de la commande (code de sortie 2, « Erreur d'utilisation : … »)."""


def verifier_operateur(code: str, operateurs_file: Path | None = None) -> str:
    """Vérifie un code d'opérateur (motif strict, puis présence dans le fichier des opérateurs
    en vigueur : celui du projet s'il en a un, sinon celui du paquet)."""
    chemin = operateurs_file or operateurs.PAQUET
    connus = operateurs.codes(chemin)
    if not OPERATEUR_MOTIF.match(code or "") or code not in connus:
        raise ErreurUsage(f"opérateur inconnu {code!r} — codes possibles : {', '.join(connus)} (voir {chemin})")
    return code


def _fichier(chemin: str) -> Path:
    p = Path(chemin)
    if not p.is_file():
        raise ErreurUsage(f"{chemin}: fichier introuvable")
    return p


def _referentiel(entrepot: Path):
    """Le référentiel de l'entrepôt, ou ``None`` s'il est absent (avec un message)."""
    from territoires.members.validation import Referentiel  # paresseux : charge stdnum

    if not entrepot.is_file():
        print(f"Attention : entrepôt introuvable ({entrepot}) — l'existence des codes INSEE n'est pas "
              "vérifiée (forme seulement) ; lancez `territoires build` pour la vérifier.")
        return None
    import duckdb

    from territoires.entrepot.connexion import connect  # paresseux : charge duckdb

    try:
        con = connect(entrepot)
    except (RuntimeError, duckdb.Error) as exc:
        print(f"Attention : {exc} — l'existence des codes INSEE n'est pas vérifiée (forme seulement).")
        return None
    try:
        return Referentiel.depuis_entrepot(con)
    except duckdb.Error as exc:
        print(f"Attention : {entrepot}: référentiel des communes illisible ({str(exc).splitlines()[0]}) — "
              "l'existence des codes INSEE n'est pas vérifiée (forme seulement) ; relancez `territoires build`.")
        return None
    finally:
        con.close()


def _correspondance(dossier: Path):
    chemin = dossier / "correspondance.toml"
    return lire_correspondance(chemin) if chemin.is_file() else None


def _operateurs_anct(cfg) -> dict[str, str]:
    """Identifiant d'opérateur de la Suite territoriale → code, d'après l'export des opérateurs
    déposé dans ``data/raw/adherents/anct/`` ou téléchargé (rapprochement par SIRET)."""
    from territoires.members.load import DOSSIER_ANCT, fichiers_registres, operateurs_par_siret  # paresseux : charge stdnum

    from territoires.sources.etapes import anct_telechargees  # paresseux : charge duckdb

    try:
        telechargees = tuple(anct_telechargees(cfg.raw_dir, load_registry()))
    except SourceError:  # an unreadable sources registry: the deposited export still counts
        telechargees = ()
    anct = [f for f in fichiers_registres(cfg.raw_dir / "adherents", operateurs_file=cfg.operateurs_file,
                                          anct_telechargees=telechargees) if f.operateur == DOSSIER_ANCT]
    return operateurs_par_siret(anct, cfg.operateurs_file) if anct else {}


def _valider(fichier: Path, abonnements: Path | None, operateur: str, referentiel, correspondance,
             afficher: bool = True, cfg=None):
    """Valide sans rien garder en mémoire que les comptes et les problèmes ; rend les bilans."""
    from territoires.members.validation import Validateur  # paresseux : charge stdnum

    v = Validateur(operateur, referentiel, correspondance=correspondance,
                   operateurs_anct=_operateurs_anct(cfg) if cfg is not None else None,
                   codes_operateurs=set(operateurs.codes(cfg.operateurs_file or operateurs.PAQUET))
                   if cfg is not None else None)
    bilans = [v.fichier(fichier)]
    if abonnements is not None:
        bilans.append(v.fichier(abonnements, genre="abonnements"))
    if afficher:
        for b in bilans:
            if b.format:
                print(b.description())
            for p in b.problemes():
                print(p)
    return bilans


def _comptes(bilans) -> str:
    lues = sum(b.lues for b in bilans)
    acc = sum(b.acceptees for b in bilans)
    rej = sum(b.rejetees for b in bilans)
    av = sum(len(b.avertissements) for b in bilans)
    vides = sum(b.lignes_vides for b in bilans)
    err = sum(len(b.erreurs) for b in bilans)
    ligne = (f"lues : {formats.entier(lues)} · acceptées : {formats.entier(acc)} · rejetées : "
             f"{formats.entier(rej)} · avertissements : {formats.entier(av)} · lignes vides : {formats.entier(vides)}")
    if err:
        ligne += f" · erreurs de fichier : {formats.entier(err)}"
    return ligne


def _code_sortie(bilans, strict: bool) -> int:
    if any(b.erreurs for b in bilans):
        return 1
    if strict and any(b.rejetees for b in bilans):
        return 1
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    cfg = reglages(args)
    operateur = verifier_operateur(args.operateur, cfg.operateurs_file)
    fichier = _fichier(args.fichier)
    abonnements = _fichier(args.abonnements) if args.abonnements else None
    dossier = dans(cfg.raw_dir / "adherents" / operateur, cfg.raw_dir / "adherents")
    ref = _referentiel(cfg.warehouse)
    bilans = _valider(fichier, abonnements, operateur, ref, _correspondance(dossier), cfg=cfg)
    print(_comptes(bilans))
    code = _code_sortie(bilans, args.strict)
    if code and args.strict and not any(b.erreurs for b in bilans):
        print("Refusé (--strict) : des lignes ont été rejetées.", file=sys.stderr)
    return code


def cmd_import(args: argparse.Namespace) -> int:
    cfg = reglages(args)
    operateur = verifier_operateur(args.operateur, cfg.operateurs_file)
    fichier = _fichier(args.fichier)
    abonnements = _fichier(args.abonnements) if args.abonnements else None
    verrou = Verrou(cfg.home)  # un seul écrivain par projet (build, report, fetch, import)
    if not verrou.prendre(attendre=not getattr(args, "sans_attendre", False)):
        print(f"Occupé : une autre commande territoires (processus {verrou.qui()}) écrit déjà dans ce projet ; "
              "réessayez quand elle sera terminée.", file=sys.stderr)
        return EXIT_OCCUPE
    try:
        return _importer_commande(args, operateur, fichier, abonnements, cfg)
    finally:
        verrou.rendre()


def _importer_commande(args, operateur: str, fichier: Path, abonnements: Path | None, cfg) -> int:
    adherents_dir = cfg.raw_dir / "adherents"
    dossier = dans(adherents_dir / operateur, adherents_dir)
    ref = _referentiel(cfg.warehouse)
    bilans = _valider(fichier, abonnements, operateur, ref, _correspondance(dossier), cfg=cfg)
    print(_comptes(bilans))
    code = _code_sortie(bilans, args.strict)
    if code:
        print("Import refusé : " + ("erreur de fichier." if any(b.erreurs for b in bilans)
                                    else "des lignes ont été rejetées (--strict).") + " Rien n'a été copié.",
              file=sys.stderr)
        return code
    for source, bilan in zip((fichier, abonnements), bilans):
        if source is None:
            continue
        cible, nouveau = importer(source, operateur, adherents_dir, attribution=bilan.attribution)
        if nouveau:
            print(f"Importé : {cible} (octets d'origine ; les imports précédents sont gardés)")
        else:
            print(f"Déjà importé, contenu identique : {cible} (rien de copié)")
    print("Lancez `territoires build` pour charger le registre dans l'entrepôt.")
    return 0


def _bilans_importes(cfg):
    """Les registres importés validés à nouveau (sans référentiel : les services seulement),
    fichier par fichier : ``[(operateur, bilan)]``."""
    from territoires.members.load import DOSSIER_ANCT, fichiers_registres  # paresseux : charge stdnum
    from territoires.members.validation import Validateur  # paresseux : charge stdnum

    adherents_dir = cfg.raw_dir / "adherents"
    validateurs: dict[str, Validateur] = {}
    operateurs_anct = None
    out = []
    for f in fichiers_registres(adherents_dir, operateurs_file=cfg.operateurs_file):
        if f.operateur == DOSSIER_ANCT:
            continue
        if f.operateur not in validateurs:
            try:
                corr = _correspondance(adherents_dir / f.operateur)
            except ValueError as exc:
                print(f"Attention : {exc}")
                corr = None
            if operateurs_anct is None:
                operateurs_anct = _operateurs_anct(cfg)
            validateurs[f.operateur] = Validateur(f.operateur, None, correspondance=corr,
                                                  operateurs_anct=operateurs_anct)
        out.append((f.operateur, validateurs[f.operateur].fichier(f.chemin, nom=f.nom)))
    return out


def cmd_services(args: argparse.Namespace) -> int:
    if not args.inconnus and not args.noms:
        tax = taxonomie()
        print(formats.table([{"service": s, "famille": r["famille"], "libellé": r["libelle"]}
                             for s, r in tax.services.items()]))
        return 0
    cfg = reglages(args)
    adherents_dir = cfg.raw_dir / "adherents"
    bilans = _bilans_importes(cfg)
    if args.noms:
        lus: Counter = Counter()
        for op, b in bilans:
            for (nom, service, regle, candidats), n in b.services_lus.items():
                lus[(op, nom, service, regle, candidats)] += n
        if not lus:
            print(f"Aucun nom de service dans les registres importés ({adherents_dir}).")
        else:
            print("Noms de services lus dans les registres importés, et la règle qui les a reconnus "
                  "(exact : identifiant ou libellé de la taxonomie ; correspondance : services_correspondances.csv "
                  "ou correspondance.toml ; normalisé : mêmes noms, casse, accents, articles et pluriels ignorés) :")
            print(formats.table([{
                "opérateur": op, "nom lu": nom,
                "service": service or ("ambigu : " + " ou ".join(candidats) if candidats else "inconnu"),
                "règle": regle or "–", "lignes": formats.entier(n)}
                for (op, nom, service, regle, candidats), n in sorted(lus.items(), key=lambda kv: (kv[0][0], kv[0][1]))]))
        if not args.inconnus:
            return 0
    compte: Counter = Counter()
    fichiers: dict[tuple[str, str], set[str]] = {}
    ambigus: dict[tuple[str, str], tuple[str, ...]] = {}
    for op, b in bilans:
        for nom, n in b.services_inconnus.items():
            compte[(op, nom)] += n
            fichiers.setdefault((op, nom), set()).add(b.fichier)
        for (nom, service, _, candidats) in b.services_lus:
            if service is None and len(candidats) > 1:
                ambigus[(op, nom)] = candidats
    if not compte:
        print(f"Aucun service inconnu dans les registres importés ({adherents_dir}).")
        return 0
    print(f"Services non reconnus : {len(compte)} nom(s) ; à ajouter dans territoires/members/"
          "services_correspondances.csv (ou dans [services] du correspondance.toml de l'opérateur) :")
    print(formats.table([{"opérateur": op, "nom lu": nom, "lignes": formats.entier(n),
                          "pourquoi": ("ambigu : " + " ou ".join(ambigus[(op, nom)])) if (op, nom) in ambigus
                          else "aucun service de ce nom",
                          "fichiers": ", ".join(sorted(fichiers[(op, nom)]))}
                         for (op, nom), n in compte.most_common()]))
    return 0


def cmd_liste(args: argparse.Namespace) -> int:
    """Les registres que le build lit, opérateur par opérateur, avec la date d'import et, pour
    un export de la Suite territoriale, l'opérateur attribué à chaque ``operateur_id``."""
    from territoires.members.load import DOSSIER_ANCT, fichiers_registres  # paresseux : charge stdnum

    cfg = reglages(args)
    adherents_dir = cfg.raw_dir / "adherents"
    fichiers = fichiers_registres(adherents_dir, operateurs_file=cfg.operateurs_file)
    if not fichiers:
        print(f"Aucun registre importé ({adherents_dir}). Pour en importer un : "
              "territoires adherents import FICHIER --operateur CODE")
        return 0
    lignes, attributions = [], []
    journaux: dict[str, dict[str, dict]] = {}
    for f in fichiers:
        if f.operateur not in journaux:
            journaux[f.operateur] = {e.get("fichier"): e for e in lire_journal_sans_deplacer(
                adherents_dir / f.operateur / "imports.json")}
        e = journaux[f.operateur].get(f.chemin.name, {})
        lignes.append({"opérateur": f.operateur, "fichier": f.nom,
                       "importé le": (e.get("importe_le") or "déposé à la main").replace("T", " ").rstrip("Z"),
                       "sha256": f.sha256[:12]})
        for oid, a in sorted((e.get("operateurs_anct") or {}).items()):
            attributions.append({"fichier": f.nom, "operateur_id": oid, "attribué à": a.get("operateur", "?"),
                                 "règle": a.get("regle", "?"), "lignes": formats.entier(a.get("lignes") or 0)})
    for op in sorted(journaux):
        if op == DOSSIER_ANCT:
            continue
        try:
            corr = _correspondance(adherents_dir / op)
        except CorrespondanceError as exc:
            print(f"Attention : {exc}")
            continue
        for oid, code in sorted((corr.operateurs_anct if corr else {}).items()):
            attributions.append({"fichier": f"{op}/correspondance.toml", "operateur_id": oid, "attribué à": code,
                                 "règle": "correspondance.toml", "lignes": "–"})
    print(f"Registres lus par le build ({adherents_dir}) :")
    print(formats.table(lignes))
    if attributions:
        print("Exports de la Suite territoriale : opérateur attribué à chaque operateur_id "
              "(modifiable dans [operateurs_anct] du correspondance.toml de l'opérateur) :")
        print(formats.table(attributions))
    return 0


def register(sub) -> None:
    """Ajoute ``territoires adherents …`` aux sous-commandes."""
    a = sub.add_parser("adherents", help="registres d'adhérents des opérateurs : lister, valider, importer, services")
    asub = a.add_subparsers(dest="action", metavar="ACTION")
    a.set_defaults(func=cmd_liste)

    li = asub.add_parser("liste", help="les registres importés (action par défaut) et l'opérateur attribué à "
                                       "chaque operateur_id des exports de la Suite territoriale")
    li.set_defaults(func=cmd_liste)

    v = asub.add_parser("validate", help="valider un registre (CSV, CSV.GZ, XLSX, exports ANCT)")
    v.add_argument("fichier", metavar="FICHIER", help="registre à valider")
    v.add_argument("--operateur", required=True, metavar="CODE", help="code de l'opérateur (operateurs.toml)")
    v.add_argument("--strict", action="store_true", help="code de sortie 1 si une ligne est rejetée")
    v.add_argument("--abonnements", metavar="FICHIER", help="fichier d'abonnements séparé (adhérent × service × date)")
    v.set_defaults(func=cmd_validate)

    i = asub.add_parser("import", help="valider puis copier un registre dans data/raw/adherents/<opérateur>/")
    i.add_argument("fichier", metavar="FICHIER", help="registre à importer")
    i.add_argument("--operateur", required=True, metavar="CODE", help="code de l'opérateur (operateurs.toml)")
    i.add_argument("--strict", action="store_true", help="refuser l'import si une ligne est rejetée")
    i.add_argument("--abonnements", metavar="FICHIER", help="fichier d'abonnements séparé, importé aussi")
    i.add_argument("--sans-attendre", action="store_true",
                   help="si une autre commande écrit déjà dans ce projet, sortir aussitôt (code 75)")
    i.set_defaults(func=cmd_import)

    s = asub.add_parser("services", help="taxonomie des services ; --inconnus : noms non reconnus des registres ; "
                                         "--noms : chaque nom lu et la règle qui l'a reconnu")
    s.add_argument("--inconnus", action="store_true", help="lister les noms de services inconnus des registres importés")
    s.add_argument("--noms", action="store_true",
                   help="lister chaque nom de service lu dans les registres importés, son service et la règle "
                        "qui l'a reconnu (exact, correspondance, normalisé)")
    s.set_defaults(func=cmd_services)
