"""Which host answers the SDK's calls.

Inside a component that is the real host, through the bindings componentize-py generates
(`_wit` registers it with `use_component` when those bindings import). Under pytest it is
the `testing.FakeHost` a test installed. With neither (a plain `python` session), `NoHost`
answers like a host whose operator configured and granted nothing: no settings, every
capability denied, logs to stderr.
"""

from __future__ import annotations

import sys
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Protocol

from .errors import HostDenied

if TYPE_CHECKING:
    from .accounts import Classification
    from .log import Level


class Host(Protocol):
    """The host services the SDK wraps; every classify call may raise a `HostError`."""

    def log(self, level: Level, message: str) -> None: ...

    def get_setting(self, key: str) -> str | None: ...

    def all_settings(self) -> str: ...

    def classify_account(self, own_account: str, account_id: str) -> Classification: ...

    def classify_arn(self, own_account: str, arn: str) -> Classification: ...

    def classify_cidr(self, own_account: str, cidr: str) -> Classification: ...

    def classify_canonical_id(self, own_account: str, canonical_id: str) -> Classification: ...


class NoHost:
    """What a plugin sees outside a component with no fake host installed."""

    def log(self, level: Level, message: str) -> None:
        print(f"[{level.value}] {message}", file=sys.stderr)

    def get_setting(self, key: str) -> str | None:
        return None

    def all_settings(self) -> str:
        return "{}"

    def _denied(self) -> HostDenied:
        return HostDenied("no host: not in a component and no test host installed")

    def classify_account(self, own_account: str, account_id: str) -> Classification:
        raise self._denied()

    def classify_arn(self, own_account: str, arn: str) -> Classification:
        raise self._denied()

    def classify_cidr(self, own_account: str, cidr: str) -> Classification:
        raise self._denied()

    def classify_canonical_id(self, own_account: str, canonical_id: str) -> Classification:
        raise self._denied()


_NO_HOST = NoHost()
_component: Host | None = None
# A context variable rather than a global, so a test host installed in one thread (or
# asyncio task) is not seen by another.
_installed: ContextVar[Host | None] = ContextVar("simian_sdk_host", default=None)


def current() -> Host:
    installed = _installed.get()
    if installed is not None:
        return installed
    return _component if _component is not None else _NO_HOST


def use_component(host: Host | None) -> None:
    """Make `host` the default: the component's real host (None: back to `NoHost`)."""
    global _component
    _component = host


def install(host: Host) -> Token[Host | None]:
    return _installed.set(host)


def uninstall(token: Token[Host | None]) -> None:
    _installed.reset(token)
