"""The `league` command line: each command parses, calls one library function and prints.

Every error a user can cause ends in one sentence on stderr and exit status 1.
"""

from __future__ import annotations

import json
import math
import shlex
import sys
from dataclasses import asdict
from typing import Sequence

import click

import games
from games.base import GameError
from games.errors import LeagueError
from league.app.display import (
    TrainDisplay,
    play_with_progress,
    print_leaderboard,
    print_pairings,
    print_table,
)
from league.app.export import export_player
from league.app.human import play_game
from league.app.report import write_report
from league.app.setup import (
    payoff_top,
    print_rows,
    print_standings,
    stored_spec,
    DEFAULT_ENTRANTS,
    DEFAULT_RUN,
    DEFAULT_TRAIN,
    as_mapping,
    bots_for,
    entrant_names,
    parse_anchors,
    rater_of,
    read_toml,
    run_name,
    train_until_done_or_interrupted,
    validate_training,
)
from league.play.backends import BACKENDS, make_backend
from league.play.entrants import resolve
from league.rate.standings import standings
from league.rate.views import bradley_terry, nash_view
from league.store.database import Store, StoreError, run_exists
from league.store.exports import verify_export_dir
from league.store.files import check_export_out, check_report_out
from league.store.lock import RunLock
from league.store.trust import load_stored_game, load_user_game
from league.threads import limit_threads
from league.tournament.formats import FORMATS, TournamentConfig
from league.tournament.formats import check as check_tournament
from league.train.config import ConfigError, TrainConfig, load_config
from league.train.loop import Trainer

__version__ = "0.1.0"


# errors a user can cause: reported as one sentence, exit status 1


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


