"""Exports that biomechanics tools open: OpenSim, C3D, NWB, CSV, pandas/xarray.

Typical use::

    from neuropose.export import load_tracks, export_track
    for track in load_tracks("out/job/results.json"):      # primary subject per video
        export_track(track, "out/job/export", "trc,mot,csv-long")
        df = track.to_dataframe()                          # pandas, needs neuropose[export]

Formats are writers behind a small protocol and registry
(:mod:`~neuropose.export.base`): ``csv-long``, ``csv-wide``
(:mod:`~neuropose.export.tables`), ``trc``, ``mot``
(:mod:`~neuropose.export.opensim_files`, markers and gap policy in
:mod:`~neuropose.export.markers`), ``c3d`` (:mod:`~neuropose.export.c3d`) and
``nwb`` (:mod:`~neuropose.export.nwb`, also what ``movement`` loads). Heavy
libraries are imported only inside their writer; a missing one raises
:class:`MissingExtraError` naming the extra to install.
"""

from neuropose.export import c3d, nwb, opensim_files, tables  # noqa: F401  (register writers)
from neuropose.export.base import (
    ExportOptions,
    MissingExtraError,
    Output,
    Writer,
    get_writer,
    register,
    writer_names,
)
from neuropose.export.markers import BLAZEPOSE_MARKERS, LongGapError, prepare_markers
from neuropose.export.record import ExportedFile, ExportRecord, OpenSimRecord
from neuropose.export.run import (
    ExportResult,
    export_job,
    export_track,
    export_tracks,
    parse_formats,
)
from neuropose.export.track import PoseTrack, load_tracks, track_from_predictions

__all__ = [
    "BLAZEPOSE_MARKERS",
    "ExportOptions",
    "ExportRecord",
    "ExportResult",
    "ExportedFile",
    "LongGapError",
    "MissingExtraError",
    "OpenSimRecord",
    "Output",
    "PoseTrack",
    "Writer",
    "export_job",
    "export_track",
    "export_tracks",
    "get_writer",
    "load_tracks",
    "parse_formats",
    "prepare_markers",
    "register",
    "track_from_predictions",
    "writer_names",
]
