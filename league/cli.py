"""The `league` command line: each command parses, calls one library function and prints.

Every error a user can cause ends in one sentence on stderr and exit status 1.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Sequence

import click
from rich.console import Console
from rich.table import Table

import games
from agents.base import PolicyError
from games.base import GameError
from league.runner import RunnerError

__version__ = "0.1.0"

# errors a user can cause: reported as one sentence, exit status 1
USER_ERRORS: tuple[type[BaseException], ...] = (GameError, PolicyError, RunnerError)


def console() -> Console:
    """A console on stdout; when not a terminal: plain, and wide enough never to cut a cell."""
    plain = not sys.stdout.isatty()
    return Console(highlight=False, soft_wrap=False, width=200 if plain else None)


def print_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]], *,
                right: Sequence[str] = ()) -> None:
    table = Table(title=title, title_justify="left", header_style="bold", box=None, pad_edge=False)
    for column in columns:
        table.add_column(column, justify="right" if column in right else "left", no_wrap=True)
    for row in rows:
        table.add_row(*(str(x) for x in row))
    out = console()
    if out.is_terminal:
        out.print(table)
        return
    with out.capture() as captured:
        out.print(table)
    click.echo("\n".join(line.rstrip() for line in captured.get().splitlines()))


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="league")
def cli() -> None:
    """A self-play league and tournament system for multi-agent reinforcement learning.

    \b
    Example:
        league games
        league tournament --game connect_four --entrants random,mcts:25,mcts:100 --games 40
        league leaderboard --run runs/default
    """


@cli.command("games")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of a table.")
def games_command(as_json: bool) -> None:
    """List the games that can be played and trained, with kind, backend and sides.

    \b
    Example:
        league games
        league games --json
    """
    rows = []
    for entry in games.entries():
        spec = games.load(entry.name).spec
        rows.append({
            "name": spec.name,
            "kind": spec.kind,
            "backend": spec.backend,
            "turn_based": spec.turn_based,
            "sides": [{"name": s.name, "role": s.role, "seats": list(s.seats)} for s in spec.sides],
            "options": entry.options,
            "description": entry.summary,
        })
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    print_table(None, ["game", "kind", "backend", "moves", "sides (seats)"], [
        (r["name"], r["kind"], r["backend"], "turns" if r["turn_based"] else "simultaneous",
         " vs ".join(f"{s['name']} ({len(s['seats'])})" for s in r["sides"]))
        for r in rows
    ])


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point: user errors become one line and exit status 1."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="league", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except USER_ERRORS as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
