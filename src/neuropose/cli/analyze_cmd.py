"""``neuropose analyze``: run a declarative analysis config over results files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from neuropose.cli.app import app, err_console, out_console
from neuropose.cli.inputs import RESULTS_EXPECTED, RESULTS_KINDS, FileKind, require

__all__ = ["analyze"]


@app.command("analyze")
def analyze(
    config: Annotated[Path, typer.Argument(help="Analysis config (TOML).")],
    inputs: Annotated[
        list[str] | None,
        typer.Option("--inputs", help="Results files glob (repeatable); overrides the config."),
    ] = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="KEY=VALUE: change a config value (repeatable), e.g. comparisons.0.a=t1.json "
            "or filter.cutoff_hz=4; paths are relative to the current directory.",
        ),
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Parallel inputs.")] = 1,
    keep_going: Annotated[
        bool, typer.Option("--keep-going", help="Record failing inputs and continue.")
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Report path (default: <config>.report.json)."),
    ] = None,
) -> None:
    """Joint angles, repetitions, gait and DTW comparisons → JSON report + CSV tables."""
    from neuropose.analyzer.config import load_config, resolve_inputs
    from neuropose.analyzer.report import run_analysis, write_outputs
    from neuropose.errors import ProcessingError

    require(
        config,
        "analyze",
        {FileKind.ANALYSIS_CONFIG, FileKind.TOML, FileKind.DAMAGED_TOML},
        "an analysis config (TOML; examples in the examples/ folder of NeuroPose's repository)",
    )
    cfg = load_config(config, overrides or ())
    if inputs:
        paths = resolve_inputs(inputs, Path.cwd())
    elif cfg.inputs:
        paths = resolve_inputs(cfg.inputs, config.parent)
    else:
        paths = []
        if not cfg.comparisons:
            resolve_inputs([], config.parent)  # raises the "no inputs" ConfigError
    if not keep_going:
        for p in paths:
            require(p, "analyze", RESULTS_KINDS, f"results files as inputs ({RESULTS_EXPECTED})")
    report_path = output or config.with_name(config.name.removesuffix(".toml") + ".report.json")

    def progress(path: Path, entry: dict[str, Any]) -> None:
        if entry["status"] == "ok":
            out_console.print(f"ok      {path}")
        else:
            err_console.print(f"failed  {path}: {entry['error']}", markup=False)

    outcome = run_analysis(
        cfg,
        config_path=config,
        inputs=paths,
        jobs=jobs,
        keep_going=keep_going,
        progress=progress,
    )
    for comp in outcome.report.comparisons:
        if comp.get("status") == "failed":
            err_console.print(f"failed  comparison {comp['name']}: {comp['error']}", markup=False)
            continue
        for item, r in comp["results"].items():
            out_console.print(
                f"compare {comp['name']} [{item}]: DTW {r['distance']} {comp['unit']} "
                f"(normalised {r['normalized_distance']} {comp['unit']}/step, {r['engine']})"
            )
    tables = write_outputs(outcome, report_path)
    out_console.print(f"report  {report_path}")
    for name, p in tables.items():
        out_console.print(f"table   {name}: {p}")
    failed = outcome.failed + [c for c in outcome.report.comparisons if c.get("status") == "failed"]
    if failed:
        raise ProcessingError(
            f"{len(failed)} of {len(paths) + len(cfg.comparisons)} analyses failed "
            f"(recorded in {report_path})"
        )
