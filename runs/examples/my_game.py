"""Nim for two: a complete, small PettingZoo environment of your own, ready for the league.

A pile of `stones`; players take 1 to `max_take` stones in turn; whoever takes the last
stone wins (+1, the other -1). It is a plain PettingZoo AEC environment: the action mask
travels in the observation dict, and the `league_*` attributes tell the league what it
cannot guess (they may sit on the environment, as here, or on the factory function).

Use it from this directory (the current directory is searched for your module), or from
anywhere with this directory on PYTHONPATH; options go in call syntax:

    cd runs/examples
    league check-game my_game:env
    league train --game "my_game:env(stones=7)" --algo iql --steps 20000 --run ../nim

Or from Python:

    >>> import games                                     # doctest: +SKIP
    >>> spec = games.load("my_game:env(stones=7)").spec  # doctest: +SKIP
    >>> spec.side_names, spec.roles, spec.perfect_information   # doctest: +SKIP
    (('first', 'second'), ('player',), True)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv


class Nim(AECEnv):
    """Two-player Nim: take 1..max_take stones a turn; taking the last stone wins."""

    metadata = {"name": "nim_v0", "render_modes": ["ansi"], "is_parallelizable": False}

    def __init__(self, stones: int = 7, max_take: int = 3, render_mode: str | None = None):
        super().__init__()
        if int(stones) < 1 or int(max_take) < 1:
            raise ValueError(f"Nim needs stones >= 1 and max_take >= 1, got stones={stones}, max_take={max_take}")
        self.stones, self.max_take, self.render_mode = int(stones), int(max_take), render_mode
        self.possible_agents = ["player_0", "player_1"]
        # The league reads these (from the environment, or else from the factory):
        self.league_sides = {"first": ["player_0"], "second": ["player_1"]}  # side -> the agents one entrant plays
        self.league_roles = {"first": "player", "second": "player"}  # one role: an entrant can play either side
        self.league_kind = "competitive"  # competitive | cooperative | mixed
        self.league_perfect_information = True  # nothing hidden: search bots and greedy play apply
        self.league_action_names = [f"take {k + 1}" for k in range(self.max_take)]  # for `league play` and exports
        # Observation: the stones left (Discrete: the league one-hots it) and the legal actions.
        self._obs_space = spaces.Dict({
            "observation": spaces.Discrete(self.stones + 1),
            "action_mask": spaces.Box(0, 1, (self.max_take,), dtype=np.int8),
        })
        self._action_space = spaces.Discrete(self.max_take)  # action k takes k + 1 stones

    def observation_space(self, agent: str) -> spaces.Space:
        return self._obs_space

    def action_space(self, agent: str) -> spaces.Space:
        return self._action_space

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        # Nim has no chance; a game with any must seed its generators here, from `seed` alone.
        self.agents = self.possible_agents[:]
        self.pile = self.stones
        self.agent_selection = self.agents[0]
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self.infos = {agent: {} for agent in self.agents}

    def observe(self, agent: str) -> dict[str, Any]:
        legal = np.array([k + 1 <= self.pile for k in range(self.max_take)], dtype=np.int8)
        return {"observation": np.int64(self.pile), "action_mask": legal}

    def step(self, action: int | None) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)  # PettingZoo's protocol for stepping a finished agent
            return
        take = int(action) + 1
        if not 1 <= take <= min(self.max_take, self.pile):
            raise ValueError(f"{agent} cannot take {take} stones from a pile of {self.pile}")
        self.pile -= take
        self._cumulative_rewards[agent] = 0.0
        self.rewards = dict.fromkeys(self.agents, 0.0)
        other = self.agents[1 - self.agents.index(agent)]
        if self.pile == 0:  # the last stone: this agent wins, and the loser hears it at once
            self.rewards[agent], self.rewards[other] = 1.0, -1.0
            self.terminations = dict.fromkeys(self.agents, True)
        self.agent_selection = other
        self._accumulate_rewards()

    def render(self) -> str:
        return f"{self.pile} stones left, {self.agent_selection} to take 1-{min(self.max_take, self.pile)}"

    def close(self) -> None:
        pass


def env(stones: int = 7, max_take: int = 3) -> Nim:
    """The factory the league calls: `my_game:env` or `my_game:env(stones=7, max_take=3)`."""
    return Nim(stones=stones, max_take=max_take)
