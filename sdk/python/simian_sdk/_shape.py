"""Reading typed views out of parsed JSON with the host's (serde's) rules: a missing field or
`null` is the default, unknown fields are skipped, and a value of the wrong type is an error
naming where it was. Python's `json` gives dicts, lists, str, int, float, bool and None."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from . import _json

T = TypeVar("T")

#: What Rust's `str::trim` removes (Unicode White_Space). Python's `str.strip()` also strips
#: U+001C..U+001F, which would let a range through that the host skips.
RUST_WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)

I64_MIN, I64_MAX = -(2**63), 2**63 - 1


class ShapeError(ValueError):
    """A JSON value that does not have the shape a typed view needs."""


def _wrong(path: str, expected: str, value: Any) -> ShapeError:
    return ShapeError(f"`{path}` must be {expected}, not {_json.show(value)}")


def obj(value: Any, path: str) -> dict[str, Any]:
    # serde would also read a struct from a JSON array of its fields in order, and refuse a
    # repeated key; AWS writes neither, and neither is worth mirroring.
    if not isinstance(value, dict):
        raise _wrong(path or "configuration", "an object", value)
    return value


def opt_str(obj: dict[str, Any], key: str, path: str) -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise _wrong(_join(path, key), "a string", value)


def opt_bool(obj: dict[str, Any], key: str, path: str) -> bool | None:
    value = obj.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise _wrong(_join(path, key), "true or false", value)


def opt_i64(obj: dict[str, Any], key: str, path: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    # bool is an int in Python but not in JSON; 22.0 is a float to serde too.
    if isinstance(value, int) and not isinstance(value, bool) and I64_MIN <= value <= I64_MAX:
        return value
    raise _wrong(_join(path, key), "an integer", value)


def opt_list(
    obj: dict[str, Any], key: str, path: str, element: Callable[[Any, str], T]
) -> tuple[T, ...]:
    value = obj.get(key)
    if value is None:
        return ()
    here = _join(path, key)
    if not isinstance(value, list):
        raise _wrong(here, "a list", value)
    return tuple(element(v, f"{here}[{i}]") for i, v in enumerate(value))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
