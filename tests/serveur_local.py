"""A loopback HTTP server for download tests: 127.0.0.1 only, bounded, scripted faults.

Each route serves bytes, optionally preceded by scripted faults consumed one per
request: ``"coupure"`` (headers announce the full length, half the body is sent, then
the connection is closed), ``"503"`` (Service Unavailable). A route may also answer a
fixed status (``404``). Every request is counted per path, and every body sent.

Validators, as a file server publishing in place gives them: ``etag`` and ``date``
(``Last-Modified``) are sent with the body; with ``conditionnel`` (the default) a request
whose ``If-None-Match`` / ``If-Modified-Since`` match gets ``304 Not Modified`` and no
body; ``conditionnel=False`` plays a server that ignores the conditions.
"""

from __future__ import annotations

import http.server
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Route:
    corps: bytes = b""
    pannes: list = field(default_factory=list)  # "coupure", "503", consumed in order
    statut: int = 200
    etag: str | None = None
    date: str | None = None  # Last-Modified, as HTTP writes it
    conditionnel: bool = True


class ServeurLocal:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requetes: Counter = Counter()
        self.envois: Counter = Counter()  # bodies sent per path
        serveur = self

        class Handler(http.server.BaseHTTPRequestHandler):
            timeout = 5  # bounded: a stuck client cannot hold a thread

            def log_message(self, *args, **kwargs):  # silence
                pass

            def do_GET(self):  # noqa: N802
                serveur.requetes[self.path] += 1
                route = serveur.routes.get(self.path)
                if route is None or route.statut == 404:
                    self.send_error(404, "Not Found")
                    return
                panne = route.pannes.pop(0) if route.pannes else None
                if panne == "503":
                    self.send_error(503, "Service Unavailable")
                    return
                if route.conditionnel and (
                        (route.etag and self.headers.get("If-None-Match") == route.etag)
                        or (route.date and self.headers.get("If-Modified-Since") == route.date)):
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(route.statut)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(route.corps)))
                if route.etag:
                    self.send_header("ETag", route.etag)
                if route.date:
                    self.send_header("Last-Modified", route.date)
                self.end_headers()
                serveur.envois[self.path] += 1
                if panne == "coupure":
                    self.wfile.write(route.corps[: max(1, len(route.corps) // 2)])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                self.wfile.write(route.corps)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def servir(self, path: str, corps: bytes = b"", *, pannes=(), statut: int = 200, etag: str | None = None,
               date: str | None = None, conditionnel: bool = True) -> str:
        self.routes[path] = Route(corps, list(pannes), statut, etag, date, conditionnel)
        return self.url(path)

    def __enter__(self) -> "ServeurLocal":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
