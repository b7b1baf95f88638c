"""League layer: runner, store, ratings, matchmaking, trainer, tournament, export, CLI."""
