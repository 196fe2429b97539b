"""Score page: the segment of one customer (a form) or of a whole file, with the current
segmentation's model or an uploaded model.json."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import dash
import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import ALL, Input, Output, State, callback, dcc, html, no_update

from core.currency import money_unit
from core.errors import ConfigError, DataValidationError, ModelFileError
from core.export import export_bytes, safe_label
from core.features import FEATURE_BY_NAME, label
from core.model import SegmentModel
from core.pipeline import Segmentation
from core.schema import BEHAVIOUR_COLUMNS, COLUMN_BY_NAME, ID_COLUMN
from dashapp import ids
from dashapp.components import (
    ALGORITHM_LABELS,
    create_batch_summary,
    create_field_group,
    create_model_description,
    create_number_field,
    create_problem_alert,
    create_segment_result,
    create_upload,
)
from dashapp.downloads import download_link, offer_file
from dashapp.store import UnknownDataSet, get_store
from dashapp.theme import MAX_SEGMENTS
from dashapp.uploads import ACCEPT, UploadError, load_upload, upload_bytes, upload_limit

dash.register_page(__name__, path="/score", name="Score", title="Score · Clusters to Campaigns",
                   order=4)

MODEL_MAX_BYTES = 1024 * 1024  # a 17-feature, 15-segment model with PCA is about 20 KB
SCORABLE_COLUMNS = frozenset(BEHAVIOUR_COLUMNS) | frozenset(FEATURE_BY_NAME)
MAX_FEATURES_NAMED = 6


class FieldRange(NamedTuple):
    """What a form field accepts: bounds, whole numbers only, placeholder, unit in messages."""

    low: float
    high: float
    whole: bool
    hint: str
    unit: str = ""


RANGES: dict[str, FieldRange] = {
    "money": FieldRange(0, 1e8, False, "0 or more"),
    "frequency": FieldRange(0, 1, False, "0 to 1"),
    "count": FieldRange(0, 1e5, True, "whole number"),
    "months": FieldRange(6, 12, True, "6 to 12", " (months)"),
}
# Form columns, each a stack of (heading, columns) groups; a group's columns share a kind.
FORM: tuple[tuple[tuple[str, tuple[str, ...]], ...], ...] = (
    (("Balances & limits", ("BALANCE", "CREDIT_LIMIT", "PAYMENTS", "MINIMUM_PAYMENTS")),
     ("Cash advances", ("CASH_ADVANCE",))),
    (("Purchases", ("PURCHASES", "ONEOFF_PURCHASES", "INSTALLMENTS_PURCHASES")),
     ("Transaction counts", ("PURCHASES_TRX", "CASH_ADVANCE_TRX")),
     ("Tenure", ("TENURE",))),
    (("Frequencies", ("BALANCE_FREQUENCY", "PURCHASES_FREQUENCY", "ONEOFF_PURCHASES_FREQUENCY",
                      "PURCHASES_INSTALLMENTS_FREQUENCY", "CASH_ADVANCE_FREQUENCY",
                      "PRC_FULL_PAYMENT")),),
)
GROUP_UNITS = {"count": "number", "months": "months, 6 to 12", "frequency": "score 0 to 1"}


def _field(column: str) -> html.Label:
    return create_number_field(column, RANGES[COLUMN_BY_NAME[column].kind].hint)


def _model_card() -> dbc.Card:
    buttons = [
        dbc.Button("Download current model (.json)", id=ids.SCORE_MODEL_SAVE, color="secondary",
                   outline=True, size="sm", className="d-block mb-2",
                   title="The current segmentation's model, to score with later"),
        dbc.Button("Use the current model again", id=ids.SCORE_MODEL_RESET, color="secondary",
                   outline=True, size="sm", className="d-block", disabled=True),
        dcc.Download(id=ids.SCORE_MODEL_DOWNLOAD),
    ]
    upload = [create_upload(ids.SCORE_MODEL_UPLOAD, ".json,application/json", MODEL_MAX_BYTES,
                      "Score with another model", "Drop a model.json saved from this app"),
              html.Div(id=ids.SCORE_MODEL_STATUS, className="mt-2")]
    return dbc.Card([
        dbc.CardHeader("Model used for scoring", className="fw-semibold"),
        dbc.CardBody(dbc.Row([dbc.Col(html.Div(id=ids.SCORE_MODEL_INFO), lg=5),
                              dbc.Col(buttons, lg=3), dbc.Col(upload, lg=4)], className="g-3")),
    ], className="mb-3")


def _group_unit(columns: tuple[str, ...]) -> str:
    """The unit a form group's heading names: the currency for amounts."""
    kind = COLUMN_BY_NAME[columns[0]].kind
    return money_unit() if kind == "money" else GROUP_UNITS[kind]


