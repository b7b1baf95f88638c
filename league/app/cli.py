"""The `league` command line: each command parses, calls one library function and prints.

Every error a user can cause ends in one sentence on stderr and exit status 1.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
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
    run_spec,
)
from league.app.export import export_player, verify_export
from league.app.human import play_game
from league.app.report import write_report
from league.app.setup import (
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
from league.rate.ratings import PayoffMatrix, payoff_matrix
from league.rate.standings import standings
from league.rate.views import bradley_terry, nash_view
from league.store.database import Store, StoreError
from league.threads import limit_threads
from league.tournament.formats import FORMATS, TournamentConfig
from league.tournament.formats import check as check_tournament
from league.train.config import ConfigError, TrainConfig, load_config
from league.train.loop import League

__version__ = "0.1.0"


# errors a user can cause: reported as one sentence, exit status 1


class LeagueGroup(click.Group):
    """Turns every error a user can cause into one line on stderr and exit status 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except LeagueError as error:
            raise click.ClickException(str(error)) from None


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

    spec = games.load(game).spec if game else None
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
        click.option("--workers", type=int, default=None, help="Parallel workers (default: the cores or cluster CPUs)."),
        click.option("--working-dir", default=None, type=click.Path(exists=True, file_okay=False),
                     help="Ray: ship this directory to the workers (for nodes without league installed)."),
    ]):
        command = option(command)
    return command


run_option = click.option("--run", "run_dir", default=DEFAULT_RUN, show_default=True, type=click.Path(file_okay=False),
                          help="The run directory (runs/<name>) holding league.db.")


def open_run(run_dir: str) -> Store:
    """An existing run; a missing one is a clear error."""
    return Store.open(run_dir)


@cli.command("tournament")
@click.option("--game", default=None, help="Game to play (default: the run's game, else connect_four).")
@click.option("--entrants", default=None,
              help=f"Comma-separated entrants: baselines (random, mcts:N, scripted, action:K) or players of the run "
                   f"[default: the run's snapshots, else {DEFAULT_ENTRANTS}].")
@click.option("--games", "n_games", default=40, show_default=True, type=int,
              help="Games per pairing (even: sides alternate); with --sprt, the most a pairing may play.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the schedule.")
@click.option("--format", "fmt", default="round-robin", show_default=True, type=click.Choice(FORMATS), help="Tournament format.")
@click.option("--challengers", default=None, help="Gauntlet: comma-separated entrants that play the field.")
@click.option("--rounds", default=0, type=int, help="Swiss: rounds to play [default: ceil(log2 n) + 2].")
@click.option("--sprt", default=None, metavar="elo0=0,elo1=10,alpha=0.05,beta=0.05",
              help="Stop each pairing as soon as a pentanomial GSPRT decides (round-robin and gauntlet).")
@click.option("--top", default=None, type=int, help="Only the leaderboard's top K snapshots of the run as entrants.")
@click.option("--include", "include", type=click.Choice(["baselines"]), default=None,
              help="With --top: add the run's baselines to the field.")
@click.option("--move-timeout", type=float, default=None, metavar="SECONDS",
              help="An entrant slower than this per move loses the game by forfeit.")
@click.option("--stop-on-error", is_flag=True,
              help="Stop at the first crash, illegal move or timeout instead of forfeiting that game.")
@click.option("--batch", default=128, show_default=True, type=int, help="Games played in lockstep.")
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
    # Everything is checked before a new run is created, so a bad command leaves no trace.
    existing = (Path(run_dir) / "league.db").exists()
    store = Store.open(run_dir) if existing else None
    try:
        info = store.run_info() if store is not None else None
        game_ref = game or (info["game"] if info else "connect_four")
        loaded = games.load(game_ref)
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
        run_config = info["config"] if info is not None else {"ratings": {"anchors": parse_anchors(anchors)}}
        rater = rater_of(run_config)
        if store is None:
            store = Store.open(run_dir, create=True)
        if store.run_info() is None:
            store.init_run(run_name(run_dir), loaded.ref, run_config)
        executor = make_backend(backend, workers=workers, address=address, working_dir=working_dir)
        try:
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


@cli.command("train")
@click.option("--config", "config_path", default=None, type=click.Path(dir_okay=False),
              help="A TOML run configuration (see runs/examples/).")
