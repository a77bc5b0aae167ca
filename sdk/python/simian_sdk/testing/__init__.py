"""A fake host for plugin tests under pytest; not available inside a component.

Configure a `FakeHost` like an operator would configure simian (settings, accounts,
networks, known items), and run the auditor with `audit_with` (or `audit_one`). Host calls
then behave like the real host's: the `accounts` capability can be withheld (calls raise
`HostDenied`), classifications follow the same rules, and logs are recorded.

    host = FakeHost().setting("score", 5).account("222222222222", "dev")
    [issues] = audit_with(MissingOwnerTag, [bucket], host=host)
    assert host.logs == []
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .. import _host, _json
from ..accounts import Classification
from ..cidr import Cidr
from ..errors import HostDenied
from ..issue import Issue
from ..item import Item
from ..log import Level
from ..plugin import AuditFailure, Auditor, run_audit, start
from ._book import Account, AccountBook, Inventory, Network

__all__ = ["FakeHost", "AuditFailure", "audit_with", "audit_one"]


class FakeHost:
    """A configurable fake host. The builder methods change this host and return it."""

    def __init__(self) -> None:
        self._settings: dict[str, str] = {}
        self._accounts: list[tuple[str, str, bool]] = []
        self._canonical_ids: list[tuple[str, str]] = []
        self._networks: list[Network] = []
        self._items: list[Item] = []
        self._accounts_denied = False
        #: Everything logged so far, in order.
        self.logs: list[tuple[Level, str]] = []

    # -- configuration ---------------------------------------------------------------------

    def setting(self, key: str, value: Any) -> FakeHost:
        """A plugin setting, as the operator would write it in `[plugin.<id>.settings]`;
        any JSON-serializable value."""
        try:
            self._settings[key] = _json.dumps(value)
        except (TypeError, ValueError) as e:
            raise TypeError(f"FakeHost.setting({key!r}): {e}") from None
        return self

    def account(self, id: str, name: str, third_party: bool = False) -> FakeHost:
        """An account the operator configured; `third_party` marks a vendor account."""
        self._accounts.append((id, name, third_party))
        return self

    def canonical_id(self, account_id: str, canonical_id: str) -> FakeHost:
        """The S3 canonical user id of a configured account (ignored for any other, as the
        host can only have it from an account's entry)."""
        self._canonical_ids.append((canonical_id, account_id))
        return self

    def network(self, name: str, cidr: str) -> FakeHost:
        """A network of ours: CIDRs inside it classify as `same`, named `name`."""
        self._networks.append(Network(name, _fixture_cidr(name, cidr)))
        return self

    def account_network(self, name: str, cidr: str, account_id: str) -> FakeHost:
        """A network of a configured account: CIDRs inside it classify as that account."""
        self._networks.append(Network(name, _fixture_cidr(name, cidr), account_id))
        return self

    def item(self, item: Item) -> FakeHost:
        """An item the host knows; buckets, VPCs, endpoints, IAM users and roles among them
        place account-less ARNs, as the host's store does."""
        self._items.append(item)
        return self

    def deny_accounts(self) -> FakeHost:
        """Withhold the `accounts` grant."""
        self._accounts_denied = True
        return self

    # -- use -------------------------------------------------------------------------------

    @contextmanager
    def installed(self) -> Iterator[FakeHost]:
        """Make this the host for SDK calls in the current context until the block ends."""
        token = _host.install(_Service(self))
        try:
            yield self
        finally:
            _host.uninstall(token)

    def book(self) -> AccountBook:
        """The host's view of this configuration."""
        accounts = []
        for id, name, third_party in self._accounts:
            canonical = next((c for c, a in reversed(self._canonical_ids) if a == id), None)
            accounts.append(Account(id, name, third_party, canonical))
        inventory = Inventory()
        for item in self._items:
            inventory.add(item.resource_type, item.resource_id, item.account_id)
        return AccountBook(accounts, self._networks, inventory)


class _Service:
    """The host protocol, answered from a `FakeHost`'s configuration."""

    def __init__(self, host: FakeHost) -> None:
        self._host = host

    def log(self, level: Level, message: str) -> None:
        # Echoed so a failing test's captured output shows what the plugin said.
        print(f"[{level.value}] {message}", file=sys.stderr)
        self._host.logs.append((level, message))

    def get_setting(self, key: str) -> str | None:
        return self._host._settings.get(key)

    def all_settings(self) -> str:
        return (
            "{" + ",".join(f"{_json.dumps(k)}:{v}" for k, v in self._host._settings.items()) + "}"
        )

    def _book(self) -> AccountBook:
        if self._host._accounts_denied:
            raise HostDenied("the accounts capability is not granted")
        return self._host.book()

    def classify_account(self, own_account: str, account_id: str) -> Classification:
        return self._book().classify_account(own_account, account_id)

    def classify_arn(self, own_account: str, arn: str) -> Classification:
        return self._book().classify_arn(own_account, arn)

    def classify_cidr(self, own_account: str, cidr: str) -> Classification:
        return self._book().classify_cidr(own_account, cidr)

    def classify_canonical_id(self, own_account: str, canonical_id: str) -> Classification:
        return self._book().classify_canonical_id(own_account, canonical_id)


def audit_with(
    rule: type[Auditor], items: Sequence[Item], host: FakeHost | None = None
) -> list[list[Issue] | AuditFailure]:
    """Run an auditor the way the component does: one new instance, then one batch. Each
    item's outcome is its issues or an `AuditFailure` with the exact message the component
    would return; if the instance fails to start, every item gets that failure."""
    with (host if host is not None else FakeHost()).installed():
        return run_audit(rule, start(rule), list(items))


def audit_one(rule: type[Auditor], item: Item, host: FakeHost | None = None) -> list[Issue]:
    """The issues found on one item; raises `AuditFailure` if it could not be audited, for
    `pytest.raises(AuditFailure, match=...)`."""
    [outcome] = audit_with(rule, [item], host)
    if isinstance(outcome, AuditFailure):
        raise outcome
    return outcome


def _fixture_cidr(name: str, cidr: str) -> Cidr:
    # A malformed CIDR here is a broken test fixture, not plugin behaviour: fail loudly.
    try:
        return Cidr.parse(cidr)
    except Exception as e:
        raise ValueError(f"FakeHost network {name!r}: {e}") from None