def _one_customer_card() -> dbc.Card:
    form = dbc.Row([dbc.Col([create_field_group(title, _group_unit(columns),
                                                [_field(c) for c in columns])
                             for title, columns in stack], md=4) for stack in FORM])
    return dbc.Card([
        dbc.CardHeader("One customer", className="fw-semibold"),
        dbc.CardBody([
            html.P("Six months of card behaviour, pre-filled with the median customer of the "
                   "current data. Hover a label for its meaning.", className="small text-muted"),
            form,
            dbc.Button("Find segment", id=ids.SCORE_FIND, color="primary", className="me-2"),
            dbc.Button("Reset to the median customer", id=ids.SCORE_MEDIAN, color="secondary",
                       outline=True),
        ]),
    ], className="h-100")


def _result_card() -> dbc.Card:
    placeholder = html.P("Press “Find segment” to see where this customer belongs.",
                         className="text-muted mb-0")
    return dbc.Card([
        dbc.CardHeader("Segment found", className="fw-semibold"),
        dbc.CardBody(dcc.Loading(html.Div(placeholder, id=ids.SCORE_RESULT), delay_show=300)),
    ], className="h-100")


def _many_customers_card() -> dbc.Card:
    limit_mb = upload_limit() / 2 ** 20
    upload = [create_upload(ids.SCORE_BATCH_UPLOAD, ACCEPT, upload_limit(),
                      "Drop a customer file here, or click to choose one",
                      f"CSV, Excel (.xlsx) or Parquet · up to {limit_mb:.0f} MB · CC GENERAL "
                      "columns, as on the Data page"),
              dcc.Loading(html.Div(id=ids.SCORE_BATCH_STATUS, className="mt-2"))]
    summary = [html.Div(html.P("Upload a file to see how many of its customers fall in each "
                               "segment.", className="text-muted"), id=ids.SCORE_BATCH_SUMMARY),
               dbc.Button("Download scored file (CSV)", id=ids.SCORE_BATCH_SAVE, color="primary",
                          size="sm", className="mt-2", disabled=True),
               download_link(ids.SCORE_BATCH_DOWNLOAD)]
    return dbc.Card([
        dbc.CardHeader("Many customers", className="fw-semibold"),
        dbc.CardBody(dbc.Row([dbc.Col(upload, lg=5), dbc.Col(summary, lg=7)], className="g-4")),
    ])


def layout(**_query: str) -> html.Div:
    """The model card, the form beside its result, and the file upload with its summary."""
    return html.Div([
        dcc.Store(id=ids.SCORE_MODEL), dcc.Store(id=ids.SCORE_BATCH),
        html.H2("Score new customers"),
        html.P("Find the segment of one customer or of a whole file, with the current "
               "segmentation's model or a model.json saved earlier.", className="text-muted"),
        _model_card(),
        dbc.Row([dbc.Col(_one_customer_card(), xl=8), dbc.Col(_result_card(), xl=4)],
                className="g-3 mb-3"),
        _many_customers_card(),
    ])


# --- the model ------------------------------------------------------------------------------

