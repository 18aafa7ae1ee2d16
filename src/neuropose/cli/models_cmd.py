"""``neuropose models``: list, fetch, verify, locate and remove pose-model weights."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from neuropose.cli.app import app, err_console, out_console, state
from neuropose.cli.helpfmt import PlainHelpGroup
from neuropose.errors import UsageError
from neuropose.timefmt import format_bytes

models_app = typer.Typer(
    cls=PlainHelpGroup,
    help="Manage pose-model weights (list, fetch, verify, path, remove).",
    no_args_is_help=True,
)
app.add_typer(models_app, name="models")


def _cache_dir(ctx: typer.Context) -> Path:
    return Path(state(ctx).load().settings.model_cache_dir)


def _size(n: int | None) -> str:
    return "?" if n is None else format_bytes(n)


@models_app.command("list")
def list_models(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List known models: download and installed size, state, source and licence.

    The table fits an 80-column terminal; sources and licences follow it, one
    line per model. ``download`` is what ``models fetch`` transfers (for
    BlazePose the whole MediaPipe wheel), ``installed`` what the cache holds.
    """
    from neuropose.models import known_models, model_status

    cache_dir = _cache_dir(ctx)
    rows = []
    for entry in known_models():
        st = model_status(entry.name, cache_dir)
        verified = (
            "corrupt" if st.problem else "-" if not st.cached
            else {True: "yes", False: "NO", None: "unpinned"}[st.verified]
        )  # fmt: skip
        rows.append(
            {
                "name": entry.name,
                "kind": entry.kind,
                "source": entry.source,
                "size": entry.size,
                "installed_size": _tree_size(st.path) if st.cached else None,
                "licence": entry.licence,
                "cached": st.cached,
                "verified": verified,
                "path": str(st.path) if st.cached else None,
                "problem": st.problem,
            }
        )
    if as_json:
        out_console.print_json(json.dumps(rows))
        return
    out_console.print(f"Pose models in {cache_dir}", markup=False)
    table = Table("name", "kind", "download", "installed", "state")
    for r in rows:
        state_ = {"-": "not cached", "yes": "verified"}.get(str(r["verified"]), str(r["verified"]))
        installed = _size(r["installed_size"]) if r["cached"] else "-"  # type: ignore[arg-type]
        table.add_row(str(r["name"]), str(r["kind"]), _size(r["size"]), installed, state_)  # type: ignore[arg-type]
    out_console.print(table)
    for r in rows:
        out_console.print(f"{r['name']}: {r['source']}; licence {r['licence']}", markup=False)
    for r in rows:
        if r["problem"]:
            err_console.print(f"warning: {r['problem']}", markup=False)


def _tree_size(path: Path) -> int:
    """Bytes of the files under ``path`` (a model's cache directory)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


@models_app.command("fetch")
def fetch(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Registry name, e.g. blazepose-full.")],
    force: Annotated[
        bool, typer.Option("--force", help="Re-fetch even if a verified copy is cached.")
    ] = False,
    from_wheel: Annotated[
        Path | None,
        typer.Option("--from-wheel", help="Install BlazePose from a local mediapipe wheel."),
    ] = None,
    from_file: Annotated[
        Path | None,
        typer.Option("--from-file", help="Install from a local archive or SavedModel directory."),
    ] = None,
    sha256: Annotated[
        str | None, typer.Option("--sha256", help="Expected sha256 of the download (unpinned).")
    ] = None,
    trust_unpinned: Annotated[
        bool,
        typer.Option("--trust-unpinned", help="Accept an unpinned download without a hash."),
    ] = False,
) -> None:
    """Download (or install from a local file), verify and cache a model's weights."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    from neuropose.models import FetchOptions, fetch_model, get_entry

    if from_wheel is not None and from_file is not None:
        raise UsageError("give either --from-wheel or --from-file, not both")
    entry = get_entry(name)
    if from_wheel is not None and entry.kind != "blazepose":
        raise UsageError(
            f"--from-wheel only applies to BlazePose models; {name} is a {entry.kind} model",
            hint="use --from-file PATH",
        )
    cache_dir = _cache_dir(ctx)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    ) as progress:
        task = progress.add_task(f"fetching {name}", total=entry.size)

        def on_progress(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total)

        manifest = fetch_model(
            name,
            cache_dir,
            FetchOptions(
                from_path=from_wheel or from_file,
                sha256=sha256,
                trust_unpinned=trust_unpinned,
                force=force,
                progress=on_progress,
            ),
        )
    total = sum(manifest.sizes.values())
    pinned = "verified" if manifest.pinned else "NOT verified (unpinned)"
    out_console.print(
        f"{name}: {len(manifest.files)} file(s), {_size(total)}, {pinned}, in {cache_dir / name}",
        markup=False,
    )


@models_app.command("verify")
def verify(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Argument(help="Model to check (default: every cached model).")
    ] = None,
) -> None:
    """Re-hash the cached bytes on disk against their recorded sha256."""
    from neuropose.models import (
        CorruptModelError,
        ModelNotCachedError,
        known_models,
        model_status,
        verify_model,
    )

    cache_dir = _cache_dir(ctx)
    if name is not None:
        names = [name]
    else:
        names = [
            e.name
            for e in known_models()
            if (st := model_status(e.name, cache_dir)).cached or st.problem
        ]
        if not names:
            raise ModelNotCachedError(
                f"no model is cached in {cache_dir}", hint="run `neuropose models fetch NAME`"
            )
    failures: list[CorruptModelError] = []
    for n in names:
        try:
            manifest = verify_model(n, cache_dir)
        except CorruptModelError as exc:
            out_console.print(f"{n}: CORRUPT — {exc.message}", markup=False)
            failures.append(exc)
            continue
        out_console.print(f"{n}: OK ({len(manifest.files)} file(s) re-hashed)", markup=False)
    if failures:
        first = failures[0]
        raise CorruptModelError(
            f"{len(failures)} cached model(s) failed verification: {first.message}",
            hint=first.hint,
        )


@models_app.command("path")
def path(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Registry name.")],
) -> None:
    """Print the directory holding a cached model."""
    from neuropose.models import model_path

    out_console.print(str(model_path(name, _cache_dir(ctx))), markup=False, soft_wrap=True)


@models_app.command("remove")
def remove(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Registry name.")],
) -> None:
    """Delete a cached model's files."""
    from neuropose.models import remove_model

    cache_dir = _cache_dir(ctx)
    if remove_model(name, cache_dir):
        out_console.print(f"removed {name} from {cache_dir}", markup=False)
    else:
        out_console.print(f"{name} is not cached in {cache_dir}", markup=False)
