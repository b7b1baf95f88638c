"""`league train`: the trainer loop and its parts (config, matchmaking, checkpoints)."""
