"""``neuropose watch``: run the job daemon on a data directory."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from neuropose.cli.app import app, out_console, state
from neuropose.cli.options import DataDirOption, ModelOption
from neuropose.errors import ProcessingError


class ExecutorChoice(StrEnum):
    """Where the daemon runs videos."""

    LOCAL = "local"
    RAY = "ray"


class TransferChoice(StrEnum):
    """How videos reach Ray actors."""

    AUTO = "auto"
    PATH = "path"
    BYTES = "bytes"


@app.command("watch")
def watch(
    ctx: typer.Context,
    once: Annotated[
        bool, typer.Option("--once", help="Process every stable job, then exit.")
    ] = False,
    data_dir: DataDirOption = None,
    model: ModelOption = None,
    executor: Annotated[
        ExecutorChoice | None,
        typer.Option(
            "--executor",
            help="local: videos run in this process; ray: on a pool of Ray actors "
            "(needs the ray extra, docs/ray.md). Setting executor.",
            show_default=False,
        ),
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address",
            help="Ray cluster to join (HOST:PORT); default a private local instance. "
            "Setting ray_address.",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", help="Ray actors (setting ray_workers).", show_default=False),
    ] = None,
    cpus_per_worker: Annotated[
        float | None,
        typer.Option(
            "--cpus-per-worker",
            help="CPUs reserved per actor (setting ray_cpus_per_worker).",
            show_default=False,
        ),
    ] = None,
    gpus_per_worker: Annotated[
        float | None,
        typer.Option(
            "--gpus-per-worker",
            help="GPUs reserved per actor (setting ray_gpus_per_worker).",
            show_default=False,
        ),
    ] = None,
    video_transfer: Annotated[
        TransferChoice | None,
        typer.Option(
            "--video-transfer",
            help="path: actors read the shared data directory; bytes: videos travel in "
            "Ray's object store; auto: path for a local instance (setting ray_video_transfer).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Process jobs dropped into DATA_DIR/in/ (one daemon per data directory).

    Exit codes: 0 done (--once), 1 a job failed (--once), 2 bad config or corrupt
    status.json, 3 another daemon holds the data directory, 4 resource
    missing (model, disk, permissions, Ray not installed, Ray cluster
    unreachable: the running job resumes on the next start), 130 stopped by
    SIGINT/SIGTERM after checkpointing.
    """
    from neuropose.interfacer import Interfacer, build_executor

    settings = (
        state(ctx)
        .load(
            data_dir=data_dir,
            executor=executor.value if executor else None,
            ray_address=ray_address,
            ray_workers=workers,
            ray_cpus_per_worker=cpus_per_worker,
            ray_gpus_per_worker=gpus_per_worker,
            ray_video_transfer=video_transfer.value if video_transfer else None,
        )
        .settings
    )
    if settings.executor == "ray":
        from neuropose.interfacer.processor import require_ray

        require_ray()  # before the lock: a missing extra is reported at once
    daemon = Interfacer(settings, lambda: build_executor(settings, model), once=once)
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