@click.option("--game", default=None, help="Game to train on (overrides the configuration).")
@click.option("--algo", "algos", multiple=True, metavar="ALGO[:ROLE]",
              help="A learner's algorithm, optionally with its role; repeat for several learners in one league.")
@click.option("--steps", type=int, default=None, help="Env steps each learner trains for (a total: resuming continues to it).")
@click.option("--seed", type=int, default=None, help="Seed of the run.")
@click.option("--batch-games", type=int, default=None, help="Game copies stepped in lockstep.")
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
    existing = (Path(run_dir) / "league.db").exists()
    store = Store.open(run_dir) if existing else None
    try:
        from league.train.checkpoints import read_trainer_state

        state = read_trainer_state(store) if store is not None else None
        if state is not None:
            if config_path or game or algos or seed is not None or batch_games is not None:
                raise ConfigError(f"{run_dir} is already a training run; only --steps may change when resuming "
                                  f"(start a new run with another --run)")
            config = TrainConfig.from_mapping(read_toml(state["config"])).with_overrides(steps=steps)
        else:
            base = load_config(config_path) if config_path else TrainConfig.from_mapping(DEFAULT_TRAIN)
            config = base.with_overrides(**overrides)
            if not config_path and game:
                # the built-in evaluation bots, kept to those that can play the chosen game
                bots = bots_for(games.load(config.game).spec)
                config = TrainConfig.from_mapping({**as_mapping(config), "evaluation": {
                    **as_mapping(config)["evaluation"], "opponents": bots}})
        loaded = games.load(config.game)
        if store is not None and store.run_info() is not None:
            store.check_game(loaded.ref)
        if store is None:
            # build the league once on a scratch basis first, so a bad configuration leaves no run behind
            validate_training(config, loaded)
            store = Store.open(run_dir, create=True)
        if store.run_info() is None:
            store.init_run(run_name(run_dir), loaded.ref, {"train": config.to_toml(), "ratings": config.ratings})
        store.write_file("config.toml", config.to_toml().encode())
        executor = make_backend(backend, workers=workers, address=address, working_dir=working_dir)
        with TrainDisplay(store) as display:
            league_ = League(store, loaded, config, on_event=display, backend=executor)
            resumed = league_.resume()
            if resumed:
                click.echo(f"resuming {run_dir} at round {league_.round}", err=True)
            train_until_done_or_interrupted(league_)
        click.echo(f"trained {', '.join(f'{n} {l.env_steps:,} steps' for n, l in league_.learners.items())}; "
                   f"{len(league_.snapshots)} snapshots in the pool")
        print_leaderboard(store)
    finally:
        if store is not None:
            store.close()


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
            rows = [s.as_dict() for s in standings(store, spec=run_spec(store))]
        else:
            results = [(m.sides, m.ranks) for m in store.matches()]
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
            print_leaderboard(store)
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
@click.option("--limit", default=None, type=int, help="Only the last N games.")
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
        rows = store.matches(player=player)
        if limit is not None:
            rows = rows[-limit:] if limit > 0 else []
        if as_json:
            click.echo(json.dumps([{
                "id": m.id, "origin": m.origin, "tournament": m.tournament_id, "game_index": m.game_index,
                "game": m.game, "seed": m.seed, "sides": list(m.sides), "returns": list(m.returns),
                "ranks": list(m.ranks), "length": m.length, "truncated": m.truncated, "forfeit": m.forfeit,
            } for m in rows], indent=2))
            return
        print_table(None, ["id", "origin", "sides", "returns", "ranks", "length", "seed"], [
            (m.id, m.origin, " vs ".join(m.sides), " ".join(f"{r:+g}" for r in m.returns),
             " ".join(str(r) for r in m.ranks), m.length, m.seed) for m in rows
        ], right=("id", "length"))


@cli.command("payoff")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@run_option
def payoff_command(as_json: bool, run_dir: str) -> None:
    """Show the payoff matrix: the row player's score against each column player (games).

    A score counts a win as 1 and a draw as 1/2.

    \b
    Example:
        league payoff --run runs/default
    """
    with open_run(run_dir) as store:
        matrix = _payoff(store)
    if as_json:
        click.echo(json.dumps({"names": list(matrix.names), "score": _nan_to_none(matrix.score.tolist()),
                               "games": matrix.games.tolist()}, indent=2))
        return
    cells = []
    for i, row_name in enumerate(matrix.names):
        row = [row_name]
        for j in range(len(matrix.names)):
            games_ij = int(matrix.games[i, j])
            row.append("-" if games_ij == 0 else f"{matrix.score[i, j]:.2f} ({games_ij})")
        cells.append(row)
    print_table(None, ["", *matrix.names], cells)


