"""The real host, through the bindings componentize-py generates for the `auditor` world.

Everything here is imported when the module loads, never inside a call: componentize-py
snapshots the interpreter after importing the app at build time, and a component has no
files to import from afterwards (a late `import` fails with ModuleNotFoundError). Importing
the bindings calls nothing; calling the host is only possible once the component runs.

Under pytest there are no bindings: `load()` finds none and the SDK uses the test host.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from . import _host
from .accounts import Classification, Relation
from .checks import Check
from .errors import HostDenied, HostError, HostFailed, HostInvalid, HostTimeout, HostTooLarge
from .issue import Issue
from .item import Item
from .log import Level


class ComponentHost:
    """Host calls and record conversions over the generated modules (`wit_world.imports.*`).

    `accounts` is None when a component is built against a narrower world that leaves the
    interface out (`simian plugin build` uses the whole `auditor` world, where the host answers
    an undeclared capability with `denied`): calls then raise `HostDenied` all the same.
    """

    def __init__(
        self,
        *,
        types: ModuleType,
        log: ModuleType,
        settings: ModuleType,
        accounts: ModuleType | None,
        ok: Callable[[Any], Any],
        err_type: type[BaseException],
    ) -> None:
        self._types = types
        self._log = log
        self._settings = settings
        self._accounts = accounts
        self._ok = ok
        self._err_type: Any = err_type
        self._host_errors: dict[type, Callable[[Any], HostError]] = {
            types.HostError_Denied: lambda v: HostDenied(v.value),
            types.HostError_Invalid: lambda v: HostInvalid(v.value),
            types.HostError_Timeout: lambda v: HostTimeout(),
            types.HostError_TooLarge: lambda v: HostTooLarge(v.value),
            types.HostError_Failed: lambda v: HostFailed(v.value),
        }

    # -- host services ---------------------------------------------------------------------

    def log(self, level: Level, message: str) -> None:
        self._log.log(self._log.Level[level.name], message)

    def get_setting(self, key: str) -> str | None:
        return self._settings.get(key)

    def all_settings(self) -> str:
        return self._settings.all()

    def classify_account(self, own_account: str, account_id: str) -> Classification:
        return self._classify("classify_account", own_account, account_id)

    def classify_arn(self, own_account: str, arn: str) -> Classification:
        return self._classify("classify_arn", own_account, arn)

    def classify_cidr(self, own_account: str, cidr: str) -> Classification:
        return self._classify("classify_cidr", own_account, cidr)

    def classify_canonical_id(self, own_account: str, canonical_id: str) -> Classification:
        return self._classify("classify_canonical_id", own_account, canonical_id)

    def _classify(self, name: str, own_account: str, subject: str) -> Classification:
        if self._accounts is None:
            raise HostDenied("the accounts capability is not declared in plugin.toml")
        try:
            c = getattr(self._accounts, name)(own_account, subject)
        except self._err_type as e:
            raise self.host_error(e.value) from None
        return Classification(Relation[c.relation.name], c.account_id, c.name)

    def host_error(self, value: Any) -> HostError:
        convert = self._host_errors.get(type(value))
        if convert is None:
            return HostFailed(f"unexpected host error {value!r}")
        return convert(value)

    # -- records ---------------------------------------------------------------------------

    def item_from_wit(self, item: Any) -> Item:
        tags: dict[str, str] = {}
        for tag in item.tags:
            # The first of a repeated key wins, as `Item::tag` reads it in the Rust SDK.
            tags.setdefault(tag.key, tag.value)
        return Item(
            resource_type=item.resource_type,
            resource_id=item.resource_id,
            resource_name=item.resource_name,
            arn=item.arn,
            account_id=item.account_id,
            region=item.region,
            capture_time=item.capture_time,
            configuration_text=item.configuration,
            supplementary_text=item.supplementary_configuration,
            tags=tags,
        )

    def issue_to_wit(self, issue: Issue) -> Any:
        return self._types.Issue(
            check_id=issue.check_id,
            title=issue.title,
            score=issue.score,
            notes=issue.notes,
            remediation=issue.remediation,
        )

    def auditor_info(self, checks: Sequence[Check]) -> Any:
        """What `describe()` answers: the kind and the checks. Id, version, description and
        resource types stay empty: the host takes them from plugin.toml, their one source."""
        return self._types.PluginInfo(
            id="",
            version="",
            kind=self._types.PluginKind.AUDITOR,
            description="",
            resource_types=[],
            checks=[
                self._types.CheckInfo(
                    id=c.id, title=c.title, score=c.score, description=c.description
                )
                for c in checks
            ],
        )

    def ok(self, value: Any) -> Any:
        return self._ok(value)

    def err(self, message: str) -> Any:
        return self._err_type(message)


def load() -> ComponentHost | None:
    """The host behind the generated bindings, or None outside a component."""
    try:
        from componentize_py_types import Err, Ok
        from wit_world.imports import log, settings, types
    except ImportError:
        return None
    try:
        from wit_world.imports import accounts
    except ImportError:
        accounts = None
    return ComponentHost(
        types=types, log=log, settings=settings, accounts=accounts, ok=Ok, err_type=Err
    )


COMPONENT = load()
_host.use_component(COMPONENT)
