"""Thread settings shared by every process of the league (the command, its workers, the tests)."""

from __future__ import annotations

import os


def limit_threads() -> None:
    """One torch thread per process unless LEAGUE_THREADS says otherwise.

    The league's networks are small and its processes many (runner, learners, workers): with
    torch's default of one OpenMP thread per core, threads of different processes spin against
    each other and a small forward pass can take 20x longer on a busy 2-core machine.
    """
    import torch

    torch.set_num_threads(max(1, int(os.environ.get("LEAGUE_THREADS", "1"))))
