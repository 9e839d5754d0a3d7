"""Who may connect: the Origin check (cross-site websocket hijacking) and the Host check
(DNS rebinding).

A browser always sends Origin on a websocket handshake, so a page from another site is refused
unless `--allow-origin` names it; a request without Origin is not from a browser page and cannot
be a hijack, so it is let in (command-line clients, the tests, the original Go client's tools).
A bridge bound to loopback also insists on a loopback Host: otherwise a hostile page whose
domain re-resolves to 127.0.0.1 would pass as same-origin.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from controlroom.errors import ConfigError

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def normalize_origin(value: str) -> str:
    """An `--allow-origin` value as browsers write Origin: scheme://host[:port], lowercase."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        raise ConfigError(f"--allow-origin {value!r} is not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"--allow-origin {value!r} must look like http://host:port")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ConfigError(f"--allow-origin {value!r} must be an origin, without a path")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + ("" if port in (None, default) else f":{port}")


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_name(host_header: str) -> str:
    """The name part of a Host header (`[::1]:3000` -> `::1`)."""
    if host_header.startswith("["):
        return host_header[1:].partition("]")[0]
    return host_header.rpartition(":")[0] if host_header.count(":") == 1 else host_header


class Access:
    def __init__(self, bind_host: str, allowed_origins: list[str]) -> None:
        self.allowed = frozenset(normalize_origin(origin) for origin in allowed_origins)
        self.allowed_hosts = frozenset(
            (urlsplit(origin).hostname or "").lower() for origin in self.allowed
        )
        self.loopback_only = is_loopback(bind_host)

    def refuse_host(self, host_header: str | None) -> str | None:
        """Why a request's Host is refused, or None."""
        if not self.loopback_only:
            return None
        if not host_header:
            return "a Host header is required"
        name = host_name(host_header.strip().lower())
        if is_loopback(name) or name in self.allowed_hosts:
            return None
        return f"host {host_header[:80]!r} is not this bridge"

    def refuse_origin(self, origin: str | None, host_header: str | None) -> str | None:
        """Why a websocket handshake's Origin is refused, or None."""
        if origin is None:
            return None
        origin = origin.strip().lower()
        host = (host_header or "").strip().lower()
        if host and origin in (f"http://{host}", f"https://{host}"):
            return None
        if origin in self.allowed:
            return None
        return f"origin {origin[:80]!r} is not allowed (see --allow-origin)"
