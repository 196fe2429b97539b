"""What a spreadsheet would run as a formula: the one definition used by the loader and exports.

Text that starts with ``=``, ``+``, ``-``, ``@``, TAB, CR, LF or NUL, or whose first character after
leading whitespace and double quotes is one of ``= + - @`` (or their full-width forms), unless it is
exactly a decimal number (``-12.5`` cannot be a formula).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

FORMULA_CHARACTERS = "= + - @"
_FORMULA_START = r"[\t\r\n\x00]|[\s\"]*[=+\-@\uff1d\uff0b\uff0d\uff20]"
_PLAIN_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_FORMULA = re.compile(_FORMULA_START)
_NUMBER = re.compile(_PLAIN_NUMBER)


def looks_like_formula(value: Any) -> bool:
    """Whether ``value`` is text a spreadsheet could run as a formula."""
    return (isinstance(value, str) and _FORMULA.match(value) is not None
            and _NUMBER.fullmatch(value) is None)


def formula_like(values: pd.Series) -> pd.Series:
    """:func:`looks_like_formula` of every value, vectorised (False for missing values)."""
    text = values.astype("string")
    maybe = ~text.str[:1].str.isalnum().fillna(True).to_numpy(dtype=bool)  # Arrow, no Python
    like = pd.Series(False, index=values.index)
    candidates = text[maybe]
    like[maybe] = (candidates.str.match(_FORMULA_START)
                   & ~candidates.str.fullmatch(_PLAIN_NUMBER)).fillna(False).astype(bool)
    return like
