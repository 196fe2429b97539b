"""A campaign plan as a JSON file (``plan.json``): written by the app and ``c2c plan``, read by
the app and ``c2c export``.

>>> text = plan_to_json(plan)                       # doctest: +SKIP
>>> plan, segments = plan_from_json(text)           # doctest: +SKIP

The file holds every :class:`~core.campaign.CampaignPlan` field, with ``segments`` (a list of
segment numbers: the plan's audience) instead of ``segment``, ``start`` as an ISO date
(``2026-12-01``), shares as numbers between 0 and 1 and ``budget_cap`` as a number or null.
"""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import date
from typing import Any

from core.campaign import MAX_SEGMENT, CampaignPlan
from core.errors import C2CError

FORMAT = "clusters-to-campaigns/campaign-plan"
SCHEMA_VERSION = 1
MAX_PLAN_BYTES = 64 * 1024  # a plan is well under 1 KB
_PLAN_FIELDS = tuple(f.name for f in dataclasses.fields(CampaignPlan) if f.name != "segment")
_FIELDS = ("format", "schema_version", "segments", *_PLAN_FIELDS)


class PlanFileError(C2CError, ValueError):
    """A plan file is unreadable, incomplete, or holds a value a plan cannot have."""


def plan_to_dict(plan: CampaignPlan, segments: tuple[int, ...] | None = None) -> dict[str, Any]:
    """The JSON-ready fields of ``plan``; ``segments`` defaults to the plan's own segment."""
    values = {name: getattr(plan, name) for name in _PLAN_FIELDS}
    return {"format": FORMAT, "schema_version": SCHEMA_VERSION,
            "segments": list(segments or (plan.segment,)),
            **values, "start": plan.start.isoformat()}


def plan_to_json(plan: CampaignPlan, segments: tuple[int, ...] | None = None) -> str:
    """``plan`` as the text of a plan file (see :func:`plan_to_dict`)."""
    return json.dumps(plan_to_dict(plan, segments), indent=2, ensure_ascii=False) + "\n"


def plan_from_json(text: str | bytes) -> tuple[CampaignPlan, tuple[int, ...]]:
    """Read a plan file.

    Parameters
    ----------
    text : str or bytes
        The file's content, UTF-8.

    Returns
    -------
    (CampaignPlan, tuple of int)
        The validated plan (its ``segment`` is the first of ``segments``) and its segments.

    Raises
    ------
    PlanFileError
        Naming the field and the bad value, for anything that is not a valid plan.
    """
    if len(text) > MAX_PLAN_BYTES:
        raise PlanFileError(f"a plan file is at most {MAX_PLAN_BYTES // 1024} KB; this file "
                            "is larger (is it a plan.json?)")
    try:
        payload = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise PlanFileError(f"the plan file is not valid JSON ({exc})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise PlanFileError(f"this is not a campaign plan file (expected \"format\": "
                            f"\"{FORMAT}\")")
    if payload.get("schema_version") != SCHEMA_VERSION:
        raise PlanFileError(f"plan schema version {payload.get('schema_version')!r} is not "
                            f"supported; this version reads version {SCHEMA_VERSION}")
    unknown = sorted(set(payload) - set(_FIELDS))
    missing = [name for name in _FIELDS if name not in payload]
    if unknown or missing:
        parts = ([f"missing field(s) {', '.join(missing)}"] if missing else []) + \
            ([f"unknown field(s) {', '.join(map(repr, unknown))}"] if unknown else [])
        raise PlanFileError(f"the plan file has {' and '.join(parts)}")
    segments = _segments(payload["segments"])
    values = {name: payload[name] for name in _PLAN_FIELDS}
    values["start"] = _day(payload["start"])
    try:
        plan = CampaignPlan(segment=segments[0], **values)
    except C2CError as exc:
        raise PlanFileError(f"the plan file holds a value a plan cannot have: {exc}") from None
    return plan, segments


def read_plan_file(path: str | os.PathLike[str]) -> tuple[CampaignPlan, tuple[int, ...]]:
    """:func:`plan_from_json` of the file at ``path``."""
    try:
        with open(path, "rb") as handle:
            text = handle.read(MAX_PLAN_BYTES + 1)
    except OSError as exc:
        raise PlanFileError(f"cannot read the plan file {os.fspath(path)!r}: "
                            f"{exc.strerror}") from None
    return plan_from_json(text)


def _segments(value: Any) -> tuple[int, ...]:
    ok = (isinstance(value, list) and value
          and all(isinstance(s, int) and not isinstance(s, bool) and 1 <= s <= MAX_SEGMENT
                  for s in value) and len(set(value)) == len(value))
    if not ok:
        raise PlanFileError(f"segments must be a non-empty list of distinct segment numbers "
                            f"(1, 2, ...); got {value!r}"[:300])
    return tuple(value)


def _day(value: Any) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise PlanFileError(f"start must be a date like \"2026-12-01\"; got {value!r}"[:300]) \
            from None
