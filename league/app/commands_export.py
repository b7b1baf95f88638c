"""What leaves a run: `league export` (ONNX), `league report` (HTML), `league datasette-metadata`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from league.app.export import export_player
from league.app.options import echo_notes, open_run, run_option
from league.app.report import write_report
from league.play.entrants import learners_as_snapshots
from league.store.database import StoreError
from league.store.exports import verify_export_dir
from league.store.files import check_export_out, check_report_out
from league.store.trust import load_stored_game
from league.store.views import METADATA_NAME, metadata_json


@click.command("export")
@click.option("--champion", is_flag=True,
              help="Export the top of the leaderboard among players that have weights (in a trained poker league: "
                   "the pool's Nash mixture).")
@click.option("--player", default=None,
              help="Export this player of the run (a snapshot or a team; a learner exports its latest snapshot; "
                   "nash: the pool's Nash mixture).")
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
        league export --player nash --run runs/kuhn --out nash
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
        if player is not None:
            (player,), notes = learners_as_snapshots(store, [player])
            echo_notes(notes)
        result = export_player(store, out, player=player, champion=champion, force=force, n_games=n_games)
    click.echo(f"exported {result.player} (role {result.role}) to {result.out}: "
               f"{', '.join(result.files.values())}, manifest.json")
    click.echo(f"checked on {result.observations} {result.checked_on}: onnxruntime matches torch within "
               f"{result.max_abs_diff:.1e} (tolerance 1e-05), greedy actions {result.actions_agree}/{result.observations}")
    for note in result.notes:
        click.echo(note)


@click.command("report")
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


def is_metadata_file(path: Path) -> bool:
    """Whether `path` holds Datasette metadata this command wrote (so it may be replaced)."""
    try:
        if path.stat().st_size > 4_000_000:
            return False
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and str(data.get("title", "")).startswith("League run ") \
        and isinstance(data.get("databases"), dict) and "league" in data["databases"]


@click.command("datasette-metadata")
@click.option("--out", default=None, type=click.Path(dir_okay=False),
              help=f"The file to write [default: runs/<name>/{METADATA_NAME}]; only an earlier metadata file is replaced.")
@run_option
def datasette_metadata_command(out: str | None, run_dir: str) -> None:
    """Write Datasette metadata for the run: a title and a description of every table, view and column.

    \b
    Example:
        league datasette-metadata --run runs/ttt
        datasette runs/ttt/league.db -m runs/ttt/metadata.json
    """
    with open_run(run_dir) as store:  # a run it is: its views are up to date once opened
        info = store.run_info()
        name = info["name"] if info is not None else Path(run_dir).name
    target = Path(out) if out is not None else Path(run_dir) / METADATA_NAME
    if target.exists() and not (target.is_file() and is_metadata_file(target)):
        raise StoreError(f"{target} exists and is not an earlier Datasette metadata file; choose another --out.")
    target.write_text(metadata_json(name), encoding="utf-8")
    click.echo(f"wrote {target}; browse the run with: datasette {Path(run_dir) / 'league.db'} -m {target}")
