"""Amazon Resource Names: `arn:partition:service:region:account:resource`, parsed as the
host parses them (`simian-model`'s `Arn`)."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import PluginError

__all__ = ["Arn", "is_account_id"]


def is_account_id(text: str) -> bool:
    """Exactly twelve ASCII digits."""
    return len(text) == 12 and text.isascii() and text.isdigit()


@dataclass(frozen=True)
class Arn:
    #: `aws`, `aws-cn`, `aws-us-gov`, ...
    partition: str
    service: str
    #: Empty for global services (IAM, S3).
    region: str
    #: A 12-digit account id, `*`, `aws` (AWS-managed resources), or empty (S3 buckets).
    account: str
    #: Everything after the fifth colon, e.g. `root`, `bucket/key`, `security-group/sg-1`.
    resource: str

    @classmethod
    def parse(cls, text: str) -> Arn:
        def invalid(why: str) -> PluginError:
            return PluginError(f"`{text}` is not an ARN: {why}")

        parts = text.split(":", 5)
        if len(parts) != 6:
            raise invalid("expected six `:`-separated fields")
        prefix, partition, service, region, account, resource = parts
        if prefix != "arn":
            raise invalid("it must start with `arn:`")
        if not partition or not service:
            raise invalid("partition and service must not be empty")
        if not resource:
            raise invalid("resource must not be empty")
        if not (account in ("", "*", "aws") or is_account_id(account)):
            raise invalid("account must be a 12-digit id, `*`, `aws` or empty")
        return cls(partition, service, region, account, resource)

    def account_id(self) -> str | None:
        """The account id, when the ARN names one (not `*`, `aws` or empty)."""
        return self.account if is_account_id(self.account) else None

    def is_any_account(self) -> bool:
        return self.account == "*"

    def resource_type(self) -> str | None:
        """`user` in `user/alice`, `function` in `function:f`; None for a bare name."""
        at = _separator(self.resource)
        return None if at is None else self.resource[:at]

    def resource_id(self) -> str:
        """`alice` in `user/alice`; a bare name as is."""
        at = _separator(self.resource)
        return self.resource if at is None else self.resource[at + 1 :]

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


def _separator(resource: str) -> int | None:
    positions = [p for p in (resource.find("/"), resource.find(":")) if p >= 0]
    return min(positions) if positions else None
