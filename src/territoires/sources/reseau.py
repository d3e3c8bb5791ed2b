"""The network side of a download: pooch's HTTP downloader with French lines, the
conditional request of a file republished in place, and the kinds of network failure.

Every network error becomes one French line (:data:`RAISONS`); an HTTP 4xx and « no
network » are not retried; a host found unreachable is remembered for the run
(:class:`Reseau`). :mod:`.telechargement` uses it for the download itself.
"""

from __future__ import annotations

import logging
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from territoires.formats import decimal, taille as fmt_taille
from territoires.progress import BarreOctets
from territoires.sources.erreurs import SourceError

AGENT = "territoires/0.1 (observatoire open data, operateurs publics de services numeriques)"

#: HTTP statuses worth a retry (timeouts, rate limits, server errors)
STATUTS_A_REESSAYER = {408, 425, 429, 500, 502, 503, 504}


class Reseau:
    """What one run learned of the network: the hosts (``host:port``) found unreachable,
    with the reason; the next sources on such a host fail at once, without a request."""

    def __init__(self) -> None:
        self.injoignables: dict[str, str] = {}


class Inchange(Exception):  # noqa: N818 - a signal, not an error; outside pooch's retried types
    """The server says the previous copy is current (raised from the response hook, before
    any byte of the body is read)."""


#: the French line of each kind of network failure
RAISONS = {
    "dns": "nom d'hôte introuvable : pas de réseau ?",
    "inaccessible": "réseau inaccessible : pas de réseau ?",
    "refus": "connexion refusée",
    "delai_connexion": "délai dépassé (connexion)",
    "delai": "délai dépassé",
    "coupure": "connexion interrompue en cours de transfert",
    "tls": "échec de la connexion chiffrée (TLS)",
    "redirections": "trop de redirections",
}
#: failures meaning no network at all: not retried
SANS_RESEAU = {"dns", "inaccessible"}
#: failures meaning the host cannot be reached: the run does not try it again
HOTE_INJOIGNABLE = {"dns", "inaccessible", "refus", "delai_connexion"}


def hote_de(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.hostname or ''}:{parts.port or (443 if parts.scheme == 'https' else 80)}"


