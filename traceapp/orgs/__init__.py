"""Organisations, their users and API tokens."""
