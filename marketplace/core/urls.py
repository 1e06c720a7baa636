"""Web addresses typed by people (traceability links) or admins (channel base URLs)."""

from __future__ import annotations

import ipaddress
import re
import socket
import unicodedata
from urllib.parse import SplitResult, urlsplit

import idna
from flask_babel import lazy_gettext as _l

MAX_URL_LENGTH = 500
_IPV4_LIKE = re.compile(r"[0-9.]+")


class InvalidWebAddress(ValueError):
    """The text is not a full http(s) address; the message is safe to show."""

    def __str__(self) -> str:
        return str(self.args[0])


def _refuse() -> InvalidWebAddress:
    return InvalidWebAddress(
        _l("Give a full web address starting with https://, like https://example.vn/page.")
    )


def _valid_host(parts: SplitResult) -> bool:
    host = parts.hostname or ""
    if not host:
        return False
    try:
        if "[" in parts.netloc:
            ipaddress.IPv6Address(host)
        elif _IPV4_LIKE.fullmatch(host):
            ipaddress.IPv4Address(host)
        else:
            idna.encode(host, uts46=True)
    except (ValueError, idna.IDNAError, UnicodeError):
        return False
    return True


def split_web_url(text: str, *, max_length: int = MAX_URL_LENGTH) -> SplitResult:
    """Return the parts of ``text`` when it is a usable http or https address.

    The scheme is http or https, the host a valid domain name (IDN allowed) or IP address,
    the port 1–65535, and there is no user name or password (``https://bank.vn@evil.example``
    reads as the bank to people), no space and no control character. Raises
    ``InvalidWebAddress`` otherwise; never lets ``urlsplit``'s own ValueError through.
    """
    url = unicodedata.normalize("NFC", text).strip()
    if not url or len(url) > max_length:
        raise _refuse()
    if any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in url):
        raise _refuse()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _refuse() from None
    if parts.scheme.lower() not in ("http", "https"):
        raise _refuse()
    if parts.username is not None or parts.password is not None:
        raise _refuse()
    if port is not None and not 1 <= port <= 65535:
        raise _refuse()
    if parts.netloc.endswith(":") or not _valid_host(parts):
        raise _refuse()
    return parts


def check_web_url(text: str, *, max_length: int = MAX_URL_LENGTH) -> str:
    """Return ``text`` (in NFC, trimmed) when it is a usable http or https address."""
    split_web_url(text, max_length=max_length)
    return unicodedata.normalize("NFC", text).strip()


Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def literal_address(host: str) -> Address | None:
    """The IP address ``host`` spells, in any form a resolver takes (``127.0.0.1``,
    ``0x7f.0.0.1``, ``2130706433``, ``::1``, a trailing dot), or None for a name."""
    host = host.strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def is_public_address(address: Address) -> bool:
    """True for an address on the public internet: not private, loopback, link-local,
    shared (100.64/10), reserved or multicast, also when written as IPv4-in-IPv6."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if (embedded is None and address in _NAT64) or address in _IPV4_COMPATIBLE:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            address = embedded  # an IPv4 address in IPv6 clothes is judged as itself
    return address.is_global and not address.is_multicast


def resolves_to_public_addresses(host: str, port: int) -> bool:
    """True when every address the system resolves ``host`` to is public; False when one
    is not, or when the name does not resolve."""
    try:
        found = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    return bool(found) and all(
        is_public_address(ipaddress.ip_address(entry[4][0].split("%")[0])) for entry in found
    )
