"""League depth: AlphaStar positions, team and pick-up sides, cooperative free-for-alls,
exploitability and Nash matchmaking on poker, per-capita returns on a general-sum game."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

import games
from league.train.config import TrainConfig, load_config
from league.rate.standings import standings
from league.app.setup import as_mapping
from league.store.database import Store
from league.train.loop import Trainer

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "runs" / "examples").glob("*.toml"))


def train(tmp: Path, values: dict) -> tuple[Trainer, Store, list]:
    config = TrainConfig.from_mapping({"checkpoint_every": 10**9, "batch_games": 16, "round_games": 32, **values})
    store = Store.open(tmp, create=True)
    events = []
    league = Trainer(store, games.load(config.game), config, on_event=events.append)
    league.run()
    return league, store, events


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_configs_train_a_tiny_league(path: Path, tmp_path: Path) -> None:
    """Each example of runs/examples trains as documented, on a tiny budget: games are
    stored and rated, and every learner takes a snapshot."""
    values = as_mapping(load_config(path))
    replay = {"learning_starts": 64, "batch_size": 32, "buffer_size": 2000, "replay_ratio": 4.0}
    tiny = {"iql": replay, "vdn": replay, "qmix": replay, "maddpg": replay, "mappo": {"rollout_steps": 8},
            "alphazero": {"learning_starts": 64, "batch_size": 32, "buffer_size": 2000, "simulations": 2, "eval_simulations": 2}}
    for learner in values["learners"]:
        learner["config"] = {**learner["config"], **tiny[learner["algo"]]}
    values.update(steps=400, batch_games=8, round_games=16, checkpoint_every=10**9, coop_snapshots=1)
    values["snapshots"] = {**values["snapshots"], "min_steps": 200, "max_steps": 200, "eval_games": 2}
    values["evaluation"] = {**values["evaluation"], "every": 10**9, "games": 2}  # the first round's evaluation only
    config = TrainConfig.from_mapping(values)
    with Store.open(tmp_path, create=True) as store:
        league = Trainer(store, games.load(config.game), config)
        league.run()
        assert all(steps >= 400 for steps in league.steps.values())
        assert store.matches(origin="training"), path.stem
        parents = {p.parent for p in store.players() if p.kind in ("snapshot", "team")}
        assert parents >= set(league.learners), f"{path.stem}: a learner never took a snapshot"


def test_alphastar_positions(tmp_path: Path) -> None:
    league, store, events = train(tmp_path, {
        "game": "tic_tac_toe", "steps": 1200,
        "learners": [{"name": "main", "algo": "iql", "position": "main", "config": {"learning_starts": 100}},
                     {"name": "hunter", "algo": "iql", "position": "main_exploiter", "config": {"learning_starts": 100}},
                     {"name": "roamer", "algo": "iql", "position": "league_exploiter", "config": {"learning_starts": 100}}],
        "snapshots": {"min_steps": 300, "max_steps": 300, "eval_games": 4},
        "evaluation": {"every": 10**6, "opponents": ["random"], "games": 2}})
    snaps = [e for e in events if e.kind == "snapshot"]
    assert any("hunter" in e.text and "reset to its initial weights" in e.text for e in snaps)
    assert not any(e.text.startswith("snapshot main-") and "reset" in e.text for e in snaps)
    mains = {"main"} | {p.name for p in store.players() if p.parent == "main"}
    for match in store.matches(origin="training"):
        if "hunter" in match.sides:
            other = [s for s in match.sides if s != "hunter"][0]
            assert other in mains, f"the main exploiter played {other}"
    store.close()


def test_team_and_pick_up_sides(tmp_path: Path) -> None:
    league, store, _ = train(tmp_path, {
        "game": "simple_tag", "steps": 1500, "round_games": 24,
        "learners": [{"name": "team", "algo": "qmix", "role": "predator", "config": {"learning_starts": 200}},
                     {"name": "predators", "algo": "iql", "role": "predator", "config": {"learning_starts": 200}},
                     {"name": "prey", "algo": "mappo", "role": "prey", "matchmaking": {"pickup": 1.0}}],
        "snapshots": {"min_steps": 200, "max_steps": 200, "eval_games": 2},
        "evaluation": {"every": 10**6, "opponents": ["random"], "games": 2}})
    kinds = {p.name: p.kind for p in store.players()}
    assert kinds["team"] == "team" and any(k == "team" and n.startswith("team-") for n, k in kinds.items())
    training = store.matches(origin="training")
    assert any(m.sides[0] == "team" for m in training)  # one entrant filled all three predator seats
    pick_ups = [m for m in training if "+" in m.sides[0]]
    assert pick_ups, "the prey learner never met a pick-up team"
    members = pick_ups[-1].sides[0].split("+")
    assert len(members) == 3 and all(kinds[m] in ("snapshot", "team") for m in members)
    history = {m: len(store.rating_history(m)) for m in members}
    assert all(n >= 2 for n in history.values())  # each member's rating moved with its team's games
    store.close()


def test_cooperative_learners_are_ranked_on_shared_seeds(tmp_path: Path) -> None:
    league, store, _ = train(tmp_path, {
        "game": "simple_spread", "steps": 600, "round_games": 12, "coop_snapshots": 1,
        "learners": [{"algo": "vdn", "config": {"learning_starts": 100}}, {"algo": "mappo"}],
        "snapshots": {"min_steps": 200, "max_steps": 200, "eval_games": 2},
        "evaluation": {"every": 10**6, "opponents": ["random"], "games": 2}})
    by_seed = Counter()
    entrants_by_seed: dict[int, set] = {}
    for match in store.matches(origin="training"):
        by_seed[match.seed] += 1
        entrants_by_seed.setdefault(match.seed, set()).add(match.sides[0])
    assert all({"vdn", "mappo"} <= names for names in entrants_by_seed.values())
    assert any(len(names) == 3 for names in entrants_by_seed.values())  # a snapshot replayed the seed
    ratings = store.ratings()
    assert ratings["vdn"][2] > 0 and ratings["mappo"][2] > 0
    store.close()


def test_kuhn_exploitability_and_nash_matchmaking(tmp_path: Path) -> None:
    league, store, events = train(tmp_path, {
        "game": "kuhn_poker", "steps": 3000, "round_games": 128, "batch_games": 64,
        "learners": [{"algo": "mappo", "config": {"greedy": False},
                      "matchmaking": {"latest": 0.0, "pfsp": 0.0, "nash": 1.0}}],
        "snapshots": {"min_steps": 700, "max_steps": 700, "meta_games": 20},
        "evaluation": {"every": 1000, "opponents": ["random"], "games": 20}})
    keys = {m.key for m in store.metrics(player="mappo")}
    assert {"exploitability", "exploitability/meta", "eval/random"} <= keys
    values = [m.value for m in store.metrics(player="mappo", key="exploitability")]
    assert all(0.0 <= v <= 1.0 for v in values)
    snapshot_rows = [s for s in standings(store) if s.kind == "snapshot"]
    assert snapshot_rows and all(s.exploitability is not None for s in snapshot_rows)
    # once the pool exists, the learner only meets the pool's Nash mixture, never itself
    later = [m for m in store.matches(origin="training") if m.game_index >= league.state.games - 128]  # the last round
    assert later and all(m.sides.count("mappo") == 1 for m in later)
    # the meta-game between snapshots is exact on poker: antisymmetric expected returns
    snaps = [s.name for s in snapshot_rows]
    if len(snaps) >= 2:
        a, b = snaps[:2]
        payoffs = league.metagame.payoffs
        assert (a, b) in payoffs.exact and payoffs.mean_return(a, b) == -payoffs.mean_return(b, a)
    store.close()


def test_general_sum_per_capita_returns(tmp_path: Path) -> None:
    league, store, _ = train(tmp_path, {
        "game": "iterated_prisoners_dilemma", "steps": 800,
        "learners": [{"algo": "mappo"}],
        "snapshots": {"min_steps": 300, "max_steps": 300, "eval_games": 4},
        "evaluation": {"every": 10**6, "opponents": ["random"], "games": 2}})
    rows = {s.name: s for s in standings(store, spec=games.load("iterated_prisoners_dilemma").spec)}
    assert rows["mappo"].per_capita is not None and 0.0 <= rows["mappo"].per_capita <= 50.0
    store.close()
