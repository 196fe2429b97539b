"""How amounts of money are written: plain numbers, or in the currency ``C2C_CURRENCY`` names.

The data carries no currency, so by default amounts are plain numbers ("1,462", unit
"currency"). ``C2C_CURRENCY=€`` writes "€1,462", ``C2C_CURRENCY=EUR`` "EUR 1,462"; the app,
its report and the ``c2c`` command line all read it here.
"""

from __future__ import annotations

import os
import re

from core.errors import ConfigError

ENV = "C2C_CURRENCY"
PLAIN_UNIT = "currency"
# a symbol (€, $, US$, kr) or a code (EUR, CHF): no digits, spaces or markup
_ALLOWED = re.compile(r"[^\W\d_]{1,5}|[^\w\s<>&\"'\\]{1,2}|[^\W\d_]{1,3}[^\w\s<>&\"'\\]")


def currency() -> str:
    """The currency of ``C2C_CURRENCY``, or ``""`` (unset: plain numbers).

    Raises
    ------
    ConfigError
        If the value is not a currency symbol or code of at most five characters.
    """
    value = os.environ.get(ENV, "").strip()
    if value and not _ALLOWED.fullmatch(value):
        raise ConfigError(f"{ENV} must be a currency symbol or code such as €, $, US$ or EUR "
                          f"(at most 5 characters, no digits or spaces); got {value!r}")
    return value


def money_prefix() -> str:
    """What goes before an amount: ``"€"``, ``"EUR "`` (a code), or ``""``."""
    value = currency()
    return f"{value} " if value.isalpha() else value


def money_unit() -> str:
    """The unit of an amount in labels: the currency, else the word ``currency``."""
    return currency() or PLAIN_UNIT


def money(value: float, decimals: int = 0) -> str:
    """An amount, e.g. ``1462.3`` → ``"1,462"``, ``"€1,462"``, ``"-EUR 5"``."""
    text = f"{abs(value):,.{decimals}f}"
    return f"{'-' if value < 0 and text.strip('0.,') else ''}{money_prefix()}{text}"
