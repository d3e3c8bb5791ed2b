"""The checks of one website and one mail domain, and the politeness rules every request
obeys (:class:`Sondeur`).

Politeness, per request (a redirect to another host is another request, to that host):

- one request at a time per host name, and :attr:`Reglages.delai` seconds between the end
  of one and the start of the next (:meth:`Sondeur._tour`);
- at most :attr:`Reglages.concurrence` requests in flight overall, DNS queries included
  (the slot is taken after the host's turn, so waiting for a host holds no slot);
- no keep-alive: every HTTP connection is closed with its response, whose body is never
  read (only the status line and headers matter here);
- timeouts on every connection, read and DNS query; timeouts, network errors and
  502/503/504 are retried with a doubling back-off, a refused certificate is not.

Web host names are resolved with the probe's own resolver (dnspython, the one the mail
checks use) and the connection goes to that address with the name in ``Host`` and in the
TLS SNI (httpx's ``sni_hostname``): the address contacted is always the one this resolver
gave, so a test pointing it at a loopback DNS server contacts nothing else.
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import time
from contextlib import asynccontextmanager
from typing import AsyncIterator
from urllib.parse import urljoin, urlsplit

import dns.asyncresolver
import dns.exception
import dns.flags
import dns.rdatatype
import dns.resolver
import httpx

from territoires.sonde import Reglages, user_agent
from territoires.sonde.interpretation import (RAISONS_CERTIFICAT, STATUTS_REESSAYES, CertificatInvalide, NomInconnu,
                                              Redirections, cause_ssl, date_certificat, erreur_dns, erreur_reseau,
                                              hote_ascii, normaliser_url, politique_dmarc, textes)

class Reponse:
    """What a request gave: status, headers, the peer certificate (verified requests)."""

    def __init__(self, url: str, statut: int, entetes: httpx.Headers, certificat: dict | None) -> None:
        self.url, self.statut, self.entetes, self.certificat = url, statut, entetes, certificat

    @property
    def location(self) -> str | None:
        if 300 <= self.statut < 400 and self.entetes.get("location"):
            return urljoin(self.url, self.entetes["location"].strip())
        return None


class Sondeur:
    """The probe's shared state: HTTP clients, resolver, the per-host turns, the global cap.
    Use as ``async with Sondeur(reglages) as s: await s.controle_web(url)``."""

    def __init__(self, reglages: Reglages) -> None:
        self.r = reglages
        self._global = asyncio.Semaphore(reglages.concurrence)
        self._verrous: dict[str, asyncio.Lock] = {}
        self._derniere: dict[str, float] = {}
        self._adresses: dict[str, asyncio.Future] = {}
        self.resolveur = dns.asyncresolver.Resolver(configure=reglages.resolveur is None)
        if reglages.resolveur is not None:
            self.resolveur.nameservers = [reglages.resolveur[0]]
            self.resolveur.port = reglages.resolveur[1]
        self.resolveur.timeout = reglages.timeout
        self.resolveur.lifetime = reglages.timeout
        # DO bit: the answers carry their RRSIG; AD asked (RFC 6840): a validating resolver says so
        self.resolveur.use_edns(0, dns.flags.DO, 1232)
        self.resolveur.flags = dns.flags.RD | dns.flags.AD
        if reglages.ca:
            self.contexte = ssl.create_default_context(cafile=reglages.ca)
        else:
            import certifi

            self.contexte = ssl.create_default_context(cafile=certifi.where())
        commun = dict(timeout=httpx.Timeout(reglages.timeout), follow_redirects=False,
                      limits=httpx.Limits(max_keepalive_connections=0, max_connections=reglages.concurrence),
                      headers={"User-Agent": user_agent(reglages.contact), "Connection": "close"},
                      trust_env=reglages.proxy_environnement)
        self._verifie = httpx.AsyncClient(verify=self.contexte, **commun)
        self._libre = httpx.AsyncClient(verify=False, **commun)  # reachability despite a bad certificate

    async def __aenter__(self) -> "Sondeur":
        return self

    async def __aexit__(self, *exc) -> None:
        await self._verifie.aclose()
        await self._libre.aclose()

    # --- politeness ---------------------------------------------------------------------

    @asynccontextmanager
    async def _tour(self, hote: str) -> AsyncIterator[None]:
        """The host's turn: one request at a time, ``delai`` seconds apart, within the cap."""
        verrou = self._verrous.setdefault(hote, asyncio.Lock())
        async with verrou:
            attente = self._derniere.get(hote, float("-inf")) + self.r.delai - time.monotonic()
            if attente > 0:
                await asyncio.sleep(attente)
            try:
                async with self._global:
                    yield
            finally:
                self._derniere[hote] = time.monotonic()

    async def _pause(self, tentative: int) -> None:
        await asyncio.sleep(self.r.attente * (2 ** tentative))

    # --- DNS --------------------------------------------------------------------------------

    async def _dns(self, nom: str, rdtype: str) -> dns.resolver.Answer | None:
        """One query, retried on timeouts and server failures; ``None`` when the name or
        the record type does not exist (NXDOMAIN, no answer)."""
        for tentative in range(self.r.tentatives):
            try:
                async with self._global:
                    return await self.resolveur.resolve(nom, rdtype, raise_on_no_answer=False, search=False)
            except dns.resolver.NXDOMAIN:
                return None
            except (dns.exception.Timeout, dns.resolver.NoNameservers):
                if tentative == self.r.tentatives - 1:
                    raise
                await self._pause(tentative)
        return None  # pragma: no cover

    async def _adresse(self, hote: str) -> str:
        """The host's address by the probe's resolver (A, else AAAA), looked up once."""
        try:
            ipaddress.ip_address(hote)
            return hote
        except ValueError:
            pass
        if hote not in self._adresses:
            self._adresses[hote] = asyncio.ensure_future(self._resoudre(hote))
        return await asyncio.shield(self._adresses[hote])

    async def _resoudre(self, hote: str) -> str:
        for rdtype in ("A", "AAAA"):
            reponse = await self._dns(hote, rdtype)
            if reponse is not None and reponse.rrset:
                return reponse.rrset[0].address
        raise NomInconnu(hote)

    # --- HTTP -----------------------------------------------------------------------------

    async def requete(self, url: str, verifier: bool = True) -> Reponse:
        """One GET, polite and retried. Raises :class:`CertificatInvalide` (not retried),
        :class:`NomInconnu`, or the last network error."""
        p = urlsplit(url)
        hote = (p.hostname or "").lower()
        https = p.scheme == "https"
        port = p.port or (self.r.port_https if https else self.r.port_http)
        adresse = await self._adresse(hote)
        cible = f"[{adresse}]" if ":" in adresse else adresse
        defaut = 443 if https else 80
        entete_hote = hote if (p.port or defaut) == defaut else f"{hote}:{p.port}"
        chemin = (p.path or "/") + (f"?{p.query}" if p.query else "")
        client = self._verifie if verifier else self._libre
        for tentative in range(self.r.tentatives):
            try:
                async with self._tour(hote):
                    req = client.build_request("GET", f"{p.scheme}://{cible}:{port}{chemin}",
                                               headers={"Host": entete_hote},
                                               extensions={"sni_hostname": hote} if https else {})
                    rep = await client.send(req, stream=True)
                    try:
                        certificat = None
                        if https and verifier:
                            flux = rep.extensions.get("network_stream")
                            objet = flux.get_extra_info("ssl_object") if flux is not None else None
                            certificat = objet.getpeercert() if objet is not None else None
                        reponse = Reponse(url, rep.status_code, rep.headers, certificat)
                    finally:
                        await rep.aclose()
            except httpx.HTTPError as exc:
                cause = cause_ssl(exc)
                if cause is not None:
                    raison = RAISONS_CERTIFICAT.get(cause.verify_code, "autre")
                    raise CertificatInvalide(hote, raison, cause.verify_message or str(cause)) from exc
                if tentative == self.r.tentatives - 1:
                    raise
                await self._pause(tentative)
                continue
            if reponse.statut in STATUTS_REESSAYES and tentative < self.r.tentatives - 1:
                await self._pause(tentative)
                continue
            return reponse
        raise AssertionError("unreachable")  # pragma: no cover

    async def suivre(self, url: str, verifier: bool = True, arret_https: bool = False) -> list[Reponse]:
        """The redirect chain from ``url``: every response, the last one not a redirect (or,
        with ``arret_https``, the last one redirecting to an https:// URL, not fetched).
        Raises :class:`Redirections` on a loop or past ``redirections_max``."""
        chaine: list[Reponse] = []
        vues = {url}
        while True:
            rep = await self.requete(url, verifier)
            chaine.append(rep)
            suivante = rep.location
            if suivante is None:
                return chaine
            if urlsplit(suivante).scheme not in ("http", "https"):
                return chaine
            if arret_https and suivante.startswith("https://"):
                return chaine
            if suivante in vues:
                raise Redirections("boucle de redirections")
            if len(chaine) > self.r.redirections_max:
                raise Redirections(f"plus de {self.r.redirections_max} redirections")
            vues.add(suivante)
            url = suivante

    # --- the checks ----------------------------------------------------------------------------

    async def controle_web(self, url_declaree: str) -> dict:
        """HTTPS reachable, certificate valid and its expiry, HSTS; HTTP → HTTPS redirect.

        - ``https_joignable``: an HTTP answer came over TLS (whatever the certificate);
        - ``certificat_valide``: the chain and the name verified by ``ssl`` (certifi's
          authorities, or :attr:`Reglages.ca`); ``certificat_erreur``: expire, autosigne,
          nom_different, autorite_inconnue…; ``certificat_expire_le``: ``notAfter`` of a
          verified certificate (``ssl`` gives no field of a certificate it refused);
        - ``hsts``: a ``Strict-Transport-Security`` header on a verified HTTPS answer of
          the chain (browsers ignore it otherwise);
        - ``redirection_https``: the http:// URL leads, through its redirects, to an
          https:// URL; ``boucle``: a redirect chain loops (or is too long);
        - ``dns_erreur``: the resolver did not answer for the site's host (timeout,
          SERVFAIL): nothing is concluded about the site (a name that does not exist is
          a conclusion: « nom inconnu »).
        """
        url = normaliser_url(url_declaree)
        res: dict = {"url": url, "https_joignable": False, "https_statut": None, "https_erreur": None,
                     "certificat_valide": None, "certificat_erreur": None, "certificat_expire_le": None,
                     "hsts": False, "hsts_valeur": None, "http_joignable": False, "http_statut": None,
                     "http_erreur": None, "redirection_https": False, "redirections": [], "boucle": False,
                     "dns_erreur": None}
        if url is None:
            res["https_erreur"] = res["http_erreur"] = "adresse illisible"
            return res
        try:
            await self._adresse(urlsplit(url).hostname or "")
        except NomInconnu as exc:
            res["https_erreur"] = res["http_erreur"] = erreur_reseau(exc)
            return res
        except (dns.exception.DNSException, OSError) as exc:
            res["dns_erreur"] = erreur_dns(exc)
            return res
        reste = url.split("://", 1)[1]
        url_https, url_http = "https://" + reste, "http://" + reste
        # 1. HTTPS, certificate verified
        try:
            chaine = await self.suivre(url_https)
            res.update(https_joignable=True, certificat_valide=True, https_statut=chaine[-1].statut)
            res["certificat_expire_le"] = date_certificat((chaine[0].certificat or {}).get("notAfter"))
            hsts = next((r.entetes["strict-transport-security"] for r in chaine
                         if r.url.startswith("https://") and "strict-transport-security" in r.entetes), None)
            res.update(hsts=hsts is not None, hsts_valeur=hsts)
        except CertificatInvalide as exc:
            if exc.hote == urlsplit(url_https).hostname:
                res.update(certificat_valide=False, certificat_erreur=exc.raison)
                try:  # reachable all the same? (one request, no redirect followed)
                    rep = await self.requete(url_https, verifier=False)
                    res.update(https_joignable=True, https_statut=rep.statut)
                except (httpx.HTTPError, NomInconnu, dns.exception.DNSException, OSError) as exc2:
                    res["https_erreur"] = erreur_reseau(exc2)
            else:
                res.update(https_joignable=True, certificat_valide=True,
                           https_erreur=f"certificat refusé sur la redirection vers {exc.hote} ({exc.raison})")
        except Redirections as exc:
            res.update(https_joignable=True, certificat_valide=True, boucle=True, https_erreur=str(exc))
        except (httpx.HTTPError, NomInconnu, dns.exception.DNSException, OSError) as exc:
            res["https_erreur"] = erreur_reseau(exc)
        # 2. HTTP, following redirects until an https:// URL (already checked above)
        try:
            chaine = await self.suivre(url_http, arret_https=True)
            res.update(http_joignable=True, http_statut=chaine[0].statut,
                       redirections=[r.location for r in chaine if r.location])
            res["redirection_https"] = bool(chaine[-1].location and chaine[-1].location.startswith("https://"))
        except CertificatInvalide as exc:  # an https hop is never fetched here; kept for safety
            res.update(http_joignable=True, http_erreur=f"certificat refusé ({exc.raison})")
        except Redirections as exc:
            res.update(http_joignable=True, boucle=True, http_erreur=str(exc))
        except (httpx.HTTPError, NomInconnu, dns.exception.DNSException, OSError) as exc:
            res["http_erreur"] = erreur_reseau(exc)
        return res

    async def controle_mail(self, domaine: str) -> dict:
        """MX, SPF, DMARC and DNSSEC of a mail domain.

        - ``mx``: the MX records (``"preference host"``), ``mx_principal``: the host of the
          lowest preference (classified at build time by ``indicators/mx.csv``);
        - ``spf``: a TXT record starting with ``v=spf1`` on the domain;
        - ``dmarc``: the ``p=`` policy of the ``v=DMARC1`` TXT record at ``_dmarc.<domain>``
          (``none``, ``quarantine``, ``reject``), ``None`` without one;
        - ``dnssec``: the domain publishes a DNSKEY set signed by an RRSIG (asked with the
          DO bit): the zone is signed. This is presence, not validation: ``dnssec_ad`` keeps
          the AD flag of that answer, set only by a validating resolver (the system's
          often is not), so it is recorded but not used as the criterion;
        - ``erreur``: the resolver did not answer (timeout, SERVFAIL): nothing is concluded.
        """
        domaine = hote_ascii(domaine)
        res: dict = {"domaine": domaine, "mx": [], "mx_principal": None, "spf": False, "spf_valeur": None,
                     "dmarc": None, "dmarc_valeur": None, "dnssec": False, "dnssec_ad": False, "erreur": None}
        try:
            mx = await self._dns(domaine, "MX")
            if mx is not None and mx.rrset:
                enregistrements = sorted((r.preference, r.exchange.to_text(omit_final_dot=True).lower()) for r in mx.rrset)
                res["mx"] = [f"{p} {h}" for p, h in enregistrements]
                res["mx_principal"] = next((h for _, h in enregistrements if h not in ("", ".")), None)
            txt = await self._dns(domaine, "TXT")
            spf = [t for t in textes(txt) if t.lower().startswith("v=spf1")]
            res.update(spf=bool(spf), spf_valeur=spf[0] if spf else None)
            dmarc = [t for t in textes(await self._dns("_dmarc." + domaine, "TXT"))
                     if t.replace(" ", "").lower().startswith("v=dmarc1")]
            if dmarc:
                res["dmarc_valeur"] = dmarc[0]
                politique = politique_dmarc(dmarc[0])
                res["dmarc"] = politique
            cles = await self._dns(domaine, "DNSKEY")
            if cles is not None and cles.rrset:
                signe = any(rr.rdtype == dns.rdatatype.RRSIG and rr.covers == dns.rdatatype.DNSKEY
                            for rr in cles.response.answer)
                res["dnssec"] = signe
                res["dnssec_ad"] = bool(cles.response.flags & dns.flags.AD)
        except (dns.exception.DNSException, OSError) as exc:
            res["erreur"] = erreur_dns(exc)
        return res
