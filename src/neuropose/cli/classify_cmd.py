"""``neuropose classify train|evaluate|predict``: movement classes of pose windows."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from neuropose.cli.app import app, err_console, out_console
from neuropose.cli.helpfmt import PlainHelpGroup
from neuropose.errors import NeuroPoseError, UsageError

if TYPE_CHECKING:
    from neuropose.classify.records import WindowCounts, WindowParams
    from neuropose.classify.run import FeatureFactory

__all__ = ["classify_app"]

classify_app = typer.Typer(
    cls=PlainHelpGroup,
    help="Classify movements in pose windows: train, evaluate (subject-grouped), predict.",
    no_args_is_help=True,
)
app.add_typer(classify_app, name="classify")

LabelsArg = Annotated[
    Path, typer.Argument(help="Labels table CSV: file,start_s,end_s,label,subject.")
]
RecipeOption = Annotated[
    str,
    typer.Option(
        "--model",
        help="logistic or centroid (NumPy), sklearn-logistic or sklearn-forest "
        "(neuropose[classify] extra).",
    ),
]
WinOption = Annotated[float, typer.Option("--win", help="Window length, seconds.")]
HopOption = Annotated[float, typer.Option("--hop", help="Step between windows, seconds.")]
MissingOption = Annotated[
    float,
    typer.Option("--max-missing", help="Largest fraction of frames without the subject (0-1)."),
]
SeedOption = Annotated[int, typer.Option("--seed", help="Random seed (folds, bootstrap, model).")]
SpecOption = Annotated[
    Path | None,
    typer.Option("--spec", help="Signal spec (TOML/JSON): its outputs' statistics as features."),
]
KeepGoingOption = Annotated[
    bool,
    typer.Option(
        "--keep-going", help="Record a failing file and continue (non-zero exit at the end)."
    ),
]


class ClassifyFailures(NeuroPoseError):
    """Some files failed under ``--keep-going``; exit code of the first failure."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _params(win: float, hop: float, max_missing: float) -> WindowParams:
    from pydantic import ValidationError

    from neuropose.classify.records import WindowParams

    try:
        return WindowParams(win_s=win, hop_s=hop, max_missing=max_missing)
    except ValidationError as exc:
        first = exc.errors()[0]
        flag = {"win_s": "--win", "hop_s": "--hop", "max_missing": "--max-missing"}
        raise UsageError(f"{flag[str(first['loc'][0])]}: {first['msg']}") from None


def _features(spec: Path | None) -> FeatureFactory | None:
    if spec is None:
        return None
    from neuropose.classify.signal_features import signal_features

    return signal_features(spec)


def _report_file(path: Path, exc: NeuroPoseError | None) -> None:
    if exc is None:
        out_console.print(f"ok      {path}", markup=False)
    else:
        err_console.print(f"failed  {path}: {exc}", markup=False)


def _print_counts(counts: WindowCounts) -> None:
    acc = ", ".join(f"{k} {v}" for k, v in counts.accepted.items()) or "none"
    rej = ", ".join(f"{k} {v}" for k, v in counts.rejected.items())
    out_console.print(f"windows {counts.total}: accepted {acc}; rejected {rej}", markup=False)


def _fail_if(failures: list[tuple[Path, NeuroPoseError]], total: int) -> None:
    if failures:
        raise ClassifyFailures(
            f"{len(failures)} of {total} files failed: " + ", ".join(str(p) for p, _ in failures),
            exit_code=failures[0][1].exit_code,
        )


@classify_app.command("train")
def train(
    labels: LabelsArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="Model file (.npz / .joblib).")],
    recipe: RecipeOption = "logistic",
    win: WinOption = 1.0,
    hop: HopOption = 0.5,
    max_missing: MissingOption = 0.2,
    seed: SeedOption = 0,
    spec: SpecOption = None,
    keep_going: KeepGoingOption = False,
) -> None:
    """Train a classifier on labelled windows; write it with its provenance sidecar."""
    from neuropose.classify.run import train_model
    from neuropose.classify.store import sidecar_path

    params = _params(win, hop, max_missing)
    prov, data = train_model(
        labels,
        output,
        recipe=recipe,
        params=params,
        seed=seed,
        features=_features(spec),
        keep_going=keep_going,
        on_file=_report_file,
    )
    _print_counts(prov.windows)
    out_console.print(
        f"model   {output} ({prov.recipe}, {len(prov.class_names)} classes: "
        f"{', '.join(prov.class_names)}; {len(prov.features.feature_names)} features)",
        markup=False,
    )
    out_console.print(f"sidecar {sidecar_path(output)}", markup=False)
    _fail_if(data.failures, len(data.inputs) + len(data.failures))


