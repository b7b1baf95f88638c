"""Training loops: a learner plays through the runner, observes every step and updates.

`train` is the inner loop every league run is built on: an endless, lazily generated
queue of games between the learner (exploring) and its opponents (frozen policies,
baselines, or itself for self-play), until the learner has seen `env_steps` transitions.

Example:
    >>> import games
    >>> from agents.baselines import RandomPolicy
    >>> from league.runner import Entrant
    >>> spec = games.load("connect_four").spec
    >>> me, other = Entrant("me", RandomPolicy(spec)), Entrant("other", RandomPolicy(spec))
    >>> [[e.name for e in lineup] for lineup in lineups(spec, "player", me, other)]
    [['me', 'other'], ['other', 'me']]
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Sequence

import numpy as np

from agents.base import Learner, LearnerError, StepBatch
from games.base import Game, GameSpec, derive_seed
from league.ratings import Rater, Rating
from league.runner import Entrant, GameRecord, GameTask, Slot, run
from league.store import Store

if TYPE_CHECKING:
    from league.config import TrainConfig


def lineups(spec: GameSpec, role: str, me: Slot, opponent: Slot) -> list[tuple[Slot, ...]]:
    """Every way to seat `me` on a side of `role`, with `opponent` on each other side."""
    out = []
    for k, side in enumerate(spec.sides):
        if side.role == role:
            out.append(tuple(me if i == k else opponent for i in range(len(spec.sides))))
    if not out:
        raise LearnerError(f"{spec.name} has no side for role {role!r}; roles: {', '.join(spec.roles)}")
    return out


def score(records: Sequence[GameRecord], name: str) -> float:
    """Mean result of entrant `name`: 1 a win, 0.5 a draw, 0 a loss (2+ sides), or its mean return (1 side).

    Example:
        >>> r = GameRecord(0, 0, ("a", "b"), (1.0, -1.0), (), (0, 1), 7, False)
        >>> score([r, GameRecord(1, 0, ("b", "a"), (0.0, 0.0), (), (0, 0), 9, False)], "a")
        0.75
    """
    results = []
    for r in records:
        if name not in r.sides:
            continue
        k = r.sides.index(name)
        if len(r.sides) == 1:
            results.append(r.returns[0])
            continue
        mine, others = r.ranks[k], [x for i, x in enumerate(r.ranks) if i != k]
        results.append(1.0 if all(mine < o for o in others) else 0.5 if all(mine <= o for o in others) else 0.0)
    if not results:
        raise ValueError(f"no game of {name!r} among the records")
    return float(np.mean(results))


@dataclass
class TrainingLog:
    """What `train` did: games played, wall time, and the mean of each update metric."""

    games: int = 0
    env_steps: int = 0
    seconds: float = 0.0
    records: list[GameRecord] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)


def train(
    game: Game,
    learner: Learner,
    *,
    env_steps: int,
    opponents: Sequence[Entrant] = (),
    self_play: bool = False,
    name: str = "learner",
    batch: int = 64,
    seed: int = 0,
    on_step: Callable[[StepBatch], None] | None = None,
    keep_records: bool = False,
) -> TrainingLog:
    """Train `learner` until it has observed `env_steps` more transitions.

    Games cycle through the opponents (and the learner itself with `self_play`), seating
    the learner on every side of its role in turn. A one-side (cooperative) game needs no
    opponent.
    """
    spec = game.spec
    me = Entrant(name, learner.policy(), explore=True)
    pool: list[Slot] = list(opponents) + ([me] if self_play else [])
    if not pool and len(spec.sides) > 1:
        raise LearnerError("training needs an opponent: give opponents or self_play=True")
    start_steps = learner.env_steps
    target = start_steps + env_steps
    log = TrainingLog()
    sums: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)

    def tasks() -> Iterator[GameTask]:
        for index in itertools.count():
            if learner.env_steps >= target:
                return
            if len(spec.sides) == 1:
                lineup = (me,)
            else:
                options = lineups(spec, learner.role, me, pool[index % len(pool)])
                lineup = options[(index // len(pool)) % len(options)]
            yield GameTask(index=index, seed=derive_seed(seed, index), lineup=lineup)

    def step(batch_: StepBatch) -> None:
        learner.observe(batch_)
        for key, value in learner.update().items():
            sums[key] += value
            counts[key] += 1
        if on_step is not None:
            on_step(batch_)

    begin = time.perf_counter()
    records = run(game, tasks(), batch=batch, on_step=step, with_state=getattr(learner, "needs_state", False),
                  collect=keep_records, on_record=lambda r: _count(log))
    log.seconds = time.perf_counter() - begin
    log.records = records
    log.env_steps = learner.env_steps - start_steps
    log.metrics = {k: sums[k] / counts[k] for k in sums}
    return log


def _count(log: TrainingLog) -> None:
    log.games += 1


def evaluate(game: Game, policy_entrant: Entrant, opponent: Entrant, n_games: int, *, seed: int = 12345,
             batch: int = 128) -> float:
    """`score` of `policy_entrant` over `n_games` against `opponent`, sides alternated."""
    spec = game.spec
    role = next((side.role for side in spec.sides if side.role in _roles_of(policy_entrant, spec)), spec.sides[0].role)
    options = lineups(spec, role, policy_entrant, opponent) if len(spec.sides) > 1 else [(policy_entrant,)]
    tasks = [GameTask(index=k, seed=derive_seed(seed, k // len(options)), lineup=options[k % len(options)])
             for k in range(n_games)]
    return score(run(game, tasks, batch=batch), policy_entrant.name)


def _roles_of(entrant: Entrant, spec: GameSpec) -> list[str]:
    """Roles the entrant's policy can play (every role, unless it says otherwise)."""
    roles = []
    for side in spec.sides:
        if entrant.policy.unsupported(spec, side.seats) is None:
            roles.append(side.role)
    return roles


