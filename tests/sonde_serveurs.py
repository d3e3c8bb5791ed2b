"""Loopback servers for the probe's tests: a DNS server and an HTTP + HTTPS server, both
on 127.0.0.0/8 only, and a guard that fails on any connection elsewhere.

- :class:`ServeurDNS`: UDP, built on dnspython's message API; answers A, MX, TXT, DNSKEY
  (with its RRSIG when the query sets the DO bit, and the AD flag for the names listed
  as validated), NXDOMAIN for unknown names, silence for « slow » names.
- :class:`ServeurWeb`: asyncio, in a thread; every host has its own loopback address
  (127.0.0.x), so the server measures concurrent connections per host exactly (by the
  local address, from accept to close) and overall; HTTPS picks the certificate by SNI
  (valid from a ``trustme`` test CA, self-signed, expired). Each host has a scenario
  (redirects to HTTPS, chains, loops, slow, failing, cut connections).
- :func:`installer_garde`: ``socket.connect`` / ``connect_ex`` / ``sendto`` refuse any
  non-loopback address (the test fixture and the killed subprocess install it).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

# ── the guard ────────────────────────────────────────────────────────────────────────


class SortieInterdite(AssertionError):
    pass


def _adresse_locale(adresse) -> bool:
    if isinstance(adresse, (str, bytes)):  # AF_UNIX
        return True
    hote = adresse[0]
    try:
        return ipaddress.ip_address(hote).is_loopback
    except ValueError:
        return hote == "localhost"


def installer_garde() -> callable:
    """Make any connection or datagram to a non-loopback address raise; returns the undo."""
    origine = {n: getattr(socket.socket, n) for n in ("connect", "connect_ex", "sendto")}

    def garde(nom):
        def f(self, *args):
            adresse = args[-1]
            if self.family in (socket.AF_INET, socket.AF_INET6) and not _adresse_locale(adresse):
                raise SortieInterdite(f"connexion hors de la boucle locale refusée : {adresse!r}")
            return origine[nom](self, *args)
        return f

    for n in origine:
        setattr(socket.socket, n, garde(n))

    def retirer():
        for n, f in origine.items():
            setattr(socket.socket, n, f)
    return retirer


# ── DNS ─────────────────────────────────────────────────────────────────────────────


class ServeurDNS:
    """``enregistrements``: {name: {type: [rdata text]}}; ``valides``: names answered with
    AD; ``lents``: names never answered. Counts queries per (name, type)."""

    def __init__(self, enregistrements: dict, valides=(), lents=(), defaut: str | None = None) -> None:
        self.enr = {dns.name.from_text(n): v for n, v in enregistrements.items()}
        self.defaut = defaut  # an A record for every other name (and nothing else)
        self.valides = {dns.name.from_text(n) for n in valides}
        self.lents = {dns.name.from_text(n) for n in lents}
        self.requetes: Counter = Counter()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self._fin = threading.Event()
        self.thread = threading.Thread(target=self._servir, daemon=True)

    def _repondre(self, q: dns.message.Message) -> dns.message.Message | None:
        question = q.question[0]
        nom, rdtype = question.name, question.rdtype
        self.requetes[(nom.to_text(omit_final_dot=True), dns.rdatatype.to_text(rdtype))] += 1
        if nom in self.lents:
            return None
        r = dns.message.make_response(q)
        if nom not in self.enr and self.defaut and rdtype == dns.rdatatype.A:
            r.answer.append(dns.rrset.from_text_list(nom, 300, "IN", "A", [self.defaut]))
            return r
        if nom not in self.enr:
            r.set_rcode(dns.rcode.NXDOMAIN)
            return r
        texte = dns.rdatatype.to_text(rdtype)
        valeurs = self.enr[nom].get(texte, [])
        if valeurs:
            r.answer.append(dns.rrset.from_text_list(nom, 300, "IN", texte, valeurs))
            signature = self.enr[nom].get("RRSIG:" + texte)
            if signature and q.ednsflags & dns.flags.DO:
                r.answer.append(dns.rrset.from_text_list(nom, 300, "IN", "RRSIG", signature))
        if nom in self.valides:
            r.flags |= dns.flags.AD
        return r

    def _servir(self) -> None:
        while not self._fin.is_set():
            try:
                donnees, client = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                r = self._repondre(dns.message.from_wire(donnees))
            except Exception:  # noqa: BLE001 - a malformed query gets no answer
                continue
            if r is not None:
                self.sock.sendto(r.to_wire(), client)

    def __enter__(self) -> "ServeurDNS":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._fin.set()
        self.thread.join(timeout=5)
        self.sock.close()


# ── certificates ──────────────────────────────────────────────────────────────────────


class Certificats:
    """A trustme test CA (trusted by the probe through ``Reglages.ca``), a valid
    certificate for the given names, an expired one, and a self-signed one."""

    def __init__(self, valides: list[str], expires: list[str], dossier) -> None:
        import trustme

        self.ca = trustme.CA()
        self.fichier_ca = dossier / "ca.pem"
        self.ca.cert_pem.write_to_path(str(self.fichier_ca))
        self.notafter = datetime(2031, 5, 17, 12, 0, tzinfo=timezone.utc)
        self.valide = self.ca.issue_cert(*valides, not_after=self.notafter)
        maintenant = datetime.now(timezone.utc)
        self.expire = self.ca.issue_cert(*expires, not_before=maintenant - timedelta(days=400),
                                         not_after=maintenant - timedelta(days=30))
        self.autre_ca = trustme.CA()  # its own certificate is self-signed, by an authority nobody trusts

    def contexte(self, sni: dict[str, str]) -> ssl.SSLContext:
        """A server context choosing the certificate by SNI: ``sni`` maps a name to
        « valide », « expire » or « autosigne »."""
        contextes = {}
        for genre in ("valide", "expire", "autosigne"):
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            if genre == "valide":
                self.valide.configure_cert(ctx)
            elif genre == "expire":
                self.expire.configure_cert(ctx)
            else:
                import tempfile

                with tempfile.NamedTemporaryFile("wb", suffix=".pem", delete=False) as f:
                    f.write(self.autre_ca.cert_pem.bytes() + self.autre_ca.private_key_pem.bytes())
                ctx.load_cert_chain(f.name)
            contextes[genre] = ctx
        principal = contextes["valide"]

        def choisir(sock, nom, _ctx):
            if nom and sni.get(nom, "valide") != "valide":
                sock.context = contextes[sni[nom]]
        principal.sni_callback = choisir
        return principal


# ── HTTP and HTTPS ─────────────────────────────────────────────────────────────────────


class ServeurWeb:
    """One HTTP port and one HTTPS port on each of the hosts' loopback addresses.

    ``hotes``: {name: (address, scenario)}. Scenarios: ``ok`` (HTTPS 200 with HSTS; HTTP
    301 → HTTPS), ``sans_hsts`` (HTTPS 200 without HSTS; HTTP 200, no redirect),
    ``chaine`` (HTTP /→/1→/2→HTTPS), ``boucle`` (HTTP /→/a→/b→/a), ``boucle_https``
    (HTTPS /→/x→/ ), ``lent`` (answers after ``lenteur`` s), ``panne`` (503 always),
    ``coupe`` (closes without answering), ``http_seul`` (HTTP 200; the HTTPS port
    answers nothing useful: connection cut)."""

    def __init__(self, hotes: dict[str, tuple[str, str]], contexte_tls: ssl.SSLContext | None,
                 lenteur: float = 2.0, duree: float = 0.0, defaut: str = "inconnu") -> None:
        self.hotes = hotes
        self.defaut = defaut  # the scenario of a Host not listed
        self.par_adresse = {a: n for n, (a, _) in hotes.items()}
        self.tls = contexte_tls
        self.lenteur = lenteur
        self.duree = duree  # seconds each answer takes (to make concurrency visible)
        self.actives: Counter = Counter()
        self.max_par_hote: Counter = Counter()
        self.actives_total = 0
        self.max_total = 0
        self.requetes: Counter = Counter()   # (host, scheme, path)
        self.agents: set = set()
        self.ecarts_min: dict[str, float] = {}  # per host: shortest gap between a close and the next accept
        self._fermee: dict[str, float] = {}
        self._verrou = threading.Lock()
        self.port_http = self.port_https = 0
        self._pret = threading.Event()
        self._loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _ouvrir(self, adresse: str) -> str:
        nom = self.par_adresse.get(adresse, "?")
        with self._verrou:
            t = time.monotonic()
            if nom in self._fermee:
                ecart = t - self._fermee[nom]
                self.ecarts_min[nom] = min(self.ecarts_min.get(nom, ecart), ecart)
            self.actives[nom] += 1
            self.max_par_hote[nom] = max(self.max_par_hote[nom], self.actives[nom])
            self.actives_total += 1
            self.max_total = max(self.max_total, self.actives_total)
        return nom

    def _fermer(self, nom: str) -> None:
        with self._verrou:
            self.actives[nom] -= 1
            self.actives_total -= 1
            self._fermee[nom] = time.monotonic()

    async def _traiter(self, reader, writer, https: bool) -> None:
        adresse = writer.get_extra_info("sockname")[0]
        nom = self._ouvrir(adresse)
        try:
            try:
                tete = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            except (asyncio.IncompleteReadError, asyncio.TimeoutError, ConnectionError, asyncio.LimitOverrunError):
                return
            lignes = tete.decode("latin-1").split("\r\n")
            chemin = lignes[0].split(" ")[1]
            entetes = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lignes[1:] if l)}
            self.agents.add(entetes.get("user-agent", ""))
            hote_entete = entetes.get("host", "").split(":")[0]
            with self._verrou:
                self.requetes[(hote_entete, "https" if https else "http", chemin)] += 1
            scenario = self.hotes.get(hote_entete, ("", self.defaut))[1]
            if self.duree:
                await asyncio.sleep(self.duree)
            reponse = await self._reponse(scenario, https, hote_entete, chemin, reader)
            if reponse is None:
                return
            writer.write(reponse)
            await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            try:
                writer.close()
                await writer.wait_closed()
            except (ConnectionError, ssl.SSLError, OSError):
                pass
            self._fermer(nom)

    async def _reponse(self, scenario: str, https: bool, hote: str, chemin: str, reader) -> bytes | None:
        def r(statut: int, raison: str, entetes: dict | None = None) -> bytes:
            e = {"Content-Length": "2", "Connection": "close", **(entetes or {})}
            return (f"HTTP/1.1 {statut} {raison}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in e.items())
                    + "\r\nok").encode()

        vers_https = f"https://{hote}:{self.port_https}/"
        if scenario == "lent":  # answers late, unless the client gave up first (then the connection ends)
            try:
                if not await asyncio.wait_for(reader.read(1), self.lenteur):
                    return None
            except asyncio.TimeoutError:
                pass
            return r(200, "OK")
        if scenario == "panne":
            return r(503, "Service Unavailable")
        if scenario == "coupe" or (scenario == "http_seul" and https):
            return None
        if https:
            if scenario == "boucle_https":
                return r(302, "Found", {"Location": "/x" if chemin == "/" else "/"})
            return r(200, "OK", {"Strict-Transport-Security": "max-age=31536000"} if scenario in ("ok", "chaine") else {})
        if scenario == "ok":
            return r(301, "Moved Permanently", {"Location": vers_https})
        if scenario == "chaine":
            suite = {"/": "/1", "/1": f"http://{hote}:{self.port_http}/2", "/2": vers_https}
            return r(301, "Moved Permanently", {"Location": suite.get(chemin, vers_https)})
        if scenario == "boucle":
            suite = {"/": "/a", "/a": "/b", "/b": "/a"}
            return r(302, "Found", {"Location": suite.get(chemin, "/")})
        return r(200, "OK")

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        adresses = sorted({a for a, _ in self.hotes.values()})

        async def demarrer():
            serveurs = []
            for https in (False, True):
                port = 0
                if https and self.tls is None:  # no HTTPS: a port where nothing listens (refused at once)
                    with socket.socket() as libre:
                        libre.bind(("127.0.0.1", 0))
                        self.port_https = libre.getsockname()[1]
                    continue
                for a in adresses:
                    s = await asyncio.start_server(
                        lambda r, w, h=https: self._traiter(r, w, h), a, port,
                        ssl=self.tls if https else None, backlog=512, ssl_handshake_timeout=5 if https else None)
                    port = s.sockets[0].getsockname()[1]
                    serveurs.append(s)
                if https:
                    self.port_https = port
                else:
                    self.port_http = port
            return serveurs

        self.serveurs = self._loop.run_until_complete(demarrer())
        self._pret.set()
        self._loop.run_forever()
        self._loop.close()

    def __enter__(self) -> "ServeurWeb":
        self.thread.start()
        assert self._pret.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        async def arreter():
            for s in self.serveurs:
                s.close()
            taches = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in taches:
                t.cancel()
            await asyncio.gather(*taches, return_exceptions=True)
            self._loop.stop()
        asyncio.run_coroutine_threadsafe(arreter(), self._loop)
        self.thread.join(timeout=5)
