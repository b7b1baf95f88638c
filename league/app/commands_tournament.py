"""`league tournament`: entrants play each other; each game is stored and rated as it finishes."""

from __future__ import annotations

import click

from league.app.display import plain_table, play_with_progress, print_leaderboard, print_pairings
from league.app.options import GAME_COPIES, GAMES, SEED, Seconds, backend_options, command_line, echo_notes, run_option
from league.app.mixture import refresh_mixture
from league.app.setup import DEFAULT_ENTRANTS, entrant_names, parse_anchors, rater_of, run_name
from league.play.backends import make_backend
from league.play.entrants import learners_as_snapshots, resolve
from league.play.mixture import MIXTURE_NAME
from league.store.database import Store, run_exists
from league.store.lock import RunLock
from league.store.trust import load_stored_game, load_user_game
from league.tournament.config import FORMATS, TournamentConfig
from league.tournament.config import check as check_tournament
from league.tournament.openings import plan_openings
from league.tournament.config import possible_pairings
from league.tournament.formats import check_lineups
from league.tournament.summary import ReportEvery, pairing_rows, table_rows


@click.command("tournament")
@click.option("--game", default=None, help="Game to play (default: the run's game, else connect_four).")
@click.option("--entrants", default=None,
              help=f"Comma-separated entrants: baselines (random, mcts:N, scripted, action:K) or players of the run "
                   f"(a learner plays as its latest snapshot) [default: the run's snapshots, else {DEFAULT_ENTRANTS}].")
@click.option("--games", "n_games", default=40, show_default=True, type=GAMES,
              help="Games per pairing or table (two sides: even; symmetric games of N sides: a multiple of N, as "
                   "entrants rotate through the sides); with --sprt, the most a pairing may play.")
@click.option("--seed", default=0, show_default=True, type=SEED, help="Seed of the schedule.")
@click.option("--format", "fmt", default="round-robin", show_default=True, type=click.Choice(FORMATS), help="Tournament format.")
@click.option("--challengers", default=None, help="Gauntlet: comma-separated entrants that play the field.")
@click.option("--rounds", default=0, type=click.IntRange(0, 1000), help="Swiss: rounds to play [default: ceil(log2 n) + 2].")
@click.option("--sprt", default=None, metavar="elo0=0,elo1=10,alpha=0.05,beta=0.05",
              help="Stop each pairing as soon as a pentanomial GSPRT decides (round-robin and gauntlet).")
@click.option("--openings", default=None, metavar="random:N|FILE|none",
              help="Start each pair of games from an opening: N random plies, one line per opening from FILE, or none "
                   "[default: a short random opening for deterministic entrants of perfect-information games].")
@click.option("--openings-order", type=click.Choice(["sequential", "random"]), default="sequential", show_default=True,
              help="A FILE's openings in order, or shuffled by the seed.")
@click.option("--top", default=None, type=click.IntRange(1, 100_000),
              help="Only the leaderboard's top K snapshots of the run as entrants.")
@click.option("--include", "include", type=click.Choice(["baselines"]), default=None,
              help="With --top: add the run's baselines to the field.")
@click.option("--move-timeout", type=Seconds(), default=None, metavar="SECONDS",
              help="An entrant slower than this per move loses the game by forfeit.")
@click.option("--stop-on-error", is_flag=True,
              help="Stop at the first crash, illegal move or timeout instead of forfeiting that game.")
@click.option("--concurrency", "--batch", "concurrency", default=128, show_default=True, type=GAME_COPIES,
              help="Games in flight per worker (played in lockstep); --batch is an alias.")
@click.option("--report-every", default=None, type=click.IntRange(1, 10**9), metavar="N",
              help="Print the pairings table every N stored games (on stderr).")
@click.option("--pentanomial", is_flag=True, help="Add each pairing's pentanomial pair counts (LL LD DD/WL WD WW).")
@click.option("--anchor", "anchors", multiple=True, metavar="NAME=MU",
              help="Pin a player's rating (e.g. random=0) when the run is created; repeatable.")
