"""IPv4 and IPv6 CIDR blocks, kept in canonical form (host bits cleared).

Parsing and spelling follow the host's Rust code (`simian-model`'s `Cidr`) exactly, since
a CIDR's text ends up in issue notes, which are part of an issue's identity: the spelling
must not depend on the Python version (3.13 changed how `ipaddress` writes IPv4-mapped
addresses, for one).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from .errors import PluginError

__all__ = ["Cidr"]

_DIGITS = frozenset("0123456789")


@dataclass(frozen=True)
class Cidr:
    """A network: `version` 4 or 6, the address as an int with host bits cleared, and the
    prefix length. Equality works on the canonical form: `10.1.2.3/8` equals `10.0.0.0/8`."""

    version: int
    network: int
    prefix_len: int

    @classmethod
    def parse(cls, text: str) -> Cidr:
        """`10.0.0.0/8`, `2001:db8::/32`, or a bare address (a single host: /32, /128).

        Raises `PluginError` ("`x` is not a CIDR: ...") on anything else.
        """

        def invalid(why: str) -> PluginError:
            return PluginError(f"`{text}` is not a CIDR: {why}")

        address, slash, prefix = text.partition("/")
        parsed = _parse_address(address)
        if parsed is None:
            raise invalid(f"`{address}` is not an IP address")
        version, value = parsed
        width = 32 if version == 4 else 128
        if not slash:
            prefix_len = width
        elif prefix and len(prefix) <= 3 and set(prefix) <= _DIGITS:
            # Digits only: int() would also take `+8`, ` 8` or `٨`.
            prefix_len = int(prefix)
            if prefix_len > 255:
                raise invalid(f"bad prefix `{prefix}`")
        else:
            raise invalid(f"bad prefix `{prefix}`")
        if prefix_len > width:
            raise invalid(f"prefix /{prefix_len} is longer than /{width}")
        return cls(version, _mask(value, prefix_len, width), prefix_len)

    @property
    def width(self) -> int:
        return 32 if self.version == 4 else 128

    def is_ipv4(self) -> bool:
        return self.version == 4

    def is_ipv6(self) -> bool:
        return self.version == 6

    def is_open(self) -> bool:
        """The whole internet of its family: `0.0.0.0/0` or `::/0`."""
        return self.prefix_len == 0

    def contains(self, other: Cidr) -> bool:
        """True when every address of `other` is in this network (same family only)."""
        return (
            self.version == other.version
            and other.prefix_len >= self.prefix_len
            and _mask(other.network, self.prefix_len, self.width) == self.network
        )

    def __str__(self) -> str:
        if self.version == 4:
            address = _format_ipv4(self.network)
        else:
            address = _format_ipv6(self.network)
        return f"{address}/{self.prefix_len}"


def _parse_address(text: str) -> tuple[int, int] | None:
    # `ipaddress` accepts an IPv6 zone (`fe80::1%eth0`); the host's parser does not.
    if "%" in text or not text.isascii():
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return address.version, int(address)


def _mask(value: int, prefix_len: int, width: int) -> int:
    host_bits = width - prefix_len
    return (value >> host_bits) << host_bits


def _format_ipv4(value: int) -> str:
    return ".".join(str((value >> shift) & 0xFF) for shift in (24, 16, 8, 0))


def _format_ipv6(value: int) -> str:
    """As Rust's `Ipv6Addr` displays it: IPv4-mapped as `::ffff:a.b.c.d`, else the longest
    run (first among equals, two groups or more) of zero groups as `::`, lowercase hex."""
    if value >> 32 == 0xFFFF:
        return f"::ffff:{_format_ipv4(value & 0xFFFFFFFF)}"
    groups = [(value >> (112 - 16 * i)) & 0xFFFF for i in range(8)]
    best_start, best_len, start, run = 0, 0, 0, 0
    for i, group in enumerate(groups):
        if group == 0:
            if run == 0:
                start = i
            run += 1
            if run > best_len:
                best_start, best_len = start, run
        else:
            run = 0
    hexes = [f"{g:x}" for g in groups]
    if best_len > 1:
        head = ":".join(hexes[:best_start])
        tail = ":".join(hexes[best_start + best_len :])
        return f"{head}::{tail}"
    return ":".join(hexes)
