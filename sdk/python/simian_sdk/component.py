"""Exporting an auditor as the component's `auditor` world.

componentize-py looks for a class named `WitWorld` in the app module and calls its
`describe` and `audit` for the world's exports; `export_auditor` makes that class:

    WitWorld = export_auditor(MyRule)
"""

from __future__ import annotations

from typing import Any

from . import _wit
from .plugin import AuditFailure, Auditor, run_audit, start

__all__ = ["export_auditor"]


def export_auditor(rule: type[Auditor]) -> type:
    """The world class for `rule`. Nothing runs at build time: the instance is made on the
    first `audit` call and kept for the life of the component instance, like the Rust SDK."""
    if not (isinstance(rule, type) and issubclass(rule, Auditor)):
        raise TypeError(f"export_auditor needs an Auditor subclass, not {rule!r}")
    instance: list[Auditor | Exception] = []

    def host() -> _wit.ComponentHost:
        if _wit.COMPONENT is None:
            raise RuntimeError("the auditor world is only callable inside a component")
        return _wit.COMPONENT

    class WitWorld:
        def describe(self) -> Any:
            return host().auditor_info(list(rule.checks()))

        def audit(self, items: list[Any]) -> list[Any]:
            wit = host()
            if not instance:
                instance.append(start(rule))
            batch = [wit.item_from_wit(item) for item in items]
            return [
                wit.err(outcome.message)
                if isinstance(outcome, AuditFailure)
                else wit.ok([wit.issue_to_wit(issue) for issue in outcome])
                for outcome in run_audit(rule, instance[0], batch)
            ]

    return WitWorld
