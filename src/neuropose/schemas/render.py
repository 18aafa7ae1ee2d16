"""The record of the daemon's render step (``out/<job>/visualize/render.json``).

Written by :mod:`neuropose.interfacer.renders` before a render starts
(``rendering``) and when it ends (``done`` or ``failed``); read by the
dashboard's job page and by the daemon's recovery (a record that is not
``done`` means the render is owed).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from neuropose.schemas.base import Document

__all__ = ["RenderRecord"]


class RenderRecord(Document):
    """State of one job's render step.

    Attributes
    ----------
    job_id : str
        The job.
    state : {"rendering", "done", "failed"}
        ``rendering`` while it runs (also what a crash leaves behind).
    started_at, finished_at : str
        ISO-8601 UTC times; ``finished_at`` is ``None`` while rendering.
    error : str or None
        Why the render failed (``failed`` only).
    files : tuple of str
        File names written into ``out/<job>/visualize/``.
    notes : tuple of str
        What was skipped and why (e.g. no original video: skeleton-only).
    neuropose_version : str
        Version that rendered.
    """

    job_id: str
    state: Literal["rendering", "done", "failed"]
    started_at: str
    finished_at: str | None = None
    error: str | None = None
    files: tuple[str, ...] = Field(default=())
    notes: tuple[str, ...] = Field(default=())
    neuropose_version: str
