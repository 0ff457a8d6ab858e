"""What every command shares: settings, the database, and clean errors."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer

from replenish.settings import Settings, SettingsError, load_settings


def fail(message: str, *, code: int = 2) -> NoReturn:
    """Print a clear error (never a traceback) and exit non-zero."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        fail(str(error))


@contextmanager
def friendly_errors(*options: str) -> Iterator[None]:
    """Turn ValueError (our validation errors) into a message and exit code 2.

    Field names in the message that are also ``options`` (``diameter_cm``) are shown
    as the command line spells them (``--diameter-cm``).
    """
    try:
        yield
    except ValueError as error:
        message = str(error)
        for name in options:
            message = re.sub(rf"\b{name}\b", "--" + name.replace("_", "-"), message)
        fail(message)


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")
