"""Environment errors: a wrong id is for the user to fix."""

from __future__ import annotations


class UnknownEnvError(ValueError):
    """An environment id that names no backend or no game; the message lists the closest ids."""

