"""One exception type for bad user input: its message is a single line naming file and line."""
from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """Malformed input. ``str(err)`` is one line: ``path:line: what is wrong``."""

    def __init__(self, path: str | Path | None, message: str, line: int | None = None):
        self.path = None if path is None else Path(path)
        self.line = line
        message = message.replace("\r", "\\r").replace("\n", "\\n")  # one line, whatever a file put in it
        self.reason = message
        where = "" if path is None else (f"{path}:{line}: " if line is not None else f"{path}: ")
        super().__init__(f"{where}{message}")

    def __reduce__(self):
        # pickled across worker processes: rebuild from the parts, not from the joined message
        return (type(self), (self.path, self.reason, self.line))


def read_user_text(path: str | Path, what: str = "file") -> str:
    """Read a user's text file (UTF-8, a byte-order mark tolerated); failures are one-line InputErrors."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise InputError(path, f"cannot read {what} ({e.strerror})") from None
    except UnicodeDecodeError:
        raise InputError(path, "not a text file (cannot decode as UTF-8)") from None


def check_name(name: str, path: str | Path | None = None, line: int | None = None, what: str = "sequence name") -> str:
    """``name`` if it is safe as one file-name component, else a one-line InputError.

    A name read from a file never chooses where files go: empty names, absolute names, path
    separators, ``..`` and control characters are refused.
    """
    bad = None
    if not isinstance(name, str) or not name.strip():
        bad = "is empty"
    elif "/" in name or "\\" in name or Path(name).is_absolute():
        bad = "contains a path separator"
    elif ".." in name or name == ".":
        bad = "contains '..'"
    elif any(ord(c) < 32 or ord(c) == 127 for c in name):
        bad = "contains a control character"
    if bad is not None:
        raise InputError(path, f"not a {what}: {name!r} {bad} (a name must be a plain file name)", line)
    return name


def named_path(folder: str | Path, name: str, suffix: str = "") -> Path:
    """``folder/<name><suffix>`` for a ``name`` that came from a file (checked by :func:`check_name`)."""
    return Path(folder) / f"{check_name(name)}{suffix}"
