"""Provenance of a derived-signals file (``neuropose signals compute``)."""

from __future__ import annotations

from typing import Any

from neuropose.schemas.base import FrozenModel

__all__ = ["SignalsProvenance"]


class SignalsProvenance(FrozenModel):
    """Where a signals file came from (:mod:`neuropose.signals.output` writes it).

    Attributes
    ----------
    spec, spec_sha256, spec_file : dict, str, str
        The validated spec (JSON form), its SHA-256 and its file name.
    results_file, results_sha256 : str
        The results file the poses came from and its SHA-256.
    video, track_id, skeleton : str, int or None, str
        Which subject of which video, and the skeleton of its poses.
    missing, max_gap : str, int or None
        Missing-detection policy and, for ``interpolate``, the longest gap
        filled (frames; None = every interior gap).
    non_causal : list of str
        Nodes needing future frames (plus ``missing=interpolate`` when used).
    units : dict of str to str
        Node name -> unit of its values.
    neuropose_version : str
    """

    spec: dict[str, Any]
    spec_sha256: str
    spec_file: str
    results_file: str
    results_sha256: str
    video: str
    track_id: int | None
    skeleton: str
    missing: str
    max_gap: int | None = None
    non_causal: list[str]
    units: dict[str, str]
    neuropose_version: str
