"""A local HTTP server for the files connector's URL tests (and the SSRF tests).

Serves the files of a folder; ``/redirect/<anything>?to=<url>`` answers 302 to ``url``.
It records every path requested, so a test can prove a request never arrived.
"""

from __future__ import annotations

import threading
import urllib.parse
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class _Handler(SimpleHTTPRequestHandler):
    server: FilesServer._Server

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def _redirect(self) -> bool:
        self.server.requests.append(self.path)
        parts = urllib.parse.urlsplit(self.path)
        if not parts.path.startswith("/redirect/"):
            return False
        target = urllib.parse.parse_qs(parts.query).get("to", ["/"])[0]
        self.send_response(302)
        self.send_header("Location", target)
        self.send_header("Content-Length", "0")
        self.end_headers()
        return True

    def do_GET(self) -> None:
        if not self._redirect():
            super().do_GET()

    def do_HEAD(self) -> None:
        if not self._redirect():
            super().do_HEAD()


class FilesServer:
    class _Server(ThreadingHTTPServer):
        requests: list[str]

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a client that hangs up mid-answer (a refused redirect) is expected

    def __init__(self, folder: Path) -> None:
        self.httpd = self._Server(("127.0.0.1", 0), partial(_Handler, directory=str(folder)))
        self.httpd.requests = []
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def requests(self) -> list[str]:
        return self.httpd.requests

    def url(self, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}"

    def __enter__(self) -> FilesServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
