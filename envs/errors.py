"""Environment errors: a wrong id is for the user to fix, a missing backend is ours."""

from __future__ import annotations


class UnknownEnvError(ValueError):
    """An environment id that names no backend or no game; the message lists the closest ids."""


class EnvNotAvailableError(NotImplementedError):
    """A valid environment id whose backend is not built yet (the Tempest simulator)."""