class PageModel(NamedTuple):
    """The model the page scores with, where it came from, and the current segmentation."""

    model: SegmentModel
    source: str  # the data set's name, or the uploaded file's name
    uploaded: bool
    current: Segmentation

    @property
    def title(self) -> str:
        """``uploaded file model.json`` or ``current segmentation of <data>``."""
        return (f"uploaded file {self.source}" if self.uploaded
                else f"current segmentation of {self.source}")


def read_model(text: object) -> SegmentModel:
    """A model file's text as a model this page can score with; ModelFileError says why not."""
    if not isinstance(text, str | bytes) or len(text) > MODEL_MAX_BYTES:
        raise ModelFileError(f"a model file is JSON text of at most {MODEL_MAX_BYTES // 1024} KB")
    model = SegmentModel.from_json(text)
    columns = model.preprocessor.feature_set.columns
    if not isinstance(columns, tuple):
        raise ModelFileError("model field 'feature_set' must list its columns")
    unknown = [str(c) for c in columns if not isinstance(c, str) or c not in SCORABLE_COLUMNS]
    if unknown:
        raise ModelFileError(f"the model uses column(s) {', '.join(unknown)} that are not among "
                             "the 17 behavioural columns and the features computed from them")
    if not 1 <= model.k <= MAX_SEGMENTS:
        raise ModelFileError(f"the model has {model.k} segments; this app shows 1 to "
                             f"{MAX_SEGMENTS}")
    try:  # one customer with the model's own fill values must score
        _, distance = model.predict(pd.DataFrame([model.cleaner.fill_values_]))
    except (ConfigError, KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"the model file cannot score customers ({exc})") from None
    if not np.isfinite(distance).all():
        raise ModelFileError("the model file gives no finite distances; it is damaged")
    return model


def _decoded_model(contents: str | None) -> str:
    """The text of an uploaded model file (a ``data:`` URL)."""
    try:
        raw = upload_bytes(contents, MODEL_MAX_BYTES)
    except UploadError as error:
        raise ModelFileError(str(error).rstrip(".")) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ModelFileError("the file is not UTF-8 JSON text") from None


def page_model(state: dict | None, uploaded: dict | None) -> PageModel:
    """The uploaded model if the page holds a valid one, else the current segmentation's."""
    store = get_store()
    view, current = store.current(state)
    if isinstance(uploaded, dict):
        try:
            model = read_model(uploaded.get("json"))
        except ModelFileError:
            pass  # not written by this page: score with the current model
        else:
            return PageModel(model, str(uploaded.get("name"))[:80], True, current)
    return PageModel(current.model, store.data(view.data).source, False, current)


def model_details(model: SegmentModel) -> str:
    """``4 segments · K-means · seed features: Purchase frequency, …`` (at most six named)."""
    algorithm = str(model.config.get("algorithm", "unknown algorithm"))
    features = model.preprocessor.feature_set
    names = [label(c) for c in features.columns]
    if len(names) > MAX_FEATURES_NAMED:
        names = [*names[:MAX_FEATURES_NAMED - 1], f"and {len(names) - MAX_FEATURES_NAMED + 1} more"]
    return (f"{model.k} segments · {ALGORITHM_LABELS.get(algorithm, algorithm)} · "
            f"{features.name} features: {', '.join(names)}")


@callback(Output(ids.SCORE_MODEL_INFO, "children"), Output(ids.SCORE_MODEL_RESET, "disabled"),
          Input(ids.STATE, "data"), Input(ids.SCORE_MODEL, "data"))
def describe_model(state: dict | None, uploaded: dict | None):
    """Which model the page scores with; the current segmentation is always listed."""
    used = page_model(state, uploaded)
    current = page_model(state, None)
    blocks = [create_model_description("Current segmentation", current.source,
                                       model_details(current.model), not used.uploaded)]
    if used.uploaded:
        blocks.insert(0, create_model_description("Uploaded model", used.source,
                                                  model_details(used.model), True))
    return blocks, not used.uploaded


