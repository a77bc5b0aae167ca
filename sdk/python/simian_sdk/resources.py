"""Typed views of item configurations, for `item.configuration_as(...)`.

Each view holds the parts of AWS Config's shape that rules read; unknown fields are skipped
and every field may be missing or `null`, so a new AWS field never breaks a plugin. What a
view derives (CIDRs, the `access` spelling) matches the Rust SDK's `resources` byte for byte,
since it ends up in issue notes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from . import _shape
from .cidr import Cidr
from .errors import PluginError

__all__ = ["Direction", "SecurityGroup", "IpPermission", "GroupPair"]


class Direction(StrEnum):
    """Which way a rule lets traffic through."""

    INGRESS = "ingress"
    EGRESS = "egress"


@dataclass(frozen=True)
class GroupPair:
    """A referenced security group; `user_id` is the account owning it."""

    group_id: str | None = None
    group_name: str | None = None
    user_id: str | None = None

    @classmethod
    def from_json(cls, value: Any, path: str = "") -> GroupPair:
        o = _shape.obj(value, path)
        return cls(
            group_id=_shape.opt_str(o, "groupId", path),
            group_name=_shape.opt_str(o, "groupName", path),
            user_id=_shape.opt_str(o, "userId", path),
        )


@dataclass(frozen=True)
class IpPermission:
    """One rule of a security group."""

    ip_protocol: str | None = None
    from_port: int | None = None
    to_port: int | None = None
    #: `ipv4Ranges[].cidrIp`, None where a range has none.
    ipv4_ranges: tuple[str | None, ...] = ()
    #: `ipv6Ranges[].cidrIpv6`.
    ipv6_ranges: tuple[str | None, ...] = ()
    #: The legacy `ipRanges`: AWS Config writes plain strings, EC2's API shape objects
    #: (`{"cidrIp": ...}`); both read as the CIDR text. May appear instead of, or as well
    #: as, `ipv4Ranges`.
    ip_ranges: tuple[str | None, ...] = ()
    user_id_group_pairs: tuple[GroupPair, ...] = ()

    @classmethod
    def from_json(cls, value: Any, path: str = "") -> IpPermission:
        o = _shape.obj(value, path)
        return cls(
            ip_protocol=_shape.opt_str(o, "ipProtocol", path),
            from_port=_shape.opt_i64(o, "fromPort", path),
            to_port=_shape.opt_i64(o, "toPort", path),
            ipv4_ranges=_shape.opt_list(o, "ipv4Ranges", path, _cidr_field("cidrIp")),
            ipv6_ranges=_shape.opt_list(o, "ipv6Ranges", path, _cidr_field("cidrIpv6")),
            ip_ranges=_shape.opt_list(o, "ipRanges", path, _legacy_range),
            user_id_group_pairs=_shape.opt_list(o, "userIdGroupPairs", path, GroupPair.from_json),
        )

    def cidr_texts(self) -> Iterator[str]:
        """The rule's CIDR sources as written, in the order AWS lists them."""
        for texts in (self.ipv4_ranges, self.ip_ranges, self.ipv6_ranges):
            yield from (t for t in texts if t is not None)

    def cidrs(self) -> list[Cidr]:
        """The rule's CIDRs in canonical form, once each (the legacy `ipRanges` usually
        repeats `ipv4Ranges`). An unparsable range is skipped: AWS validates these."""
        found: list[Cidr] = []
        for text in self.cidr_texts():
            try:
                cidr = Cidr.parse(text.strip(_shape.RUST_WHITESPACE))
            except PluginError:
                continue
            if cidr not in found:
                found.append(cidr)
        return found

    def covers_tcp_port(self, port: int) -> bool:
        """Whether the rule admits TCP traffic to `port`: every protocol (`-1`), or TCP with a
        range covering it (no ports given means all ports)."""
        protocol = self.ip_protocol if self.ip_protocol is not None else "-1"
        if protocol in ("-1", "all"):
            return True
        if protocol not in ("tcp", "6"):
            return False
        low, high = _port(self.from_port), _port(self.to_port)
        if low is None or high is None:
            return True
        return low <= port <= high

    def access(self, direction: Direction) -> str:
        """`<direction>:<protocol>:<ports>` as Security Monkey's notes spell it: `all:all` for
        every protocol, `22` for one port, `80-443` for a range, `all` when AWS gives no ports
        (or `-1`, its "any" for ICMP)."""
        way = Direction(direction).value
        protocol = self.ip_protocol if self.ip_protocol is not None else "-1"
        if protocol == "-1":
            return f"{way}:all:all"
        low, high = _port(self.from_port), _port(self.to_port)
        if low is None or high is None:
            return f"{way}:{protocol}:all"
        if low == high:
            return f"{way}:{protocol}:{low}"
        return f"{way}:{protocol}:{low}-{high}"


@dataclass(frozen=True)
class SecurityGroup:
    """`AWS::EC2::SecurityGroup`:

    group = item.configuration_as(SecurityGroup.from_json)
    """

    group_id: str | None = None
    group_name: str | None = None
    ip_permissions: tuple[IpPermission, ...] = ()
    ip_permissions_egress: tuple[IpPermission, ...] = ()
    #: Whether any network interface uses the group; None where the document does not say.
    in_use: bool | None = None

    @classmethod
    def from_json(cls, value: Any, path: str = "") -> SecurityGroup:
        """Raises `ValueError` naming the field when the JSON has the wrong shape."""
        o = _shape.obj(value, path)
        return cls(
            group_id=_shape.opt_str(o, "groupId", path),
            group_name=_shape.opt_str(o, "groupName", path),
            ip_permissions=_shape.opt_list(o, "ipPermissions", path, IpPermission.from_json),
            ip_permissions_egress=_shape.opt_list(
                o, "ipPermissionsEgress", path, IpPermission.from_json
            ),
            in_use=_shape.opt_bool(o, "inUse", path),
        )


def _port(port: int | None) -> int | None:
    # AWS writes -1 for "any" (ICMP); it reads like a missing port.
    return port if port is not None and port >= 0 else None


def _cidr_field(key: str) -> Any:
    def read(value: Any, path: str) -> str | None:
        return _shape.opt_str(_shape.obj(value, path), key, path)

    return read


def _legacy_range(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return _shape.opt_str(value, "cidrIp", path)
    raise _shape.ShapeError(f"`{path}` must be a CIDR string or an object with `cidrIp`")