@click.group(cls=LeagueGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="league")
def cli() -> None:
    """A self-play league and tournament system for multi-agent reinforcement learning.

    \b
    Example:
        league train                                   # a small connect-four league, ~2 minutes
        league train --config runs/examples/kuhn_poker.toml --run runs/kuhn
        league tournament --game connect_four --entrants random,mcts:25,mcts:100 --games 40
        league leaderboard --run runs/default
        league export --champion --out champion
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
        try:
            spec = games.load(entry.name).spec
        except GameError as error:  # e.g. a backend that is not installed: list the rest
            click.echo(f"{entry.name}: unavailable ({error})", err=True)
            continue
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


@cli.command("algos")
@click.option("--game", default=None, help="Also say which roles of this game each algorithm can learn.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def algos_command(game: str | None, as_json: bool) -> None:
    """List the learning algorithms, and with --game which of its roles each can learn.

    \b
    Example:
        league algos
        league algos --game simple_tag
    """
    from agents.registry import SUMMARIES, algorithm, algorithm_names

    spec = load_user_game(game).spec if game is not None else None
    rows = []
    for name in algorithm_names():
        row = {"name": name, "summary": SUMMARIES.get(name, "")}
        if spec is not None:
            cls = algorithm(name)
            row["roles"] = {role: cls.unsupported(spec, role) or "yes" for role in spec.roles}
        rows.append(row)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if spec is None:
        print_table(None, ["algorithm", "what it is"], [(r["name"], r["summary"]) for r in rows])
    else:
        print_table(None, ["algorithm", *(f"role {role}" for role in spec.roles)],
                    [(r["name"], *(("yes" if v == "yes" else "no") for v in r["roles"].values())) for r in rows])


def backend_options(command):
    """--backend, --address, --workers, --working-dir: where the games are played."""
    for option in reversed([
        click.option("--backend", type=click.Choice(BACKENDS), default="local", show_default=True,
                     help="Play in this process, a local process pool, or on a Ray cluster."),
        click.option("--address", default=None, metavar="auto|HOST:PORT",
                     help="Ray: an existing cluster (default: start a local Ray instance)."),
        click.option("--workers", type=WORKERS, default=None,
                     help="Parallel workers (default: the cores or cluster CPUs)."),
        click.option("--working-dir", default=None, type=click.Path(exists=True, file_okay=False),
                     help="Ray: ship this directory to the workers (for nodes without league installed)."),
    ]):
        command = option(command)
    return command


run_option = click.option("--run", "run_dir", default=DEFAULT_RUN, show_default=True, type=click.Path(file_okay=False),
                          callback=_run_dir, help="The run directory (runs/<name>) holding league.db.")


def open_run(run_dir: str) -> Store:
    """An existing run; a missing one is a clear error."""
    return Store.open(run_dir)


@cli.command("tournament")
@click.option("--game", default=None, help="Game to play (default: the run's game, else connect_four).")
@click.option("--entrants", default=None,
              help=f"Comma-separated entrants: baselines (random, mcts:N, scripted, action:K) or players of the run "
                   f"[default: the run's snapshots, else {DEFAULT_ENTRANTS}].")
@click.option("--games", "n_games", default=40, show_default=True, type=GAMES,
              help="Games per pairing (even: sides alternate); with --sprt, the most a pairing may play.")
@click.option("--seed", default=0, show_default=True, type=SEED, help="Seed of the schedule.")
@click.option("--format", "fmt", default="round-robin", show_default=True, type=click.Choice(FORMATS), help="Tournament format.")
@click.option("--challengers", default=None, help="Gauntlet: comma-separated entrants that play the field.")
@click.option("--rounds", default=0, type=click.IntRange(0, 1000), help="Swiss: rounds to play [default: ceil(log2 n) + 2].")
@click.option("--sprt", default=None, metavar="elo0=0,elo1=10,alpha=0.05,beta=0.05",
              help="Stop each pairing as soon as a pentanomial GSPRT decides (round-robin and gauntlet).")
@click.option("--top", default=None, type=click.IntRange(1, 100_000),
              help="Only the leaderboard's top K snapshots of the run as entrants.")
@click.option("--include", "include", type=click.Choice(["baselines"]), default=None,
              help="With --top: add the run's baselines to the field.")
@click.option("--move-timeout", type=Seconds(), default=None, metavar="SECONDS",
              help="An entrant slower than this per move loses the game by forfeit.")
@click.option("--stop-on-error", is_flag=True,
              help="Stop at the first crash, illegal move or timeout instead of forfeiting that game.")
@click.option("--batch", default=128, show_default=True, type=GAME_COPIES, help="Games played in lockstep.")
@click.option("--anchor", "anchors", multiple=True, metavar="NAME=MU",
              help="Pin a player's rating (e.g. random=0) when the run is created; repeatable.")
@backend_options
@run_option
def tournament_command(game: str | None, entrants: str | None, n_games: int, seed: int, fmt: str,
                       challengers: str | None, rounds: int, sprt: str | None, top: int | None, include: str | None,
                       move_timeout: float | None, stop_on_error: bool, batch: int, anchors: tuple[str, ...],
                       backend: str, address: str | None, workers: int | None, working_dir: str | None,
                       run_dir: str) -> None:
    """Rank entrants by playing them against each other; results are stored as they finish.

    Pairings play paired games (shared seed, sides swapped). Running the same command again
    resumes a stopped tournament without replaying or double-counting a game. Prints each
    pairing's score with an Elo difference and 95% interval (or its SPRT verdict), then the
    leaderboard.

    \b
    Example:
        league tournament
        league tournament --game tic_tac_toe --entrants random,mcts:10,mcts:50 --games 20 --run runs/ttt
        league tournament --format gauntlet --entrants mcts:200,random,mcts:25 --challengers mcts:200 --games 400 --sprt elo0=0,elo1=10
        league tournament --format swiss --top 32 --include baselines --run runs/c4
        league tournament --backend ray --address auto --run runs/c4
    """
    # Everything is checked before a new run is created, so a bad command leaves no trace; one
    # writer at a time holds the run's lock (an existing run: before anything is read).
    lock = RunLock(run_dir, command_line())
    existing = run_exists(run_dir)
    if existing:
        lock.acquire()
    store = Store.open(run_dir) if existing else None
    try:
        info = store.run_info() if store is not None else None
        if game is not None:
            loaded = load_user_game(game)
        elif info is not None:
            loaded = load_stored_game(info["game"])  # data, never code: no module:factory unless given here
        else:
            loaded = load_user_game("connect_four")
        if info is not None:
            store.check_game(loaded.ref)
            if anchors:
                raise click.UsageError("--anchor is fixed when a run is created; this run already exists")
        names = entrant_names(entrants, store, top, include)
        config = TournamentConfig(game=loaded.ref, entrants=tuple(names), games=n_games, seed=seed, format=fmt,
                                  challengers=tuple(c.strip() for c in challengers.split(",")) if challengers else (),
                                  rounds=rounds, sprt=sprt or "")
        check_tournament(loaded.spec, config)
        roster = resolve(names, loaded.spec, store)
        run_config = info["config"] if info is not None else {"ratings": {"anchors": parse_anchors(anchors, names)}}
        rater = rater_of(run_config)
        executor = make_backend(backend, workers=workers, address=address, working_dir=working_dir)
        try:
            if store is None:
                lock.acquire()
                store = Store.create(run_dir, name=run_name(run_dir), game=loaded.ref, config=run_config)
            elif store.run_info() is None:
                store.init_run(run_name(run_dir), loaded.ref, run_config)
            result = play_with_progress(store, loaded, roster, config, rater, batch, stop_on_error=stop_on_error,
                                         move_timeout=move_timeout, backend=executor)
        finally:
            executor.close()
        click.echo(f"{config.format} on {loaded.ref}: {result.played} games played, {result.resumed} already stored, "
                   f"{result.total} in the schedule")
        if result.played:
            click.echo(f"{result.played / max(result.seconds, 1e-9):.1f} games/s", err=True)
        if result.pairings and len(loaded.spec.sides) == 2:
            print_pairings(result.pairings, config)
        print_leaderboard(store)
    finally:
        if store is not None:
            store.close()
        lock.release()


@cli.command("train")
@click.option("--config", "config_path", default=None, type=click.Path(dir_okay=False),
              help="A TOML run configuration (see runs/examples/).")
@click.option("--game", default=None, help="Game to train on (overrides the configuration).")
@click.option("--algo", "algos", multiple=True, metavar="ALGO[:ROLE]",
              help="A learner's algorithm, optionally with its role; repeat for several learners in one league.")
@click.option("--steps", type=STEPS, default=None,
              help="Env steps each learner trains for (a total: resuming continues to it).")
@click.option("--seed", type=SEED, default=None, help="Seed of the run.")
@click.option("--batch-games", type=GAME_COPIES, default=None, help="Game copies stepped in lockstep.")
@backend_options
@run_option
def train_command(config_path: str | None, game: str | None, algos: tuple[str, ...], steps: int | None,
                  seed: int | None, batch_games: int | None, backend: str, address: str | None, workers: int | None,
                  working_dir: str | None, run_dir: str) -> None:
    """Train a self-play league: learners, their snapshots, PFSP matchmaking, TrueSkill ratings.

    With no arguments, trains a small connect-four league (MAPPO and IQL) for about two
    minutes and prints the leaderboard. Run it again on the same --run to resume from the
    last checkpoint; Ctrl-C finishes the current round, checkpoints and exits.

    \b
    Example:
        league train
        league train --game tic_tac_toe --algo iql --steps 200000 --run runs/ttt-iql
        league train --game simple_tag --algo qmix:predator --algo mappo:prey --run runs/tag
        league train --config runs/examples/connect_four.toml --run runs/c4
        league train --backend ray --workers 2 --run runs/c4-ray
    """
    overrides = {"game": game, "steps": steps, "seed": seed, "batch_games": batch_games, "algos": list(algos)}
    lock = RunLock(run_dir, command_line())
    existing = run_exists(run_dir)
    if existing:
        lock.acquire()  # before the checkpoint is read: a second trainer is refused here
    store = Store.open(run_dir) if existing else None
    executor = None
    try:
        from league.train.checkpoints import checkpoint_config

        saved = checkpoint_config(store) if store is not None else None
        if saved is not None:  # resume, with the configuration the run was created with
            if config_path or algos or seed is not None or batch_games is not None:
                raise ConfigError(f"{run_dir} is already a training run; only --steps may change when resuming "
                                  f"(start a new run with another --run)")
            config = TrainConfig.from_mapping(read_toml(saved)).with_overrides(steps=steps)
            if game is not None and game.strip() != config.game.strip():
                raise ConfigError(f"{run_dir} trains {config.game}, not {game}; start a new run with another --run")
            loaded = load_stored_game(config.game, given=game)
        else:
            base = load_config(config_path) if config_path else TrainConfig.from_mapping(DEFAULT_TRAIN)
            config = base.with_overrides(**overrides)
            loaded = load_user_game(config.game)
            if not config_path and game:
                # the built-in evaluation bots, kept to those that can play the chosen game
                config = TrainConfig.from_mapping({**as_mapping(config), "evaluation": {
                    **as_mapping(config)["evaluation"], "opponents": bots_for(loaded.spec)}})
        if store is not None and store.run_info() is not None:
            store.check_game(loaded.ref)
        if store is None:
            # build the league once on a scratch basis first, so a bad configuration leaves no run behind
            validate_training(config, loaded)
        executor = make_backend(backend, workers=workers, address=address, working_dir=working_dir)
        if store is None:
            lock.acquire()
            store = Store.create(run_dir, name=run_name(run_dir), game=loaded.ref,
                                 config={"train": config.to_toml(), "ratings": config.ratings})
        elif store.run_info() is None:
            store.init_run(run_name(run_dir), loaded.ref, {"train": config.to_toml(), "ratings": config.ratings})
        store.write_file("config.toml", config.to_toml().encode())
        with TrainDisplay(store) as display:
            league_ = Trainer(store, loaded, config, on_event=display, backend=executor)
            resumed = league_.resume()
            if resumed:
                click.echo(f"resuming {run_dir} at round {league_.state.round}", err=True)
            train_until_done_or_interrupted(league_)
        click.echo(f"trained {', '.join(f'{n} {steps:,} steps' for n, steps in league_.steps.items())}; "
                   f"{len(league_.snapshots)} snapshots in the pool")
        print_leaderboard(store)
    finally:
        if executor is not None:
            executor.close()
        if store is not None:
            store.close()
        lock.release()


@cli.command("leaderboard")
@click.option("--by", "view", type=click.Choice(["trueskill", "bt", "nash"]), default="trueskill", show_default=True,
              help="trueskill: conservative TrueSkill; bt: Bradley-Terry Elo with bootstrap 95% intervals; "
                   "nash: Nash mixture and alpha-rank of the meta-game (for non-transitive games).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV for spreadsheets.")
@run_option
def leaderboard_command(view: str, as_json: bool, as_csv: bool, run_dir: str) -> None:
    """Show the run's players ranked by conservative TrueSkill score (mu - 3 sigma), or another view.

    \b
    Example:
        league leaderboard
        league leaderboard --run runs/ttt --json
        league leaderboard --by bt
        league leaderboard --by nash --run runs/rps
    """
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    with open_run(run_dir) as store:
        if view == "trueskill":
            board = standings(store, spec=stored_spec(store))  # computed once, from the running totals
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
            print_standings(board)
        elif view == "bt":
            print_table(None, ["rank", "name", "elo", "95% interval", "games"], [
                (r["rank"], r["name"], f"{r['elo']:+.0f}", f"[{r['lower']:+.0f}, {r['upper']:+.0f}]", r["games"])
                for r in rows], right=("rank", "elo", "games"))
        else:
            print_table(None, ["name", "nash", "alpha-rank", "games"], [
                (r["name"], f"{r['nash']:.3f}", f"{r['alpharank']:.3f}", r["games"]) for r in rows],
                right=("nash", "alpha-rank", "games"))


@cli.command("matches")
@click.option("--player", default=None, help="Only games this player took part in.")
@click.option("--limit", default=None, type=click.IntRange(1, 10**9), help="Only the last N games.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@run_option
def matches_command(player: str | None, limit: int | None, as_json: bool, run_dir: str) -> None:
    """List the stored games: sides, returns, ranks, length and seed.

    \b
    Example:
        league matches --player mcts:100 --limit 10
        league matches --json
    """
    with open_run(run_dir) as store:
        if player is not None and store.player(player) is None:
            raise StoreError(f"no player {player!r} in {run_dir}")
        rows = store.matches(player=player, limit=limit)  # the newest `limit`, read through an index
        if as_json:
            click.echo(json.dumps([{
                "id": m.id, "origin": m.origin, "tournament": m.tournament_id, "game_index": m.game_index,
                "game": m.game, "seed": m.seed, "sides": list(m.sides), "returns": list(m.returns),
                "ranks": list(m.ranks), "length": m.length, "truncated": m.truncated, "forfeit": m.forfeit,
            } for m in rows], indent=2))
            return
        print_rows(["id", "origin", "sides", "returns", "ranks", "length", "seed"], [
            (m.id, m.origin, " vs ".join(m.sides), " ".join(f"{r:+g}" for r in m.returns),
             " ".join(str(r) for r in m.ranks), m.length, m.seed) for m in rows
        ], right=("id", "length"))


@cli.command("payoff")
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
    print_rows(["", *matrix.names], cells)


def _nan_to_none(rows: list[list[float]]) -> list[list[float | None]]:
    return [[None if x != x else round(x, 6) for x in row] for row in rows]


@cli.command("export")
@click.option("--champion", is_flag=True, help="Export the top of the leaderboard among players that have weights.")
@click.option("--player", default=None, help="Export this player of the run (a snapshot or a team).")
@click.option("--out", default=None, type=click.Path(file_okay=False),
              help="The directory to create; an existing one is refused unless --force.")
@click.option("--force", is_flag=True, help="Replace an existing --out directory (only once the new export passed its check).")
@click.option("--verify", "verify_dir", default=None, type=click.Path(file_okay=False),
              help="Instead of exporting, check an export's models against the sha256 recorded in its manifest "
                   "(and in the run, when it recorded them).")
@click.option("--games", "n_games", default=16, show_default=True, type=click.IntRange(1, 10_000),
              help="Games against uniform random played to record the observations the export is checked on.")
@click.option("--game", default=None, metavar="MODULE:FACTORY",
              help="Allow the run's own game when it is a module:factory (stored names are never run as code).")
@run_option
def export_command(champion: bool, player: str | None, out: str | None, force: bool, verify_dir: str | None,
                   n_games: int, game: str | None, run_dir: str) -> None:
    """Export a player as ONNX models, one per seat, with a manifest, checked against the league.

    Each model takes `obs` (batch, *obs_shape) and `action_mask` (batch, n_actions) and returns
    the masked action probabilities and the greedy action, with flattening, normalisation and
    the seat's agent id baked in, so it runs with onnxruntime alone. Before the directory is
    put in place, onnxruntime must match the league's own policy within 1e-5 on observations
    recorded from real games; otherwise nothing is written.

    \b
    Example:
        league export --champion --out champion
        league export --player mappo-003 --out exports/mappo-003 --force
        league export --verify champion
    """
    if verify_dir is not None:
        if champion or player is not None or out is not None:
            raise click.UsageError("--verify checks an existing export; it takes no --champion, --player or --out")
        # the run's record is the authority when the run is named; otherwise say what was not checked
        given = click.get_current_context().get_parameter_source("run_dir") != click.core.ParameterSource.DEFAULT
        store = open_run(run_dir) if given else None
        try:
            check = verify_export_dir(verify_dir, store)
        finally:
            if store is not None:
                store.close()
        click.echo(check.summary(verify_dir))
        return
    if champion == (player is not None):
        raise click.UsageError("choose one of --champion and --player NAME")
    if out is None:
        raise click.UsageError("--out DIR is required: the directory the export is written to")
    check_export_out(out, force=force)  # before anything: --out never destroys what an export did not make
    with open_run(run_dir) as store:
        info = store.run_info()
        if info is not None:
            load_stored_game(info["game"], given=game)  # the run's game is data: no code unless named here
        result = export_player(store, out, player=player, champion=champion, force=force, n_games=n_games)
    click.echo(f"exported {result.player} (role {result.role}) to {result.out}: "
               f"{', '.join(result.files.values())}, manifest.json")
    click.echo(f"checked on {result.observations} recorded observations: onnxruntime matches torch within "
               f"{result.max_abs_diff:.1e} (tolerance 1e-05), greedy actions {result.actions_agree}/{result.observations}")


@cli.command("report")
@click.option("--out", default="report.html", show_default=True, type=click.Path(dir_okay=False),
              help="The HTML file to write (an earlier report there is replaced; any other file is refused).")
@run_option
def report_command(out: str, run_dir: str) -> None:
    """Write one self-contained HTML report of the run that opens in a browser without a server.

    Sections: the leaderboard, TrueSkill rating over time with sigma bands per learner, the
    payoff matrix as a heat map, the Nash mixture of the pool, training curves (evaluation
    win rates, exploitability, losses) and tournament results. Plots are inline SVG; the
    page loads nothing from the network.

    \b
    Example:
        league report --out report.html
        league report --run runs/c4 --out runs/c4/report.html
    """
    check_report_out(out)
    with open_run(run_dir) as store:
        result = write_report(store, out)
    click.echo(f"wrote {result.out} ({result.plots} plots); open it in a browser")


@cli.command("play")
@click.option("--player", "opponent", required=True,
              help="Your opponent: a player of the run with weights, or a baseline such as random or mcts:100.")
@click.option("--game", default=None, help="connect_four, tic_tac_toe or kuhn_poker (default: the run's game, else connect_four).")
@click.option("--first/--second", default=True, help="Move first (the default) or second.")
@click.option("--seed", type=SEED, default=None,
              help="Seed of the game: the deal and the opponent's random choices (default: fresh).")
@click.option("--name", default="human", show_default=True, help="Your name in the stored match.")
@run_option
def play_command(opponent: str, game: str | None, first: bool, seed: int | None, name: str, run_dir: str) -> None:
    """Play a turn-based game in the terminal against a stored policy or a baseline.

    The board is drawn before each of your moves; type a move's number (or its name, such
    as bet); a bad move is asked again with the legal moves listed. The result is stored in
    the run as a match of origin "human" (not rated, never rolled back). End input (Ctrl-D) to
    give up; nothing is stored then. --name may not be a policy of the run.

    \b
    Example:
        league play --player mcts:100 --game connect_four
        league play --player mappo-003 --second --run runs/c4
        league play --player random --game kuhn_poker
    """
    import secrets

    from agents.baselines import is_baseline_name
    from league.app.human import check_human_name, check_playable

    existing = run_exists(run_dir)
    store = Store.open(run_dir) if existing or not is_baseline_name(opponent) else None
    try:
        info = store.run_info() if store is not None else None
        if game is not None or info is None:
            loaded = load_user_game(game or "connect_four")
        else:
            loaded = load_stored_game(info["game"])
        if info is not None:
            store.check_game(loaded.ref)
        check_playable(loaded.spec)  # a bad game, opponent or name is refused before a run is created
        resolve([opponent], loaded.spec, store)
        check_human_name(store, name, opponent)
        if store is None:
            store = Store.create(run_dir, name=run_name(run_dir), game=loaded.ref, config={})
        elif store.run_info() is None:
            store.init_run(run_name(run_dir), loaded.ref, {})

        def ask(prompt: str) -> str:
            try:
                return click.prompt(prompt, default="", show_default=False, prompt_suffix=" ")
            except click.Abort:
                click.echo()
                raise EOFError from None

        play_game(store, loaded, opponent, ask=ask, say=click.echo, human_first=first, name=name,
                  seed=seed if seed is not None else secrets.randbelow(2**31))
    finally:
        if store is not None:
            store.close()


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    limit_threads()
    cli.main(args=list(argv) if argv is not None else None, prog_name="league")


if __name__ == "__main__":
    main()