@callback(Output(ids.SCORE_MODEL_DOWNLOAD, "data"), Input(ids.SCORE_MODEL_SAVE, "n_clicks"),
          State(ids.STATE, "data"), prevent_initial_call=True)
def download_model(clicks: int | None, state: dict | None):
    """The current segmentation's model as ``model_<data>_k<k>.json``."""
    if not clicks:
        return no_update
    store = get_store()
    view = store.active(state)
    model = store.segmentation(view.data, view.config).model
    name = f"model_{safe_label(store.data(view.data).source)}_k{model.k}.json"
    return dcc.send_string(model.to_json(), name, type="application/json")


@callback(Output(ids.SCORE_MODEL, "data"), Output(ids.SCORE_MODEL_STATUS, "children"),
          Input(ids.SCORE_MODEL_UPLOAD, "contents"), State(ids.SCORE_MODEL_UPLOAD, "filename"),
          prevent_initial_call=True)
def upload_model(contents: str | None, filename: str | None):
    """A valid model file becomes the page's model; a bad one is explained and changes nothing."""
    if not contents:
        return no_update, no_update
    name = str(filename or "the model file")[:80]
    try:
        model = read_model(_decoded_model(contents))
    except ModelFileError as error:
        return no_update, create_problem_alert(
            f"{name} was not used — scoring continues with the model in use.", [str(error)])
    return ({"name": name, "json": model.to_json()},
            dbc.Alert(f"Scoring with {name} ({model.k} segments).", color="success",
                      className="py-2 mb-0"))


@callback(Output(ids.SCORE_MODEL, "data", allow_duplicate=True),
          Output(ids.SCORE_MODEL_STATUS, "children", allow_duplicate=True),
          Input(ids.SCORE_MODEL_RESET, "n_clicks"), prevent_initial_call=True)
def use_current_model(clicks: int | None):
    """Drop the uploaded model: score with the current segmentation's model again."""
    if not clicks:
        return no_update, no_update
    return None, None


# --- one customer ---------------------------------------------------------------------------

def median_customer(segmentation: Segmentation) -> dict[str, float]:
    """The median of every behavioural column, rounded as the form's fields step.

    Purchases is the sum of the two medians it splits into, as cleaning would make it.
    """
    medians = segmentation.prepared.frame[list(BEHAVIOUR_COLUMNS)].median()
    values = {column: round(float(medians[column]),
                            0 if RANGES[COLUMN_BY_NAME[column].kind].whole else 2)
              for column in BEHAVIOUR_COLUMNS}
    values["PURCHASES"] = round(values["ONEOFF_PURCHASES"] + values["INSTALLMENTS_PURCHASES"], 2)
    return values


def _number(value: object) -> float | None:
    """``value`` as a finite float, or None (booleans and text that is not a number too)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _bound(value: float) -> str:
    """A field bound as people write it: ``0``, ``1``, ``100,000,000``."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,g}"


def _field_problem(column: str, value: object) -> str | None:
    """Why ``value`` cannot be used for ``column``, naming the field and what it takes."""
    spec = COLUMN_BY_NAME[column]
    limits = RANGES[spec.kind]
    name = spec.label + limits.unit
    span = f"between {_bound(limits.low)} and {_bound(limits.high)}"
    kind = "a whole number" if limits.whole else "a number"
    if value is None or (isinstance(value, str) and not value.strip()):
        return f"{name} is empty: enter {kind} {span}."
    number = _number(value)
    if number is None:
        return f"{name} must be {kind} {span}; got {str(value)[:20]!r}."
    if not limits.low <= number <= limits.high:
        return f"{name} must be {span}; got {number:,g}."
    if limits.whole and not number.is_integer():
        return f"{name} must be a whole number; got {number:g}."
    return None


