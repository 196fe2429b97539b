"""The campaign-plan form: its fields, and converting between a plan and the form's values.

Percentages are shown as percent (3 for 3 %) and stored as shares; every value comes from the
browser, so :func:`plan_from_form` validates through :class:`core.campaign.CampaignPlan`.
"""

from __future__ import annotations

import math
from dataclasses import fields
from datetime import date
from typing import Any, NamedTuple

from core.campaign import (
    CHANNELS,
    MAX_DURATION_DAYS,
    MAX_HOLDOUT,
    MAX_NAME_LENGTH,
    CampaignPlan,
)
from core.currency import money_unit
from core.errors import ConfigError


class Field(NamedTuple):
    """One input of the form, with the range the server accepts (in the form's units)."""

    name: str
    label: str
    kind: str  # text, channel, number (an amount), percent, date, optional (amount), whole
    help: str = ""
    low: float = 0
    high: float = math.inf

    @property
    def heading(self) -> str:
        """The label on the form; an amount's names its unit, e.g. ``Cost per contact (€)``,
        ``Budget cap (€, optional)``."""
        if self.kind == "optional":
            return f"{self.label} ({money_unit()}, optional)"
        return f"{self.label} ({money_unit()})" if self.kind == "number" else self.label


class FormError(ConfigError):
    """Fields of the form that are wrong: ``problems`` maps a field's name to its message."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        super().__init__(" ".join(problems.values()))


FIELDS: tuple[Field, ...] = (
    Field("name", "Plan name", "text", high=MAX_NAME_LENGTH),
    Field("objective", "Objective", "text"),
    Field("offer", "Offer", "text"),
    Field("channel", "Channel", "channel"),
    Field("cost_per_contact", "Cost per contact", "number"),
    Field("response_rate", "Expected response (uplift, %)", "percent",
          "Extra responders among contacted customers, compared with the control group",
          high=100),
    Field("value_per_responder", "Value per responder", "number",
          help="Extra revenue one responder brings"),
    Field("offer_cost_per_responder", "Offer cost per responder", "number"),
    Field("budget_cap", "Budget cap", "optional",
          "Contacts stop when the expected cost reaches it"),
    Field("holdout_share", "Control group (holdout, %)", "percent",
          "Customers kept out of the campaign to measure it", high=100 * MAX_HOLDOUT),
    Field("start", "Start date", "date"),
    Field("duration_days", "Duration (days)", "whole", low=1, high=MAX_DURATION_DAYS),
)
CHANNEL_OPTIONS = tuple(CHANNELS)


def form_values(plan: CampaignPlan) -> dict[str, Any]:
    """The form's values for ``plan``."""
    values = {f.name: getattr(plan, f.name) for f in FIELDS}
    for field in FIELDS:
        if field.kind == "percent":
            values[field.name] = round(100 * values[field.name], 4)
    values["start"] = plan.start.isoformat()
    return values


def plan_from_form(segment: int, seed: int, values: dict[str, Any]) -> CampaignPlan:
    """A validated plan from the form's values.

    Raises
    ------
    FormError
        With a message per wrong field that names the allowed values and what was entered.
    """
    converted: dict[str, Any] = {"segment": segment, "seed": seed}
    problems: dict[str, str] = {}
    for field in FIELDS:
        try:
            converted[field.name] = _convert(field, values.get(field.name))
        except ValueError as error:
            problems[field.name] = f"{field.label}: {error}."
    if problems:
        raise FormError(problems)
    known = {f.name for f in fields(CampaignPlan)}
    try:
        return CampaignPlan(**{k: v for k, v in converted.items() if k in known})
    except ConfigError as error:
        raise FormError({"start": f"{error}."}) from None


def _convert(field: Field, value: Any) -> Any:
    """The plan's value of one field; ValueError says what is allowed and what was entered."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if field.kind == "optional":
            return None
        raise ValueError(f"enter {_allowed(field)}")
    if field.kind in ("text", "channel"):
        text = str(value).strip()
        if len(text) > field.high:
            raise ValueError(f"use at most {field.high:.0f} characters; got {len(text):,}")
        return text
    if field.kind == "date":
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            raise ValueError(f"enter {_allowed(field)}; got {_shown(value)}") from None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"enter {_allowed(field)}; got {_shown(value)}") from None
    if not (math.isfinite(number) and field.low <= number <= field.high) or (
            field.kind == "whole" and number != int(number)):
        raise ValueError(f"enter {_allowed(field)}; got {_shown(value)}")
    if field.kind == "whole":
        return int(number)
    return number / 100 if field.kind == "percent" else number


def _allowed(field: Field) -> str:
    """The values a field accepts, in words."""
    if field.kind in ("text", "channel"):
        return "a value"
    if field.kind == "date":
        return "a date like 2026-12-01"
    kind = "a whole number" if field.kind == "whole" else "a number"
    if field.high == math.inf:
        return f"{kind} of {field.low:g} or more"
    return f"{kind} from {field.low:g} to {field.high:g}"


def _shown(value: Any) -> str:
    """What was entered, short: numbers as typed, text quoted and cut at 20 characters."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:g}"
    return repr(str(value)[:20])
