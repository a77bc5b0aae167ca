"""Type checks for values that cross into the host.

A wrong type would otherwise surface as a trap while the component lowers the result, which
fails the whole batch; checking where the value is built names the culprit instead.
"""

from __future__ import annotations

from typing import Any

U32_MAX = 2**32 - 1


def text(what: str, value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    return value


def optional_text(what: str, value: Any) -> str | None:
    return None if value is None else text(what, value)


def u32(what: str, value: Any) -> int:
    # bool is an int subclass; a score of True is a bug, not 1.
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if not 0 <= value <= U32_MAX:
        raise ValueError(f"{what} must be between 0 and {U32_MAX}, not {value}")
    return value
