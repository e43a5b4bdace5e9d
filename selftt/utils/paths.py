"""Names from configs and data that become parts of file paths."""

from __future__ import annotations

from pathlib import Path

from selftt.errors import ConfigError

_MAX_NAME = 120


def check_path_component(key: str, value: str) -> str:
    """``value`` must be one plain file or folder name, so that it cannot point outside the
    folder it is joined to (no '/', '\\\\', '..', '.', NUL, leading '~', empty)."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(key, f"must be a non-empty file or folder name, got {value!r}")
    bad = [c for c in ("/", "\\", "\x00") if c in value]
    if bad or value in (".", "..") or value.startswith("~") or len(value) > _MAX_NAME:
        raise ConfigError(
            key,
            f"must be a plain name (no path separators, not '.' or '..', at most {_MAX_NAME} "
            f"characters): it becomes a file or folder name inside the run directory; got {value!r}",
        )
    return value


def check_new_folder(key: str, value: str | Path) -> Path:
    """``value`` as a folder an export may write: new, or an empty folder (exports never
    overwrite files).

    Raises:
        ConfigError: (``key``) when it is a file or a folder that holds files.
    """
    path = Path(value).expanduser()
    if path.is_file() or (path.is_dir() and any(path.iterdir())):
        raise ConfigError(key, f"'{value}' already exists and is not an empty folder; choose a new folder")
    return path
