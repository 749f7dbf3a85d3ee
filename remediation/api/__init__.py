"""Operator API for dead letters: list, replay, discard (the admin's actions, over HTTP)."""
