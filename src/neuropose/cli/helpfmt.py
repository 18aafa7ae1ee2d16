"""Help text in the usual command-line conventions.

Typer 0.29 labels every parameter with its Python type (``<bool>`` on a
flag, ``<list[Path]>``, ``<str>``) and writes required arguments as
``{inputs}`` in the usage line. :class:`PlainHelpGroup` (the class of
:data:`neuropose.cli.app.app` and its sub-groups) relabels them the way
most tools do: flags carry no value label, values are ``PATH``,
``INTEGER``, ``TEXT``, ``FLOAT`` (or the parameter's own ``metavar``), and
the usage line reads ``neuropose process [OPTIONS] INPUTS...``.

The same parameter classes convert the common values (an option not
given, an in-range default, text, paths) without Typer's per-parameter
pydantic ``TypeAdapter`` (:func:`light_conversion`), to the same result:
Typer builds one for every value it processes, which imports pydantic and
costs milliseconds each, also for commands that never touch pydantic.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from typer._click.exceptions import MissingParameter
from typer._param_types import coerce_cli_path
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

if TYPE_CHECKING:
    from typer._click import Context

__all__ = ["PlainHelpGroup", "plain_label"]

_WORDS = {"str": "TEXT", "int": "INTEGER", "float": "FLOAT", "path": "PATH", "bool": "BOOLEAN"}


def plain_label(typer_label: str) -> str:
    """Typer's ``<type>`` label in the conventional upper-case form.

    Lists (a repeatable option, or an argument taking several values) show
    their element type; choices keep their values.

    >>> plain_label("<list[Path]>"), plain_label("<int range>"), plain_label("<str>")
    ('PATH', 'INTEGER RANGE', 'TEXT')
    >>> plain_label("<human|json>")
    '[human|json]'
    """
    label = typer_label.removeprefix("<").removesuffix(">")
    while (inner := re.fullmatch(r"list\[(.*)\]", label)) is not None:
        label = inner.group(1)
    if "|" in label:
        return f"[{label}]"
    return " ".join(_WORDS.get(w.lower(), w.upper()) for w in label.split())


#: :func:`light_conversion`'s answer when only Typer's conversion will do.
USE_TYPER: Any = object()


def light_conversion(param: Any, ctx: Context, value: Any) -> Any:
    """``value`` converted exactly as Typer would, without pydantic, or :data:`USE_TYPER`.

    None (not given) becomes None, or ``()`` for a repeatable parameter; a
    ``str`` for a text parameter and an ``int``/``float`` for a number
    parameter within its ``min``/``max`` come out of Typer's ``TypeAdapter``
    unchanged; text for a ``Path`` (or ``list[Path]``) parameter goes through
    Typer's own path checks (``exists``, ``dir_okay``, ...) as a ``Path``,
    which is what its pydantic adapter would first make of it. Anything else
    (text for a number, a custom parser, choices) is left to Typer.
    """
    if value is None:
        return () if param.multiple or param.nargs == -1 else None
    info = param.type_descriptor.parameter_info
    annotation = param.type_descriptor.annotation
    if info.parser is not None:
        return USE_TYPER
    if annotation is str and type(value) is str:
        return value
    if annotation in (int, float) and type(value) is annotation:
        in_range = (info.min is None or value >= info.min) and (
            info.max is None or value <= info.max
        )
        return value if in_range else USE_TYPER
    if info.path_type is None and annotation is Path and type(value) is str:
        return _path(param, ctx, info, value)
    if (
        info.path_type is None
        and annotation == list[Path]
        and isinstance(value, list | tuple)
        and all(type(v) is str for v in value)
    ):
        return [_path(param, ctx, info, v) for v in value]
    return USE_TYPER


def _path(param: Any, ctx: Context, info: Any, value: str) -> Any:
    return coerce_cli_path(Path(value), info, path_type=Path, param=param, ctx=ctx)


def _process_value(param: Any, ctx: Context, value: Any, typer_way: Any) -> Any:
    """Typer's ``process_value`` (``typer_way``) with :func:`light_conversion` first."""
    converted = light_conversion(param, ctx, value)
    if converted is USE_TYPER:
        return typer_way(ctx, value)
    if param.required and param.value_is_missing(converted):
        raise MissingParameter(ctx=ctx, param=param)
    if param.callback is not None:
        converted = param.callback(ctx, param, converted)
    return converted


class _PlainOption(TyperOption):
    def process_value(self, ctx: Context, value: Any) -> Any:
        return _process_value(self, ctx, value, super().process_value)

    def display_type(self, ctx: Context) -> str:
        if self.is_flag or self.count:
            return ""
        if self.metavar is not None:
            return self.metavar
        return plain_label(super().display_type(ctx))

    def display_type_rich(self, ctx: Context) -> str | None:
        return self.display_type(ctx) or None


class _PlainArgument(TyperArgument):
    def process_value(self, ctx: Context, value: Any) -> Any:
        return _process_value(self, ctx, value, super().process_value)

    def display_type(self, ctx: Context) -> str:
        return plain_label(super().display_type(ctx))

    def _usage_display_name(self) -> str:
        name = self.metavar if self.metavar is not None else (self.name or "").upper()
        if not self.required:
            name = f"[{name}]"
        return name + ("..." if self.nargs != 1 else "")


def _relabel_params(params: list[Any]) -> None:
    for param in params:
        if type(param) is TyperOption:
            param.__class__ = _PlainOption
        elif type(param) is TyperArgument:
            param.__class__ = _PlainArgument


class _PlainCommand(TyperCommand):
    def get_help_option(self, ctx: Context) -> Any:
        option = super().get_help_option(ctx)  # built on first use
        _relabel_params([option])
        return option


class PlainHelpGroup(TyperGroup):
    """A Typer group whose own and whose commands' help uses plain labels."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        _relabel_params(self.params)
        for command in self.commands.values():
            _relabel_params(command.params)
            if type(command) is TyperCommand:
                command.__class__ = _PlainCommand

    def get_help_option(self, ctx: Context) -> Any:
        option = super().get_help_option(ctx)
        _relabel_params([option])
        return option
