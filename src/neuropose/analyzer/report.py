"""Run a declarative analysis and write its JSON report and tidy CSV tables.

On-disk output
--------------
``REPORT.json`` (:class:`~neuropose.schemas.analysis.AnalysisReport`) and,
beside it, one CSV per table: ``REPORT.<table>.csv`` with tables
``angle_summary``, ``angles`` (long format: one row per input, frame and
angle), ``speed_summary``, ``segments``, ``segment_stats``, ``gait_events``, ``gait_cycles``,
``gait_summary`` and ``dtw``. Every file is written atomically through
:mod:`neuropose.io` (a crash leaves the previous version or nothing). Inputs
appear in the order given (globs sorted), whatever ``jobs`` is.

Monocular inputs carry a reliability verdict per named angle
(:mod:`neuropose.analyzer.reliability`): ``inputs[i].reliability``, the
``verdict`` / ``expected_error_deg`` / ``flagged_frames`` columns of
``angle_summary`` and the ``reliability_score`` / ``flags`` columns of
``angles``. Every input says what its angles' trust rests on
(``reliability_basis``: ``monocular`` or ``triangulated``, with
``reliability_note``; the ``basis`` and ``label`` columns of
``angle_summary``): an angle one view cannot see is labelled "not reliable
from one view"; triangulated inputs carry no monocular band. Poses the
estimator marked implausible are excluded before any processing and
counted (``implausible_frames``, ``excluded_implausible``).

Reproducibility
---------------
The report's provenance holds the config as loaded and the SHA-256 of its
bytes, the SHA-256 of every input file, every transform applied with its
parameters and results, the model and track of each input, and the
versions of NeuroPose, NumPy, SciPy and Python.
"""

from __future__ import annotations

import csv
import io
import logging
import platform
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from neuropose.analyzer.angles import (
    UpAxis,
    angle_3pt,
    compute_angle,
    estimate_up_axis,
    segment_angle,
)
from neuropose.analyzer.dtw import dtw, dtw_per_joint, dtw_relation
from neuropose.analyzer.filtering import (
    butterworth,
    interpolate_gaps,
    one_euro,
    savitzky_golay,
)
from neuropose.analyzer.gait import detect_gait_events, gait_cycles, gait_parameters
from neuropose.analyzer.ik_source import IK_ANGLE_NAMES, ik_angles, load_ik_motion
from neuropose.analyzer.kinematics import segment_stats, speed, summary_stats
from neuropose.analyzer.load import TRIANGULATED, Trial, load_results, load_trial
from neuropose.analyzer.reliability import (
    BAND_SOURCE,
    NOT_FROM_ONE_VIEW,
    Evidence,
    angle_reliability,
    evidence_from_predictions,
    supported,
)
from neuropose.analyzer.segment import compute_signal, derived_matrix, segment_repetitions
from neuropose.errors import NeuroPoseError, ProcessingError
from neuropose.io import sha256_file, write_bytes_atomic, write_model_atomic
from neuropose.schemas.analysis import AnalysisConfig, AnalysisReport, ComparisonSpec, FilterSpec
from neuropose.timefmt import utc_iso

__all__ = [
    "AnalysisOutcome",
    "analyze_trial",
    "preprocess",
    "run_analysis",
    "write_outputs",
]

log = logging.getLogger(__name__)

TABLES = (
    "angle_summary",
    "angles",
    "speed_summary",
    "segments",
    "segment_stats",
    "gait_events",
    "gait_cycles",
    "gait_summary",
    "dtw",
)


@dataclass
class AnalysisOutcome:
    """A finished analysis: the report and its tables (rows of dicts)."""

    report: AnalysisReport
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def failed(self) -> list[dict[str, Any]]:
        """Input entries whose status is ``failed``."""
        return [e for e in self.report.inputs if e.get("status") == "failed"]


def preprocess(trial: Trial, max_gap: int, filt: FilterSpec) -> tuple[Trial, list[dict[str, Any]]]:
    """Gap interpolation then smoothing of all joint positions; returns transform records."""
    poses, rec = interpolate_gaps(trial.poses, trial.timestamps, max_gap=max_gap)
    records = [rec]
    t = trial.timestamps
    if filt.kind == "butterworth":
        assert filt.cutoff_hz is not None
        poses, r = butterworth(poses, t, cutoff_hz=filt.cutoff_hz, order=filt.order)
        records.append(r)
    elif filt.kind == "savitzky_golay":
        assert filt.window_s is not None
        poses, r = savitzky_golay(poses, t, window_s=filt.window_s, polyorder=filt.polyorder)
        records.append(r)
    elif filt.kind == "one_euro":
        poses, r = one_euro(
            poses, t, min_cutoff_hz=filt.min_cutoff_hz, beta=filt.beta, d_cutoff_hz=filt.d_cutoff_hz
        )
        records.append(r)
    return replace(trial, poses=poses), records