def _columns(field_ids: Sequence | None) -> list[str | None]:
    """The column of each form field id from the browser (None for a malformed id)."""
    field_ids = field_ids if isinstance(field_ids, list | tuple) else []
    columns = [f.get("column") if isinstance(f, dict) else None for f in field_ids]
    return [c if isinstance(c, str) else None for c in columns]


def read_form(values: Sequence | None,
              field_ids: Sequence | None) -> tuple[pd.DataFrame | None, dict[str, str]]:
    """The form as a one-row customer table, or None and what is wrong with which fields.

    Returns
    -------
    customer : DataFrame or None
    problems : dict of str to str
        By column, in form order; empty when the customer could be read.
    """
    given = dict(zip(_columns(field_ids), values if isinstance(values, list | tuple) else [],
                     strict=False))
    problems = {column: problem for column in BEHAVIOUR_COLUMNS
                if (problem := _field_problem(column, given.get(column)))}
    if problems:
        return None, problems
    return pd.DataFrame([{ID_COLUMN: "form",
                          **{c: float(given[c]) for c in BEHAVIOUR_COLUMNS}}]), {}


def form_notes(customer: pd.DataFrame) -> list[str]:
    """What cleaning changes in the form's customer before it is scored."""
    row = customer.iloc[0]
    parts = row["ONEOFF_PURCHASES"] + row["INSTALLMENTS_PURCHASES"]
    if math.isclose(row["PURCHASES"], parts):
        return []
    return [f"Purchases ({row['PURCHASES']:,.2f}) was scored as one-off + installment "
            f"purchases ({parts:,.2f}), as cleaning does for every customer."]


def segment_result(used: PageModel, customer: pd.DataFrame) -> html.Div:
    """The result card for one customer; the current segmentation adds description and spread."""
    labels, distances = used.model.predict(customer)
    segment, distance = int(labels[0]), float(distances[0])
    name, notes = used.model.names[segment - 1], form_notes(customer)
    if used.uploaded:
        return create_segment_result(segment, name, None, distance, None, used.title, notes)
    current = used.current
    typical = float(np.median(current.clusters.distances[current.labels == segment]))
    return create_segment_result(segment, name, current.profiles[segment - 1].description,
                                 distance, typical, used.title, notes)


@callback(Output({"type": ids.SCORE_FIELD, "column": ALL}, "value"),
          Output({"type": ids.SCORE_FIELD, "column": ALL}, "invalid"),
          Input(ids.STATE, "data"), Input(ids.SCORE_MEDIAN, "n_clicks"),
          State({"type": ids.SCORE_FIELD, "column": ALL}, "id"))
def fill_median(state: dict | None, _clicks: int | None,
                field_ids: list[dict]) -> tuple[list[float | None], list[bool]]:
    """Pre-fill (or reset) the form with the median customer of the current data, unmarked."""
    store = get_store()
    view = store.active(state)
    medians = median_customer(store.segmentation(view.data, view.config))
    columns = _columns(field_ids)
    return [medians.get(column) for column in columns], [False] * len(columns)


@callback(Output(ids.SCORE_RESULT, "children"),
          Output({"type": ids.SCORE_FIELD, "column": ALL}, "invalid", allow_duplicate=True),
          Output({"type": ids.SCORE_FEEDBACK, "column": ALL}, "children"),
          Input(ids.SCORE_FIND, "n_clicks"), Input(ids.SCORE_MODEL, "data"),
          State({"type": ids.SCORE_FIELD, "column": ALL}, "value"),
          State({"type": ids.SCORE_FIELD, "column": ALL}, "id"), State(ids.STATE, "data"),
          prevent_initial_call=True)
