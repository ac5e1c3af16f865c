"""The one error hierarchy. Services raise these; the GUI and CLI turn them
into what the user sees (views/errors.py, cli.py). Anything else is a bug."""

from __future__ import annotations

from dataclasses import dataclass


class BilldeskError(Exception):
    """Base of every error a user can cause."""

    field: str = ""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


class InvalidInput(BilldeskError):
    """A value was refused. ``field`` names the option or form field."""


class NotFound(BilldeskError):
    """An id or name that does not exist."""


class Conflict(BilldeskError):
    """The input is well-formed but breaks a rule (duplicate email, …)."""


class SchemaTooNew(BilldeskError):
    """The database was written by a newer major version of billdesk."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem with one field, for forms that show all problems at once."""

    field: str
    message: str


class ValidationFailed(InvalidInput):
    """Several problems at once; ``field``/``message`` are the first one."""

    def __init__(self, problems: list[Problem]) -> None:
        if not problems:
            raise ValueError("ValidationFailed needs at least one problem")
        super().__init__(problems[0].field, problems[0].message)
        self.problems = problems
