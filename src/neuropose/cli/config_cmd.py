"""``neuropose config``: inspect the effective settings."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from neuropose.cli.app import app, out_console, state
from neuropose.cli.helpfmt import PlainHelpGroup
from neuropose.timefmt import format_bytes

config_app = typer.Typer(
    cls=PlainHelpGroup, help="Inspect the effective settings.", no_args_is_help=True
)
app.add_typer(config_app, name="config")


@config_app.command("show")
def show(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show every setting, its effective value and where it came from."""
    from pydantic import SecretStr

    loaded = state(ctx).load()
    values = loaded.settings.model_dump(mode="json")
    rows = []
    for key in type(loaded.settings).model_fields:
        value = values[key]
        if isinstance(getattr(loaded.settings, key), SecretStr):
            value = "********"
        rows.append((key, value, loaded.origins[key]))
    if as_json:
        out_console.print_json(json.dumps({k: {"value": v, "source": s} for k, v, s in rows}))
        return
    table = Table(title="NeuroPose settings")
    for header in ("key", "value", "source"):
        table.add_column(header, overflow="fold")  # never hide part of a path
    for key, value, source in rows:
        if value is None:
            shown = "(not set)"
        elif key.endswith("_bytes") and isinstance(value, int):
            shown = format_bytes(value)
        else:
            shown = json.dumps(value) if isinstance(value, bool) else str(value)
        table.add_row(key, shown, source)
    # Piped output is not cut to 80 columns (rows stay greppable).
    console = out_console
    if not console.is_terminal:
        console = Console(
            file=out_console.file, width=10_000, highlight=False, soft_wrap=True, emoji=False
        )
    console.print(table)
