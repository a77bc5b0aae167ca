"""Classification in the test host: a port of the rules the host runs (`simian-model`'s
`AccountBook`), so a rule tested here classifies as it will in production."""

from __future__ import annotations

from dataclasses import dataclass, field

from .._shape import RUST_WHITESPACE
from ..accounts import Classification, Relation
from ..arn import Arn, is_account_id
from ..cidr import Cidr
from ..errors import HostInvalid, PluginError

#: Which account owns each recorded bucket, VPC, VPC endpoint, IAM user and role.
_INVENTORY_MAPS = {
    "AWS::S3::Bucket": "buckets",
    "AWS::EC2::VPC": "networks",
    "AWS::EC2::VPCEndpoint": "networks",
    "AWS::IAM::User": "unique_ids",
    "AWS::IAM::Role": "unique_ids",
}


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    third_party: bool
    canonical_id: str | None = None


@dataclass(frozen=True)
class Network:
    name: str
    cidr: Cidr
    account: str | None = None


@dataclass
class Inventory:
    """Owners of the resources whose ARNs or ids carry no account (a bucket ARN,
    `aws:SourceVpc`, `aws:userid`), built from the items the host knows."""

    buckets: dict[str, str] = field(default_factory=dict)
    networks: dict[str, str] = field(default_factory=dict)
    unique_ids: dict[str, str] = field(default_factory=dict)

    def add(self, resource_type: str, resource_id: str, account_id: str) -> None:
        name = _INVENTORY_MAPS.get(resource_type)
        if name is not None:
            getattr(self, name)[resource_id] = account_id

    def owner(self, arn: Arn) -> str | None:
        if arn.service == "s3":
            return self.buckets.get(arn.resource.split("/", 1)[0])
        if arn.service == "iam":
            if not arn.resource.startswith("unique-id/"):
                return None
            return self.unique_ids.get(arn.resource[len("unique-id/") :])
        if arn.service == "ec2":
            kind, slash, resource_id = arn.resource.partition("/")
            if slash and kind in ("vpc", "vpc-endpoint"):
                return self.networks.get(resource_id)
        return None


class AccountBook:
    """The configured accounts and networks, indexed for classification."""

    def __init__(
        self, accounts: list[Account], networks: list[Network], inventory: Inventory
    ) -> None:
        # A later account with the same id or canonical id wins over an earlier one.
        self._by_id = {a.id: a for a in accounts}
        self._by_canonical = {
            _fold(a.canonical_id): a.id for a in accounts if a.canonical_id is not None
        }
        # Most specific network first, so a /24 inside a /8 names the /24; sorted() is
        # stable, so among equally specific networks the first configured wins.
        self._networks = sorted(networks, key=lambda n: -n.cidr.prefix_len)
        self._inventory = inventory

    def classify_account(self, own: str, account_id: str) -> Classification:
        account_id = account_id.strip(RUST_WHITESPACE)
        configured = self._by_id.get(account_id)
        if account_id == own:
            relation = Relation.SAME
        elif configured is None:
            relation = Relation.UNKNOWN
        elif configured.third_party:
            relation = Relation.THIRD_PARTY
        else:
            relation = Relation.FRIENDLY
        return Classification(relation, account_id, configured.name if configured else None)

    def classify_arn(self, own: str, arn: str) -> Classification:
        try:
            parsed = Arn.parse(arn.strip(RUST_WHITESPACE))
        except PluginError as e:
            raise HostInvalid(e.message) from None
        if parsed.account == "" and parsed.service in ("s3", "ec2", "iam"):
            owner = self._inventory.owner(parsed)
            if owner is None:
                return Classification(Relation.UNKNOWN)
            return self.classify_account(own, owner)
        if parsed.account in ("", "*", "aws"):
            return Classification(Relation.UNKNOWN)
        if is_account_id(parsed.account):
            return self.classify_account(own, parsed.account)
        raise HostInvalid(f"`{arn}` has account `{parsed.account}`, not a 12-digit id")

    def classify_cidr(self, own: str, cidr: str) -> Classification:
        try:
            subject = Cidr.parse(cidr.strip(RUST_WHITESPACE))
        except PluginError as e:
            raise HostInvalid(e.message) from None
        network = next((n for n in self._networks if n.cidr.contains(subject)), None)
        if network is None:
            return Classification(Relation.UNKNOWN)
        if network.account is None:
            return Classification(Relation.SAME, None, network.name)
        found = self.classify_account(own, network.account)
        return Classification(found.relation, found.account_id, network.name)

    def classify_canonical_id(self, own: str, canonical_id: str) -> Classification:
        account = self._by_canonical.get(_fold(canonical_id))
        if account is None:
            return Classification(Relation.UNKNOWN)
        return self.classify_account(own, account)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _fold(canonical_id: str) -> str:
    # The host compares canonical ids trimmed and ASCII-lowercased (`str.lower()` would
    # also fold non-ASCII letters).
    return canonical_id.strip(RUST_WHITESPACE).translate(_ASCII_LOWER)
