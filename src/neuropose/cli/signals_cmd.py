"""``neuropose signals``: validate a derived-signal spec, compute its signals from results."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from neuropose.cli.app import app, out_console
from neuropose.cli.helpfmt import PlainHelpGroup

__all__ = ["compute", "signals_app", "validate"]

signals_app = typer.Typer(
    cls=PlainHelpGroup,
    help="Derived signals: validate a spec, compute its signals from a results file.",
    no_args_is_help=True,
)
app.add_typer(signals_app, name="signals")


@signals_app.command("validate")
def validate(
    spec: Annotated[Path, typer.Argument(help="Signal spec (.toml or .json).")],
) -> None:
    """Check SPEC and list its nodes in computation order (exit 2 naming the problem)."""
    from neuropose.signals import load_spec
    from neuropose.signals.nodes import REGISTRY

    s = load_spec(spec)
    units = s.units()
    out_console.print(
        f"{spec}: valid, {len(s.nodes)} nodes, sha256 {s.sha256}", markup=False, highlight=False
    )
    for name in s.order:
        node = s.node(name)
        cls = REGISTRY[node.kind]
        inputs = f" <- {', '.join(node.inputs)}" if node.inputs else ""
        flag = "" if cls.causal else "  (non-causal: offline only)"
        out_console.print(f"  {name}: {node.kind}{inputs}  [{units[name]}]{flag}", markup=False)


@signals_app.command("compute")
def compute(
    results: Annotated[Path, typer.Argument(help="results.json to compute signals from.")],
    spec: Annotated[Path, typer.Option("--spec", help="Signal spec (.toml or .json).")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Output file: .csv, .json or .parquet.")
    ],
    video: Annotated[
        str | None, typer.Option("--video", help="Video in the file (if several).")
    ] = None,
    track: Annotated[
        int | None, typer.Option("--track", help="Subject track id (default: primary).")
    ] = None,
    missing: Annotated[
        str,
        typer.Option("--missing", help="Missing detections: propagate, hold or interpolate."),
    ] = "propagate",
    max_gap: Annotated[
        int | None,
        typer.Option("--max-gap", help="With --missing interpolate: longest gap filled (frames)."),
    ] = None,
) -> None:
    """Compute the signals of SPEC on one subject of RESULTS and write them to --output."""
    from neuropose import __version__
    from neuropose.analyzer.load import load_trial
    from neuropose.cli.inputs import RESULTS_EXPECTED, RESULTS_KINDS, require
    from neuropose.errors import UsageError
    from neuropose.io import sha256_file
    from neuropose.schemas.signals import SignalsProvenance
    from neuropose.signals import SignalGraph, load_spec
    from neuropose.signals.output import FORMATS, write_signals

    if output.suffix.lower() not in FORMATS:
        raise UsageError(
            f"--output {output}: unknown format {output.suffix or '(no suffix)'!r}",
            hint=f"name the output with one of {', '.join(FORMATS)}",
        )
    s = load_spec(spec)
    require(results, "signals compute", RESULTS_KINDS, RESULTS_EXPECTED)
    trial = load_trial(results, video=video, track_id=track)
    graph = SignalGraph(s, trial.skeleton, missing=missing, max_gap=max_gap)
    out = graph.run(trial.timestamps, trial.poses)
    prov = SignalsProvenance(
        spec=s.model_dump(mode="json"),
        spec_sha256=s.sha256,
        spec_file=spec.name,
        results_file=results.name,
        results_sha256=sha256_file(results),
        video=trial.video,
        track_id=trial.track_id,
        skeleton=trial.skeleton.name,
        missing=missing,
        max_gap=max_gap,
        non_causal=graph.non_causal,
        units=graph.units,
        neuropose_version=__version__,
    )
    written = write_signals(output, trial.timestamps, trial.frame_index, out, prov)
    nc = f"; non-causal: {', '.join(graph.non_causal)}" if graph.non_causal else ""
    out_console.print(
        f"{written[0]}: {len(out)} signals x {trial.num_frames} frames of {trial.video} "
        f"(track {trial.track_id}){nc}",
        markup=False,
        highlight=False,
    )
    for extra in written[1:]:
        out_console.print(f"{extra}: provenance", markup=False, highlight=False)
