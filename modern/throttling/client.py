"""The client's address, as far as this service can trust it.

Behind `TRUSTED_PROXY_HOPS` reverse proxies, werkzeug's ProxyFix takes the address that the
nearest trusted proxy saw, counted from the right of X-Forwarded-For; anything a client writes
further left is ignored. With no proxy configured, X-Forwarded-For is ignored entirely and the
socket's peer address is used.

Rate limits count per `rate_bucket`: an IPv6 client gets a whole /64 (the usual allocation to
one line or host), so it cannot rotate through its addresses for fresh counters.
"""

from __future__ import annotations

import functools
import ipaddress

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix


def install_proxy_fix(app: Flask, hops: int) -> None:
    if hops > 0:
        # Host is left alone: links we build (WSDL address, activation links) must not follow
        # a header a client could set when the proxy does not overwrite it.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops,  # type: ignore[method-assign]
                                x_host=0, x_port=0, x_prefix=0)


def client_address() -> str:
    return request.remote_addr or "unknown"


@functools.lru_cache(maxsize=4096)
def rate_bucket(address: str) -> str:
    """What a rate limit counts by: an IPv4 address itself (also written IPv4-mapped in
    IPv6), the /64 network of an IPv6 address, anything unparsable as it is. Cached: a
    client sends many requests, each would parse its address again (SOAP clients
    especially)."""
    if "." in address and ":" not in address and address.count(".") == 3 \
            and address.replace(".", "").isdigit():
        return address  # IPv4 as it is written: nothing to map or widen
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def network_of(address: str) -> str | None:
    """The address cut to its network, IPv4 /24 ("192.0.2.x") or IPv6 /48: enough for a
    person to recognise where a session or a look came from, never the full address. None
    when the address is not one."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.version == 4:
        return ".".join(str(ip).split(".")[:3]) + ".x"
    return str(ipaddress.ip_network(f"{ip}/48", strict=False))
