"""The built dashboard (``frontend/dist``) served by the API at ``/``.

Client-side routes (``/connections/<id>``, ``/review``...) answer ``index.html`` so a
reload or a shared link opens the right page. The mount never shadows the API: paths under
``/api``, ``/nlp``, ``/docs``, ``/redoc`` and ``/openapi.json``, ``/healthz``, ``/readyz``
do not match it at all, so they keep their own 404 and 405 answers. A missing asset (a
path with a file extension) is a 404, never index.html, so a stale tab fails loudly.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path, PurePosixPath

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

log = logging.getLogger("autonomos.api.dashboard")

DEFAULT_DIST = Path(__file__).resolve().parents[3] / "frontend" / "dist"

# API paths the dashboard never answers (their router does, or their 404 stays JSON).
RESERVED = re.compile(
    r"^/(?!(?:api|nlp|docs|redoc)(?:/|$)|(?:openapi\.json|healthz|readyz)$)(?P<path>.*)$"
)

# Hashed bundles never change under their name; the HTML that names them always may.
_IMMUTABLE = "public, max-age=31536000, immutable"
_REVALIDATE = "no-cache"
# The bundle loads nothing from elsewhere: scripts, styles, fonts and API calls are all
# same-origin (Quicksand is bundled). Inline style attributes are set by React and charts.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)


class SpaFiles(StaticFiles):
    """StaticFiles with a fallback to index.html for client routes."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            response = await super().get_response(path, scope)
        except HTTPException as e:
            if e.status_code != 404 or PurePosixPath(path).suffix:
                raise
            response = await super().get_response("index.html", scope)
        hashed = path.startswith("assets/")
        response.headers["cache-control"] = _IMMUTABLE if hashed else _REVALIDATE
        response.headers["x-content-type-options"] = "nosniff"
        if response.media_type == "text/html" or not hashed:
            response.headers["content-security-policy"] = _CSP
            response.headers["referrer-policy"] = "same-origin"
            response.headers["x-frame-options"] = "DENY"
        return response


def mount_dashboard(app: FastAPI, dist: Path | None = None) -> bool:
    """Serve ``dist`` at ``/`` after every API route; False (and a log line) when unbuilt."""
    dist = dist or DEFAULT_DIST
    if not (dist / "index.html").is_file():
        log.info("no dashboard build at %s (run scripts/install.sh); serving the API only", dist)
        return False
    mount = Mount("", app=SpaFiles(directory=dist), name="dashboard")
    mount.path_regex = RESERVED
    app.router.routes.append(mount)  # last: API routes always match first
    return True
