"""`league train`: the league loop, its snapshots, evaluations, checkpoints and resume.

Example:
    >>> from league.train.loop import League, lineups, score, train  # the loop and its parts
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import numpy as np

from agents.base import Learner, LearnerError, StepBatch
from games.base import Game, derive_seed
from league.play.runner import Entrant, GameRecord, GameTask, Slot, run
from league.rate.ratings import Rater, Rating
from league.store.database import Store
from league.train.selfplay import TrainingLog, evaluate, lineups, score, train  # noqa: F401 - re-exported

if TYPE_CHECKING:
    from league.train.config import TrainConfig


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

    Each round: matchmaking picks an opponent for every game (a learner's mix of latest,
    past, PFSP and Nash draws, or its AlphaStar position); the runner plays the games in
    lockstep (learners explore, snapshots are frozen, all inference batched); every step
    goes to the learners, which update on their own schedule; finished games are rated and
    stored in one transaction; then the snapshot rule, evaluations and checkpoints run.
    A one-side (cooperative) game has no opponents: learners and a few pool members play
    the same seeds and are ranked by return as free-for-alls.
    """

    def __init__(self, store: Store, game: Game, config: "TrainConfig", *,
                 on_event: Callable[[Event], None] | None = None, backend=None):
        from agents.registry import make_learner
        from league.play.entrants import SnapshotCache, resolve
        from league.rate.metagame import exploitability_supported
        from league.train.matchmaking import Mix, PayoffTable

        self.store, self.game, self.config = store, game, config
        self.spec = game.spec
        self.on_event = on_event or (lambda event: None)
        if not config.learners:
            raise LearnerError("a league needs at least one learner, e.g. --algo mappo")
        self.learners: dict[str, Learner] = {}
        self.mixes: dict[str, Mix] = {}
        self.positions: dict[str, str] = {}
        self.resets: dict[str, float] = {}
        for k, spec in enumerate(config.learners):
            role = spec.role or self.spec.sides[0].role
            learner = make_learner(spec.algo, self.spec, role, config=spec.config,
                                   seed=int(derive_seed(config.seed, k, spec.seed) % (2**31)))
            self.learners[spec.name] = learner
            self.mixes[spec.name] = Mix.from_mapping({**config.matchmaking, **spec.matchmaking})
            self.positions[spec.name] = spec.position
            # AlphaStar: main exploiters always, league exploiters a quarter of the time
            self.resets[spec.name] = spec.reset or {"main_exploiter": 1.0, "league_exploiter": 0.25}.get(spec.position, 0.0)
        self.baselines = {e.name: e for e in resolve(list(config.pool_baselines), self.spec)}
        self._check_roles()
        # exploiters return to these weights when they snapshot (AlphaStar)
        self.initial = {name: self.learners[name].state_dict() for name, p in self.resets.items() if p > 0}
        self.entrants = {name: Entrant(name, learner.policy(), explore=True) for name, learner in self.learners.items()}
        self.cache = SnapshotCache(store, self.spec, capacity=config.pool_cache)
        self.table = PayoffTable()
        self.meta: dict[str, list[float]] = {}  # "a|b" -> [sum of a's returns against b, games]
        self.rng = np.random.default_rng(config.seed)
        self.rater = rater_from(config.ratings)
        self.exploitable = config.evaluation.exploitability and exploitability_supported(self.spec) is None
        self.round = 0
        self.games = 0
        # league-level env steps: game steps in which a learner moved (the same unit for every
        # algorithm, whatever its own transition count; and they survive exploiter resets)
        self.steps = dict.fromkeys(self.learners, 0)
        self._moved = dict.fromkeys(self.learners, 0)
        self.last_snapshot = dict.fromkeys(self.learners, 0)
        self.last_eval = dict.fromkeys(self.learners, -config.evaluation.every)
        self.last_checkpoint = 0
        self.recent: dict[str, dict[str, int]] = {name: {} for name in self.learners}
        self.snapshots: list[str] = []
        self.latest_eval: dict[str, dict[str, float]] = {name: {} for name in self.learners}
        self.backend = backend if backend is not None and backend.name != "local" else None
        self.env = game.make(config.batch_games, seed=config.seed) if self.backend is None else None
        self.stop_requested = False
        self.steps_per_second = 0.0
        # wall seconds: whole rounds of play, and the learners' share of them (observe + update)
        self.timings = {"round": 0.0, "learn": 0.0}

    # -- setup ------------------------------------------------------------------------------
    def _check_roles(self) -> None:
        """Every side must be fillable: by a learner of its role or by the pool's baselines."""
        if len(self.spec.sides) == 1:
            return
        roles = {learner.role for learner in self.learners.values()}
        for learner in self.learners.values():
            for side in self.spec.sides:
                if side.role != learner.role and side.role not in roles and not self.baselines:
                    raise LearnerError(
                        f"{self.spec.name} needs a learner for role {side.role!r} too (its opponents), "
                        f"e.g. [[learners]] algo = \"mappo\" role = \"{side.role}\", or pool_baselines = [\"random\"]")

    def register_players(self) -> None:
        for name, learner in self.learners.items():
            kind = "team" if learner.algorithm in TEAM_ALGORITHMS else "learner"
            if self.store.player(name) is None:
                self.store.add_player(name, kind, algorithm=learner.algorithm, role=learner.role,
                                      meta={"position": self.positions[name]} if self.positions[name] else None)
        for name in self.baselines:
            if self.store.player(name) is None:
                self.store.add_player(name, "baseline")

    # -- the loop ---------------------------------------------------------------------------
    def done(self) -> bool:
        return all(steps >= self.config.steps for steps in self.steps.values())

    def _count_steps(self) -> None:
        for name in self.learners:
            self.steps[name] += self._moved[name]
            self._moved[name] = 0

    def run(self) -> None:
        """Train until every learner has `steps` env steps or a stop is requested; checkpoint at the end."""
        self.register_players()
        if self.round == 0 and read_state_or_none(self.store) is None:
            self.checkpoint()
        while not self.done() and not self.stop_requested:
            before = sum(self.steps.values())
            start = time.perf_counter()
            records, metrics = self.play_round()
            self._count_steps()
            self.store_round(records, metrics)
            self.steps_per_second = (sum(self.steps.values()) - before) / max(time.perf_counter() - start, 1e-9)
            self.round += 1
            for name in self.learners:
                self.maybe_snapshot(name)
                self.maybe_evaluate(name)
            self.on_event(Event("round", f"round {self.round}", self.status()))
            if min(self.steps.values()) - self.last_checkpoint >= self.config.checkpoint_every:
                self.checkpoint()
        self.checkpoint()

    def status(self) -> dict:
        return {"round": self.round, "steps": dict(self.steps), "steps_per_second": self.steps_per_second,
                "pool": len(self.snapshots), "evaluation": self.latest_eval}

    # -- who plays whom -----------------------------------------------------------------------
    def _player(self, name: str):
        """The store's row of a player, cached (players never change once written; rollbacks clear it)."""
        cache = self.__dict__.setdefault("_players", {})
        if name not in cache:
            cache[name] = self.store.player(name)
        return cache[name]

    def _role_of(self, name: str) -> str | None:
        """The role a player plays (None: any role, as baselines do)."""
        if name in self.learners:
            return self.learners[name].role
        if name in self.baselines:
            return None
        player = self._player(name)
        return player.role if player is not None and player.role else None

    def _historical(self, role: str):
        """Frozen players that can sit on a side of `role`, oldest first: snapshots, then pool baselines."""
        from league.train.matchmaking import Historical

        out = []
        for name in self.snapshots:
            if self._role_of(name) in (role, None):
                parent = self._player(name).parent or ""
                out.append(Historical(name, parent, self.positions.get(parent, "")))
        out += [Historical(name, "", "") for name in self.baselines]
        return out

    def _entrant(self, name: str) -> Entrant:
        """The entrant called `name`; one object per name within a round, so the runner batches
        every game of a snapshot into one forward pass (it groups copies by entrant)."""
        if name in self.entrants:
            return self.entrants[name]
        if name in self.baselines:
            return self.baselines[name]
        frozen = self.__dict__.setdefault("_frozen", {})
        if frozen.get("round") != self.round:
            frozen.clear()
            frozen["round"] = self.round
        if name not in frozen:
            frozen[name] = Entrant(name, self.cache.get(self._player(name)))
        return frozen[name]

    def _other_role(self, role: str) -> str:
        if self.spec.symmetric:
            return role
        return next(side.role for side in self.spec.sides if side.role != role)

    def _round_pool(self, role: str):
        """The pool of a role and its Nash mixture, computed once per round (not once per game)."""
        cache = self.__dict__.setdefault("_pools", {})
        key = (self.round, len(self.snapshots), role)
        if key not in cache:
            cache.clear()
            pool = self._historical(role)
            names = [h.name for h in pool]
            wants_nash = any(self.mixes[n].nash > 0 for n in self.learners)
            cache[key] = (pool, self.nash_weights(names) if wants_nash and names else None)
        return cache[key]

    def _opponent(self, me: str) -> str:
        from league.train.matchmaking import alphastar_opponent, choose_opponent

        role = self._other_role(self.learners[me].role)
        pool, nash_weights = self._round_pool(role)
        if self.positions[me]:
            mains = [n for n, l in self.learners.items() if self.positions[n] == "main" and l.role == role]
            return alphastar_opponent(me, self.positions[me], mains, pool, self.table, self.rng)
        latest = [n for n, l in self.learners.items() if l.role == role]
        past = [h.name for h in pool]
        nash = nash_weights if self.mixes[me].nash > 0 else None
        return choose_opponent(me, self.mixes[me], latest, past, self.table, self.rng, nash)

    def _opposing_slot(self, me: str, opponent: str, side_index: int) -> Slot:
        """The opponent's entrant, or a pick-up team of pool members for a side of several seats."""
        from league.train.matchmaking import pfsp_weights

        side = self.spec.sides[side_index]
        mix = self.mixes[me]
        pool = [h.name for h in self._round_pool(side.role)[0]]
        if mix.pickup > 0 and len(side.seats) > 1 and len(pool) >= len(side.seats) and self.rng.random() < mix.pickup:
            weights = pfsp_weights([self.table.win_rate(me, p) for p in pool], mix.weighting)
            chosen = self.rng.choice(len(pool), size=len(side.seats), replace=False, p=weights)
            return tuple(self._entrant(pool[int(c)]) for c in chosen)
        return self._entrant(opponent)

    def play_round(self) -> tuple[list[GameRecord], dict[str, dict[str, float]]]:
        active = [n for n in self.learners if self.steps[n] < self.config.steps] or list(self.learners)
        tasks = self._cooperative_tasks(active) if len(self.spec.sides) == 1 else self._competitive_tasks(active)
        sums: dict[str, dict[str, float]] = {n: defaultdict(float) for n in self.learners}
        counts: dict[str, dict[str, int]] = {n: defaultdict(int) for n in self.learners}

        def observe(batch: StepBatch) -> None:
            started = time.perf_counter()
            for name, learner in self.learners.items():
                policy = self.entrants[name].policy
                moved = np.zeros(len(batch.result.terminated), dtype=bool)
                for seat in learner.seats:
                    moved |= batch.rows_of(policy, seat)
                self._moved[name] += int(moved.sum())
                learner.observe(batch)
                for key, value in learner.update().items():
                    if not np.isfinite(value):
                        raise LearnerError(f"learner {name!r} reported {key}={value} at step {learner.env_steps}")
                    sums[name][key] += value
                    counts[name][key] += 1
            self.timings["learn"] += time.perf_counter() - started

        started = time.perf_counter()
        needs_state = any(getattr(l, "needs_state", False) for l in self.learners.values())
        if self.backend is None:
            records = run(self.game, tasks, env=self.env, on_step=observe, with_state=needs_state)
        else:
            records = self._play_remote(tasks, observe, needs_state)
        self.timings["round"] += time.perf_counter() - started
        self.games += len(tasks)
        metrics = {n: {k: sums[n][k] / counts[n][k] for k in sums[n]} for n in self.learners}
        return records, metrics

    def _play_remote(self, tasks: list[GameTask], observe: Callable[[StepBatch], None],
                     needs_state: bool) -> list[GameRecord]:
        """Rollouts on the backend's workers with this round's weights; learning stays here.

        Each worker gets a contiguous share of the round's games, the learners' current
        policies (weights sent once per round) and the frozen opponents; the steps it played
        come back and are fed to the learners chunk by chunk, as if played here. The policies
        are those of the round's start, so on-policy learners see slightly older data than
        in a local run.
        """
        from dataclasses import replace

        from agents.checkpoint import pack
        from league.play.backends import EntrantSpec, LearnerSpec, _spec_of
        from league.play.entrants import snapshot_paths

        learners = []
        for name, learner in self.learners.items():
            tensors, meta = learner.policy_state()
            blob, manifest = pack(tensors, {**meta, "game": self.spec.name, "algorithm": learner.algorithm,
                                            "role": learner.role})
            epsilon = getattr(learner, "epsilon", None)
            epsilon = epsilon() if callable(epsilon) else epsilon
            learners.append(LearnerSpec(name, blob, manifest, float(epsilon) if epsilon is not None else None))
        others = {}
        for task in tasks:
            for slot in task.lineup:
                for entrant in (slot if isinstance(slot, tuple) else (slot,)):
                    if entrant.name in self.learners or entrant.name in others:
                        continue
                    player = self.store.player(entrant.name)
                    if player is not None and player.weights_path:
                        weights, manifest_path = snapshot_paths(entrant.name)
                        others[entrant.name] = EntrantSpec(
                            entrant.name, self.store.verify_file(weights, player.weights_sha256).read_bytes(),
                            json.loads(self.store.verify_file(manifest_path, player.meta["manifest_sha256"]).read_text()))
                    else:
                        others[entrant.name] = EntrantSpec(entrant.name)
        shares = max(1, min(self.backend.workers, len(tasks)))
        size = -(-len(tasks) // shares)
        chunks = [[_spec_of(t) for t in tasks[k:k + size]] for k in range(0, len(tasks), size)]
        per_worker = max(1, self.config.batch_games // shares)
        results = self.backend.rollouts(self.game, learners, list(others.values()), chunks, per_worker, needs_state)
        mine = {name: self.entrants[name].policy for name in self.learners}
        strangers: dict[str, object] = {}
        records = []
        for chunk_records, steps in results:
            for step in steps:
                policies = tuple(mine.get(n) or strangers.setdefault(n, object()) for n in step.policies)
                observe(replace(step, policies=policies))
            records += chunk_records
        return sorted(records, key=lambda r: r.index)

    def _competitive_tasks(self, active: list[str]) -> list[GameTask]:
        tasks = []
        for k in range(self.config.round_games):
            me = active[k % len(active)]
            learner = self.learners[me]
            opponent = self._opponent(me)
            self.recent[me][opponent] = self.recent[me].get(opponent, 0) + 1
            mine = [i for i, side in enumerate(self.spec.sides) if side.role == learner.role]
            seat_at = mine[(k // len(active)) % len(mine)]  # alternate sides in symmetric games
            lineup = tuple(self.entrants[me] if i == seat_at else self._opposing_slot(me, opponent, i)
                           for i in range(len(self.spec.sides)))
            tasks.append(GameTask(index=self.games + k, seed=derive_seed(self.config.seed, self.round, k), lineup=lineup))
        return tasks

    def _cooperative_tasks(self, active: list[str]) -> list[GameTask]:
        """Learners and a few pool members play the same seeds, to be ranked per seed."""
        pool = self._historical(self.spec.sides[0].role)
        per_seed = len(active) + min(self.config.coop_snapshots, len(pool))
        tasks = []
        for g in range(max(1, self.config.round_games // per_seed)):
            seed = derive_seed(self.config.seed, self.round, g)
            players = [self.entrants[n] for n in active]
            if pool and self.config.coop_snapshots:
                picks = self.rng.choice(len(pool), size=min(self.config.coop_snapshots, len(pool)), replace=False)
                players += [self._entrant(pool[int(i)].name) for i in picks]
            for entrant in players:
                tasks.append(GameTask(index=self.games + len(tasks), seed=seed, lineup=(entrant,)))
        return tasks

    # -- results ------------------------------------------------------------------------------
    def store_round(self, records: Sequence[GameRecord], metrics: dict[str, dict[str, float]],
                    origin: str = "training") -> None:
        """Rate the games in order and store them in one transaction; update the payoff tables."""
        from agents.baselines import is_baseline_name
        from league.rate.updates import members, rate_records
        from league.store.database import NewMatch

        for side in {side for record in records for side in record.sides}:
            for member in members(side):
                if is_baseline_name(member) and self.store.player(member) is None:
                    self.store.add_player(member, "baseline")
        current = {name: Rating(mu, sigma) for name, (mu, sigma, _) in self.store.ratings().items()}
        updates = rate_records(records, self.rater, current)
        items = []
        for record, update in zip(records, updates):
            if len(record.sides) == 2 and record.sides[0] != record.sides[1]:
                a, b = record.sides
                self.table.add(a, b, score([record], a))
                for x, y, r in ((a, b, record.returns[0]), (b, a, record.returns[1])):
                    cell = self.meta.setdefault(f"{x}|{y}", [0.0, 0.0])
                    cell[0] += r
                    cell[1] += 1
            items.append((NewMatch(origin=origin, game=self.spec.name, seed=record.seed, sides=record.sides,
                                   returns=record.returns, ranks=record.ranks, length=record.length,
                                   truncated=record.truncated, game_index=record.index if origin == "training" else None),
                          {n: (r.mu, r.sigma) for n, r in update.items()}))
        self.store.record_matches(items)
        for name, values in metrics.items():
            if values:
                self.store.add_metrics(name, self.steps[name], values)

    def nash_weights(self, names: Sequence[str]) -> list[float]:
        """The Nash mixture over `names` of the zero-sum game of mean returns between them (unplayed pairs: 0)."""
        from league.rate.metagame import zero_sum_nash

        n = len(names)
        matrix = np.zeros((n, n))
        for i, a in enumerate(names):
            for j, b in enumerate(names):
                total, games = self.meta.get(f"{a}|{b}", (0.0, 0.0))
                matrix[i, j] = total / games if games else 0.0
        if n == 1:
            return [1.0]
        weights, _ = zero_sum_nash(matrix - matrix.T)  # antisymmetrised: exactly zero-sum
        return weights.tolist()
    # -- snapshots ------------------------------------------------------------------------------
    def maybe_snapshot(self, name: str) -> None:
        """AlphaStar's rule: not before min_steps; then when it beats its recent opponents
        win_rate of the time in dedicated games; always after max_steps."""
        rule = self.config.snapshots
        since = self.steps[name] - self.last_snapshot[name]
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
        for opponent, _ in sorted(self.recent[name].items(), key=lambda item: (-item[1], item[0])):
            if opponent in self.learners:
                mine = [s for s in self.snapshots if self._player(s).parent == opponent]
                opponent = mine[-1] if mine else None
            if opponent is not None and opponent not in out:
                out.append(opponent)
        return out[:4]

    def _play(self, name: str, opponent: str, n_games: int, salt: int) -> list[GameRecord]:
        """Dedicated games (sides alternated, shared seeds) of a learner's evaluation behaviour."""
        learner = self.learners[name] if name in self.learners else None
        me = Entrant(name, learner.policy(), explore=False) if learner else self._entrant(name)
        role = learner.role if learner else (self._role_of(name) or self.spec.sides[0].role)
        options = lineups(self.spec, role, me, self._entrant(opponent))
        tasks = [GameTask(index=j, seed=derive_seed(self.config.seed, salt, self.round, j // len(options)),
                          lineup=options[j % len(options)]) for j in range(n_games)]
        return run(self.game, tasks, batch=min(n_games, self.config.batch_games))

    def _eval_against(self, name: str, opponents: Sequence[str], n_games: int) -> float:
        per = max(2, (n_games // len(opponents)) // 2 * 2)
        records = []
        for k, opponent in enumerate(opponents):
            records += self._play(name, opponent, per, salt=0x5EED + k)
        self.store_round(records, {}, origin="evaluation")
        return score(records, name)

    def snapshot(self, name: str, reason: str) -> str:
        from league.play.entrants import save_snapshot

        learner = self.learners[name]
        count = sum(1 for s in self.snapshots if self._player(s).parent == name)
        snap = f"{name}-{count + 1:03d}"
        tensors, meta = learner.policy_state()
        kind = "team" if learner.algorithm in TEAM_ALGORITHMS else "snapshot"
        save_snapshot(self.store, snap, tensors, {**meta, "game": self.spec.name, "algorithm": learner.algorithm,
                                                  "role": learner.role},
                      kind=kind, parent=name, step=self.steps[name])
        parent = self.store.rating(name)
        mu = parent[0] if parent else self.rater.initial().mu
        self.store.set_rating(snap, mu, self.rater.initial().sigma)
        self.snapshots.append(snap)
        self.last_snapshot[name] = self.steps[name]
        self.recent[name] = {}
        notes = [reason]
        if self.exploitable:
            self._exact_meta(snap)
        elif self.config.snapshots.meta_games:
            self._meta_games(snap)
        if self.exploitable:
            from league.rate.metagame import exploitability

            value = exploitability(self.cache.get(self._player(snap)), self.spec)
            self.store.add_metrics(snap, self.steps[name], {"exploitability": value})
            notes.append(f"exploitability {value:.4f}")
        chance = self.resets[name]
        if chance >= 1.0 or (chance > 0 and self.rng.random() < chance):
            learner.load_state_dict(*self.initial[name])  # back to its initial weights (AlphaStar)
            notes.append("reset to its initial weights")
        self.on_event(Event("snapshot", f"snapshot {snap} of {name} at step {self.steps[name]:,} ({'; '.join(notes)})",
                            {"snapshot": snap, "learner": name, "step": self.steps[name]}))
        return snap

    def _exact_meta(self, snap: str) -> None:
        """Small zero-sum games: the new snapshot's exact expected return against every pool member.

        These exact values replace sampled meta games, so the pool's Nash mixture carries no
        sampling noise (as PSRO does on poker)."""
        from league.rate.metagame import exact_payoff

        mine = self._entrant(snap).policy
        for other in (h.name for h in self._historical(self._role_of(snap) or self.spec.sides[0].role)):
            value = 0.0 if other == snap else exact_payoff(mine, self._entrant(other).policy, self.spec)
            self.meta[f"{snap}|{other}"] = [value * 1e6, 1e6]  # weight: exact, it outweighs any sampled games
            self.meta[f"{other}|{snap}"] = [-value * 1e6, 1e6]

    def _meta_games(self, snap: str) -> None:
        """PSRO's empirical game: the new snapshot plays every other pool member of its role."""
        role = self._role_of(snap)
        for k, other in enumerate(h.name for h in self._historical(role or self.spec.sides[0].role)):
            if other != snap:
                records = self._play(snap, other, self.config.snapshots.meta_games, salt=0x3E7A + k)
                self.store_round(records, {}, origin="evaluation")

    # -- evaluation ------------------------------------------------------------------------------
    def maybe_evaluate(self, name: str) -> None:
        evaluation = self.config.evaluation
        if self.steps[name] - self.last_eval[name] < evaluation.every:
            return
        self.last_eval[name] = self.steps[name]
        scores = self.evaluate(name)
        if self.exploitable:
            scores.update(self.exploitabilities(name))
        self.latest_eval[name] = scores
        if scores:
            self.store.add_metrics(name, self.steps[name],
                                   {(k if k.startswith("exploitability") else f"eval/{k}"): v for k, v in scores.items()})
            shown = ", ".join(f"{o} {v:.3f}" for o, v in scores.items())
            self.on_event(Event("evaluation", f"{name} at step {self.steps[name]:,}: {shown}",
                                {"learner": name, "step": self.steps[name], "scores": scores}))

    def evaluate(self, name: str) -> dict[str, float]:
        """Score (win rate, or mean return on one-side games) against each reference bot."""
        from league.play.entrants import resolve

        results = {}
        learner = self.learners[name]
        for k, bot in enumerate(resolve(list(self.config.evaluation.opponents), self.spec)):
            if len(self.spec.sides) > 1:
                records = self._play_bot(name, bot, k)
            else:
                me = Entrant(name, learner.policy(), explore=False)
                n = self.config.evaluation.games
                tasks = [GameTask(index=j, seed=derive_seed(self.config.seed, 0xE7A1, j), lineup=(me,)) for j in range(n)]
                records = run(self.game, tasks, batch=min(n, self.config.batch_games))
            self.store_round(records, {}, origin="evaluation")
            results[bot.name] = score(records, name)
        return results

    def _play_bot(self, name: str, bot: Entrant, k: int) -> list[GameRecord]:
        learner = self.learners[name]
        me = Entrant(name, learner.policy(), explore=False)
        options = lineups(self.spec, learner.role, me, bot)
        n = self.config.evaluation.games
        tasks = [GameTask(index=j, seed=derive_seed(self.config.seed, 0xE7A1, k, j // len(options)),
                          lineup=options[j % len(options)]) for j in range(n)]
        return run(self.game, tasks, batch=min(n, self.config.batch_games))

    def exploitabilities(self, name: str) -> dict[str, float]:
        """Exact exploitability of the learner and of the Nash mixture over its role's pool."""
        from league.rate.metagame import exploitability, mixture_exploitability

        learner = self.learners[name]
        out = {"exploitability": exploitability(learner.policy(), self.spec)}
        pool = [h.name for h in self._historical(learner.role)]
        if pool:
            weights = self.nash_weights(pool)
            policies = [self._entrant(p).policy for p in pool]
            out["exploitability/meta"] = mixture_exploitability(policies, weights, self.spec)
        return out

    # -- checkpoints and resume -------------------------------------------------------------------
    def checkpoint(self) -> None:
        from league.train.checkpoints import prune, save_learner, write_trainer_state

        files = {name: save_learner(self.store, name, learner, self.round) for name, learner in self.learners.items()}
        state = {
            "config": self.config.to_toml(),
            "round": self.round,
            "games": self.games,
            "learners": files,
            "steps": self.steps,
            "last_snapshot": self.last_snapshot,
            "last_eval": self.last_eval,
            "last_checkpoint": min(self.steps.values()),
            "recent": self.recent,
            "snapshots": self.snapshots,
            "latest_eval": self.latest_eval,
            "table": self.table.state(),
            "meta": self.meta,
            "rng": self.rng.bit_generator.state,
            "store": self.store.last_ids(),
        }
        write_trainer_state(self.store, state)  # the commit point
        self.last_checkpoint = state["last_checkpoint"]
        prune(self.store, {path for f in files.values() for path in (f["weights"], f["manifest"])})
        self.on_event(Event("checkpoint", f"checkpoint at round {self.round}", {"round": self.round}))

    def resume(self) -> bool:
        """Restore the last checkpoint and undo what was stored after it; False if there is none."""
        from league.train.checkpoints import (
            ResumeError,
            load_learner,
            orphan_snapshot_files,
            read_trainer_state,
        )
        from league.train.matchmaking import PayoffTable

        state = read_trainer_state(self.store)
        if state is None:
            return False
        if set(self.learners) != set(state["learners"]):
            raise ResumeError(f"the run's checkpoint has learners {sorted(state['learners'])}, "
                              f"the configuration {sorted(self.learners)}")
        for name, learner in self.learners.items():
            load_learner(self.store, learner, state["learners"][name])
        kept = set(state["snapshots"])
        later = [p.name for p in self.store.players() if p.parent in self.learners and p.name not in kept]
        self.store.rollback(after_match=state["store"]["match"], after_metric=state["store"]["metric"],
                            drop_players=later)
        orphan_snapshot_files(self.store, {p.name for p in self.store.players()})
        self.__dict__.pop("_players", None)
        self.round, self.games = state["round"], state["games"]
        self.steps = dict(state["steps"])
        self.last_snapshot, self.last_eval = state["last_snapshot"], state["last_eval"]
        self.last_checkpoint = state["last_checkpoint"]
        self.recent, self.snapshots = state["recent"], list(state["snapshots"])
        self.latest_eval = state["latest_eval"]
        self.table = PayoffTable.from_state(state["table"])
        self.meta = {k: list(v) for k, v in state["meta"].items()}
        self.rng.bit_generator.state = state["rng"]
        return True


def rater_from(settings: Mapping[str, Any]) -> Rater:
    """A Rater from a run's `ratings` settings: TrueSkill keys plus `anchors = {name = mu}`."""
    from league.rate.ratings import RatingConfig

    values = dict(settings or {})
    anchors = values.pop("anchors", {}) or {}
    config = RatingConfig.from_mapping(values)
    return Rater(config=config, anchors={name: Rating(float(mu), config.sigma / 10) for name, mu in anchors.items()})


def read_state_or_none(store: Store) -> dict | None:
    from league.train.checkpoints import read_trainer_state

    return read_trainer_state(store)
