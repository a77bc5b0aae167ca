"""The base class an auditor subclasses, and how a batch is run: one code path shared by the
component export and the test harness, so both behave the same."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence

from .checks import Check
from .errors import HostError, PluginError
from .issue import Issue
from .item import Item

__all__ = ["Auditor", "AuditFailure", "Outcome", "error_message", "run_audit"]


class Auditor:
    """A plugin that judges items. Subclass it, then export the subclass from the app module:

        class MissingOwnerTag(Auditor):
            def __init__(self) -> None:
                self.score = settings.get_int("score", 1)

            @classmethod
            def checks(cls) -> Checks:
                return Checks().check("missing-owner-tag", "Missing owner tag", 1, "...")

            def audit(self, item: Item) -> list[Issue]:
                ...

        WitWorld = export_auditor(MissingOwnerTag)

    Its id, version, kind and resource types are stated once, in plugin.toml.

    `__init__` runs once per plugin instance, before its first batch (never at build time);
    the instance then serves every later batch, so expensive setup (reading settings,
    compiling patterns) belongs there. If it raises, every item of the batch fails with
    `plugin failed to start: ...`.
    """

    @classmethod
    def checks(cls) -> Sequence[Check]:
        """The checks it can raise, for listings and operator overrides."""
        return ()

    def audit(self, item: Item) -> Iterable[Issue]:
        """The issues found on one item (a list, or yield them). Raise to report that this
        item could not be audited: the message becomes its error, other items carry on."""
        raise NotImplementedError(f"{type(self).__name__} does not implement audit()")

    def audit_batch(self, items: Sequence[Item]) -> list[Outcome]:
        """One outcome per item, in order. Override to share work across a batch; return a
        list of issues or an exception for each item."""
        outcomes: list[Outcome] = []
        for item in items:
            try:
                outcomes.append(_issues(self.audit(item)))
            except Exception as e:
                outcomes.append(e)
        return outcomes


#: What auditing one item came to: its issues, or why it could not be audited.
Outcome = list[Issue] | Exception


class AuditFailure(Exception):
    """Why one item could not be audited, with the exact message the component returns for
    it (the contract's `err(string)`)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AuditFailure) and self.message == other.message

    def __hash__(self) -> int:
        return hash(self.message)


def error_message(e: BaseException) -> str:
    """The message the host records for an exception.

    An SDK error speaks for itself; anything else is a bug in the plugin, so it is named by
    type and by where it was raised (file name and line, not the path, which differs between
    build machines). A traceback is never sent: the host log is not a debugger.
    """
    if isinstance(e, AuditFailure):
        return e.message
    if isinstance(e, PluginError):
        return e.message
    if isinstance(e, HostError):
        return f"host call failed: {e}"
    text = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
    where = _raised_at(e)
    return f"{text} (at {where})" if where else text


def run_audit(
    rule: type[Auditor], instance: Auditor | Exception, items: Sequence[Item]
) -> list[list[Issue] | AuditFailure]:
    """Audit a batch with an instance that may have failed to start (then every item gets
    that error). A wrong outcome count from `audit_batch` would make the host misattribute
    issues, so it becomes an error on every item instead."""
    if isinstance(instance, Exception):
        failure = AuditFailure(f"plugin failed to start: {error_message(instance)}")
        return [failure for _ in items]
    try:
        outcomes = instance.audit_batch(items)
        if not isinstance(outcomes, Sequence) or isinstance(outcomes, (str, bytes)):
            raise PluginError(
                f"{rule.__name__}.audit_batch returned {type(outcomes).__name__}, not a list"
            )
        if len(outcomes) != len(items):
            raise PluginError(
                f"{rule.__name__}.audit_batch returned {len(outcomes)} results "
                f"for {len(items)} items"
            )
        return [_settle(outcome) for outcome in outcomes]
    except Exception as e:
        failure = AuditFailure(error_message(e))
        return [failure for _ in items]


def start(rule: type[Auditor]) -> Auditor | Exception:
    """A new instance of `rule`, or why it could not be made."""
    try:
        return rule()
    except Exception as e:
        return e


def _settle(outcome: object) -> list[Issue] | AuditFailure:
    if isinstance(outcome, BaseException):
        return AuditFailure(error_message(outcome))
    try:
        return _issues(outcome)
    except PluginError as e:
        return AuditFailure(e.message)


def _issues(found: object) -> list[Issue]:
    """`found` as a list of issues; a forgotten `return` or a stray value is reported here,
    where it can name the problem, rather than as a trap in the bindings."""
    if found is None:
        raise PluginError("audit returned None, not a list of issues (missing `return`?)")
    if isinstance(found, (str, bytes, dict, Issue)) or not isinstance(found, Iterable):
        raise PluginError(f"audit returned {type(found).__name__}, not a list of issues")
    issues = list(found)
    for issue in issues:
        if not isinstance(issue, Issue):
            raise PluginError(f"audit returned a {type(issue).__name__} among its issues")
    return issues


def _raised_at(e: BaseException) -> str | None:
    # The deepest frame in the plugin's own code: a `KeyError` raised inside `json` or a
    # `TypeError` from an SDK check is the plugin's line that called it.
    tb = e.__traceback__
    innermost = own = None
    while tb is not None:
        file_name = tb.tb_frame.f_code.co_filename
        innermost = (file_name, tb.tb_lineno)
        # `<frozen importlib._bootstrap>` and the like are not the plugin's either.
        if not file_name.startswith(_LIBRARY_DIRS) and not file_name.startswith("<"):
            own = innermost
        tb = tb.tb_next
    found = own or innermost
    if found is None:
        return None
    file_name, line = found
    return f"{file_name.replace(chr(92), '/').rsplit('/', 1)[-1]}:{line}"


# The standard library's directory and the SDK's: frames there are not the plugin's code.
_LIBRARY_DIRS = (
    os.path.dirname(os.path.abspath(dataclasses.__file__)) + os.sep,
    os.path.dirname(os.path.abspath(__file__)) + os.sep,
)
