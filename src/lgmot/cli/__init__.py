"""The ``lgmot`` command. Each verb lives in its own module and registers itself on ``app``."""
from __future__ import annotations

import typer

from ..errors import InputError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="lgmot: language-guided multi-object tracking (SUSHI hierarchy + LG-MOT language training).")


def fail(msg: str) -> None:
    """Print a one-line error and exit 2 (bad input never shows a traceback)."""
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(2)


def message(e: BaseException, where=None) -> str:
    """An exception's message as written (``str(KeyError)`` adds quotes; never strip them from others).
    An OSError names its file, else ``where`` (the command's output folder)."""
    if isinstance(e, KeyError) and len(e.args) == 1 and isinstance(e.args[0], str):
        return e.args[0]
    if isinstance(e, OSError):
        return f"{e.filename or where}: {e.strerror or e}"
    return str(e)


def prepare_out_dir(out) -> None:
    """Create the output folder ``out`` (or fail with one line: a file in the way, no permission),
    and remove temporary files that a killed lgmot run left there."""
    import os
    from pathlib import Path

    from ..data.motio import remove_stale_temps

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(out, "--out is an existing file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(e.filename or out, f"cannot create the --out folder ({e.strerror})") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise InputError(out, "cannot write into the --out folder (permission denied)")
    remove_stale_temps(out)


def terminate_like_interrupt() -> None:
    """SIGTERM ends the command as Ctrl-C does (KeyboardInterrupt), so worker pools are shut down."""
    import signal
    import threading

    def handler(signum, frame):
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)


def run_guarded(fn, *a, **kw):
    try:
        return fn(*a, **kw)
    except InputError as e:
        fail(str(e))


from . import version as _version  # noqa: E402,F401  (registers commands)

# Add each verb module here when it lands: from . import eval, track, synth, ...
from . import track  # noqa: E402,F401
from . import train  # noqa: E402,F401
from . import demo  # noqa: E402,F401
from . import eval  # noqa: E402,F401
from . import synth  # noqa: E402,F401
from . import annotate  # noqa: E402,F401
from . import search  # noqa: E402,F401