@backend_options()
@run_option
def tournament_command(game: str | None, entrants: str | None, n_games: int, seed: int, fmt: str,
                       challengers: str | None, rounds: int, sprt: str | None, openings: str | None,
                       openings_order: str, top: int | None, include: str | None, move_timeout: float | None,
                       stop_on_error: bool, concurrency: int, report_every: int | None, pentanomial: bool,
                       anchors: tuple[str, ...], backend: str, address: str | None, workers: int | None,
                       working_dir: str | None, run_dir: str) -> None:
    """Rank entrants by playing them against each other; results are stored as they finish.

    Pairings play paired games (shared seed and opening, sides swapped). Running the same
    command again resumes a stopped tournament without replaying or double-counting a game.
    Prints the opening plan, each pairing's score with an Elo difference and 95% interval (or
    its SPRT verdict), then the leaderboard.

    \b
    Example:
        league tournament
        league tournament --game tic_tac_toe --entrants random,mcts:10,mcts:50 --games 20 --run runs/ttt
        league tournament --format gauntlet --entrants mcts:200,random,mcts:25 --challengers mcts:200 --games 400 --sprt elo0=0,elo1=10
        league tournament --openings random:4 --pentanomial --report-every 100 --run runs/c4
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
        names, notes = learners_as_snapshots(store, entrant_names(entrants, store, top, include))
        echo_notes(notes)
        split = tuple(c.strip() for c in challengers.split(",")) if challengers else ()
        split, more_notes = learners_as_snapshots(store, split)
        config = TournamentConfig(game=loaded.ref, entrants=tuple(names), games=n_games, seed=seed, format=fmt,
                                  challengers=tuple(split), rounds=rounds, sprt=sprt or "",
                                  openings=openings or "", openings_order=openings_order)
        check_tournament(loaded.spec, config)
        if MIXTURE_NAME in names and store is not None:
            refresh_mixture(store, loaded.spec)  # the pool's Nash mixture as of the latest checkpoint
        roster = resolve(names, loaded.spec, store)
        check_lineups(loaded.spec, roster, config)  # every side can be filled, before a run is created
        plan = plan_openings(loaded, roster, possible_pairings(config), spec_text=config.openings,
                             order=config.openings_order, seed=config.seed) if len(loaded.spec.sides) == 2 else None
        run_config = info["config"] if info is not None else {"ratings": {"anchors": parse_anchors(anchors, names)}}
        rater = rater_of(run_config)
        if plan is not None and plan.active:
            click.echo(plan.header())

        def report(done: int, total: int, pairings) -> None:
            columns, rows = pairing_rows(pairings, config.test(), pentanomial=pentanomial)
            click.echo(f"after {done} of {total} games:", err=True)
            click.echo(plain_table(columns, rows, right=("games",)), err=True)

        wrap = (lambda inner: ReportEvery(report_every, report, inner)) if report_every else None
        executor = make_backend(backend, workers=workers, address=address, working_dir=working_dir)
        try:
            if store is None:
                lock.acquire()
                store = Store.create(run_dir, name=run_name(run_dir), game=loaded.ref, config=run_config)
            elif store.run_info() is None:
                store.init_run(run_name(run_dir), loaded.ref, run_config)
            result = play_with_progress(store, loaded, roster, config, rater, concurrency, stop_on_error=stop_on_error,
                                        move_timeout=move_timeout, backend=executor, wrap=wrap,
                                        **({"openings": plan} if plan is not None else {}))
        finally:
            executor.close()
        click.echo(f"{config.format} on {loaded.ref}: {result.played} games played, {result.resumed} already stored, "
                   f"{result.total} in the schedule")
        if result.openings.active and result.openings.skipped:
            click.echo(result.openings.summary())
        if result.played:
            click.echo(f"{result.played / max(result.seconds, 1e-9):.1f} games/s", err=True)
        if result.pairings and len(loaded.spec.sides) == 2:
            print_pairings(result.pairings, config, pentanomial=pentanomial)
        elif result.pairings:
            click.echo(plain_table(*table_rows(result.pairings), right=("games",)))
        print_leaderboard(store)
    finally:
        if store is not None:
            store.close()
        lock.release()

