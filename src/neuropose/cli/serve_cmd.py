"""``neuropose serve``: the live dashboard and JSON API for one data directory."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from neuropose.cli.app import app, out_console, state
from neuropose.cli.options import DataDirOption, existing_data_dir

logger = logging.getLogger(__name__)


@app.command("serve")
def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None,
        typer.Option(
            "--host",
            help="Bind address (default 127.0.0.1; others need a token).",
            show_default=False,
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            "--port", help="TCP port (default 8765; 0 picks a free one).", show_default=False
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            help="Token every request must present (Bearer or ?token=). "
            "Prefer NEUROPOSE_MONITOR_TOKEN: flags are visible in `ps`.",
            show_default=False,
        ),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Serve the live dashboard, /status.json, /health and /metrics until Ctrl-C or SIGTERM."""
    from neuropose.monitor import MonitorServer, run_until_signal

    loaded = state(ctx).load(
        monitor_host=host, monitor_port=port, monitor_token=token, data_dir=data_dir
    )
    existing_data_dir(loaded)
    settings = loaded.settings
    secret = settings.monitor_token.get_secret_value() if settings.monitor_token else None
    server = MonitorServer(
        settings.data_dir,
        settings.monitor_host,
        settings.monitor_port,
        token=secret,
        stale_after_s=settings.stale_after_seconds,
    )
    server.snapshots.get()  # read and render once, before announcing the URL
    out_console.print(f"NeuroPose monitor for {settings.data_dir}", markup=False)
    out_console.print(f"Serving on {server.url}", markup=False)
    if secret:
        out_console.print(
            "A token is required: send 'Authorization: Bearer <token>' or open "
            f"{server.url}?token=<token>",
            markup=False,
        )
    out_console.print("Press Ctrl-C to stop.", markup=False)
    sig = run_until_signal(server)
    out_console.print(f"Monitor stopped{f' (signal {sig})' if sig else ''}.", markup=False)
