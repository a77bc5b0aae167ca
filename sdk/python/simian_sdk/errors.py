"""The exceptions a plugin sees.

`PluginError` is why one item could not be judged: its message becomes that item's error in
the host. `HostError` and its subclasses mirror the contract's `host-error` variant: a host
call that did not succeed is an exception the plugin may catch, never a crash.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "PluginError",
    "HostError",
    "HostDenied",
    "HostInvalid",
    "HostTimeout",
    "HostTooLarge",
    "HostFailed",
]


class PluginError(Exception):
    """Why a plugin could not do its job; the message is what the host records for the item."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def context(self, context: str) -> PluginError:
        """The same error prefixed with what was being done, e.g. `configuration of sg-1: ...`."""
        return PluginError(f"{context}: {self.message}")


class HostError(Exception):
    """A host call that did not succeed (the contract's `host-error`).

    Catch a subclass to handle one case, e.g. `except HostDenied:` to carry on without a
    capability the operator did not grant. `str()` spells it like the Rust SDK:
    `denied: <why>`, `timeout`, `too large: <why>`.
    """

    #: The contract's case name: denied, invalid, timeout, too-large or failed.
    kind: ClassVar[str] = "failed"
    #: How `str()` names the case (the Rust SDK's `Display`).
    _label: ClassVar[str] = "failed"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail)
        self.detail = detail

    def __str__(self) -> str:
        return f"{self._label}: {self.detail}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.detail!r})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.detail == other.detail  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self.detail))


class HostDenied(HostError):
    """The operator has not granted this (capability, scope)."""

    kind = "denied"
    _label = "denied"


class HostInvalid(HostError):
    """The arguments were malformed."""

    kind = "invalid"
    _label = "invalid"


class HostTimeout(HostError):
    """The call took longer than the host allows."""

    kind = "timeout"
    _label = "timeout"

    def __str__(self) -> str:
        # The contract's `timeout` case carries no text.
        return "timeout"


class HostTooLarge(HostError):
    """A response or message exceeded the host's size cap."""

    kind = "too-large"
    _label = "too large"


class HostFailed(HostError):
    """The call was allowed but failed (network, relay, store)."""

    kind = "failed"
    _label = "failed"
