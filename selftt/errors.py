"""Errors that selftt reports to the user as one readable line (no traceback)."""

from __future__ import annotations


class SelfTTError(Exception):
    """Base class: a problem with the user's input, config or files, not a bug in selftt."""


class ConfigError(SelfTTError):
    """A config value is missing, of the wrong type or out of range. Name the key."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(f"config key '{key}': {message}")


class DataError(SelfTTError):
    """A data file is malformed. Name the file and, where known, the line."""

    def __init__(self, path: object, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")
