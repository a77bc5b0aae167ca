"""The checks an auditor says it can raise, for listings and operator overrides."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload

from . import _validate

__all__ = ["Check", "Checks"]


@dataclass(frozen=True)
class Check:
    """One check: the contract's `check-info`."""

    id: str
    title: str
    score: int
    description: str = ""

    def __post_init__(self) -> None:
        _validate.text("Check.id", self.id)
        _validate.text("Check.title", self.title)
        _validate.u32("Check.score", self.score)
        _validate.text("Check.description", self.description)


class Checks(Sequence[Check]):
    """An auditor's checks, built in one expression:

    Checks().check("internet-accessible", "Internet Accessible", 10, "What it means.")
    """

    def __init__(self) -> None:
        self._checks: list[Check] = []

    def check(self, id: str, title: str, score: int, description: str = "") -> Checks:
        self._checks.append(Check(id, title, score, description))
        return self

    @overload
    def __getitem__(self, index: int) -> Check: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Check]: ...

    def __getitem__(self, index: int | slice) -> Check | Sequence[Check]:
        return self._checks[index]

    def __len__(self) -> int:
        return len(self._checks)

    def __iter__(self) -> Iterator[Check]:
        return iter(self._checks)

    def __repr__(self) -> str:
        return f"Checks({self._checks!r})"
