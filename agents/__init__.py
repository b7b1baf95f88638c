"""Agents layer: policies that act and learners that learn (see agents/base.py)."""
