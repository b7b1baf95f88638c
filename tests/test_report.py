"""The HTML report: one well-formed, self-contained file with every section and a plot for each."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from league.app.cli import cli
from league.app.report import SECTIONS, nice_ticks
from league.store.database import NewMatch, Store


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout if result.exit_code == 0 else result.stderr


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tic-tac-toe run with a tournament, a learner with rating history, and training metrics."""
    run = tmp_path_factory.mktemp("report") / "ttt"
    code, out = invoke("tournament", "--game", "tic_tac_toe", "--entrants", "random,mcts:5", "--games", "4",
                       "--run", str(run))
    assert code == 0, out
    with Store.open(run) as store:
        store.add_player("iql", "learner", algorithm="iql", role="player")
        mu, sigma = 25.0, 8.3
        for k in range(6):
            mu, sigma = mu + 1.0, sigma * 0.9
            won = k % 3 != 2
            store.record_match(NewMatch("training", "tic_tac_toe", k, ("iql", "random"), (1.0, -1.0) if won else (-1.0, 1.0),
                                        (0, 1) if won else (1, 0), 7), {"iql": (mu, sigma)})
        for k in range(2):
            store.record_match(NewMatch("evaluation", "tic_tac_toe", 10 + k, ("mcts:5", "iql"), (1.0, -1.0), (0, 1), 5))
        for step in (1000, 2000, 3000):
            store.add_metrics("iql", step, {"eval/random": step / 4000, "exploitability": 1 - step / 4000, "loss": 0.1})
    return run


def parse(page: str) -> ET.Element:
    """The page as XML (the report is written well-formed): anything unbalanced fails here."""
    assert page.startswith("<!DOCTYPE html>\n")
    return ET.fromstring(page.split("\n", 1)[1])


def test_report_has_every_section_and_a_plot_each(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    code, stdout = invoke("report", "--run", str(run), "--out", str(out))
    assert (code, stdout) == (0, f"wrote {out} (6 plots); open it in a browser\n")
    page = out.read_text()
    root = parse(page)
    assert root.tag == "html" and root.find("head/meta").get("charset") == "utf-8"
    sections = {s.get("id"): s for s in root.iter("section")}
    assert list(sections) == list(SECTIONS)
    assert [s.find("h2").text for s in sections.values()] == [
        "Leaderboard", "Rating over time", "Payoff matrix", "Nash mixture", "Training curves", "Tournament results"]
    plots = {key: len(list(sections[key].iter("svg"))) for key in SECTIONS}
    assert plots == {"leaderboard": 0, "ratings": 1, "payoff": 1, "nash": 1, "training": 3, "tournaments": 0}
    for figure in root.iter("figure"):
        assert figure.find("svg") is not None and figure.find("figcaption").text
    # ratings: one line with its sigma band for the learner; training: eval, exploitability, then loss
    ratings = sections["ratings"].find("figure/svg")
    assert len(ratings.findall("polyline")) == 1 and len(ratings.findall("polygon")) == 1
    assert [f.find("svg/title").text for f in sections["training"].iter("figure")] == ["eval/random", "exploitability", "loss"]
    # payoff heat map: 3 x 3 cells, and the leaderboard and tournament tables list the players
    assert len(sections["payoff"].find("figure/svg").findall("rect")) == 9
    leaderboard = [tr.find("td[2]").text for tr in sections["leaderboard"].iter("tr") if tr.find("td") is not None]
    assert sorted(leaderboard) == ["iql", "mcts:5", "random"]
    tournament = sections["tournaments"]
    assert tournament.find("h3").text.startswith("Tournament 1") and "(4 games)" in tournament.find("h3").text
    assert [tr.find("td").text for tr in tournament.iter("tr") if tr.find("td") is not None] == ["mcts:5", "random"]
    assert "Support: mcts:5 1.000" in sections["nash"].find("figure/figcaption").text


def test_report_is_self_contained(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert invoke("report", "--run", str(run), "--out", str(out))[0] == 0
    page = out.read_text()
    for banned in ("http://", "https://", "//cdn", "<script", "<link", "<img", "<iframe", "@import", "url(", "src="):
        assert banned not in page, banned
    assert not re.search(r'href="(?!#)', page)  # only in-page anchors


def test_empty_run_still_has_every_section(tmp_path: Path) -> None:
    with Store.open(tmp_path / "run", create=True) as store:
        store.init_run("run", "connect_four", {})
    out = tmp_path / "r.html"
    assert invoke("report", "--run", str(tmp_path / "run"), "--out", str(out)) == (0, f"wrote {out} (0 plots); open it in a browser\n")
    root = parse(out.read_text())
    assert [s.get("id") for s in root.iter("section")] == list(SECTIONS)
    assert [p.text for p in root.iter("p") if p.get("class") == "empty"] == [
        "No rated players yet.", "No rating history yet.", "No games of two or more sides yet.",
        "The Nash mixture needs a payoff matrix of at least two players.", "No training metrics yet.", "No tournaments yet."]


def test_bad_output_and_missing_run(run: Path, tmp_path: Path) -> None:
    assert invoke("report", "--run", str(run), "--out", str(tmp_path / "no" / "r.html")) == (
        1, f"Error: the directory {tmp_path / 'no'} does not exist.\n")
    assert invoke("report", "--run", str(tmp_path / "none"), "--out", str(tmp_path / "r.html"))[0] == 1
    assert not (tmp_path / "r.html").exists()


def test_nice_ticks() -> None:
    assert nice_ticks(0, 1) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(21.3, 38.9) == [25.0, 30.0, 35.0]
    assert nice_ticks(1000, 3000) == [1000.0, 1500.0, 2000.0, 2500.0, 3000.0]
