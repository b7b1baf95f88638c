"""Test settings: one torch thread, as the league command uses (see league/threads.py)."""

from league.threads import limit_threads

limit_threads()
