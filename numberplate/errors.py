"""Errors a user can act on: each names the file and the problem, never a bare traceback."""

from __future__ import annotations

from pathlib import Path


class NumberplateError(Exception):
    """Base class for every error this package raises on purpose."""


class InputError(NumberplateError):
    """A file given to us cannot be used: unreadable image, bad annotation, empty folder..."""

    def __init__(self, path: str | Path | None, problem: str):
        self.path = str(path) if path is not None else None
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)


class WeightsError(NumberplateError):
    """A model file is missing, corrupt, or does not match its card."""


class ConfigError(NumberplateError):
    """A training or export configuration is invalid."""
