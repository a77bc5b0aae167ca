"""Findings an auditor raises."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from . import _validate

__all__ = ["Issue", "MAX_SCORE"]

#: The highest score the contract carries (a u32).
MAX_SCORE = _validate.U32_MAX


@dataclass(frozen=True)
class Issue:
    """A finding against one item.

    `check_id` and `notes` are part of the issue's identity in the host (that is how it tells
    a new issue from one still open), so keep notes deterministic: no timestamps, no sets or
    other unordered collections.

        Issue("internet-accessible", "Internet Accessible", 10).with_notes("...")
    """

    #: Stable identifier of the check within the plugin, e.g. `internet-accessible`.
    check_id: str
    title: str
    score: int
    #: The evidence.
    notes: str = ""
    remediation: str | None = None

    def __post_init__(self) -> None:
        _validate.text("Issue.check_id", self.check_id)
        _validate.text("Issue.title", self.title)
        _validate.u32("Issue.score", self.score)
        _validate.text("Issue.notes", self.notes)
        _validate.optional_text("Issue.remediation", self.remediation)

    def with_notes(self, notes: str) -> Issue:
        return dataclasses.replace(self, notes=notes)

    def with_remediation(self, remediation: str) -> Issue:
        return dataclasses.replace(self, remediation=remediation)
