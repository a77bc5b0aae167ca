"""The item under audit: one AWS resource in the AWS Config configuration-item envelope."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from . import _json
from .errors import PluginError

__all__ = ["Item"]

T = TypeVar("T")


@dataclass(frozen=True)
class Item:
    """One AWS resource as the host hands it to a plugin.

    The configuration stays JSON text (`configuration_text`) until a rule asks for it with
    `configuration()`, so a rule that only looks at tags never pays for parsing. Items are
    immutable; the `with_*` methods return changed copies, for building test fixtures:

        Item("AWS::S3::Bucket", "logs").with_account("111111111111").with_tag("env", "prod")
    """

    #: e.g. `AWS::EC2::SecurityGroup`.
    resource_type: str
    resource_id: str
    resource_name: str = ""
    arn: str = ""
    account_id: str = ""
    #: An AWS region, or `global` for IAM.
    region: str = ""
    #: RFC 3339 time the configuration was captured.
    capture_time: str = ""
    #: JSON text shaped like AWS Config's `configuration`.
    configuration_text: str = "{}"
    #: JSON object text (`{}` when none).
    supplementary_text: str = "{}"
    #: Tag key to value, in the order AWS reported them. AWS tag keys are case-sensitive.
    tags: dict[str, str] = field(default_factory=dict)

    # -- reading ---------------------------------------------------------------------------

    def configuration(self) -> Any:
        """The configuration as parsed JSON; a `PluginError` naming the item if malformed."""
        return self._parse(self.configuration_text, "configuration")

    def configuration_as(self, parse: Callable[[Any], T]) -> T:
        """The configuration read through `parse` (e.g. `SecurityGroup.from_json`).

        Errors from parsing the text or from `parse` (`ValueError`, `TypeError`, `KeyError`,
        `PluginError`) come back as one `PluginError` naming the item, like the Rust SDK's
        `item.configuration::<T>()`.
        """
        value = self.configuration()
        try:
            return parse(value)
        except (PluginError, ValueError, TypeError, KeyError) as e:
            raise PluginError(f"configuration of {self.label()}: {_reason(e)}") from e

    def supplementary(self) -> Any:
        """The supplementary configuration as parsed JSON; an empty text reads as `{}`."""
        text = self.supplementary_text.strip() or "{}"
        return self._parse(text, "supplementary configuration")

    def tag(self, key: str) -> str | None:
        """The value of tag `key`, or None."""
        return self.tags.get(key)

    def label(self) -> str:
        """`AWS::EC2::SecurityGroup sg-123`, for error messages."""
        return f"{self.resource_type} {self.resource_id}"

    def _parse(self, text: str, what: str) -> Any:
        try:
            return _json.loads(text)
        except ValueError as e:
            raise PluginError(f"{what} of {self.label()}: {e}") from e

    # -- building (tests) ------------------------------------------------------------------

    def with_name(self, name: str) -> Item:
        return dataclasses.replace(self, resource_name=name)

    def with_arn(self, arn: str) -> Item:
        return dataclasses.replace(self, arn=arn)

    def with_account(self, account_id: str) -> Item:
        return dataclasses.replace(self, account_id=account_id)

    def with_region(self, region: str) -> Item:
        return dataclasses.replace(self, region=region)

    def with_capture_time(self, capture_time: str) -> Item:
        return dataclasses.replace(self, capture_time=capture_time)

    def with_configuration(self, configuration: Any) -> Item:
        """The configuration from a JSON-serializable value."""
        return dataclasses.replace(self, configuration_text=_json.dumps(configuration))

    def with_configuration_text(self, configuration: str) -> Item:
        """Raw text, kept as given, so tests can feed malformed configurations."""
        return dataclasses.replace(self, configuration_text=configuration)

    def with_supplementary(self, supplementary: Any) -> Item:
        return dataclasses.replace(self, supplementary_text=_json.dumps(supplementary))

    def with_tag(self, key: str, value: str) -> Item:
        return dataclasses.replace(self, tags={**self.tags, key: value})


def _reason(e: Exception) -> str:
    # KeyError's str() is the repr of the key; say what it means.
    if isinstance(e, KeyError):
        return f"missing key {e}"
    return str(e)
