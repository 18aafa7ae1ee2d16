"""``neuropose watch``: run the job daemon on a data directory."""

from __future__ import annotations

from typing import Annotated

import typer

from neuropose.cli.app import app, out_console, state
from neuropose.cli.options import DataDirOption, ModelOption
from neuropose.errors import ProcessingError


@app.command("watch")
def watch(
    ctx: typer.Context,
    once: Annotated[
        bool, typer.Option("--once", help="Process every stable job, then exit.")
    ] = False,
    data_dir: DataDirOption = None,
    model: ModelOption = None,
) -> None:
    """Process jobs dropped into DATA_DIR/in/ (one daemon per data directory).

    Exit codes: 0 done (--once), 1 a job failed (--once), 2 bad config or corrupt
    status.json, 3 another daemon holds the data directory, 4 resource
    missing (model, disk, permissions), 130 stopped by SIGINT/SIGTERM after
    checkpointing.
    """
    from neuropose.interfacer import Interfacer, build_processor

    settings = state(ctx).load(data_dir=data_dir).settings
    daemon = Interfacer(settings, lambda: build_processor(settings, model), once=once)
    summary = daemon.run()
    if once:
        out_console.print(
            f"completed {len(summary.completed)}, failed {len(summary.failed)}, "
            f"interrupted {len(summary.interrupted)}"
        )
        if summary.failed:
            raise JobsFailedError(
                f"{len(summary.failed)} job(s) failed: {', '.join(summary.failed)}",
                hint="`neuropose status` shows each error; fix the input and run "
                "`neuropose retry JOB`",
            )


class JobsFailedError(ProcessingError):
    """``watch --once`` finished but at least one job failed (exit code 1)."""
