"""Logging into the host's structured log, tagged with the plugin id. Always available.

Under pytest the messages go to the installed `FakeHost` (see `FakeHost.logs`).
"""

from __future__ import annotations

from enum import StrEnum

from . import _host

__all__ = ["Level", "log", "trace", "debug", "info", "warn", "error"]


class Level(StrEnum):
    TRACE = "trace"
    DEBUG = "debug"
    INFO = "info"
    WARN = "warn"
    ERROR = "error"


def log(level: Level, message: str) -> None:
    _host.current().log(Level(level), str(message))


def trace(message: str) -> None:
    log(Level.TRACE, message)


def debug(message: str) -> None:
    log(Level.DEBUG, message)


def info(message: str) -> None:
    log(Level.INFO, message)


def warn(message: str) -> None:
    log(Level.WARN, message)


def error(message: str) -> None:
    log(Level.ERROR, message)
