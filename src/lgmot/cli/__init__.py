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
