"""The campaign-plan form: its fields, and converting between a plan and the form's values.

Percentages are shown as percent (3 for 3 %) and stored as shares; every value comes from the
browser, so :func:`plan_from_form` validates through :class:`core.campaign.CampaignPlan`.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from typing import Any, NamedTuple

from core.campaign import CHANNELS, CampaignPlan
from core.errors import ConfigError


class Field(NamedTuple):
    """One input of the form."""

    name: str
    label: str
    kind: str  # text, channel, number, percent, date, optional
    help: str = ""


FIELDS: tuple[Field, ...] = (
    Field("name", "Plan name", "text"),
    Field("objective", "Objective", "text"),
    Field("offer", "Offer", "text"),
    Field("channel", "Channel", "channel"),
    Field("cost_per_contact", "Cost per contact", "number"),
    Field("response_rate", "Expected response (uplift, %)", "percent",
          "Extra responders among contacted customers, compared with the control group"),
    Field("value_per_responder", "Value per responder", "number",
          "Extra revenue one responder brings"),
    Field("offer_cost_per_responder", "Offer cost per responder", "number"),
    Field("budget_cap", "Budget cap (optional)", "optional"),
    Field("holdout_share", "Control group (holdout, %)", "percent",
          "Customers kept out of the campaign to measure it"),
    Field("start", "Start date", "date"),
    Field("duration_days", "Duration (days)", "number"),
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
    """A validated plan from the form's values; ConfigError names the field that is wrong."""
    labels = {f.name: f.label for f in FIELDS}
    converted: dict[str, Any] = {"segment": segment, "seed": seed}
    for field in FIELDS:
        value = values.get(field.name)
        try:
            converted[field.name] = _convert(field, value)
        except (TypeError, ValueError):
            raise ConfigError(f"{labels[field.name]}: {value!r} is not valid") from None
    known = {f.name for f in fields(CampaignPlan)}
    return CampaignPlan(**{k: v for k, v in converted.items() if k in known})


def _convert(field: Field, value: Any) -> Any:
    if field.kind == "optional":
        return None if value in (None, "") else float(value)
    if value in (None, ""):
        raise ValueError("missing")
    if field.kind == "percent":
        return float(value) / 100
    if field.kind == "date":
        return date.fromisoformat(str(value)[:10])
    if field.name == "duration_days":
        return int(value)
    return float(value) if field.kind == "number" else str(value)
