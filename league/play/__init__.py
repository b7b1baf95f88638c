"""Playing games: the batched runner, entrants by name, and the backends that run it."""
