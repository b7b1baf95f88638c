"""The HTML report: one well-formed, self-contained file laid out for reading, every element in it."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from league.app.chart_stats import wilson
from league.app.chart_svg import nice_ticks, tick_labels
from league.app.cli import cli
from league.app.report import SECTIONS
from league.app.report_curves import OPEN_CURVES
from league.app.report_results import side_scores
from league.rate.standings import standings
from league.store.database import NewMatch, Store

SVG = "{http://www.w3.org/2000/svg}"
METRICS = ("loss", "entropy", "epsilon", "q", "grad_norm", "mean_return", "value_loss", "policy_loss", "rows")


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout if result.exit_code == 0 else result.stderr


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tic-tac-toe league: two learners with snapshots, two bots, training and evaluation games,
    metrics by step, and a finished round-robin tournament."""
    run = tmp_path_factory.mktemp("report") / "ttt"
    with Store.open(run, create=True) as store:
        store.init_run("ttt", "tic_tac_toe", {"train": '[evaluation]\ngames = 20\n'})
        for name in ("iql", "mappo"):
            store.add_player(name, "learner", algorithm=name, role="player")
        for bot in ("random", "mcts:5"):
            store.add_player(bot, "baseline")
        ratings = {"iql": [25.0, 8.0], "mappo": [25.0, 8.0], "random": [25.0, 8.0], "mcts:5": [25.0, 8.0]}
        for step in (1000, 2000, 3000, 4000):
            items = []
            for k in range(6):
                a, b = ("iql", "mappo") if k % 2 else ("mappo", "random")
                first_wins = (k + step // 1000) % 3 != 0
                for name, sign in ((a, 1), (b, -1)):
                    ratings[name][0] += sign * (0.3 if first_wins else -0.3)
                    ratings[name][1] *= 0.97
                items.append((NewMatch("training", "tic_tac_toe", step + k, (a, b), (1.0, -1.0) if first_wins else
                                       (-1.0, 1.0), (0, 1) if first_wins else (1, 0), 7), {a: tuple(ratings[a]), b: tuple(ratings[b])}))
            store.record_matches(items)
            values = {key: 1.0 / (1 + step / 1000 + j) for j, key in enumerate(METRICS)}
            store.add_metrics("iql", step, values)
            store.add_metrics("mappo", step, {"entropy": 2.0 - step / 4000, "eval/random": 0.5 + step / 10000})
            store.add_metrics("iql", step, {"eval/random": step / 4000, "exploitability": 1 - step / 5000})
            if step == 2000:
                store.add_player("iql-001", "snapshot", algorithm="iql", parent="iql", step=step,
                                 weights_path="snapshots/iql-001.safetensors")
                store.set_rating("iql-001", 26.0, 8.0)
                store.record_match(NewMatch("evaluation", "tic_tac_toe", 77, ("iql-001", "mcts:5"), (-1.0, 1.0), (1, 0),
                                            5), {"iql-001": (25.5, 7.0), "mcts:5": (26.0, 7.0)})
        tid = store.create_tournament("rr-report", "round-robin", {})
        entrants = ("random", "mcts:5", "iql-001")
        index = 0
        for i, a in enumerate(entrants):
            for b in entrants[i + 1:]:
                for k in range(4):
                    first, second = (a, b) if k % 2 == 0 else (b, a)
                    ranks = (0, 1) if (first == "mcts:5") or (k == 1 and second != "mcts:5") else (1, 0)
                    store.record_match(NewMatch("tournament", "tic_tac_toe", index, (first, second), (1.0, -1.0),
                                                ranks, 6, tournament_id=tid, game_index=index))
                    index += 1
        store.finish_tournament(tid)
    return run


def parse(page: str) -> ET.Element:
    """The page as XML (the report is written well-formed): anything unbalanced fails here."""
    assert page.startswith("<!DOCTYPE html>\n")
    return ET.fromstring(page.split("\n", 1)[1])


@pytest.fixture(scope="module")
def page(run: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, ET.Element]:
    out = tmp_path_factory.mktemp("out") / "report.html"
    code, stdout = invoke("report", "--run", str(run), "--out", str(out))
    assert (code, stdout) == (0, f"wrote {out} (17 plots); open it in a browser\n")
    text = out.read_text()
    return text, parse(text)


def sections(root: ET.Element) -> dict[str, ET.Element]:
    return {s.get("id"): s for s in root.iter("section")}


def test_every_section_in_order_with_its_plots(page) -> None:
    text, root = page
    found = sections(root)
    assert list(found) == list(SECTIONS)
    assert [s.find("h2").text for s in found.values()] == [
        "Summary", "Leaderboard", "Ratings over training", "Payoff matrix", "Nash mixture", "Scores per side",
        "Evaluation", "Learning curves", "Tournaments"]
    plots = {key: len(list(found[key].iter("svg"))) for key in SECTIONS}
    assert plots == {"summary": 0, "leaderboard": 0, "ratings": 2, "payoff": 1, "nash": 1, "sides": 1,
                     "evaluation": 2, "training": len(METRICS), "tournaments": 1}
    for figure in root.iter("figure"):
        assert figure.find("svg") is not None and figure.find("figcaption").text
    assert "e+" not in text and "max-width: 1000px" not in text  # no 1e+05 ticks, no narrow column
    cards = [c.find("div").text for c in root.iter("div") if c.get("class") == "card"]
    assert cards[:5] == ["Champion", "Learners", "Pool", "Games", "Duration"]


def test_ratings_by_training_step_with_bands_for_everyone(page, run: Path) -> None:
    _, root = page
    by_step, by_time = sections(root)["ratings"].iter("figure")
    svg = by_step.find("svg")
    assert svg.find("title").text == "Rating by training step"
    with Store.open(run) as store:
        rated = [s.name for s in standings(store)]
    assert len(svg.findall("polyline")) == len(rated) and len(svg.findall("polygon")) == len(rated)
    ticks = [t.text for t in svg.findall("text")]
    assert "training step (env steps of the most advanced learner)" in ticks and ["0", "1000", "2000", "3000"] == [
        t for t in ticks if t in ("0", "1000", "2000", "3000", "4000")]
    assert by_time.find("svg/title").text == "Rating by wall time"
    legend = [k.text.strip() if k.text else "".join(k.itertext()) for k in sections(root)["ratings"].iter("span")
              if k.get("class") == "key"]
    assert sorted(legend) == sorted(rated)


def test_one_colour_per_player_everywhere(page) -> None:
    _, root = page
    found = sections(root)

    def swatches(section: str) -> dict[str, str]:
        out = {}
        for cell in found[section].iter("td"):
            swatch = cell.find("span")
            if swatch is not None and swatch.get("class") == "swatch":
                out[swatch.tail] = re.search(r"background:(#[0-9a-f]{6})", swatch.get("style")).group(1)
        return out

    board = swatches("leaderboard")
    assert set(board) == {"iql", "mappo", "iql-001", "random", "mcts:5"} and len(set(board.values())) == 5
    assert swatches("tournaments").items() <= board.items()
    ratings = next(found["ratings"].iter("figure")).find("svg")
    lines = {p.find("title").text: p.get("stroke") for p in ratings.findall("polyline")}
    assert lines == board
    heat = found["payoff"].find("figure/svg")
    labels = [t.text for t in heat.findall("text")]
    assert [name for name in labels if name in board] == list(board)  # heat map rows in leaderboard order
    rows = [r.get("fill") for r in heat.findall("rect") if r.get("width") == "10"]  # a swatch before each row
    assert rows == list(board.values())


def test_heat_map_has_numbers_legend_and_numbered_columns(page, run: Path) -> None:
    _, root = page
    svg = sections(root)["payoff"].find("figure/svg")
    texts = [t.text for t in svg.findall("text")]
    with Store.open(run) as store:
        n = len({s for m in store.matches() if len(m.sides) == 2 for s in m.sides})
    assert [str(k) for k in range(1, n + 1)] == texts[:n]  # column numbers
    for label in ("100%", "75%", "50%", "25%", "0%", "never met", "row's score"):
        assert label in texts
    tips = [r.find("title").text for r in svg.findall("rect") if r.find("title") is not None]
    played = [t for t in tips if "games" in t]
    numbers = [t for t in texts if t and t.isdigit() and int(t) <= 100]
    assert len(played) == len(numbers) - 2 * n  # one number per played cell, beside the row and column numbers
    assert any(t.startswith("iql vs mappo: ") for t in tips)


def test_sides_evaluation_and_learning_curves(page, run: Path) -> None:
    _, root = page
    found = sections(root)
    sides = found["sides"].find("figure")
    with Store.open(run) as store:
        scores = side_scores(store.matches())
    first = scores["iql"][0][0] / scores["iql"][0][1]
    assert f"{round(100 * first)}%" in [t.text.split(" / ")[0] for t in sides.find("svg").findall("text") if t.text]
    evaluation = list(found["evaluation"].iter("figure"))
    assert [f.find("svg/title").text for f in evaluation] == ["Score against random", "exploitability"]
    whiskers = [line for line in evaluation[0].find("svg").findall("line") if line.get("stroke-opacity")]
    assert len(whiskers) == 8  # a Wilson interval for each of 2 learners x 4 evaluations
    low, high = wilson(0.25, 20)
    assert "Wilson 95% intervals over 20 games" in evaluation[0].find("figcaption").text
    assert 0 < low < 0.25 < high < 1
    training = found["training"]
    titles = [f.find("svg/title").text for f in training.iter("figure")]
    assert sorted(titles) == sorted(METRICS) and titles[:3] == ["mean_return", "loss", "policy_loss"]
    hidden = training.find("details")
    assert len(list(hidden.iter("figure"))) == len(METRICS) - OPEN_CURVES
    assert hidden.find("summary").text.startswith(f"{len(METRICS) - OPEN_CURVES} more metrics")
    curve = next(iter(training.iter("figure"))).find("svg")
    faint, solid = curve.findall("polyline")[:2]
    assert float(faint.get("stroke-opacity")) < 0.5 <= float(solid.get("stroke-opacity"))


def test_tournament_shows_format_status_and_elo_intervals(page) -> None:
    _, root = page
    tournament = sections(root)["tournaments"]
    assert tournament.find("h3").text == "Tournament 1: round-robin, finished (12 games)"
    chart = tournament.find("figure/svg")
    assert chart.find("title").text == "Tournament 1: Bradley-Terry Elo"
    head = [th.text for th in tournament.find("table").iter("th")]
    assert head[:5] == ["rank", "entrant", "elo", "95% interval", "games"] and head[-2:] == ["as first", "as second"]
    rows = [[("".join(td.itertext())) for td in tr.findall("td")] for tr in tournament.find("table/tbody")]
    assert rows[0][:2] == ["1", "mcts:5"] and all(re.fullmatch(r"\[[+-]\d+, [+-]\d+\]", r[3]) for r in rows)


def test_report_is_self_contained(page) -> None:
    text, _ = page
    for banned in ("http://", "https://", "//cdn", "<script", "<link", "<img", "<iframe", "@import", "url(", "src="):
        assert banned not in text.replace("http://www.w3.org/2000/svg", ""), banned
    assert not re.search(r'href="(?!#)', text)  # only in-page anchors


def test_empty_run_still_has_every_section(tmp_path: Path) -> None:
    with Store.open(tmp_path / "run", create=True) as store:
        store.init_run("run", "connect_four", {})
    out = tmp_path / "r.html"
    assert invoke("report", "--run", str(tmp_path / "run"), "--out", str(out)) == (
        0, f"wrote {out} (0 plots); open it in a browser\n")
    root = parse(out.read_text())
    assert [s.get("id") for s in root.iter("section")] == list(SECTIONS)
    assert [p.text for p in root.iter("p") if p.get("class") == "empty"] == [
        "No rated players yet.", "No rating history yet.", "No games of two or more sides yet.",
        "The Nash mixture needs a payoff matrix of at least two players.", "No two-side games yet.",
        "No evaluations yet.", "No training metrics yet.", "No tournaments yet."]


def test_bad_output_and_missing_run(run: Path, tmp_path: Path) -> None:
    assert invoke("report", "--run", str(run), "--out", str(tmp_path / "no" / "r.html")) == (
        1, f"Error: the directory {tmp_path / 'no'} does not exist.\n")
    assert invoke("report", "--run", str(tmp_path / "none"), "--out", str(tmp_path / "r.html"))[0] == 1
    assert not (tmp_path / "r.html").exists()
    notes = tmp_path / "notes.html"
    notes.write_text("mine")
    assert invoke("report", "--run", str(run), "--out", str(notes))[0] == 1 and notes.read_text() == "mine"


def test_ticks_share_one_format() -> None:
    assert nice_ticks(0, 1) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(21.3, 38.9) == [25.0, 30.0, 35.0]
    assert tick_labels(nice_ticks(0, 120_000)) == ["0", "25k", "50k", "75k", "100k"]
    assert tick_labels(nice_ticks(0, 1.0, 4)) == ["0.00", "0.25", "0.50", "0.75", "1.00"]
    assert tick_labels([0, 2_500_000, 5_000_000]) == ["0", "2.5M", "5M"]