def ecrire(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- pooch downloader: French messages, no retry on 4xx --------------------------------


class Telechargeur:
    """A pooch downloader: pooch's HTTPDownloader, with French lines, 4xx and « no network »
    not retried, and the conditional request of a file republished in place."""

    def __init__(self, source_id: str, *, timeout: float, tentatives: int, barre: bool, lignes: bool,
                 reseau: Reseau | None = None, precedente: dict | None = None):
        self.source_id = source_id
        self.timeout = timeout
        self.tentatives = tentatives
        self.barre = barre
        self.lignes = lignes
        self.reseau = reseau if reseau is not None else Reseau()
        self.precedente = precedente  # the sidecar of the copy in use (conditional request)
        self.essai = 0
        self.derniere_erreur: str | None = None
        self.categorie: str | None = None
        self.entetes: dict = {}

    def _reponse(self, r, *args, **kwargs):  # noqa: ANN001 - requests' response hook
        if r.is_redirect:
            return r
        self.entetes = {"etag": r.headers.get("ETag"), "last_modified": r.headers.get("Last-Modified")}
        if self.precedente is not None and inchange(r.status_code, r.headers, self.precedente):
            r.close()
            raise Inchange
        return r

    def __call__(self, url: str, output_file, pooch) -> None:  # noqa: ANN001 (pooch's signature)
        import pooch as _pooch
        import requests

        self.essai += 1
        if self.essai > 1:  # a retry is said even when quiet (cron and CI logs keep it)
            ecrire(f"  nouvelle tentative {self.essai}/{self.tentatives} ({self.derniere_erreur})")
        debut = time.monotonic()

        # identity: the bytes hashed are the bytes published (no transparent gunzip)
        entetes = {"User-Agent": AGENT, "Accept-Encoding": "identity"}
        if self.precedente is not None:
            if self.precedente.get("etag"):
                entetes["If-None-Match"] = self.precedente["etag"]
            if self.precedente.get("last_modified"):
                entetes["If-Modified-Since"] = self.precedente["last_modified"]
        http = _pooch.HTTPDownloader(
            progressbar=BarreOctets(self.source_id) if self.barre else False,
            timeout=self.timeout,
            headers=entetes,
            hooks={"response": self._reponse},
        )
        try:
            http(url, output_file, pooch)
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            raison = exc.response.reason if exc.response is not None else ""
            self.categorie = "http"
            self.derniere_erreur = f"HTTP {status} {raison}".rstrip()
            if status not in STATUTS_A_REESSAYER:
                raise SourceError(
                    f"{url} : le serveur répond {self.derniere_erreur}"
                    + (" — ressource introuvable à cette adresse (vérifiez l'URL du registre)" if status == 404 else "")
                    + f" (source {self.source_id})", raison=self.derniere_erreur,
                ) from exc
            raise
        except requests.RequestException as exc:
            self.categorie = categorie_reseau(exc)
            self.derniere_erreur = RAISONS.get(self.categorie) or f"erreur réseau ({type(exc).__name__})"
            if self.categorie in SANS_RESEAU:  # retrying in a second will not bring the network back
                self.reseau.injoignables[hote_de(url)] = self.derniere_erreur
                raise SourceError(f"{url} : téléchargement impossible ({self.derniere_erreur})",
                                  raison=self.derniere_erreur) from exc
            raise
        if self.lignes:
            taille = Path(output_file).stat().st_size if not hasattr(output_file, "write") else 0

            ecrire(f"  reçu {fmt_taille(taille)} en {decimal(time.monotonic() - debut)} s")


def inchange(statut: int, entetes, fiche: dict) -> bool:  # noqa: ANN001 - a case-insensitive mapping
    """Whether a response's status and headers say the copy described by ``fiche`` (its
    sidecar) is current: ``304``; or, from a server ignoring the conditions, the same
    ``ETag``; or (no ETag to compare) the same ``Last-Modified`` and ``Content-Length``."""
    if statut == 304:
        return True
    if statut != 200:
        return False
    etag = entetes.get("ETag")
    if etag and fiche.get("etag"):
        return etag == fiche["etag"]
    date, taille = entetes.get("Last-Modified"), entetes.get("Content-Length")
    return bool(date and taille and date == fiche.get("last_modified") and str(taille) == str(fiche.get("taille")))


def categorie_reseau(exc: BaseException) -> str:
    """The kind of a network failure (a key of :data:`RAISONS`, ``autre`` otherwise),
    read from the whole chain of exceptions requests and urllib3 wrap each other in."""
    vus, pile, textes = set(), [exc], []
    while pile:
        e = pile.pop()
        if e is None or id(e) in vus:
            continue
        vus.add(id(e))
        textes.append(f"{type(e).__name__} {e}")
        pile.extend([getattr(e, "reason", None), e.__cause__, e.__context__])
        pile.extend(a for a in getattr(e, "args", ()) if isinstance(a, BaseException))
    t = " ".join(textes)
    regles = [
        ("dns", ("NameResolutionError", "gaierror", "Name or service not known", "name resolution",
                 "nodename nor servname", "No address associated", "getaddrinfo failed")),
        ("inaccessible", ("Network is unreachable", "No route to host")),
        ("refus", ("Connection refused", "ConnectionRefusedError")),
        ("delai_connexion", ("ConnectTimeout",)),
        ("coupure", ("IncompleteRead", "Connection broken", "ChunkedEncodingError", "RemoteDisconnected",
                     "Connection aborted", "Connection reset")),
        ("delai", ("ReadTimeout", "timed out", "Timeout")),
        ("tls", ("SSLError", "CERTIFICATE")),
        ("redirections", ("TooManyRedirects",)),
    ]
    for cle, motifs in regles:
        if any(m in t for m in motifs):
            return cle
    return "autre"


def resume_erreur(exc: BaseException) -> str:
    return RAISONS.get(categorie_reseau(exc)) or f"erreur réseau ({type(exc).__name__})"


@contextmanager
def pooch_silencieux():
    """pooch logs English lines at INFO: keep ours, silence its own for the call."""
    import pooch

    logger = pooch.get_logger()
    niveau = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(niveau)
