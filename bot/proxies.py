"""The HTTP proxy the environment asks for (HTTPS_PROXY, ALL_PROXY, NO_PROXY), per URL.

Offices often reach the internet only through a proxy. Both Bot API clients honour the usual
variables, never for loopback (the demo, the tests, a local Bot API server).
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})


def env_proxy(url: str) -> str | None:
    """Return the proxy the environment sets for url (none for loopback or NO_PROXY)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host in LOOPBACK_HOSTS or proxy_bypass(host):
        return None
    proxies = getproxies()
    return proxies.get(parts.scheme) or proxies.get("all")
