"""Errors a user can fix. The CLI prints them as one paragraph and exits 2, never with a traceback."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class GentoolError(Exception):
    """A problem with the user's input or environment; `str(error)` is the whole message."""

    exit_code = 2


class NotApplicable(Exception):
    """Raised by a metric that does not apply to the model or data at hand; the reason is reported."""


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """' Did you mean "x"?' when a choice is close to `value`, else ''."""
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f' Did you mean "{close[0]}"?' if close else ""


def unknown_choice(what: str, value: str, choices: Iterable[str], hint: str = "") -> GentoolError:
    """The standard error for a name that is not among the valid ones."""
    choices = sorted(choices)
    valid = ", ".join(choices) if choices else "(none installed)"
    return GentoolError(f'Unknown {what} "{value}". Valid choices: {valid}.{did_you_mean(value, choices)}{hint}')
