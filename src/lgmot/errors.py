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
