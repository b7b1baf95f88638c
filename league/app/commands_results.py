"""Reading a run: `league leaderboard`, `league matches`, `league payoff`, `league replay`."""

from __future__ import annotations

import itertools
import json
from dataclasses import asdict

import click

from league.app.display import LEADERBOARD_TOP, print_leaderboard, print_table
from league.app.options import open_run, run_option
from league.app.replay import find_match, moves_text, replay
from league.app.setup import payoff_top, stored_spec
from league.rate.standings import standings
from league.rate.views import bradley_terry, nash_view
from league.store.database import StoreError
from league.tournament.records import write_game_records


@click.command("leaderboard")
@click.option("--by", "view", type=click.Choice(["trueskill", "bt", "nash"]), default="trueskill", show_default=True,
              help="trueskill: conservative TrueSkill; bt: Bradley-Terry Elo with bootstrap 95% intervals; "
                   "nash: Nash mixture and alpha-rank of the meta-game (for non-transitive games).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV for spreadsheets.")
@click.option("--top", type=click.IntRange(min=0), default=LEADERBOARD_TOP, show_default=True,
              help="Show the best K players by TrueSkill (0: all of them).")
@run_option
def leaderboard_command(view: str, as_json: bool, as_csv: bool, top: int, run_dir: str) -> None:
    """Show the run's players ranked by conservative TrueSkill score (mu - 3 sigma), or another view.

    \b
    Example:
        league leaderboard
        league leaderboard --run runs/ttt --json
        league leaderboard --top 0 --csv > everyone.csv
        league leaderboard --by bt
        league leaderboard --by nash --run runs/rps
    """
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    with open_run(run_dir) as store:
        if view == "trueskill":
            board = standings(store, spec=stored_spec(store), top=top or None)  # the best K, read for them alone
            rows = [s.as_dict() for s in board]
        else:
            results = [(m.sides, m.ranks) for m in store.iter_matches()]
            rows = [asdict(r) for r in (bradley_terry(results) if view == "bt" else nash_view(results))]
        if not rows:
            raise StoreError(f"the run at {run_dir} has no rated players yet; play a tournament or train first.")
        if as_json:
            click.echo(json.dumps(rows, indent=2))
        elif as_csv:
            import csv
            import io

            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            for row in rows:
                writer.writerow(row)
            click.echo(buffer.getvalue(), nl=False)
        elif view == "trueskill":
            print_leaderboard(store, board, top=top or None)
        elif view == "bt":
            print_table(None, ["rank", "name", "elo", "95% interval", "games"], [
                (r["rank"], r["name"], f"{r['elo']:+.0f}", f"[{r['lower']:+.0f}, {r['upper']:+.0f}]", r["games"])
                for r in rows], right=("rank", "elo", "games"))
        else:
            print_table(None, ["name", "nash", "alpha-rank", "games"], [
                (r["name"], f"{r['nash']:.3f}", f"{r['alpharank']:.3f}", r["games"]) for r in rows],
                right=("nash", "alpha-rank", "games"))


def _match_json(m, moves: str | None) -> dict:
    row = {"id": m.id, "origin": m.origin, "tournament": m.tournament_id, "game_index": m.game_index,
           "game": m.game, "seed": m.seed, "sides": list(m.sides), "returns": list(m.returns),
           "ranks": list(m.ranks), "length": m.length, "truncated": m.truncated, "forfeit": m.forfeit}
    if moves is not None:
        row["moves"] = moves
    return row


@click.command("matches")
@click.option("--player", default=None, help="Only games this player took part in.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10**9),
              help="Show the newest N games (one page).")
@click.option("--offset", default=0, show_default=True, type=click.IntRange(0, 10**12),
              help="Skip the newest N games first (the next page: --offset 20).")
@click.option("--since", default=None, type=click.IntRange(0, 10**12), metavar="MATCH_ID",
              help="Only games stored after match MATCH_ID.")