# -- the league -------------------------------------------------------------------------------

TEAM_ALGORITHMS = ("vdn", "qmix")


@dataclass
class Event:
    """Something the live display shows: a round, a snapshot, an evaluation."""

    kind: str  # "round" | "snapshot" | "evaluation" | "checkpoint"
    text: str
    data: dict = field(default_factory=dict)


class League:
    """The loop behind `league train`.

    Each round: matchmaking picks an opponent for every game; the runner plays a batch
    of games in lockstep (learners explore, snapshots are frozen, all inference batched);
    every step goes to the learners, which update on their own schedule; finished games
    are stored and rated in one transaction; then the snapshot rule, evaluations and
    checkpoints run. `league train` on an existing run resumes from its last checkpoint.
    """

    def __init__(self, store: Store, game: Game, config: "TrainConfig", *,
                 on_event: Callable[[Event], None] | None = None):
        from agents.registry import make_learner
        from league.entrants import SnapshotCache
        from league.matchmaking import Mix, PayoffTable

        self.store, self.game, self.config = store, game, config
        self.spec = game.spec
        self.on_event = on_event or (lambda event: None)
        if not config.learners:
            raise LearnerError("a league needs at least one learner, e.g. --algo mappo")
        self.learners: dict[str, Learner] = {}
        self.mixes: dict[str, Mix] = {}
        for k, spec in enumerate(config.learners):
            role = spec.role or self.spec.sides[0].role
            learner = make_learner(spec.algo, self.spec, role, config=spec.config,
                                   seed=int(derive_seed(config.seed, k, spec.seed) % (2**31)))
            self.learners[spec.name] = learner
            self.mixes[spec.name] = Mix.from_mapping({**config.matchmaking, **spec.matchmaking})
        self._check_roles()
        self.entrants = {name: Entrant(name, learner.policy(), explore=True) for name, learner in self.learners.items()}
        self.cache = SnapshotCache(store, self.spec, capacity=config.pool_cache)
        self.table = PayoffTable()
        self.rng = np.random.default_rng(config.seed)
        self.rater = rater_from(config.ratings)
        self.round = 0
        self.games = 0
        self.last_snapshot = dict.fromkeys(self.learners, 0)
        self.last_eval = dict.fromkeys(self.learners, -config.evaluation.every)
        self.last_checkpoint = 0
        self.recent: dict[str, dict[str, int]] = {name: {} for name in self.learners}
        self.snapshots: list[str] = []
        self.latest_eval: dict[str, dict[str, float]] = {name: {} for name in self.learners}
        self.env = game.make(config.batch_games, seed=config.seed)
        self.stop_requested = False
        self.steps_per_second = 0.0

    # -- setup ------------------------------------------------------------------------------
    def _check_roles(self) -> None:
        """Every side must be fillable: by a learner of its role or by the pool's baselines."""
        roles = {learner.role for learner in self.learners.values()}
        if len(self.spec.sides) == 1:
            return
        for learner in self.learners.values():
            for side in self.spec.sides:
                if side.role != learner.role and side.role not in roles:
                    raise LearnerError(
                        f"{self.spec.name} needs a learner for role {side.role!r} too (its opponents), "
                        f"e.g. [[learners]] algo = \"mappo\" role = \"{side.role}\"")

    def register_players(self) -> None:
        for name, learner in self.learners.items():
            kind = "team" if learner.algorithm in TEAM_ALGORITHMS else "learner"
            if self.store.player(name) is None:
                self.store.add_player(name, kind, algorithm=learner.algorithm, role=learner.role)

    # -- the loop ---------------------------------------------------------------------------
    def done(self) -> bool:
        return all(learner.env_steps >= self.config.steps for learner in self.learners.values())

    def run(self) -> None:
        """Train until every learner has `steps` env steps or a stop is requested; checkpoint at the end."""
        self.register_players()
        if self.round == 0 and read_state_or_none(self.store) is None:
            self.checkpoint()
        while not self.done() and not self.stop_requested:
            start_steps = sum(l.env_steps for l in self.learners.values())
            start = time.perf_counter()
            records, metrics = self.play_round()
            self.store_round(records, metrics)
            elapsed = time.perf_counter() - start
            self.steps_per_second = (sum(l.env_steps for l in self.learners.values()) - start_steps) / max(elapsed, 1e-9)
            self.round += 1
            for name in self.learners:
                self.maybe_snapshot(name)
                self.maybe_evaluate(name)
            self.on_event(Event("round", f"round {self.round}", self.status()))
            if min(l.env_steps for l in self.learners.values()) - self.last_checkpoint >= self.config.checkpoint_every:
                self.checkpoint()
        self.checkpoint()

    def status(self) -> dict:
        return {
            "round": self.round,
            "steps": {name: l.env_steps for name, l in self.learners.items()},
            "steps_per_second": self.steps_per_second,
            "pool": len(self.snapshots),
            "evaluation": self.latest_eval,
        }

    def _pool(self, role: str) -> list[str]:
        """Frozen players that can sit on a side of `role`."""
        return [name for name in self.snapshots if self._role_of(name) == role]

    def _role_of(self, name: str) -> str:
        if name in self.learners:
            return self.learners[name].role
        player = self.store.player(name)
        return player.role if player is not None and player.role else self.spec.sides[0].role

    def _entrant(self, name: str) -> Entrant:
        if name in self.entrants:
            return self.entrants[name]
        player = self.store.player(name)
        return Entrant(name, self.cache.get(player))

    def play_round(self) -> tuple[list[GameRecord], dict[str, dict[str, float]]]:
        from league.matchmaking import choose_opponent

        spec = self.spec
        active = [n for n, l in self.learners.items() if l.env_steps < self.config.steps] or list(self.learners)
        tasks = []
        for k in range(self.config.round_games):
            me = active[k % len(active)]
            learner = self.learners[me]
            seed = derive_seed(self.config.seed, self.round, k)
            if len(spec.sides) == 1:
                lineup: tuple[Slot, ...] = (self.entrants[me],)
            else:
                other_role = next(side.role for side in spec.sides if side.role != learner.role) \
                    if not spec.symmetric else learner.role
                latest = [n for n, l in self.learners.items() if l.role == other_role]
                opponent = choose_opponent(me, self.mixes[me], latest, self._pool(other_role), self.table, self.rng)
                self.recent[me][opponent] = self.recent[me].get(opponent, 0) + 1
                options = lineups(spec, learner.role, self.entrants[me], self._entrant(opponent))
                lineup = options[(k // len(active)) % len(options)]
            tasks.append(GameTask(index=self.games + k, seed=seed, lineup=lineup))
        sums: dict[str, dict[str, float]] = {n: defaultdict(float) for n in self.learners}
        counts: dict[str, dict[str, int]] = {n: defaultdict(int) for n in self.learners}

        def observe(batch: StepBatch) -> None:
            for name, learner in self.learners.items():
                learner.observe(batch)
                for key, value in learner.update().items():
                    if not np.isfinite(value):
                        raise LearnerError(f"learner {name!r} reported {key}={value} at step {learner.env_steps}")
                    sums[name][key] += value
                    counts[name][key] += 1

        needs_state = any(getattr(l, "needs_state", False) for l in self.learners.values())
        records = run(self.game, tasks, env=self.env, on_step=observe, with_state=needs_state)
        self.games += len(tasks)
        metrics = {n: {k: sums[n][k] / counts[n][k] for k in sums[n]} for n in self.learners}
        return records, metrics

    def store_round(self, records: Sequence[GameRecord], metrics: dict[str, dict[str, float]],
                    origin: str = "training") -> None:
        """Rate the games in order and store them in one transaction; update the payoff table."""
        from league.store import NewMatch

        from agents.baselines import is_baseline_name

        items = []
        for side in {side for record in records for side in record.sides}:
            for member in side.split("+"):
                if is_baseline_name(member) and self.store.player(member) is None:
                    self.store.add_player(member, "baseline")
        current = {name: Rating(mu, sigma) for name, (mu, sigma, _) in self.store.ratings().items()}
        for record in records:
            teams = [[(m, self.rater.anchors.get(m) or current.get(m) or self.rater.initial())
                      for m in side.split("+")] for side in record.sides]
            updates = {}
            names = [member for team in teams for member, _ in team]
            if len(teams) > 1 and len(set(names)) == len(names):  # a learner playing itself is not rated
                for team, rated in zip(teams, self.rater.rate(teams, record.ranks)):
                    for (member, _), rating in zip(team, rated):
                        updates[member] = rating
                current.update(updates)
                a, b = record.sides[0], record.sides[1]
                self.table.add(a, b, score([record], a))
            items.append((NewMatch(origin=origin, game=self.spec.name, seed=record.seed, sides=record.sides,
                                   returns=record.returns, ranks=record.ranks, length=record.length,
                                   truncated=record.truncated, game_index=record.index if origin == "training" else None),
                          {n: (r.mu, r.sigma) for n, r in updates.items()}))
        self.store.record_matches(items)
        for name, values in metrics.items():
            if values:
                self.store.add_metrics(name, self.learners[name].env_steps, values)

    # -- snapshots and evaluation -----------------------------------------------------------------
    def maybe_snapshot(self, name: str) -> None:
        """AlphaStar's rule: not before min_steps; then when it beats its recent opponents
        win_rate of the time in dedicated games; always after max_steps."""
        rule = self.config.snapshots
        learner = self.learners[name]
        since = learner.env_steps - self.last_snapshot[name]
        if since < rule.min_steps:
            return
        reason = "max_steps"
        if since < rule.max_steps:
            opponents = self._frozen_opponents(name)
            if opponents:
                win = self._eval_against(name, opponents, rule.eval_games)
                if win < rule.win_rate:
                    return
                reason = f"win rate {win:.2f} against {', '.join(opponents)}"
            else:
                reason = "first snapshot"
        self.snapshot(name, reason)

    def _frozen_opponents(self, name: str) -> list[str]:
        """The frozen stand-ins of the opponents it met since its last snapshot (most met first)."""
        out = []
        for opponent, _ in sorted(self.recent[name].items(), key=lambda item: -item[1]):
            if opponent in self.learners:
                mine = [s for s in self.snapshots if self.store.player(s).parent == opponent]
                opponent = mine[-1] if mine else None
            if opponent is not None and opponent not in out:
                out.append(opponent)
        return out[:4]

    def _eval_against(self, name: str, opponents: Sequence[str], n_games: int) -> float:
        learner = self.learners[name]
        me = Entrant(name, learner.policy(), explore=False)
        per = max(2, (n_games // len(opponents)) // 2 * 2)
        records = []
        for k, opponent in enumerate(opponents):
            options = lineups(self.spec, learner.role, me, self._entrant(opponent))
            tasks = [GameTask(index=j, seed=derive_seed(self.config.seed, 0x5EED, self.round, k, j // len(options)),
                              lineup=options[j % len(options)]) for j in range(per)]
            records += run(self.game, tasks, batch=min(per, self.config.batch_games))
        self.store_round(records, {}, origin="evaluation")
        return score(records, name)

    def snapshot(self, name: str, reason: str) -> str:
        from league.entrants import save_snapshot

        learner = self.learners[name]
        count = sum(1 for s in self.snapshots if s.startswith(f"{name}-"))
        snap = f"{name}-{count + 1:03d}"
        tensors, meta = learner.policy_state()
        kind = "team" if learner.algorithm in TEAM_ALGORITHMS else "snapshot"
        save_snapshot(self.store, snap, tensors, {**meta, "game": self.spec.name, "algorithm": learner.algorithm,
                                                  "role": learner.role},
                      kind=kind, parent=name, step=learner.env_steps)
        parent = self.store.rating(name)
        mu = parent[0] if parent else self.rater.initial().mu
        self.store.set_rating(snap, mu, self.rater.initial().sigma)
        self.snapshots.append(snap)
        self.last_snapshot[name] = learner.env_steps
        self.recent[name] = {}
        self.on_event(Event("snapshot", f"snapshot {snap} of {name} at step {learner.env_steps:,} ({reason})",
                            {"snapshot": snap, "learner": name, "step": learner.env_steps}))
        return snap

    def maybe_evaluate(self, name: str) -> None:
        learner = self.learners[name]
        evaluation = self.config.evaluation
        if learner.env_steps - self.last_eval[name] < evaluation.every or not evaluation.opponents:
            return
        self.last_eval[name] = learner.env_steps
        self.latest_eval[name] = self.evaluate(name)
        self.store.add_metrics(name, learner.env_steps, {f"eval/{o}": v for o, v in self.latest_eval[name].items()})
        shown = ", ".join(f"{o} {v:.2f}" for o, v in self.latest_eval[name].items())
        self.on_event(Event("evaluation", f"{name} at step {learner.env_steps:,}: {shown}",
                            {"learner": name, "step": learner.env_steps, "scores": self.latest_eval[name]}))

    def evaluate(self, name: str) -> dict[str, float]:
        """Score (win rate, or mean return on one-side games) against each reference bot."""
        from league.entrants import resolve

        learner = self.learners[name]
        me = Entrant(name, learner.policy(), explore=False)
        results = {}
        for k, bot in enumerate(resolve(self.config.evaluation.opponents, self.spec)):
            if len(self.spec.sides) > 1:
                options = lineups(self.spec, learner.role, me, bot)
            else:
                options = [(me,)]
            n = self.config.evaluation.games
            tasks = [GameTask(index=j, seed=derive_seed(self.config.seed, 0xE7A1, k, j // len(options)),
                              lineup=options[j % len(options)]) for j in range(n)]
            records = run(self.game, tasks, batch=min(n, self.config.batch_games))
            self.store_round(records, {}, origin="evaluation")
            results[bot.name] = score(records, name)
        return results

    # -- checkpoints and resume -------------------------------------------------------------------
    def checkpoint(self) -> None:
        from league.checkpoints import prune, save_learner, write_trainer_state

        files = {name: save_learner(self.store, name, learner, self.round) for name, learner in self.learners.items()}
        state = {
            "config": self.config.to_toml(),
            "round": self.round,
            "games": self.games,
            "learners": files,
            "last_snapshot": self.last_snapshot,
            "last_eval": self.last_eval,
            "last_checkpoint": min(l.env_steps for l in self.learners.values()),
            "recent": self.recent,
            "snapshots": self.snapshots,
            "latest_eval": self.latest_eval,
            "table": self.table.state(),
            "rng": self.rng.bit_generator.state,
            "store": self.store.last_ids(),
        }
        write_trainer_state(self.store, state)  # the commit point
        self.last_checkpoint = state["last_checkpoint"]
        prune(self.store, {path for f in files.values() for path in (f["weights"], f["manifest"])})
        self.on_event(Event("checkpoint", f"checkpoint at round {self.round}", {"round": self.round}))

    def resume(self) -> bool:
        """Restore the last checkpoint and undo what was stored after it; False if there is none."""
        from league.checkpoints import load_learner, orphan_snapshot_files, read_trainer_state
        from league.matchmaking import PayoffTable

        state = read_trainer_state(self.store)
        if state is None:
            return False
        missing = set(self.learners) ^ set(state["learners"])
        if missing:
            from league.checkpoints import ResumeError

            raise ResumeError(f"the run's checkpoint has learners {sorted(state['learners'])}, "
                              f"the configuration {sorted(self.learners)}")
        for name, learner in self.learners.items():
            load_learner(self.store, learner, state["learners"][name])
        kept = set(state["snapshots"])
        later = [p.name for p in self.store.players() if p.parent in self.learners and p.name not in kept]
        self.store.rollback(after_match=state["store"]["match"], after_metric=state["store"]["metric"],
                            drop_players=later)
        orphan_snapshot_files(self.store, {p.name for p in self.store.players()})
        self.round, self.games = state["round"], state["games"]
        self.last_snapshot, self.last_eval = state["last_snapshot"], state["last_eval"]
        self.last_checkpoint = state["last_checkpoint"]
        self.recent, self.snapshots = state["recent"], list(state["snapshots"])
        self.latest_eval = state["latest_eval"]
        self.table = PayoffTable.from_state(state["table"])
        self.rng.bit_generator.state = state["rng"]
        return True


def rater_from(settings: Mapping[str, Any]) -> Rater:
    """A Rater from a run's `ratings` settings: TrueSkill keys plus `anchors = {name = mu}`."""
    from league.ratings import RatingConfig

    values = dict(settings or {})
    anchors = values.pop("anchors", {}) or {}
    config = RatingConfig.from_mapping(values)
    return Rater(config=config, anchors={name: Rating(float(mu), config.sigma / 10) for name, mu in anchors.items()})


def read_state_or_none(store: Store) -> dict | None:
    from league.checkpoints import read_trainer_state

    return read_trainer_state(store)
