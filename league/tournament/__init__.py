"""`league tournament`: formats, paired games, SPRT stopping, resumable play."""
