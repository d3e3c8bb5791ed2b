"""How the probe reads what it receives: the kind of a network or DNS failure, the reason
a certificate is refused and its expiry date, the host names and URLs it normalises, the
TXT records of SPF and DMARC and a DMARC policy. Pure functions, used by :mod:`.controles`
(the checks) and :mod:`.cibles` (the targets).
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from datetime import datetime, timezone
from urllib.parse import urlsplit

import dns.exception
import dns.resolver
import httpx

#: OpenSSL verification codes → the reason recorded (X509_V_ERR_…)
RAISONS_CERTIFICAT = {
    9: "pas_encore_valide",      # CERT_NOT_YET_VALID
    10: "expire",                # CERT_HAS_EXPIRED
    18: "autosigne",             # DEPTH_ZERO_SELF_SIGNED_CERT
    19: "autosigne",             # SELF_SIGNED_CERT_IN_CHAIN
    20: "autorite_inconnue",     # UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    21: "autorite_inconnue",     # UNABLE_TO_VERIFY_LEAF_SIGNATURE
    23: "revoque",               # CERT_REVOKED
    62: "nom_different",         # HOSTNAME_MISMATCH
}
#: statuses retried (the server says « try again »)
STATUTS_REESSAYES = (502, 503, 504)
#: what a check records when no answer came: the reasons, in French
DELAI_DEPASSE = "délai dépassé"


class NomInconnu(Exception):
    """The host name has no address (NXDOMAIN or no A/AAAA record)."""


class CertificatInvalide(Exception):
    def __init__(self, hote: str, raison: str, message: str) -> None:
        super().__init__(message)
        self.hote, self.raison, self.message = hote, raison, message


class Redirections(Exception):
    """A redirect chain that loops or is too long."""


def cause_ssl(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, ssl.SSLCertVerificationError):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def erreur_reseau(exc: BaseException) -> str:
    """A short French reason for a failed request."""
    if isinstance(exc, (httpx.TimeoutException, asyncio.TimeoutError, dns.exception.Timeout)):
        return DELAI_DEPASSE
    if isinstance(exc, NomInconnu):
        return "nom inconnu (DNS)"
    if isinstance(exc, httpx.ConnectError):
        texte = str(exc).lower()
        if "refused" in texte:
            return "connexion refusée"
        if "ssl" in texte or "tls" in texte:
            return "échec de la négociation TLS"
        return "connexion impossible"
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return "connexion interrompue par le serveur"
    return f"erreur ({type(exc).__name__})"


def erreur_dns(exc: BaseException) -> str:
    """Why the resolver gave no conclusion."""
    if isinstance(exc, dns.exception.Timeout):
        return DELAI_DEPASSE
    if isinstance(exc, dns.resolver.NoNameservers):
        return "résolveur en échec (SERVFAIL)"
    return f"résolveur injoignable ({type(exc).__name__})"


def date_certificat(valeur: str | None) -> str | None:
    """``notAfter`` of ``getpeercert()`` (``'Jun  1 12:00:00 2027 GMT'``) → ISO 8601 UTC."""
    if not valeur:
        return None
    return datetime.fromtimestamp(ssl.cert_time_to_seconds(valeur), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def hote_ascii(hote: str) -> str:
    import idna

    hote = hote.strip().rstrip(".").lower()
    try:
        ipaddress.ip_address(hote)
        return hote
    except ValueError:
        pass
    try:
        return idna.encode(hote, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        return hote


def normaliser_url(url: str) -> str | None:
    """A declared site → ``scheme://host[:port]/path`` in ASCII (no query, no fragment),
    the scheme ``http`` when none is written; ``None`` when no host can be read."""
    texte = url.strip()
    if "://" not in texte:
        texte = "http://" + texte.lstrip("/")
    try:
        p = urlsplit(texte)
        port = p.port
    except ValueError:
        return None
    if p.scheme.lower() not in ("http", "https") or not p.hostname:
        return None
    hote = hote_ascii(p.hostname)
    return f"{p.scheme.lower()}://{hote}{f':{port}' if port else ''}{p.path or '/'}"


def textes(reponse: dns.resolver.Answer | None) -> list[str]:
    if reponse is None or not reponse.rrset:
        return []
    return [b"".join(r.strings).decode("utf-8", "replace").strip() for r in reponse.rrset]


def politique_dmarc(texte: str) -> str | None:
    """The ``p=`` tag of a DMARC record (RFC 7489 §6.3): none, quarantine or reject; an
    unknown value counts as none (§6.6.3: an invalid policy is treated as p=none)."""
    for partie in texte.split(";"):
        cle, _, valeur = partie.strip().partition("=")
        if cle.strip().lower() == "p":
            v = valeur.strip().lower()
            return v if v in ("none", "quarantine", "reject") else "none"
    return None
