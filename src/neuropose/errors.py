"""The NeuroPose exception hierarchy and the exit code of each class.

Every expected failure raises a subclass of :class:`NeuroPoseError`. Each
class carries the process exit code the CLI uses for it, so the mapping lives
in exactly one place and the CLI handles errors once, at its entry point
(the pattern of BorgBackup's ``helpers/errors.py``).

Exit codes
----------
=====  =====================================================================
code   meaning
=====  =====================================================================
0      success
1      a job or processing failure (:class:`ProcessingError`)
2      usage, configuration or input error (:class:`UsageError`,
       :class:`ConfigError`, :class:`InputError`)
3      already running / resource busy (:class:`BusyError`)
4      a required resource is missing or unavailable (:class:`ResourceError`:
       model not cached, offline, disk full)
130    interrupted by a signal; work was checkpointed (:class:`Interrupted`)
=====  =====================================================================

Modules define their own subclasses of these categories (for example
``neuropose.models.ModelNotCachedError(ResourceError)``); a subclass never
changes the exit code of its category unless it documents why.
"""

from __future__ import annotations

__all__ = [
    "BusyError",
    "ConfigError",
    "FutureSchemaError",
    "InputError",
    "Interrupted",
    "InvalidDocumentError",
    "NeuroPoseError",
    "ProcessingError",
    "ResourceError",
    "UsageError",
]


class NeuroPoseError(Exception):
    """Base class of every expected NeuroPose failure.

    Attributes
    ----------
    exit_code : int
        The process exit code the CLI returns for this error.
    hint : str or None
        One sentence saying what would fix the problem, shown after the
        message.
    """

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


class ProcessingError(NeuroPoseError):
    """A job, video or model failed while processing (exit code 1)."""

    exit_code = 1


class UsageError(NeuroPoseError):
    """The command line was used wrongly (exit code 2)."""

    exit_code = 2


class ConfigError(NeuroPoseError):
    """A configuration value or key is invalid (exit code 2)."""

    exit_code = 2


class InputError(NeuroPoseError):
    """An input file or value is invalid (exit code 2)."""

    exit_code = 2


class InvalidDocumentError(InputError):
    """A persisted JSON/TOML document does not parse or fails validation.

    The message names the file and the first invalid field.
    """


class FutureSchemaError(InputError):
    """A document was written by a newer NeuroPose than this one."""


class BusyError(NeuroPoseError):
    """Another process holds a resource this one needs (exit code 3)."""

    exit_code = 3


class ResourceError(NeuroPoseError):
    """A required resource is missing or unavailable (exit code 4)."""

    exit_code = 4


class Interrupted(NeuroPoseError):
    """Work was stopped by a signal after checkpointing (exit code 130)."""

    exit_code = 130