def _payoff(store: Store) -> PayoffMatrix:
    results = [(m.sides, m.ranks) for m in store.matches() if len(m.sides) >= 2]
    if not results:
        raise StoreError(f"the run at {store.run_dir} has no games of two or more sides yet")
    order = [s.name for s in standings(store)]
    present = {side for sides, _ in results for side in sides}
    return payoff_matrix(results, names=[n for n in order if n in present] + sorted(present - set(order)))


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
@click.option("--games", "n_games", default=16, show_default=True, type=int,
              help="Games against uniform random played to record the observations the export is checked on.")
@run_option
def export_command(champion: bool, player: str | None, out: str | None, force: bool, verify_dir: str | None,
                   n_games: int, run_dir: str) -> None:
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
        store = Store.open(run_dir) if (Path(run_dir) / "league.db").exists() else None
        try:
            manifest = verify_export(verify_dir, store)
        finally:
            if store is not None:
                store.close()
        click.echo(f"{verify_dir}: {manifest['player']} ({manifest['game']['name']}, role {manifest['role']}), "
                   f"{len(manifest['seats'])} models match their recorded sha256")
        return
    if champion == (player is not None):
        raise click.UsageError("choose one of --champion and --player NAME")
    if out is None:
        raise click.UsageError("--out DIR is required: the directory the export is written to")
    with open_run(run_dir) as store:
        result = export_player(store, out, player=player, champion=champion, force=force, n_games=n_games)
    click.echo(f"exported {result.player} (role {result.role}) to {result.out}: "
               f"{', '.join(result.files.values())}, manifest.json")
    click.echo(f"checked on {result.observations} recorded observations: onnxruntime matches torch within "
               f"{result.max_abs_diff:.1e} (tolerance 1e-05), greedy actions {result.actions_agree}/{result.observations}")


@cli.command("report")
@click.option("--out", default="report.html", show_default=True, type=click.Path(dir_okay=False),
              help="The HTML file to write (replaced if it exists).")
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
    with open_run(run_dir) as store:
        result = write_report(store, out)
    click.echo(f"wrote {result.out} ({result.plots} plots); open it in a browser")


@cli.command("play")
@click.option("--player", "opponent", required=True,
              help="Your opponent: a player of the run with weights, or a baseline such as random or mcts:100.")
@click.option("--game", default=None, help="connect_four, tic_tac_toe or kuhn_poker (default: the run's game, else connect_four).")
@click.option("--first/--second", default=True, help="Move first (the default) or second.")
@click.option("--seed", type=int, default=None, help="Seed of the game: the deal and the opponent's random choices (default: fresh).")
@click.option("--name", default="human", show_default=True, help="Your name in the stored match.")
@run_option
def play_command(opponent: str, game: str | None, first: bool, seed: int | None, name: str, run_dir: str) -> None:
    """Play a turn-based game in the terminal against a stored policy or a baseline.

    The board is drawn before each of your moves; type a move's number (or its name, such
    as bet); a bad move is asked again with the legal moves listed. The result is stored in
    the run as a match of origin "evaluation" (not rated). End input (Ctrl-D) to give up;
    nothing is stored then.

    \b
    Example:
        league play --player mcts:100 --game connect_four
        league play --player mappo-003 --second --run runs/c4
        league play --player random --game kuhn_poker
    """
    import secrets

    from agents.baselines import is_baseline_name
    from league.app.human import check_playable

    existing = (Path(run_dir) / "league.db").exists()
    store = Store.open(run_dir) if existing or not is_baseline_name(opponent) else None
    try:
        info = store.run_info() if store is not None else None
        loaded = games.load(game or (info["game"] if info else "connect_four"))
        if info is not None:
            store.check_game(loaded.ref)
        check_playable(loaded.spec)  # a bad game or opponent is refused before a run is created
        resolve([opponent], loaded.spec, store)
        if store is None:
            store = Store.open(run_dir, create=True)
        if store.run_info() is None:
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
