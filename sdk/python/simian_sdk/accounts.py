"""Who is behind an account id, ARN, CIDR or S3 canonical id, against the accounts and
networks the operator configured. Needs `accounts = true` under `[capabilities]`.

Each call raises a `HostError` when it does not succeed: `HostDenied` without the grant (or
when plugin.toml does not declare the capability), `HostInvalid` for a malformed subject.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from . import _host

__all__ = [
    "Relation",
    "Classification",
    "classify_account",
    "classify_arn",
    "classify_cidr",
    "classify_canonical_id",
]


class Relation(StrEnum):
    #: The same account as the item being audited (or one of our own networks).
    SAME = "same"
    #: Another account of ours that is not marked third party.
    FRIENDLY = "friendly"
    #: An account configured as third party (a vendor we trust).
    THIRD_PARTY = "third-party"
    #: Nobody we know.
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Classification:
    relation: Relation
    #: The account the subject belongs to, when it could be determined.
    account_id: str | None = None
    #: The configured account or network name, when known.
    name: str | None = None


def classify_account(own_account: str, account_id: str) -> Classification:
    """`own_account` is the account of the item under audit."""
    return _host.current().classify_account(own_account, account_id)


def classify_arn(own_account: str, arn: str) -> Classification:
    return _host.current().classify_arn(own_account, arn)


def classify_cidr(own_account: str, cidr: str) -> Classification:
    return _host.current().classify_cidr(own_account, cidr)


def classify_canonical_id(own_account: str, canonical_id: str) -> Classification:
    return _host.current().classify_canonical_id(own_account, canonical_id)
