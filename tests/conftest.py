"""Test settings: one torch thread, as the league command uses (see league/threads.py), and
derandomised hypothesis, so a property test gives the same verdict on every run and in CI
(`HYPOTHESIS_PROFILE=explore python -m pytest` searches with fresh random examples)."""

import os

from hypothesis import settings

from league.threads import limit_threads

limit_threads()

settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("explore", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