@classify_app.command("evaluate")
def evaluate(
    labels: LabelsArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="Report JSON.")],
    recipe: RecipeOption = "logistic",
    folds: Annotated[int, typer.Option("--folds", help="Subject-grouped folds (>= 2).")] = 5,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", min=0, help="Bootstrap resamples of subjects for CIs.")
    ] = 1000,
    win: WinOption = 1.0,
    hop: HopOption = 0.5,
    max_missing: MissingOption = 0.2,
    seed: SeedOption = 0,
    spec: SpecOption = None,
    keep_going: KeepGoingOption = False,
) -> None:
    """Subject-grouped k-fold evaluation: confusion matrix and clinical metrics with CIs."""
    from neuropose.classify.run import evaluate_labels

    report, data = evaluate_labels(
        labels,
        output,
        recipe=recipe,
        params=_params(win, hop, max_missing),
        seed=seed,
        folds=folds,
        bootstrap=bootstrap,
        features=_features(spec),
        keep_going=keep_going,
        on_file=_report_file,
    )
    _print_counts(report.windows)
    names = report.class_names
    out_console.print("confusion (rows true, columns predicted): " + ", ".join(names))
    for name, row in zip(names, report.confusion, strict=True):
        out_console.print(f"  {name:>16} " + " ".join(f"{v:6d}" for v in row), markup=False)

    def fmt(v: float | None, ci: tuple[float, float] | None = None) -> str:
        text = "n/a" if v is None else f"{v:.3f}"
        return text + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")

    out_console.print(
        f"accuracy {fmt(report.accuracy, report.overall_ci.get('accuracy'))}, "
        f"macro F1 {fmt(report.macro_f1, report.overall_ci.get('macro_f1'))}",
        markup=False,
    )
    for m in report.per_class:
        out_console.print(
            f"  {m.label}: sensitivity {fmt(m.sensitivity, m.ci.get('sensitivity'))}, "
            f"specificity {fmt(m.specificity, m.ci.get('specificity'))}, "
            f"PPV {fmt(m.ppv, m.ci.get('ppv'))}, NPV {fmt(m.npv, m.ci.get('npv'))}",
            markup=False,
        )
    for note in report.notes[1:]:
        out_console.print(f"note    {note}", markup=False)
    out_console.print(f"report  {output}", markup=False)
    _fail_if(data.failures, len(data.inputs) + len(data.failures))


@classify_app.command("predict")
def predict(
    model: Annotated[Path, typer.Argument(help="Model file written by `classify train`.")],
    results: Annotated[list[Path], typer.Argument(help="Results files to classify.")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Output folder (default: beside each results file)."),
    ] = None,
    spec: SpecOption = None,
    video: Annotated[
        str | None, typer.Option("--video", help="Video of results files holding several.")
    ] = None,
    allow_unverified: Annotated[
        bool,
        typer.Option(
            "--allow-unverified", help="Use a model that has no provenance sidecar (see docs)."
        ),
    ] = False,
    keep_going: KeepGoingOption = False,
) -> None:
    """Class of every window of each RESULTS file → <stem>.classes.csv, in input order."""
    from neuropose.classify.run import predict_file, write_predictions
    from neuropose.classify.store import load_classifier
    from neuropose.cli.inputs import RESULTS_EXPECTED, RESULTS_KINDS, require
    from neuropose.io import fit_name

    outputs = []
    for r in results:
        stem = r.name.removesuffix(".json").removesuffix(".results")
        outputs.append((output or r.parent) / fit_name(stem, ".classes.csv"))
    seen: dict[Path, Path] = {}
    for r, o in zip(results, outputs, strict=True):
        if o in seen:
            raise UsageError(
                f"{r} and {seen[o]} would both be written to {o}",
                hint="classify them into different folders (-o) or rename one",
            )
        seen[o] = r
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
    loaded = load_classifier(model, allow_unverified=allow_unverified)
    features = _features(spec)
    failures: list[tuple[Path, NeuroPoseError]] = []
    for r, o in zip(results, outputs, strict=True):
        try:
            require(r, "classify predict", RESULTS_KINDS, RESULTS_EXPECTED)
            pred = predict_file(loaded, r, features, video=video)
            write_predictions(o, pred)
        except NeuroPoseError as exc:
            if not keep_going:
                raise
            failures.append((r, exc))
            err_console.print(f"failed  {r}: {exc}", markup=False)
            continue
        acc = ", ".join(f"{k} {v}" for k, v in pred.counts.accepted.items()) or "none"
        rej = sum(pred.counts.rejected.values())
        out_console.print(
            f"ok      {r} -> {o} ({len(pred.spans)} windows: {acc}; {rej} rejected)",
            markup=False,
        )
    if failures:
        if len(results) == 1:
            raise failures[0][1]
        _fail_if(failures, len(results))


@classify_app.command("labels")
def labels_cmd(
    results: Annotated[
        list[Path], typer.Argument(help="Results files with a stored segmentation.")
    ],
    segmentation: Annotated[
        str,
        typer.Option("--segmentation", help="Name of the stored segmentation (segment --name)."),
    ],
    label: Annotated[str, typer.Option("--label", help="Class of every segment.")],
    subjects: Annotated[
        list[str], typer.Option("--subject", help="Subject id of each results file, in order.")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Labels table CSV to write.")],
    rest: Annotated[
        str | None, typer.Option("--rest", help="Class of the time outside the segments.")
    ] = None,
) -> None:
    """Write a labels table from stored segmentations (each segment labelled LABEL)."""
    from neuropose.classify.seglabels import labels_from_segmentations, write_labels

    rows = labels_from_segmentations(
        results, subjects, segmentation, label, rest=rest, relative_to=output.parent
    )
    write_labels(output, rows)
    out_console.print(f"labels  {output} ({len(rows)} rows)", markup=False)
