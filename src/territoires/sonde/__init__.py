"""The cybersecurity probe: ``territoires sonde``.

For every commune of the warehouse and every loaded member with a website or a mail
domain, a live and polite probe checks:

- the website (one check per declared URL, :func:`territoires.sonde.controles.Sondeur.controle_web`):
  HTTPS reachable, certificate valid (the standard ``ssl`` module's verification) and its
  expiry date (``notAfter``), HTTP → HTTPS redirect (a bounded redirect chain, loops
  detected), HSTS header;
- the mail domain (one check per domain, :meth:`~territoires.sonde.controles.Sondeur.controle_mail`):
  MX present, SPF present (TXT ``v=spf1``), DMARC policy (``_dmarc`` TXT: none, quarantine,
  reject), DNSSEC signed (DNSKEY published with its RRSIG; the resolver's AD flag kept
  beside); the MX operator class comes at build time from ``indicators/mx.csv``.

The libraries of the field do the protocol work: ``dnspython`` (DNS), ``httpx`` (HTTP,
asynchronous), ``ssl`` (certificates). A global cap on concurrent requests, one request
at a time per host with a delay between two requests to the same host, timeouts,
retries with back-off, an honest User-Agent. Each finished check is appended at once to
a JSON-lines journal under ``data/processed/sondes/`` (:mod:`.journal`): a run killed
even with ``kill -9`` resumes and never loses nor redoes a finished check. The build
loads the journals into ``raw.sondes`` (:mod:`.etapes`) → ``staging.sondes`` →
``marts.sondes``.
"""

from __future__ import annotations

from dataclasses import dataclass

from territoires.paquet import __version__


def user_agent(contact: str | None = None) -> str:
    """The User-Agent of every request: the project, its version, what it is, and the
    contact of whoever runs it (``--contact``: a URL or an e-mail address), so that a
    site's operator knows who calls. The project has no public URL of its own yet."""
    suite = f"; +{contact}" if contact else ""
    # HTTP headers are ASCII: no accents here
    return (f"territoires-sonde/{__version__} (observatoire open data des operateurs publics de services "
            f"numeriques; controle HTTPS et messagerie{suite})")


@dataclass(frozen=True)
class Reglages:
    """How the probe behaves. The defaults are those of a real run; the tests point the
    resolver, the ports and the certificate authorities at their own loopback servers."""

    #: requests in flight at once, all hosts together
    concurrence: int = 20
    #: seconds between the end of a request to a host and the start of the next one to it
    delai: float = 1.0
    #: seconds for each connection, read and DNS query
    timeout: float = 10.0
    #: attempts per request (timeouts, network errors, 502/503/504), with back-off
    tentatives: int = 3
    #: first back-off in seconds, doubled at each new attempt
    attente: float = 1.0
    #: redirects followed at most in a chain
    redirections_max: int = 10
    #: ports of http:// and https:// URLs without an explicit port
    port_http: int = 80
    port_https: int = 443
    #: DNS resolver ``(address, port)``; ``None``: the system's (``/etc/resolv.conf``)
    resolveur: tuple[str, int] | None = None
    #: file of the certificate authorities trusted; ``None``: certifi's bundle
    ca: str | None = None
    #: use the HTTP(S)_PROXY variables of the environment
    proxy_environnement: bool = True
    #: a URL or e-mail address named in the User-Agent
    contact: str | None = None
