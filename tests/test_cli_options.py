"""Every option of every `misinfo-risk` subcommand explains itself in --help."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest


def parsers() -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """The top-level parser's subcommands and the parsers of the subcommands that delegate (train, serve, batch)."""
    from misinfo_risk.batch.cli import build_parser as batch_parser
    from misinfo_risk.cli import build_parser
    from misinfo_risk.service.__main__ import build_parser as serve_parser
    from misinfo_risk.training.__main__ import build_parser as train_parser

    top = build_parser()
    yield "misinfo-risk", top
    for action in top._actions:  # argparse keeps subparsers only here
        if isinstance(action, argparse._SubParsersAction):
            yield from ((f"misinfo-risk {name}", sub) for name, sub in action.choices.items())
    yield "misinfo-risk train", train_parser()
    yield "misinfo-risk serve", serve_parser()
    yield "misinfo-risk batch", batch_parser()


def options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if not isinstance(a, argparse._SubParsersAction | argparse._HelpAction)]


@pytest.mark.parametrize(("name", "parser"), list(parsers()), ids=lambda x: x if isinstance(x, str) else "")
def test_every_option_has_help_text(name: str, parser: argparse.ArgumentParser) -> None:
    missing = [a.option_strings or [a.dest] for a in options(parser) if not (a.help and a.help.strip())]
    assert missing == [], f"{name}: options without help text: {missing}"


def test_the_walk_reaches_every_subcommand() -> None:
    names = {name for name, _ in parsers()}
    assert {
        "misinfo-risk score",
        "misinfo-risk evaluate",
        "misinfo-risk train",
        "misinfo-risk serve",
        "misinfo-risk batch",
    } <= names
    assert sum(len(options(p)) for _, p in parsers()) > 40
