"""A probe campaign: the targets' checks not done yet, run concurrently under the
politeness rules of :class:`~territoires.sonde.controles.Sondeur`, each written to the
journal as it finishes.

The unit of work (and of resumption) is a check: the website of a URL (``web``) or a
mail domain (``mail``), done once however many targets share it; ``marts.sondes`` gives
each target its checks back.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from territoires.progress import Progress
from territoires.sonde import Reglages
from territoires.sonde.cibles import Cible
from territoires.sonde.controles import Sondeur
from territoires.sonde.journal import Journal, campagnes, lire, maintenant


@dataclass
class Bilan:
    journal: Path
    cibles: int
    controles: int          # checks of these targets
    deja_faits: int         # found done in the journal (resumed)
    faits: int              # done by this run
    secondes: float
    reprise: bool
    #: checks of this run on which the resolver gave no answer (nothing concluded)
    sans_reponse: int = 0


def choisir_journal(dossier: Path, reprendre: bool = False, nouvelle: bool = False) -> tuple[Path, bool]:
    """The campaign to write: the last one when unfinished (or with ``reprendre``),
    a new one otherwise (or with ``nouvelle``). Returns its path and whether it resumes."""
    existantes = campagnes(dossier)
    if existantes and not nouvelle:
        derniere = existantes[-1]

        fini = any(l.get("type") == "fin" for l in lire(derniere))
        if reprendre or not fini:
            return derniere, True
    if reprendre and not existantes:
        raise ValueError(f"{dossier} : aucune campagne à reprendre ; lancez `territoires sonde` sans --reprendre")
    nom = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + ".jsonl"
    return dossier / nom, False


def travaux(cibles: list[Cible]) -> list[tuple[str, str]]:
    """The distinct checks of the targets, ``(objet, cle)``, in the targets' order."""
    vus: dict[tuple[str, str], None] = {}
    for c in cibles:
        if c.cle_web:
            vus.setdefault(("web", c.cle_web), None)
        if c.cle_mail:
            vus.setdefault(("mail", c.cle_mail), None)
    return list(vus)


async def _executer(journal: Journal, a_faire: list[tuple[str, str]], reglages: Reglages,
                    progress: Progress) -> tuple[int, int]:
    faits = muets = 0
    async with Sondeur(reglages) as sondeur:
        async def un(objet: str, cle: str) -> None:
            nonlocal faits, muets
            t0 = time.perf_counter()
            resultat = await (sondeur.controle_web(cle) if objet == "web" else sondeur.controle_mail(cle))
            journal.controle(objet, cle, resultat, time.perf_counter() - t0)
            faits += 1
            muets += bool(resultat.get("dns_erreur") or resultat.get("erreur"))
            progress.avance("Sonde")

        taches = [asyncio.ensure_future(un(o, c)) for o, c in a_faire]
        try:
            await asyncio.gather(*taches)
        finally:
            for t in taches:
                t.cancel()
    return faits, muets


def lancer(cibles: list[Cible], dossier: Path, reglages: Reglages, *, reprendre: bool = False,
           nouvelle: bool = False, quiet: bool = False, portee: str = "all") -> Bilan:
    """Run (or resume) a campaign on ``cibles``; every finished check is in the journal
    whatever happens next."""
    t0 = time.perf_counter()
    chemin, reprise = choisir_journal(dossier, reprendre, nouvelle)
    journal = Journal.ouvrir(chemin)
    progress = Progress(quiet=quiet)
    try:
        if not reprise or not chemin.stat().st_size:
            journal.ecrire({"type": "campagne", "debut": maintenant(), "portee": portee,
                            "reglages": {k: v for k, v in asdict(reglages).items() if k != "contact"}})
        elif reprise:
            journal.ecrire({"type": "reprise", "le": maintenant(), "portee": portee})
        for c in cibles:
            if (c.genre, c.operateur, c.identifiant) not in journal.cibles:
                journal.ecrire(c.ligne())
                journal.cibles.add((c.genre, c.operateur, c.identifiant))
        tous = travaux(cibles)
        a_faire = [t for t in tous if t not in journal.faits]
        progress.total = len(a_faire)
        progress.say(f"Sonde : {len(cibles)} cible(s), {len(tous)} contrôle(s) dont {len(tous) - len(a_faire)} "
                     f"déjà fait(s) ; journal {chemin}")
        faits, muets = asyncio.run(_executer(journal, a_faire, reglages, progress)) if a_faire else (0, 0)
        progress.fin()
        journal.ecrire({"type": "fin", "le": maintenant(), "controles": len(journal.faits)})
    finally:
        journal.fermer()
    return Bilan(chemin, len(cibles), len(tous), len(tous) - len(a_faire), faits, time.perf_counter() - t0, reprise,
                 muets)
