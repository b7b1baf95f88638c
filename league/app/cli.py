"""The `league` command line: the group, its error handling, and the commands it holds.

Each command lives in a league/app/commands_*.py module and stays thin: it parses, calls one
library function and prints. Every error a user can cause ends in one sentence on stderr and
exit status 1.
"""

from __future__ import annotations

from typing import Sequence

import click

from games.errors import LeagueError
from league.app.commands_export import datasette_metadata_command, export_command, report_command
from league.app.commands_games import algos_command, check_game_command, games_command, play_command
from league.app.commands_results import leaderboard_command, matches_command, payoff_command, replay_command
from league.app.commands_tournament import tournament_command
from league.app.commands_train import config_command, train_command
from league.threads import limit_threads

__version__ = "0.1.0"


class LeagueGroup(click.Group):
    """Turns every error a user can cause into one line on stderr and exit status 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except LeagueError as error:
            raise click.ClickException(str(error)) from None
        except OSError as error:  # a read-only directory, a full disk, a path that is a file, ...
            where = f"{error.filename}: " if error.filename else ""
            raise click.ClickException(f"{where}{error.strerror or error}.") from None


@click.group(cls=LeagueGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="league")
def cli() -> None:
    """A self-play league and tournament system for multi-agent reinforcement learning.

    \b
    Example:
        league train                                   # a small connect-four league
        league train --config runs/examples/kuhn_poker.toml --run runs/kuhn
        league tournament --game connect_four --entrants random,mcts:25,mcts:100 --games 40
        league leaderboard --run runs/default
        league export --champion --out champion
    """


for command in (games_command, algos_command, check_game_command, train_command, config_command, tournament_command,
                leaderboard_command, matches_command, payoff_command, replay_command, export_command, report_command,
                datasette_metadata_command, play_command):
    cli.add_command(command)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    limit_threads()
    cli.main(args=list(argv) if argv is not None else None, prog_name="league")


if __name__ == "__main__":
    main()
