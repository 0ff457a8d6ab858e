"""Every command explains itself: help text and at least one example."""

import typer.main

from replenish.cli import app


def walk(command, path=()):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from walk(sub, (*path, name))


def test_every_command_has_help_text_with_an_example():
    root = typer.main.get_command(app)
    missing = []
    for path, command in walk(root):
        if not path:
            continue
        text = command.help or ""
        is_group = bool(getattr(command, "commands", None))
        if not text.strip() or (not is_group and "replenish " not in text):
            missing.append(" ".join(path))
    assert not missing, f"commands without help or an example: {missing}"


def test_every_option_has_help_text():
    root = typer.main.get_command(app)
    bare = [
        f"{' '.join(path)} {param.opts[0]}"
        for path, command in walk(root)
        for param in command.params
        if getattr(param, "help", None) in (None, "") and param.param_type_name == "option"
    ]
    assert not bare, f"options without help: {bare}"