@click.option("--moves", is_flag=True, help="Add each game's moves (an opening, then |, then the entrants' moves).")
@click.option("--records", "records_out", default=None, type=click.Path(dir_okay=False), metavar="FILE",
              help="Write the listed games as plain-text game records to FILE (two-player board games).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@run_option
def matches_command(player: str | None, limit: int, offset: int, since: int | None, moves: bool,
                    records_out: str | None, as_json: bool, run_dir: str) -> None:
    """List the stored games, newest page first: sides, returns, ranks, length and seed.

    \b
    Example:
        league matches --player mcts:100 --limit 10
        league matches --limit 20 --offset 20
        league matches --moves --limit 5
        league matches --records games.txt --limit 100
        league matches --json
    """
    with open_run(run_dir) as store:
        if player is not None and store.player(player) is None:
            raise StoreError(f"no player {player!r} in {run_dir}")
        newest = store.iter_matches(player=player, limit=offset + limit, newest_first=True)  # read through an index
        page = itertools.islice(newest, offset, None)
        rows = list(reversed([m for m in itertools.takewhile(lambda m: since is None or m.id > since, page)]))
        if records_out is not None:
            game, _ = find_match(store, rows[0].id) if rows else (None, None)
            if game is None:
                raise StoreError(f"no games to write in {run_dir} with these filters")
            written = write_game_records(game, rows, records_out)
            click.echo(f"wrote {written} games to {records_out}")
            return
        shown = {}
        if moves and rows:
            game, _ = find_match(store, rows[0].id)
            shown = {m.id: moves_text(game, m) for m in rows}
        if as_json:
            click.echo(json.dumps([_match_json(m, shown.get(m.id) if moves else None) for m in rows], indent=2))
            return
        print_table(None, ["id", "origin", "sides", "returns", "ranks", "length", "seed", *(["moves"] if moves else [])], [
            (m.id, m.origin, " vs ".join(m.sides), " ".join(f"{r:+g}" for r in m.returns),
             " ".join(str(r) for r in m.ranks), m.length, m.seed, *([shown[m.id]] if moves else [])) for m in rows
        ], right=("id", "length"))


@click.command("payoff")
@click.option("--top", default=50, show_default=True, type=click.IntRange(2, 10_000),
              help="Only the leaderboard's first N players (rated ones first, then the rest by name).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@run_option
def payoff_command(top: int, as_json: bool, run_dir: str) -> None:
    """Show the payoff matrix: the row player's score against each column player (games).

    A score counts a win as 1 and a draw as 1/2.

    \b
    Example:
        league payoff --run runs/default
        league payoff --top 10 --json
    """
    with open_run(run_dir) as store:
        matrix, shown_of = payoff_top(store, top)
    if shown_of:
        click.echo(f"the top {len(matrix.names)} of {shown_of} players; --top shows more", err=True)
    if as_json:
        click.echo(json.dumps({"names": list(matrix.names), "score": _nan_to_none(matrix.score.tolist()),
                               "games": matrix.games.tolist()}, indent=2))
        return
    cells = []
    score = matrix.score  # computed once: the property builds the whole matrix
    for i, row_name in enumerate(matrix.names):
        row = [row_name]
        for j in range(len(matrix.names)):
            games_ij = int(matrix.games[i, j])
            row.append("-" if games_ij == 0 else f"{score[i, j]:.2f} ({games_ij})")
        cells.append(row)
    print_table(None, ["", *matrix.names], cells)


def _nan_to_none(rows: list[list[float]]) -> list[list[float | None]]:
    return [[None if x != x else round(x, 6) for x in row] for row in rows]


@click.command("replay")
@click.argument("match_id", type=click.IntRange(1, 2**63 - 1))
@run_option
def replay_command(match_id: int, run_dir: str) -> None:
    """Replay a stored game move by move: the board after every move for board games, else the moves.

    \b
    Example:
        league replay 12
        league replay 7 --run runs/ttt
    """
    with open_run(run_dir) as store:
        click.echo(replay(store, match_id))
