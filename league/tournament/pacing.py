"""How many games of a pairing under an SPRT may be in flight at once.

A lockstep batch hands out many games at once; a pairing whose test is about to decide
should not have a batch of them in flight, or the decision is followed by games that no
longer matter (fastchess overruns a decision by at most its concurrency). The bound comes
from the test itself: another pair is handed out only while the pairs already in flight
could not end the test on their own, even if each were won (or each lost). Near a decision
that is one pair at a time; on a close pairing it is many. Other pairings keep the batch
full meanwhile. Only a backend that can wait (the local runner, which takes None from the
task stream as "no game now") is paced; the others play as before.

Example:
    >>> from league.rate.sprt import SPRT
    >>> from league.tournament.pairing import Pairing
    >>> pacer = Pacer(SPRT(0, 50), waits=True)
    >>> fresh, close = Pairing(0, "a", "b", in_flight=20), Pairing(1, "a", "c", in_flight=26)
    >>> close.pairs = [2.0] * 13  # thirteen won pairs: four more would decide
    >>> pacer.room(fresh), pacer.room(close)
    (True, False)
"""

from __future__ import annotations

from league.rate.sprt import SPRT
from league.tournament.pairing import Pairing


class Pacer:
    """Says whether a pairing may have one more pair of games in flight."""

    def __init__(self, test: SPRT | None, *, waits: bool):
        self.test = test
        self.waits = waits  # the backend takes "no game now" from the task stream
        self._answers: dict[tuple[int, int, int], bool] = {}  # (pairing, pairs done, games in flight) -> room

    def room(self, pairing: "Pairing") -> bool:
        if self.test is None or not self.waits or pairing.in_flight == 0:
            return True
        key = (pairing.index, len(pairing.pairs), pairing.in_flight)
        if key not in self._answers:
            flying = (pairing.in_flight + 1) // 2  # pairs; a half-played pair counts whole
            self._answers[key] = self.test.pairs_to_decide(pairing.pentanomial(), flying + 1) > flying
        return self._answers[key]
