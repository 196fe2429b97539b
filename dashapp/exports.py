"""Member lists handed to the browser as files: one way for every page that exports them."""

from __future__ import annotations

from collections.abc import Collection

import pandas as pd
from dash import html, no_update

from core.campaign import CONTROL, NOT_CONTACTED, TREATMENT
from core.errors import C2CError
from core.export import CAMPAIGN_GROUP, export_bytes, export_filename
from dashapp.components import create_problem_alert
from dashapp.downloads import offer_file


def offer_members(members: pd.DataFrame, fmt: str, *, data_label: str, k: int,
                  segments: Collection[int] | None, selection: bool = False) -> tuple:
    """The download link (:func:`~dashapp.downloads.offer_file`) of ``members`` as ``fmt`` and
    a status line with the campaign-group counts; no link and the reason when it cannot be
    written (an unknown format, too many rows for XLSX, ...). The file is named by
    :func:`~core.export.export_filename` of the other arguments."""
    try:
        content = export_bytes(members, fmt)
        name = export_filename(data_label, k, segments, fmt, selection=selection)
    except C2CError as error:
        return no_update, export_failed(error)
    counts = members[CAMPAIGN_GROUP].value_counts() if CAMPAIGN_GROUP in members else {}
    groups = ", ".join(f"{counts.get(group, 0):,} {group}"
                       for group in (TREATMENT, CONTROL, NOT_CONTACTED))
    return (offer_file(content, name),
            html.Span(f"{len(members):,} customers exported to {name} ({groups})."))


def export_failed(error: C2CError):
    """What the page says when a member list cannot be exported."""
    return create_problem_alert("The export failed.", [str(error)])
