"""Where endpoints may point (docs/notifications.md "Safety"): never at loopback, private, link-local,
multicast or other non-global addresses (the service's own admin ports, a cloud's metadata service at
169.254.169.254, the command centre's intranet), except networks an operator allows
(``GRID_NOTIFY_ALLOW_NETWORKS``).

Checked when an endpoint is saved and again at every connection, after DNS: :func:`pin` resolves the host,
refuses if any address it resolves to is refused, and the request is then sent to that very address (with
the host name kept for ``Host`` and TLS), so a name that resolves to a public address when checked and to
127.0.0.1 a moment later (DNS rebinding) never reaches the private one. Numeric spellings the resolver
accepts (``0x7f000001``, ``2130706433``, ``[::1]``) resolve to the address they mean and are judged as it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from app.core.errors import ValidationProblem

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
RESOLVE_TIMEOUT_S = 5.0


class TargetRefused(ValidationProblem):
    code, title = "target_not_allowed", "The endpoint may not point there"
    title_zh = "推送地址不允许指向该处"

    def __init__(self, msg: str, field: str = "url") -> None:
        super().__init__(
            [{"loc": [field], "msg": msg, "type": "target_not_allowed"}], code="target_not_allowed"
        )


def networks(allowed: Sequence[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The operator's allowed networks (``GRID_NOTIFY_ALLOW_NETWORKS``); a malformed one is a start-up error."""
    return [ipaddress.ip_network(n, strict=False) for n in allowed]


def allowed(ip: IP, allow: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    """Whether a connection may go to ``ip``: an allowed network, or a global unicast address."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if any(ip in net for net in allow):
        return True
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True)
class Pinned:
    """A URL rewritten to the checked address, and what the request must say of the original host."""

    url: str
    host: str  # for the Host header and TLS (SNI, certificate check)


def check_url(url: str, field: str = "url") -> tuple[str, str, int]:
    """``(scheme, host, port)`` of an http(s) URL without credentials; 422 ``target_not_allowed`` otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"not a URL: {exc}", field) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("an http or https URL with a host", field)
    if parts.username or parts.password:
        raise TargetRefused("credentials in the URL are not allowed", field)
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


async def resolve(host: str, port: int) -> list[IP]:
    """Every address ``host`` resolves to (an address literal resolves to itself)."""
    try:
        lookup = asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        found = await asyncio.wait_for(lookup, timeout=RESOLVE_TIMEOUT_S)
    except (socket.gaierror, UnicodeError, TimeoutError) as exc:
        raise TargetRefused(f"{host} does not resolve") from exc
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found))


async def pin(
    url: str, allow: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network], field: str = "url"
) -> Pinned:
    """``url`` to be sent to an address checked now; 422 ``target_not_allowed`` when the host resolves to any
    refused address (all of them are judged, so round-robin DNS cannot slip one through)."""
    scheme, host, port = check_url(url, field)
    addresses = await resolve(host, port)
    refused = [str(ip) for ip in addresses if not allowed(ip, allow)]
    if refused or not addresses:
        raise TargetRefused(
            f"{host} resolves to {', '.join(refused) or 'nothing'}, which endpoints may not reach", field
        )
    ip = addresses[0]
    netloc = f"[{ip}]:{port}" if isinstance(ip, ipaddress.IPv6Address) else f"{ip}:{port}"
    parts = urlsplit(url)
    return Pinned(url=urlunsplit((scheme, netloc, parts.path or "/", parts.query, "")), host=host)
