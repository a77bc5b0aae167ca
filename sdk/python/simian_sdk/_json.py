"""JSON as the host writes and reads it: strict (no NaN or Infinity, which the host's serde
rejects) and compact."""

from __future__ import annotations

import json
from typing import Any


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads(text: str) -> Any:
    """Parse JSON text; raises `ValueError` with the position on malformed input."""
    return json.loads(text, parse_constant=_reject_constant)


def dumps(value: Any) -> str:
    """Compact JSON text; raises `ValueError`/`TypeError` for what JSON cannot carry."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def show(value: Any) -> str:
    """A JSON value as it would read in an error message."""
    try:
        return dumps(value)
    except (TypeError, ValueError):
        return repr(value)
