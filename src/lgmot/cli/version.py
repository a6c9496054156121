from __future__ import annotations

import typer

from . import app


@app.command()
def version() -> None:
    """Print the lgmot version."""
    from .. import __version__

    typer.echo(__version__)
