"""The one base of every error a user can cause, shared by every layer.

It lives in the lowest layer so that games/, agents/ and league/ can all raise it; the
command line catches `LeagueError` alone and prints its message, which is one sentence.

Example:
    >>> from games.errors import LeagueError
    >>> class TooFewGames(LeagueError): pass
    >>> str(TooFewGames("--games must be at least 1, got 0"))
    '--games must be at least 1, got 0'
"""

from __future__ import annotations


class LeagueError(Exception):
    """An error a user can cause (bad input, a missing run, a corrupt file): one sentence."""