def _num(v: Any) -> Any:
    if isinstance(v, float | np.floating):
        return None if not np.isfinite(v) else round(float(v), 6)
    return v


def _exclude(trial: Trial, evidence: Evidence | None) -> tuple[Trial, np.ndarray]:
    """``trial`` with implausible poses set to NaN (never averaged), and their mask (F,)."""
    bad = np.zeros(trial.num_frames, bool)
    if evidence is not None and evidence.plausible is not None:
        bad = ~evidence.plausible & trial.detected
    if not bad.any():
        return trial, bad
    poses = trial.poses.copy()
    poses[bad] = np.nan
    return replace(trial, poses=poses), bad


_BASIS_NOTES = {
    "monocular": f"one camera: each angle's verdict and band are the {BAND_SOURCE}; "
    f"'{NOT_FROM_ONE_VIEW}' marks an angle whose movement one view cannot see",
    "triangulated": "triangulated from calibrated views (world frame, mm): the monocular "
    "reliability verdicts and error bands do not apply; see the triangulation's "
    "reprojection errors and bone-length CV",
}


def _basis(trial: Trial, evidence: Evidence | None) -> str | None:
    """What the angles' trust rests on: ``monocular``, ``triangulated``, or None (arrays)."""
    if trial.video == TRIANGULATED:
        return "triangulated"
    return "monocular" if evidence is not None else None


