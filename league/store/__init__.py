"""The run database and the files kept beside it."""
