"""Write simian auditor plugins in Python.

A plugin is an app module (`app.py`) built into a WebAssembly component by componentize-py
against the `simian:plugin@0.1.0` contract; the simian host runs it in a sandbox. This
package hides the generated bindings behind plain Python types, and runs the same plugin
code under pytest against `simian_sdk.testing.FakeHost`.

    from simian_sdk import Auditor, Checks, Issue, Item, export_auditor

    class MissingOwnerTag(Auditor):
        @classmethod
        def checks(cls) -> Checks:
            return Checks().check("missing-owner-tag", "Missing owner tag", 1, "...")

        def audit(self, item: Item) -> list[Issue]:
            if item.tag("owner"):
                return []
            return [Issue("missing-owner-tag", "Missing owner tag", 1, notes="...")]

    WitWorld = export_auditor(MissingOwnerTag)   # what componentize-py exports

Module code runs when the component is built, where no host exists: call host services
(`settings`, `log`, `accounts`) only from `__init__` and `audit`. Import everything at module
level, though: a component cannot import a module that was not imported at build time.
"""

from . import accounts, log, settings
from ._wit import COMPONENT as _COMPONENT  # noqa: F401 - binds the real host in a component
from .checks import Check, Checks
from .component import export_auditor
from .errors import (
    HostDenied,
    HostError,
    HostFailed,
    HostInvalid,
    HostTimeout,
    HostTooLarge,
    PluginError,
)
from .issue import MAX_SCORE, Issue
from .item import Item
from .plugin import Auditor

__version__ = "0.1.0"

#: The contract this SDK speaks.
CONTRACT = "simian:plugin@0.1.0"

__all__ = [
    "Auditor",
    "Check",
    "Checks",
    "HostDenied",
    "HostError",
    "HostFailed",
    "HostInvalid",
    "HostTimeout",
    "HostTooLarge",
    "Issue",
    "Item",
    "MAX_SCORE",
    "PluginError",
    "accounts",
    "export_auditor",
    "log",
    "settings",
]
