"""The small exception tree every public ``core`` function raises from."""

from __future__ import annotations

import re
from collections.abc import Iterable

_ROWS = re.compile(r"\brows? \d")


class C2CError(Exception):
    """Base class of every error the engine raises on purpose."""


class ConfigError(C2CError, ValueError):
    """A parameter (k, feature set, algorithm, ...) is outside what the engine accepts."""


class DataValidationError(C2CError, ValueError):
    """A customer table cannot be used; ``problems`` lists every reason found.

    Parameters
    ----------
    problems : iterable of str
        One sentence per problem, each naming column, rows and example values.
    source : str, optional
        The file name (or other label) the data came from, used as a prefix.
    note : str, optional
        A closing sentence, e.g. how row numbers are counted; shown when a problem names rows.
    """

    def __init__(self, problems: Iterable[str], source: str | None = None,
                 note: str | None = None) -> None:
        self.problems = tuple(problems)
        self.source = source
        self.note = note if note and any(_ROWS.search(p) for p in self.problems) else None
        prefix = f"{source}: " if source else ""
        if len(self.problems) == 1:
            message = prefix + self.problems[0]
        else:
            lines = "\n".join(f"- {p}" for p in self.problems)
            message = f"{prefix}{len(self.problems)} problems found:\n{lines}"
        super().__init__(f"{message}\n{self.note}" if self.note else message)


class ModelFileError(C2CError, ValueError):
    """A saved model file is unreadable, of another schema version, or does not fit the data."""
