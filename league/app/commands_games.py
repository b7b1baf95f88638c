"""Games and players: `league games`, `league algos`, `league check-game`, `league play`."""

from __future__ import annotations

import json
import secrets

import click

import games
from games.base import GameError
from league.app.display import print_table
from league.app.human import check_human_name, check_playable, play_game
from league.app.mixture import refresh_mixture
from league.app.options import SEED, echo_notes, run_option
from league.app.setup import run_name
from league.play.entrants import learners_as_snapshots, resolve
from league.play.mixture import MIXTURE_NAME
from league.store.database import Store, run_exists
from league.store.trust import load_stored_game, load_user_game


@click.command("games")
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


@click.command("algos")
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


@click.command("check-game")
@click.argument("spec")
def check_game_command(spec: str) -> None:
    """Check that a game (a registry name, openspiel:..., or your module:factory) keeps the league's contract.

    Loads it, checks its spec, PettingZoo's API where it is a PettingZoo environment, the
    batched contract (observations, masks, rewards, resets), refusal of illegal moves and
    seeding. Prints one sentence per problem and exits 1 if there is any.

    \b
    Example:
        league check-game tic_tac_toe
        league check-game mygame:make_env
    """
    problems = games.check_game(spec)
    if problems:
        for problem in problems:
            click.echo(problem)
        raise SystemExit(1)
    click.echo(f"{spec} passes every check")


@click.command("play")
@click.option("--player", "opponent", required=True,
              help="Your opponent: a player of the run with weights (a learner plays as its latest snapshot), "
                   "nash (the pool's Nash mixture, in a trained poker league), or a baseline such as random or mcts:100.")
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
    from agents.baselines import is_baseline_name

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
        (opponent,), notes = learners_as_snapshots(store, [opponent])
        echo_notes(notes)
        if opponent == MIXTURE_NAME and store is not None:
            refresh_mixture(store, loaded.spec)  # the pool's Nash mixture as of the last checkpoint
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
