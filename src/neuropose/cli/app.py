"""The typer application, global options and the single error handler."""

from __future__ import annotations

import contextlib
import copy
import errno
import logging
import os
import signal
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from neuropose.cli.helpfmt import PlainHelpGroup
from neuropose.errors import (
    ConfigError,
    InputError,
    Interrupted,
    NeuroPoseError,
    ProcessingError,
    ResourceError,
)
from neuropose.interrupts import handle_signals
from neuropose.logs import configure_logging, native_stderr, printable

if TYPE_CHECKING:
    from neuropose.config import LoadedSettings

__all__ = ["CliState", "app", "err_console", "main", "out_console", "state"]

app = typer.Typer(
    name="neuropose",
    cls=PlainHelpGroup,
    help="Trustworthy 3D poses and kinematics from clinical movement videos.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

out_console = Console(highlight=False, soft_wrap=True, emoji=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


@dataclass
class CliState:
    """Global options shared by every command."""

    config_file: Path | None = None
    verbose: int = 0
    quiet: bool = False
    log_format: str | None = None
    _cache: dict[tuple[tuple[str, Any], ...], LoadedSettings] = field(default_factory=dict)

    def load(self, **flags: Any) -> LoadedSettings:
        """Settings with this command's ``flags`` as the highest-precedence layer."""
        from neuropose.config import load_settings  # pydantic-settings: only when settings load

        if self.log_format is not None:
            flags.setdefault("log_format", self.log_format)
        key = tuple(sorted((k, v) for k, v in flags.items() if v is not None))
        try:
            hash(key)
        except TypeError:  # unhashable flag values (lists): no caching
            return load_settings(self.config_file, flags)
        if key not in self._cache:
            self._cache[key] = load_settings(self.config_file, flags)
        return self._cache[key]


def state(ctx: typer.Context) -> CliState:
    """The :class:`CliState` of the running command."""
    obj = ctx.find_root().obj
    if not isinstance(obj, CliState):  # pragma: no cover - only when called outside main
        obj = CliState()
        ctx.find_root().obj = obj
    return obj


def _version(value: bool) -> None:
    if value:
        from neuropose import __version__

        out_console.print(f"neuropose {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="TOML settings file (no implicit discovery)."),
    ] = None,
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More logs; -v shows tracebacks.")
    ] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and errors.")] = False,
    log_format: Annotated[
        str | None,
        typer.Option("--log-format", help="Log format: human or json.", show_default=False),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    st = CliState(config_file=config, verbose=verbose, quiet=quiet, log_format=log_format)
    ctx.obj = st
    level = logging.DEBUG if verbose >= 2 else logging.WARNING if quiet else logging.INFO
    fmt = log_format
    if fmt is None:
        fmt = _log_format_setting(st)
    elif fmt not in _LOG_FORMATS:
        st.load()  # raises ConfigError naming the bad value
    configure_logging(level, fmt)


_LOG_FORMATS = ("human", "json")


def _log_format_setting(st: CliState) -> str:
    """The ``log_format`` setting, or ``human`` when the settings are invalid.

    A bad setting must not hide ``--help``: the command itself loads the
    settings and reports the ConfigError (exit 2) when it runs. Without a
    ``--config`` file the setting is the environment's or the default, read
    without building the settings (so ``process --help`` and commands that
    need no settings import no pydantic); with one, the settings are loaded
    (and cached for the command).
    """
    if st.config_file is None:
        value = os.environ.get("NEUROPOSE_LOG_FORMAT", "human")  # config.ENV_PREFIX + key
        return value if value in _LOG_FORMATS else "human"
    try:
        return st.load().settings.log_format
    except ConfigError:
        return "human"


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return the process exit code (errors handled here, once).

    Called as the program (``argv`` None), it also routes what native
    libraries write to file descriptor 2 into the log at debug level
    (:class:`neuropose.logs.NativeStderr`), so their noise never reaches the
    terminal at default verbosity; ``-vv`` shows it. SIGTERM then stops a
    command the way Ctrl-C does (``stopped by SIGTERM``, exit 130), unless
    the command handles it itself (the daemon checkpoints, ingest rolls
    back); a stop on request is never reported as ``error:``.
    """
    routed = argv is None and native_stderr.start()
    on_sigterm = (
        handle_signals(_sigterm, (signal.SIGTERM,)) if argv is None else contextlib.nullcontext()
    )
    try:
        with on_sigterm:
            return _run(list(sys.argv[1:] if argv is None else argv))
    finally:
        if routed:
            native_stderr.stop()


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl-C's KeyboardInterrupt."""


_SIGTERM_RECEIVED: list[bool] = []


def _sigterm(signum: int, frame: Any) -> None:
    _SIGTERM_RECEIVED.append(True)
    raise _Terminated


#: Global options that take a value (the next argument), and the flags.
_GLOBAL_VALUE_OPTIONS = ("-c", "--config", "--log-format")
_GLOBAL_FLAGS = ("--verbose", "--quiet")


def command_name(args: list[str]) -> str | None:
    """The subcommand ``args`` run, or None when that is not certain.

    Only the global options of :func:`_root` may precede the subcommand;
    anything else before it (``--help``, ``--version``, an unknown option,
    ``--``) gives None, and so does a command line without a subcommand.

    >>> command_name(["-q", "-c", "lab.toml", "process", "a.mp4", "-o", "b"])
    'process'
    >>> command_name(["-vv", "--log-format=json", "status"]), command_name(["--help", "status"])
    ('status', None)
    >>> command_name(["--config", "status", "models"]), command_name(["-v"])
    ('models', None)
    """
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in _GLOBAL_VALUE_OPTIONS:
            i += 2
        elif (
            arg in _GLOBAL_FLAGS
            or arg.startswith(("--config=", "--log-format="))
            or (len(arg) > 1 and arg[0] == "-" and set(arg[1:]) <= {"v", "q"})
        ):
            i += 1
        else:
            return None if arg.startswith("-") else arg
    return None


def narrowed_app(name: str | None) -> typer.Typer:
    """:data:`app` with only the command (or group) ``name`` registered.

    Typer builds the parser of every registered command on each run
    (signatures, annotations, parameter objects) although one runs; for a
    known ``name`` only that one is built, with the same root options and
    callback, so its behaviour and help are unchanged. Any other ``name``
    (None, a typo) gives :data:`app` itself, whose errors list every command.
    """
    if name is None:
        return app
    commands = [
        c
        for c in app.registered_commands
        if c.name == name
        or (
            c.name is None
            and c.callback is not None
            and c.callback.__name__.lower().replace("_", "-") == name
        )
    ]
    groups = [g for g in app.registered_groups if g.name == name]
    if len(commands) + len(groups) != 1:
        return app
    narrowed = copy.copy(app)
    narrowed.registered_commands = commands
    narrowed.registered_groups = groups
    return narrowed


def _run(args: list[str]) -> int:
    verbose = any(a == "--verbose" or (a.startswith("-v") and set(a[1:]) == {"v"}) for a in args)
    try:
        narrowed_app(command_name(args))(args=args, prog_name="neuropose")
    except SystemExit as exc:
        code = exc.code
        if code == 130 and _SIGTERM_RECEIVED:  # typer turns KeyboardInterrupt into Exit(130)
            _report_sigterm()
        return code if isinstance(code, int) else (0 if code is None else 1)
    except Interrupted as exc:  # stopped on request after checkpointing: not an error
        err_console.print(printable(exc, keep_newlines=True), markup=False)
        return exc.exit_code
    except NeuroPoseError as exc:
        if verbose:
            err_console.print(traceback.format_exc(), markup=False)
        err_console.print(f"error: {printable(exc, keep_newlines=True)}", markup=False)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        if isinstance(exc, _Terminated):
            _report_sigterm()
        return 130
    except OSError as exc:
        # Environmental failures a command did not translate (permissions, a
        # missing directory, a full disk): one line, no traceback unless -v.
        if verbose:
            err_console.print(traceback.format_exc(), markup=False)
        err_console.print(f"error: {printable(_describe_os_error(exc))}", markup=False)
        return _os_error_exit_code(exc)
    return 0


def _report_sigterm() -> None:
    err_console.print(
        "stopped by SIGTERM; outputs already reported as written are complete, "
        "nothing partial was left",
        markup=False,
    )


def _describe_os_error(exc: OSError) -> str:
    what = exc.strerror or str(exc)
    names = [str(n) for n in (exc.filename, exc.filename2) if n is not None]
    return f"{what}: {' -> '.join(names)}" if names else what


def _os_error_exit_code(exc: OSError) -> int:
    """2 for a path problem the user can fix, 4 for a full disk, 1 otherwise."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return ResourceError.exit_code
    path_errors = (
        FileNotFoundError,
        FileExistsError,
        PermissionError,
        IsADirectoryError,
        NotADirectoryError,
    )
    return InputError.exit_code if isinstance(exc, path_errors) else ProcessingError.exit_code
