"""Options shared by the `league` commands: value ranges, --run, where games are played, and
the run lock's description of this invocation. No command lives here."""

from __future__ import annotations

import math
import shlex
import sys

import click

from league.app.setup import DEFAULT_RUN
from league.play.backends import BACKENDS
from league.store.database import Store

# Ranges of the numeric options: every value outside is refused before any work starts.
SEED = click.IntRange(0, 2**63 - 1)
GAME_COPIES = click.IntRange(1, 65_536)
WORKERS = click.IntRange(1, 4096)
STEPS = click.IntRange(1, 10**12)
GAMES = click.IntRange(1, 1_000_000)


class Seconds(click.ParamType):
    """A positive, finite number of seconds (nan, inf, 0 and negatives are refused)."""

    name = "seconds"

    def convert(self, value, param, ctx):
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not math.isfinite(number) or not 0 < number <= 86_400:
            self.fail(f"{value!r} must be a number of seconds above 0 and at most 86400", param, ctx)
        return number


def _run_dir(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """--run must name a directory: an empty name would silently mean the current one."""
    if value is None or not str(value).strip():
        raise click.BadParameter(f"give a run directory such as runs/default, not {value!r}", ctx, param)
    return value


def command_line() -> str:
    """This invocation, for the run lock to name its holder."""
    return shlex.join(["league", *sys.argv[1:]])[:300]


def backend_options(default: str | None = "local", help_backend: str | None = None):
    """--backend, --address, --workers, --working-dir: where the games are played."""
    def decorate(command):
        for option in reversed([
            click.option("--backend", type=click.Choice(BACKENDS), default=default, show_default=default is not None,
                         help=help_backend or "Play in this process, a local process pool, or on a Ray cluster."),
            click.option("--address", default=None, metavar="auto|HOST:PORT",
                         help="Ray: an existing cluster (default: start a local Ray instance)."),
            click.option("--workers", type=WORKERS, default=None,
                         help="Parallel workers (default: the cores or cluster CPUs)."),
            click.option("--working-dir", default=None, type=click.Path(exists=True, file_okay=False),
                         help="Ray: ship this directory to the workers (for nodes without league installed)."),
        ]):
            command = option(command)
        return command
    return decorate


run_option = click.option("--run", "run_dir", default=DEFAULT_RUN, show_default=True, type=click.Path(file_okay=False),
                          callback=_run_dir, help="The run directory (runs/<name>) holding league.db.")


def open_run(run_dir: str) -> Store:
    """An existing run; a missing one is a clear error."""
    return Store.open(run_dir)


def echo_notes(notes: list[str]) -> None:
    """Notes about how names were read (a learner played by its latest snapshot), on stderr."""
    for note in notes:
        click.echo(note, err=True)
