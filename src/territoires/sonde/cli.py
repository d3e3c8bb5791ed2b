"""Sub-command ``territoires sonde``: the cybersecurity probe of the communes' and members'
websites and mail domains (see :mod:`territoires.sonde`)."""

from __future__ import annotations

import argparse
import sys

from territoires import formats
from territoires.arguments import entier_positif, non_vide, secondes
from territoires.config import settings
from territoires.sonde import Reglages
from territoires.sonde.journal import DOSSIER, JournalOccupe

#: exit status when another probe writes the same campaign (as the other writers' « busy »)
EXIT_OCCUPE = 75


def _resolveur(texte: str) -> tuple[str, int]:
    """``IP`` or ``IP:PORT`` (``[IPv6]:PORT``) of a DNS resolver."""
    import ipaddress

    t = texte.strip()
    hote, port = t, "53"
    if t.startswith("["):
        hote, _, reste = t[1:].partition("]")
        port = reste.lstrip(":") or "53"
    elif t.count(":") == 1:
        hote, port = t.split(":")
    try:
        ipaddress.ip_address(hote)
        n = int(port)
        if not 0 < n < 65536:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(f"« {texte} » : adresse IP de résolveur attendue, "
                                         "éventuellement suivie de :PORT (par exemple 9.9.9.9 ou 127.0.0.1:5353)") from None
    return hote, n


def _ports(texte: str) -> tuple[int, int]:
    try:
        http, https = (int(p) for p in texte.split(","))
        if not (0 < http < 65536 and 0 < https < 65536):
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(f"« {texte} » : deux ports séparés par une virgule attendus "
                                         "(http,https ; par défaut 80,443)") from None
    return http, https


def _delai(texte: str) -> float:
    if texte.strip() in ("0", "0.0", "0,0"):
        return 0.0
    return secondes(texte)


def cmd_sonde(args: argparse.Namespace) -> int:
    from territoires.entrepot.connexion import connect  # paresseux : charge duckdb
    from territoires.sonde.campagne import lancer  # paresseux : charge dns, httpx
    from territoires.sonde.cibles import cibles  # paresseux : charge dns, httpx

    cfg = settings()
    con = connect(cfg.warehouse, spatial=False)
    try:
        liste = cibles(con, args.scope)
    finally:
        con.close()
    http, https = args.ports_web or (80, 443)
    reglages = Reglages(concurrence=args.concurrence, delai=args.delai, timeout=args.timeout,
                        tentatives=args.tentatives, port_http=http, port_https=https,
                        resolveur=args.resolveur, ca=args.ca, contact=args.contact)
    if not liste:
        print(f"Aucune cible dans la portée « {args.scope} » : aucune commune ni aucun adhérent "
              "n'y a de site ou d'adresse électronique déclarés.", file=sys.stderr)
        return 0
    try:
        bilan = lancer(liste, cfg.processed_dir / DOSSIER, reglages, reprendre=args.reprendre,
                       nouvelle=args.nouvelle, quiet=args.quiet, portee=args.scope)
    except JournalOccupe as exc:
        print(f"Occupé : {exc} ; réessayez quand elle sera terminée.", file=sys.stderr)
        return EXIT_OCCUPE
    print(f"{formats.entier(bilan.cibles)} cible(s), {formats.entier(bilan.controles)} contrôle(s) : "
          f"{formats.entier(bilan.faits)} fait(s) maintenant, {formats.entier(bilan.deja_faits)} repris du journal "
          f"— {formats.decimal(bilan.secondes)} s")
    if bilan.sans_reponse:
        print(f"Attention : pour {formats.entier(bilan.sans_reponse)} contrôle(s), le résolveur DNS n'a pas répondu "
              "(délai dépassé ou échec) : rien n'en est conclu, ils ne comptent dans aucun indicateur. Vérifiez "
              "le résolveur (--resolveur) puis lancez une nouvelle campagne (--nouvelle).", file=sys.stderr)
    print(f"Journal : {bilan.journal}")
    print("`territoires build` charge les résultats dans l'entrepôt (marts.sondes).")
    return 0


def register(sub) -> None:
    s = sub.add_parser(
        "sonde",
        help="sonder sites et messageries des communes et adhérents (HTTPS, certificat, HSTS, MX, SPF, DMARC, DNSSEC)",
        description=(
            "Contrôle, pour chaque commune de l'entrepôt et chaque adhérent chargé ayant un site ou une adresse "
            "électronique : HTTPS joignable, certificat valide et sa date d'expiration, redirection de HTTP vers "
            "HTTPS, en-tête HSTS ; pour le domaine de messagerie : MX, SPF, politique DMARC, DNSSEC. Poliment : "
            "une requête à la fois par hôte, un délai entre deux requêtes au même hôte, un plafond global. "
            "Chaque contrôle terminé est écrit aussitôt dans data/processed/sondes/ : une sonde interrompue, "
            "même brutalement, reprend là où elle s'est arrêtée sans rien refaire ni rien perdre. "
            "`territoires build` charge ensuite les résultats (marts.sondes, indicateurs)."
        ),
    )
    s.add_argument("--scope", default="all", metavar="PORTÉE", type=non_vide,
                   help="all | alliance | operateur:megalis | region:53 | departement:29 | epci:<siren> | "
                        "commune:<insee> (plusieurs séparées par des virgules ; défaut : all)")
    s.add_argument("--concurrence", type=entier_positif, default=20, metavar="N",
                   help="requêtes en cours au plus, tous hôtes confondus (défaut : 20)")
    s.add_argument("--delai", type=_delai, default=1.0, metavar="SECONDES",
                   help="attente entre deux requêtes au même hôte (défaut : 1)")
    s.add_argument("--timeout", type=secondes, default=10.0, metavar="SECONDES",
                   help="délai maximal de connexion, de lecture et de requête DNS (défaut : 10)")
    s.add_argument("--tentatives", type=entier_positif, default=3, metavar="N",
                   help="essais par requête en cas de délai dépassé, d'erreur réseau ou de 502/503/504, "
                        "avec attente croissante (défaut : 3)")
    campagne = s.add_mutually_exclusive_group()
    campagne.add_argument("--reprendre", action="store_true",
                   help="poursuivre la dernière campagne même terminée (par exemple pour une autre portée) ; "
                        "une campagne interrompue est de toute façon reprise")
    campagne.add_argument("--nouvelle", action="store_true",
                   help="commencer une nouvelle campagne même si la dernière est inachevée")
    s.add_argument("--resolveur", type=_resolveur, default=None, metavar="IP[:PORT]",
                   help="résolveur DNS à interroger (défaut : celui du système) ; un résolveur validant "
                        "renseigne aussi la validation DNSSEC (drapeau AD)")
    s.add_argument("--ports-web", type=_ports, default=None, metavar="HTTP,HTTPS",
                   help="ports des adresses http:// et https:// sans port explicite (défaut : 80,443 ; essais)")
    s.add_argument("--ca", default=None, metavar="FICHIER", type=non_vide,
                   help="autorités de certification de confiance, PEM (défaut : celles de certifi)")
    s.add_argument("--contact", default=None, metavar="URL_OU_COURRIEL", type=non_vide,
                   help="adresse citée dans l'en-tête User-Agent, pour que les sites sachent qui les contacte")
    s.set_defaults(func=cmd_sonde)
