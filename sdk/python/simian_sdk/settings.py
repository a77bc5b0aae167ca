"""The plugin's own settings from the operator's configuration. Always available.

Settings are operator input: the typed getters raise a `PluginError` naming the key rather
than trusting the shape. Read them in the auditor's `__init__` (once per plugin instance),
not at module level: module code runs when the component is built, where there is no host.
"""

from __future__ import annotations

from typing import Any, TypeVar

from . import _host, _json
from .errors import PluginError

__all__ = ["get", "get_or", "get_str", "get_int", "get_bool", "all"]

T = TypeVar("T")
_UNSET: Any = object()


def get(key: str) -> Any | None:
    """The setting `key` decoded from JSON, or None if the operator did not set it."""
    text = _host.current().get_setting(key)
    if text is None:
        return None
    try:
        return _json.loads(text)
    except ValueError as e:
        raise PluginError(f"setting `{key}`: {e}") from e


def get_or(key: str, default: T) -> Any | T:
    """The setting `key`, or `default` when unset (or null)."""
    value = get(key)
    return default if value is None else value


def get_str(key: str, default: str | None = None) -> str | None:
    """The setting `key`, which must be a string when set."""
    value = get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise PluginError(f"setting `{key}` must be a string, not {_json.show(value)}")
    return value


def get_int(
    key: str,
    default: int | None = None,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int | None:
    """The setting `key`, which must be an integer (within the bounds given) when set."""
    value = get(key)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool):
        raise PluginError(f"setting `{key}` must be an integer, not {_json.show(value)}")
    if minimum is not None and value < minimum:
        raise PluginError(f"setting `{key}` must be at least {minimum}, not {value}")
    if maximum is not None and value > maximum:
        raise PluginError(f"setting `{key}` must be at most {maximum}, not {value}")
    return value


def get_bool(key: str, default: bool | None = None) -> bool | None:
    """The setting `key`, which must be true or false when set."""
    value = get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise PluginError(f"setting `{key}` must be true or false, not {_json.show(value)}")
    return value


def all() -> dict[str, Any]:  # noqa: A001 - mirrors the contract's `settings.all`
    """Every setting as one dict."""
    try:
        value = _json.loads(_host.current().all_settings())
    except ValueError as e:
        raise PluginError(f"settings: {e}") from e
    if not isinstance(value, dict):
        raise PluginError(f"settings: expected a JSON object, not {_json.show(value)}")
    return value
