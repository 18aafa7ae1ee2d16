"""``neuropose live``: poses and causal signals from a camera, a stream or a replay."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from neuropose.cli.app import app, out_console, state
from neuropose.cli.options import DataDirOption, ModelOption
from neuropose.errors import Interrupted


class LiveStopped(Interrupted):
    """The session was stopped by SIGINT/SIGTERM; its recording is complete (exit 130)."""


@app.command("live")
def live(
    ctx: typer.Context,
    source: Annotated[
        str,
        typer.Option(
            "--source",
            help="Camera index (0), stream URL (rtsp://, http://), video file, or a "
            "results.json to replay.",
        ),
    ],
    spec: Annotated[
        Path | None,
        typer.Option("--spec", help="Signal spec (TOML/JSON); causal nodes only."),
    ] = None,
    data_dir: DataDirOption = None,
    session: Annotated[
        str | None,
        typer.Option("--session", help="Session folder name under DATA_DIR/live/."),
    ] = None,
    predict_hz: Annotated[
        float | None,
        typer.Option("--predict-hz", min=0.1, help="Ticks per second (default: source fps)."),
    ] = None,
    replay_speed: Annotated[
        float,
        typer.Option("--replay-speed", min=0.0, help="File sources: 1 = real time, 0 = max speed."),
    ] = 1.0,
    duration: Annotated[
        float | None, typer.Option("--duration", min=0.0, help="Stop after this many seconds.")
    ] = None,
    record: Annotated[
        bool,
        typer.Option("--record/--no-record", help="Write poses, signals and events (JSONL)."),
    ] = True,
    record_video: Annotated[
        bool, typer.Option("--record-video", help="Also store the frames (video.mp4).")
    ] = False,
    threshold: Annotated[
        list[str] | None,
        typer.Option("--threshold", help="Event when SIGNAL>VALUE (or <) holds; repeatable."),
    ] = None,
    repetition: Annotated[
        list[str] | None,
        typer.Option(
            "--repetition", help="Event per SIGNAL:LOW:HIGH low-high-low cycle; repeatable."
        ),
    ] = None,
    stable_ticks: Annotated[
        int, typer.Option("--stable-ticks", min=1, help="Ticks a condition must hold (debounce).")
    ] = 3,
    plot: Annotated[
        list[str] | None,
        typer.Option("--plot", help="Signal shown on the monitor's /live page; repeatable."),
    ] = None,
    missing: Annotated[
        str,
        typer.Option("--missing", help="Missing detections in the graph: propagate or hold."),
    ] = "propagate",
    video: Annotated[
        str | None, typer.Option("--video", help="Video of a results file holding several.")
    ] = None,
    model: ModelOption = None,
) -> None:
    """Run the pose model and the signal graph live; record into DATA_DIR/live/SESSION/.

    Exit codes: 0 the source ended or --duration passed, 2 bad source, spec or
    option, 3 the model is loaded by another process (e.g. neuropose watch),
    4 model or resource missing, 130 stopped by SIGINT/SIGTERM (the recording
    is complete).
    """
    from neuropose.interrupts import GracefulStop
    from neuropose.live import LiveConfig, run_live

    settings = state(ctx).load(data_dir=data_dir).settings
    root = Path(settings.data_dir)
    root.mkdir(parents=True, exist_ok=True)
    cfg = LiveConfig(
        source=source,
        data_dir=root,
        spec=spec,
        session=session,
        predict_hz=predict_hz,
        replay_speed=replay_speed,
        duration_s=duration,
        record=record,
        record_video=record_video,
        model=model,
        video=video,
        thresholds=tuple(threshold or ()),
        repetitions=tuple(repetition or ()),
        n_stable_ticks=stable_ticks,
        plot=tuple(plot) if plot else None,
        missing=missing,
    )
    with GracefulStop(settings.shutdown_grace_seconds) as stop:
        result = run_live(cfg, settings, stop_event=stop.event)
    st = result.stats
    med, p95 = st.latency_ms()
    lines = [
        f"live session {result.session}: {st.frames_predicted} frames predicted, "
        f"{st.frames_dropped} dropped, {st.stale_ticks} stale ticks in {st.elapsed_s:.2f} s",
    ]
    if med is not None and p95 is not None:
        lines.append(f"latency capture->signal: median {med:.1f} ms, p95 {p95:.1f} ms")
    lines.append(f"events: {st.events}")
    lines += [f"wrote {p}" for p in result.files] or [f"status {result.folder / 'live.json'}"]
    if result.stopped and stop.signal_name is not None:
        raise LiveStopped(
            "\n".join([f"live session stopped by {stop.signal_name}; recording complete", *lines])
        )
    for line in lines:
        out_console.print(line, markup=False)
