"""One exception type for bad user input: its message is a single line naming file and line."""
from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """Malformed input. ``str(err)`` is one line: ``path:line: what is wrong``."""

    def __init__(self, path: str | Path | None, message: str, line: int | None = None):
        self.path = None if path is None else Path(path)
        self.line = line
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