def analyze_trial(
    trial: Trial,
    cfg: AnalysisConfig,
    label: str,
    evidence: Evidence | None = None,
    results: Path | None = None,
) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """Every per-trial analysis of ``cfg`` on one (raw) trial.

    With ``evidence`` (the monocular data of the same subject,
    :func:`~neuropose.analyzer.reliability.evidence_from_predictions`), poses
    flagged implausible are removed before any processing (counted, never
    interpolated into a statistic) and every named angle gets a reliability
    verdict, expected error band and per-frame flags
    (:mod:`neuropose.analyzer.reliability`), computed on the unfiltered angle.

    ``results`` (default ``trial.source``) locates the OpenSim folder of
    angles whose source is ``"opensim"``. Returns the report entry and table
    rows (each row starts with ``input``).
    """
    tables: dict[str, list[dict[str, Any]]] = {k: [] for k in TABLES}
    raw_trial = trial
    trial, implausible = _exclude(trial, evidence)
    tr, transforms = preprocess(trial, cfg.max_gap, cfg.filter)
    up: UpAxis | None = None
    needs_up = (
        "trunk_inclination" in cfg.angles
        or any(c.kind == "segment" and c.reference == "up" for c in cfg.custom_angles)
        or cfg.gait is not None
        or any(s.signal.axis == "up" and s.signal.kind == "joint_axis" for s in cfg.segmentations)
        or any(s.signal.angle == "trunk_inclination" for s in cfg.segmentations)
    )
    if needs_up:
        up = estimate_up_axis(tr, method=cfg.up_axis)
        transforms.append(
            {"step": "estimate_up_axis", "params": {"method": cfg.up_axis}, "result": up.record()}
        )
    t = tr.timestamps
    angles: dict[str, np.ndarray] = {}
    entry_angles: dict[str, Any] = {}
    sources = {n: cfg.source_of(n, IK_ANGLE_NAMES) for n in cfg.angles}
    from_ik = [n for n in cfg.angles if sources[n] == "opensim"]
    ik: dict[str, np.ndarray] = {}
    if from_ik:
        motion = load_ik_motion(results or Path(trial.source), trial.video)
        ik, ik_record = ik_angles(trial, motion, from_ik)
        transforms.append(ik_record)
    for name in cfg.angles:
        angles[name] = ik[name] if sources[name] == "opensim" else compute_angle(tr, name, up=up)
    for c in cfg.custom_angles:
        if c.kind == "three_point":
            angles[c.name] = angle_3pt(*(tr.joint(j) for j in c.joints))
        else:
            ref = (
                up.vector
                if c.reference == "up" and up is not None
                else np.eye(3)["xyz".index(c.reference)]
            )
            angles[c.name] = segment_angle(tr.joint(c.joints[0]), tr.joint(c.joints[1]), ref)
    reliability: dict[str, Any] = {}
    basis = _basis(trial, evidence)
    for name, a in angles.items():
        a[implausible] = np.nan  # gap filling must not bring an implausible frame back
        stats = summary_stats(a)
        source = sources.get(name, "keypoints")
        entry_angles[name] = {**stats, "source": source}
        rel = None
        if evidence is not None and supported(evidence.skeleton, name):
            rel = angle_reliability(evidence, name, compute_angle(raw_trial, name, up=up))
            reliability[name] = rel.summary()
        verdict: dict[str, Any] = {"basis": basis} if basis else {}
        if rel is not None:
            verdict.update(
                verdict=rel.verdict,
                label=rel.label,
                expected_error_deg=rel.expected_error_deg,
                flagged_frames=rel.flagged,
            )
        elif basis == "triangulated":
            verdict.update(label="triangulated: no monocular error band")
        tables["angle_summary"].append(
            {
                "input": label,
                "angle": name,
                "source": source,
                "unit": "deg",
                **stats,
                "excluded_implausible": int(implausible.sum()),
                **verdict,
            }
        )
        tables["angles"] += [
            {
                "input": label,
                "frame": int(f),
                "time_s": round(float(t[f]), 6),
                "angle": name,
                "value_deg": _num(a[f]),
                **(
                    {
                        "reliability_score": _num(float(rel.score[f])),
                        "flags": ";".join(rel.flags[f]),
                    }
                    if rel is not None
                    else {}
                ),
            }
            for f in range(tr.num_frames)
        ]
    entry_speeds: dict[str, Any] = {}
    for joint in cfg.speeds:
        stats = summary_stats(speed(tr.joint(joint), t))
        entry_speeds[joint] = stats
        tables["speed_summary"].append({"input": label, "joint": joint, "unit": "mm/s", **stats})
    segs_out: dict[str, Any] = {}
    for spec in cfg.segmentations:
        x, unit = compute_signal(tr, spec.signal, up=up)
        res = segment_repetitions(
            x,
            t,
            prominence=spec.prominence,
            min_distance_s=spec.min_distance_s,
            smoothing_hz=spec.smoothing_hz,
            polarity=spec.polarity,
        )
        per_seg = {name: segment_stats(a, res.segments) for name, a in angles.items()}
        segs_out[spec.name] = {
            "signal": {**spec.signal.model_dump(mode="json"), "unit": unit},
            "record": res.record,
            "segments": [s.model_dump(mode="json") for s in res.segments],
            "angle_stats": per_seg,
        }
        for k, s in enumerate(res.segments):
            tables["segments"].append(
                {
                    "input": label,
                    "segmentation": spec.name,
                    "segment": k,
                    "start_frame": s.start_frame,
                    "end_frame": s.end_frame,
                    "peak_frame": s.peak_frame,
                    "start_s": _num(s.start_s),
                    "end_s": _num(s.end_s),
                    "duration_s": _num(s.end_s - s.start_s),
                    "complete": s.complete,
                    "prominence": s.prominence,
                    "unit": unit,
                    "duration_ratio": s.duration_ratio,
                }
            )
        for name, rows in per_seg.items():
            for row in rows:
                tables["segment_stats"].append(
                    {"input": label, "segmentation": spec.name, "angle": name, **row}
                )
    gait_out = None
    if cfg.gait is not None:
        ev = detect_gait_events(
            tr,
            up=up,
            min_event_interval_s=cfg.gait.min_event_interval_s,
            prominence_fraction=cfg.gait.prominence_fraction,
            smoothing_hz=cfg.gait.smoothing_hz,
        )
        cycles = gait_cycles(ev, tr)
        params = gait_parameters(ev, tr)
        transforms.append(ev.record)
        gait_out = {"events": ev.table(), "cycles": cycles, "parameters": params}
        tables["gait_events"] += [{"input": label, **r} for r in ev.table()]
        tables["gait_cycles"] += [{"input": label, **r} for r in cycles]
        flat: dict[str, Any] = {
            "input": label,
            "cycles": params["cycles"],
            "cadence_steps_per_min": params["cadence_steps_per_min"],
        }
        for side, vals in params["per_side"].items():
            flat.update({f"{side}_{k}": v for k, v in vals.items()})
        flat.update({f"si_{k}": v for k, v in params["symmetry_index_pct"].items()})
        flat.update(
            {
                k: params[k]
                for k in ("stride_length_mm", "step_width_mm", "speed_mm_s", "treadmill")
            },
            spatial_status=params["spatial_status"],
        )
        tables["gait_summary"].append(flat)
    entry = {
        "trial": trial.describe(),
        "transforms": transforms,
        "angles": entry_angles,
        "implausible_frames": int(implausible.sum()),
        "reliability": reliability if evidence is not None else None,
        "reliability_basis": basis,
        "reliability_note": _BASIS_NOTES[basis] if basis else None,
        "speeds": entry_speeds,
        "segmentations": segs_out,
        "gait": gait_out,
    }
    return entry, tables


