"""The page and its files, served over plain HTTP by the websocket server.

Only a fixed list of files can be fetched (no path is ever joined from a request), each with
a strict Content-Security-Policy: scripts only from this origin, no inline script, so a sensor
name that looks like markup has nothing to run even if some code did insert it as HTML.
CanvasJS is not in the repository (see scripts/fetch-canvasjs); without it the page says so.
"""

from __future__ import annotations

import email.utils
import hashlib
import http
from dataclasses import dataclass
from pathlib import Path

from websockets.datastructures import Headers
from websockets.http11 import Response

WEB_ROOT = Path(__file__).resolve().parent / "web"
FETCH_COMMAND = "scripts/fetch-canvasjs"
VENDOR_CANVASJS = "vendor/canvasjs.min.js"

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)

# URL path -> (file under WEB_ROOT, content type)
ROUTES: dict[str, tuple[str, str]] = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/numbers.js": ("numbers.js", "text/javascript; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
    "/login": ("login.html", "text/html; charset=utf-8"),
    "/login.js": ("login.js", "text/javascript; charset=utf-8"),
    "/" + VENDOR_CANVASJS: (VENDOR_CANVASJS, "text/javascript; charset=utf-8"),
}


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    content_type: str
    etag: str


class Assets:
    """Files read on request (they are few and small), so a fetched CanvasJS needs no restart."""

    def __init__(self, root: Path = WEB_ROOT) -> None:
        self.root = root

    def canvasjs_present(self) -> bool:
        return (self.root / VENDOR_CANVASJS).is_file()

    def get(self, path: str) -> Asset | None:
        route = ROUTES.get(path)
        if route is None:
            return None
        name, content_type = route
        try:
            body = (self.root / name).read_bytes()
        except OSError:
            return None
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        return Asset(body, content_type, etag)

    def respond(self, path: str, if_none_match: str | None) -> Response:
        if path == "/favicon.ico":  # browsers ask; an empty answer keeps their consoles quiet
            return response(http.HTTPStatus.NO_CONTENT, b"", "image/x-icon")
        asset = self.get(path)
        if asset is None:
            if path == "/" + VENDOR_CANVASJS:
                return text_response(
                    http.HTTPStatus.NOT_FOUND, f"CanvasJS is missing: run {FETCH_COMMAND}\n"
                )
            return text_response(http.HTTPStatus.NOT_FOUND, "not found\n")
        if if_none_match == asset.etag:
            return response(http.HTTPStatus.NOT_MODIFIED, b"", asset.content_type, asset.etag)
        return response(http.HTTPStatus.OK, asset.body, asset.content_type, asset.etag)


def response(
    status: http.HTTPStatus, body: bytes, content_type: str, etag: str | None = None
) -> Response:
    headers = Headers(
        [
            ("Date", email.utils.formatdate(usegmt=True)),
            ("Connection", "close"),
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-cache"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            ("Content-Security-Policy", CSP),
        ]
    )
    if etag is not None:
        headers["ETag"] = etag
    return Response(status.value, status.phrase, headers, body)


def text_response(status: http.HTTPStatus, text: str) -> Response:
    return response(status, text.encode(), "text/plain; charset=utf-8")
