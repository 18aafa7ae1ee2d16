"""Help text in the usual command-line conventions.

Typer 0.29 labels every parameter with its Python type (``<bool>`` on a
flag, ``<list[Path]>``, ``<str>``) and writes required arguments as
``{inputs}`` in the usage line. :class:`PlainHelpGroup` (the class of
:data:`neuropose.cli.app.app` and its sub-groups) relabels them the way
most tools do: flags carry no value label, values are ``PATH``,
``INTEGER``, ``TEXT``, ``FLOAT`` (or the parameter's own ``metavar``), and
the usage line reads ``neuropose process [OPTIONS] INPUTS...``.

The same parameter classes skip Typer's per-parameter pydantic
``TypeAdapter`` for a value that needs no conversion (an option not given,
an in-range default, a text argument): Typer builds one for every value it
processes, which imports pydantic and costs milliseconds each, also for
commands that never touch pydantic otherwise.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from typer._click.exceptions import MissingParameter
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


def needs_conversion(param: TyperOption | TyperArgument, value: Any) -> bool:
    """Whether Typer's conversion could change ``value`` or reject it.

    None (not given) becomes None or ``()`` whatever the type; a ``str``
    for a text parameter, and an ``int``/``float`` for a number parameter
    within its ``min``/``max``, come out of Typer's ``TypeAdapter``
    unchanged. Everything else (text from the command line for a number or
    a path, a custom parser, choices) goes through Typer.
    """
    if value is None:
        return False
    info = param.type_descriptor.parameter_info
    annotation = param.type_descriptor.annotation
    if info.parser is not None:
        return True
    if annotation is str:
        return type(value) is not str
    if annotation in (int, float) and type(value) is annotation:
        return not (
            (info.min is None or value >= info.min) and (info.max is None or value <= info.max)
        )
    return True


def _process_value(param: Any, ctx: Context, value: Any, typer_way: Any) -> Any:
    """Typer's ``process_value`` (``typer_way``) without the conversion that is the identity."""
    if needs_conversion(param, value):
        return typer_way(ctx, value)
    if value is None and (param.multiple or param.nargs == -1):
        value = ()
    if param.required and param.value_is_missing(value):
        raise MissingParameter(ctx=ctx, param=param)
    if param.callback is not None:
        value = param.callback(ctx, param, value)
    return value


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