def _label(path: Path, base: Path) -> str:
    """How an input is named in the report: its path relative to the config's directory
    when it lies below it, otherwise its file name (absolute paths are never written:
    directory names may identify patients)."""
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.name


def _versions() -> dict[str, str]:
    import scipy

    from neuropose import __version__

    out = {
        "neuropose": __version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "python": platform.python_version(),
    }
    try:
        from importlib.metadata import version

        out["fastdtw"] = version("fastdtw")
    except Exception:  # pragma: no cover - metadata missing
        pass
    return out


def _compare(
    comp: ComparisonSpec, cfg: AnalysisConfig, base: Path
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    pa = Path(comp.a) if Path(comp.a).is_absolute() else base / comp.a
    pb = Path(comp.b) if Path(comp.b).is_absolute() else base / comp.b
    ta = load_trial(pa, video=comp.video_a, track_id=cfg.track_id)
    tb = load_trial(pb, video=comp.video_b, track_id=cfg.track_id)
    ta, rec_a = preprocess(ta, cfg.max_gap, cfg.filter)
    tb, rec_b = preprocess(tb, cfg.max_gap, cfg.filter)
    kw: dict[str, Any] = {
        "engine": comp.engine,
        "band": comp.band if comp.engine == "exact" else None,
        "radius": comp.radius,
        "nan_policy": comp.nan_policy,
    }
    results: dict[str, Any] = {}
    if comp.mode == "angles":
        xa = np.stack([compute_angle(ta, n) for n in comp.angles], axis=1)
        xb = np.stack([compute_angle(tb, n) for n in comp.angles], axis=1)
        results["all"] = dtw(xa, xb, **kw)
        unit = "deg"
    elif comp.mode == "signals":  # nodes of cfg.signals_spec (checked by load_config)
        xa, unit = derived_matrix(ta, str(cfg.signals_spec), comp.signals)
        xb, _ = derived_matrix(tb, str(cfg.signals_spec), comp.signals)
        results["all"] = dtw(xa, xb, **kw)
    else:
        names = list(comp.joints)
        for a, b in comp.pairs:
            names += [n for n in (a, b) if n not in names]
        xa = np.stack([ta.joint(n) for n in names], axis=1)
        xb = np.stack([tb.joint(n) for n in names], axis=1)
        unit = "mm"
        if comp.mode == "all":
            results["all"] = dtw(xa, xb, alignment=comp.alignment, scale=comp.scale, **kw)
        elif comp.mode == "per_joint":
            results = dict(
                dtw_per_joint(xa, xb, names, alignment=comp.alignment, scale=comp.scale, **kw)
            )
        else:
            pairs = [(names.index(a), names.index(b)) for a, b in comp.pairs]
            results["relation"] = dtw_relation(xa, xb, pairs, **kw)
    entry = {
        "name": comp.name,
        "a": {
            "file": pa.name,
            "sha256": sha256_file(pa),
            "trial": ta.describe(),
            "transforms": rec_a,
        },
        "b": {
            "file": pb.name,
            "sha256": sha256_file(pb),
            "trial": tb.describe(),
            "transforms": rec_b,
        },
        "spec": comp.model_dump(mode="json"),
        "unit": unit,
        "results": {k: {kk: _num(vv) for kk, vv in r.record().items()} for k, r in results.items()},
    }
    rows = [
        {
            "comparison": comp.name,
            "item": k,
            "engine": r.engine,
            "distance": _num(r.distance),
            "normalized_distance": _num(r.normalized_distance),
            "path_length": int(r.path.shape[0]),
            "unit": unit,
            "alignment": comp.alignment,
            "nan_policy": comp.nan_policy,
        }
        for k, r in results.items()
    ]
    return entry, rows


def run_analysis(
    cfg: AnalysisConfig,
    *,
    config_path: Path,
    inputs: list[Path],
    jobs: int = 1,
    keep_going: bool = False,
    progress: Callable[[Path, dict[str, Any]], None] | None = None,
) -> AnalysisOutcome:
    """Analyse every input (in order) and every comparison of ``cfg``.

    Parameters
    ----------
    cfg : AnalysisConfig
    config_path : Path
        The config file (hashed into the report; base of relative paths).
    inputs : list of Path
        Results files, already resolved.
    jobs : int
        Worker threads for inputs; output order is the input order.
    keep_going : bool
        Record a failing input (expected errors only) and continue instead
        of stopping at the first one.
    progress : callable, optional
        Called with (path, entry) after each input completes, in order.

    Raises
    ------
    NeuroPoseError
        The first failing input's error, unless ``keep_going``.
    """
    base = config_path.parent

    def one(path: Path) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
        label = _label(path, base)
        entry: dict[str, Any] = {"file": path.name, "input": label}
        try:
            entry["sha256"] = sha256_file(path)
            results = load_results(path)
            trial = load_trial(results, video=cfg.video, track_id=cfg.track_id)
            trial = replace(trial, source=path.name)
            evidence = None
            if trial.video != TRIANGULATED:
                vp = results.video(trial.video)
                evidence = evidence_from_predictions(vp, trial.track_id)
            body, tables = analyze_trial(trial, cfg, label, evidence, path)
        except NeuroPoseError as exc:
            if not keep_going:
                raise
            log.warning("analysis of %s failed: %s", path, exc)
            return {**entry, "status": "failed", "error": str(exc).replace(str(path), label)}, {}
        return {**entry, "status": "ok", **body}, tables

    entries: list[dict[str, Any]] = []
    tables: dict[str, list[dict[str, Any]]] = {k: [] for k in TABLES}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for path, (entry, tabs) in zip(inputs, pool.map(one, inputs), strict=True):
            entries.append(entry)
            for k, rows in tabs.items():
                tables[k] += rows
            if progress is not None:
                progress(path, entry)
    comparisons = []
    for comp in cfg.comparisons:
        try:
            centry, rows = _compare(comp, cfg, base)
        except NeuroPoseError as exc:
            if not keep_going:
                raise
            centry, rows = {"name": comp.name, "status": "failed", "error": str(exc)}, []
        comparisons.append(centry)
        tables["dtw"] += rows
    report = AnalysisReport(
        provenance={
            "config_file": config_path.name,
            "config_sha256": sha256_file(config_path),
            "config": cfg.model_dump(mode="json"),
            "created_at": utc_iso(),
            "versions": _versions(),
            "jobs": jobs,
            "keep_going": keep_going,
        },
        inputs=tuple(entries),
        comparisons=tuple(comparisons),
    )
    return AnalysisOutcome(report, tables)


def _csv_bytes(rows: list[dict[str, Any]]) -> bytes:
    cols: list[str] = []
    for r in rows:
        cols += [k for k in r if k not in cols]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if v is None else v) for k, v in r.items()})
    return buf.getvalue().encode("utf-8")


def write_outputs(outcome: AnalysisOutcome, report_path: Path) -> dict[str, Path]:
    """Write the CSV tables (non-empty ones) and then the report, atomically.

    Returns the table paths by name.
    """
    written: dict[str, Path] = {}
    stem = report_path.name.removesuffix(".json")
    for name, rows in outcome.tables.items():
        if not rows:
            continue
        p = report_path.with_name(f"{stem}.{name}.csv")
        write_bytes_atomic(p, _csv_bytes(rows))
        written[name] = p
    report = outcome.report.model_copy(update={"tables": {k: p.name for k, p in written.items()}})
    try:
        write_model_atomic(report_path, report)
    except ValueError as exc:  # NaN/inf would make invalid JSON: a bug, say so clearly
        raise ProcessingError(f"cannot write report {report_path}: {exc}") from exc
    outcome.report = report
    return written