def find_segment(clicks: int | None, uploaded: dict | None, values: list, field_ids: list,
                 state: dict | None):
    """The segment of the customer in the form, with the page's model; else mark the fields
    that cannot be used and say under each what it takes."""
    if not clicks:
        return no_update
    customer, problems = read_form(values, field_ids)
    columns = _columns(field_ids)
    marks = [c in problems for c in columns], [problems.get(c) for c in columns]
    if problems:
        return create_problem_alert("Check these fields:", list(problems.values())), *marks
    try:
        result = segment_result(page_model(state, uploaded), customer)
    except ModelFileError as error:
        result = create_problem_alert("This model cannot score the customer:", [str(error)])
    return result, *marks


# --- many customers -------------------------------------------------------------------------

def score_batch(batch: dict | None, state: dict | None,
                uploaded: dict | None) -> tuple[pd.DataFrame, PageModel, str]:
    """The uploaded file's customers scored with the page's model, the model, the file name."""
    data_id = batch.get("data") if isinstance(batch, dict) else None
    if not get_store().has(data_id) or data_id == get_store().starting_id:
        raise UnknownDataSet(data_id)
    data = get_store().data(data_id)
    used = page_model(state, uploaded)
    return used.model.score(data.frame), used, data.source


def segment_counts(scored: pd.DataFrame, model: SegmentModel) -> list[tuple[int, str, int]]:
    """``(segment, name, customers)`` for every segment of ``model``, empty ones included."""
    counts = np.bincount(scored["segment"].to_numpy(), minlength=model.k + 1)[1:]
    return [(n, name, int(c)) for n, (name, c) in enumerate(zip(model.names, counts,
                                                                strict=True), start=1)]


@callback(Output(ids.SCORE_BATCH, "data"), Output(ids.SCORE_BATCH_STATUS, "children"),
          Input(ids.SCORE_BATCH_UPLOAD, "contents"), State(ids.SCORE_BATCH_UPLOAD, "filename"),
          prevent_initial_call=True)
def upload_batch(contents: str | None, filename: str | None):
    """Keep a good customer file on the server; explain a bad one and keep the previous file."""
    if not contents:
        return no_update, no_update
    try:
        data = load_upload(contents, filename, upload_limit())
    except DataValidationError as error:
        return no_update, create_problem_alert(
            f"{error.source or 'The file'} was not scored.", error.problems)
    return {"data": get_store().add(data)}, None


@callback(Output(ids.SCORE_BATCH_SUMMARY, "children"), Output(ids.SCORE_BATCH_SAVE, "disabled"),
          Input(ids.SCORE_BATCH, "data"), Input(ids.SCORE_MODEL, "data"),
          Input(ids.STATE, "data"), prevent_initial_call=True)
def summarise_batch(batch: dict | None, uploaded: dict | None, state: dict | None):
    """Customers per segment of the uploaded file, with the page's model."""
    if not batch:
        return no_update, True
    try:
        scored, used, source = score_batch(batch, state, uploaded)
    except UnknownDataSet:
        return create_problem_alert("The uploaded file is no longer on the server.",
                                    ["Please upload it again."]), True
    except ModelFileError as error:
        return create_problem_alert("This model cannot score the file:", [str(error)]), True
    return create_batch_summary(source, segment_counts(scored, used.model), used.title), False


@callback(Output({"type": ids.DOWNLOAD_LINK, "name": ids.SCORE_BATCH_DOWNLOAD}, "data"),
          Input(ids.SCORE_BATCH_SAVE, "n_clicks"),
          State(ids.SCORE_BATCH, "data"), State(ids.SCORE_MODEL, "data"),
          State(ids.STATE, "data"), prevent_initial_call=True)
def download_scored(clicks: int | None, batch: dict | None, uploaded: dict | None,
                    state: dict | None):
    """The scored file as CSV: id, segment, name, distance; formula-like text neutralised."""
    if not clicks:
        return no_update
    try:
        scored, used, source = score_batch(batch, state, uploaded)
    except (UnknownDataSet, ModelFileError):
        return no_update  # the summary already says why
    return offer_file(export_bytes(scored, "csv"),
                      f"scored_{safe_label(source)}_k{used.model.k}.csv")
