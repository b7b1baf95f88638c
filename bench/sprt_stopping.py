"""Does an SPRT pairing stop when its test decides, and does a close one still run to its cap?

Issue 18's gauntlet: connect four, mcts:200 against uniform random, `--sprt elo0=0,elo1=50,
alpha=0.05,beta=0.05 --games 400`, lockstep batch 128. Played twice in this process: paced
(the league now: a pairing never has more pairs in flight than could end its test) and
unpaced (as before: a whole batch in flight, the same games otherwise). "Needed" is what the
pentanomial counts need: the games of the pairs, in the order they were completed, up to
the first pair at which the LLR crosses a bound. Target: played <= 2x needed.

Then a close pairing (mcts:N against a twin of itself, elo0=0 elo1=10, the same cap) paced and
unpaced: it should run to its cap either way, at about the same speed.

Usage:
    python bench/sprt_stopping.py [--games 400] [--batch 128] [--close-sims 50]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import games  # noqa: E402
from agents.baselines import make_baseline  # noqa: E402
from league.play.backends import LocalBackend  # noqa: E402
from league.play.entrants import resolve  # noqa: E402
from league.play.runner import Entrant  # noqa: E402
from league.rate.ratings import Rater  # noqa: E402
from league.rate.sprt import Pentanomial  # noqa: E402
from league.results import score_against  # noqa: E402
from league.store.database import Store  # noqa: E402
from league.threads import limit_threads  # noqa: E402
from league.tournament.config import TournamentConfig  # noqa: E402
from league.tournament.formats import play_tournament  # noqa: E402
from league.tournament.summary import decision_text  # noqa: E402


class Unpaced(LocalBackend):
    """The local runner, but a backend that cannot wait: the task stream is not paced (the old behaviour)."""

    name = "local-unpaced"


def completed_pairs(store: Store, challenger: str) -> list[float]:
    """The challenger's points per pair in the order the pairs were completed (stored)."""
    halves: dict[int, float] = {}
    out = []
    for m in store.matches():
        mine = m.sides.index(challenger)
        s = score_against(m.ranks, mine, 1 - mine)
        k = m.game_index // 2
        if k in halves:
            out.append(halves.pop(k) + s)
        else:
            halves[k] = s
    return out


def play(config: TournamentConfig, roster, batch: int, backend) -> dict:
    game = games.load(config.game)
    with tempfile.TemporaryDirectory() as tmp, Store.open(tmp, create=True) as store:
        store.init_run("bench", game.ref, {})
        start = time.perf_counter()
        result = play_tournament(store, game, roster, config, Rater(), batch=batch, backend=backend)
        seconds = time.perf_counter() - start
        pairing = result.pairings[0]
        pairs = completed_pairs(store, config.challengers[0])
    test = config.test()
    needed = next((2 * k for k in range(1, len(pairs) + 1)
                   if test.status(Pentanomial.from_pairs(pairs[:k])) != "running"), None)
    return {"games": pairing.games, "needed": needed, "seconds": seconds, "decision": decision_text(pairing),
            "llr": pairing.llr, "status": pairing.status, "points": pairing.points}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=400, help="the cap: games per pairing")
    parser.add_argument("--batch", type=int, default=128, help="games in lockstep")
    parser.add_argument("--close-sims", type=int, default=50, help="simulations of the close pairing's MCTS twins")
    args = parser.parse_args()
    limit_threads()
    game = games.load("connect_four")

    gauntlet = TournamentConfig(game="connect_four", entrants=("mcts:200", "random"), games=args.games,
                                format="gauntlet", challengers=("mcts:200",), sprt="elo0=0,elo1=50,alpha=0.05,beta=0.05")
    print(f"connect_four gauntlet mcts:200 vs random, --sprt {gauntlet.sprt} --games {args.games}, batch {args.batch}")
    print(f"{'':9} {'games':>5} {'needed':>6} {'ratio':>5} {'time':>7}  final llr  decision")
    for label, backend in (("paced", LocalBackend()), ("unpaced", Unpaced())):
        r = play(gauntlet, resolve(gauntlet.entrants, game.spec), args.batch, backend)
        ratio = f"{r['games'] / r['needed']:.2f}" if r["needed"] else "-"
        print(f"{label:9} {r['games']:5d} {r['needed'] or '-':>6} {ratio:>5} {r['seconds']:6.1f}s  "
              f"{r['llr']:+9.2f}  {r['decision']}")

    name = f"mcts:{args.close_sims}"
    twin = Entrant(f"{name}-twin", make_baseline(name, game.spec))
    close = TournamentConfig(game="connect_four", entrants=(name, twin.name), games=args.games, format="gauntlet",
                             challengers=(name,), sprt="elo0=0,elo1=10,alpha=0.05,beta=0.05")
    print(f"\nclose pairing {name} vs its twin, --sprt {close.sprt} --games {args.games}, batch {args.batch}")
    print(f"{'':9} {'games':>5} {'score':>11} {'time':>7} {'games/s':>8}  final llr  decision")
    for label, backend in (("paced", LocalBackend()), ("unpaced", Unpaced())):
        r = play(close, resolve([name], game.spec) + [twin], args.batch, backend)
        print(f"{label:9} {r['games']:5d} {r['points']:>5g}/{r['games']:<5d} {r['seconds']:6.1f}s "
              f"{r['games'] / r['seconds']:8.1f}  {r['llr']:+9.2f}  {r['decision']}")


if __name__ == "__main__":
    main()
