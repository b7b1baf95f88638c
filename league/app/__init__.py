"""What users touch: the CLI, its display, the report, export and human play."""
