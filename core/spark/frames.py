"""Customer tables as Spark DataFrames: read CSV or Parquet, check them as the loader does, clean
them with a Cleaner's fill values, and add the engineered features and styles.

Cleaning and features are the same IEEE operations as :mod:`core.cleaning` and
:mod:`core.features` (additions, safe divisions, comparisons), so they give the same bits.
Style rules are read from :data:`core.features.STYLES` themselves; the cleaning rules and the
feature formulas are restated here one to one (``tests/test_spark.py`` checks every rule).

The Spark reader is plainer than the local one: it reads numbers written as plain decimals
(``1234.5``, ``1e3``) and the loader's empty-cell spellings and marks (``NA``, ``-``, ``#N/A``)
as missing; currency signs, thousands separators, percentages and decimal commas are refused as
text. Messages name counts and example cells, not row numbers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from core.cleaning import MEDIAN_COLUMNS, MODE_COLUMNS
from core.errors import DataValidationError
from core.features import FEATURES, STYLES
from core.headers import clean_header, closest_header, header_score, match_headers
from core.numbers import ERROR_CELLS, MISSING_MARKS, NULL_SPELLINGS
from core.read_text import DELIMITERS
from core.schema import BEHAVIOUR_COLUMNS, COLUMN_BY_NAME, COUNT_COLUMNS, ID_COLUMN
from core.spark.session import SPARK_ERRORS, first_line
from core.validation import CREDIT_BALANCE_COLUMN, PLACEHOLDER_LIMIT, TYPE_MAXIMA

# Feature name -> (left, operation, right); "/" is core.features.safe_divide (0 unless the
# denominator is positive). In the order of core.features.FEATURES, so later ones may use
# earlier ones.
SPARK_FEATURES: dict[str, tuple[str, str, str]] = {
    "TOTAL_SPENDING": ("PURCHASES", "+", "CASH_ADVANCE"),
    "ONEOFF_SHARE": ("ONEOFF_PURCHASES", "/", "PURCHASES"),
    "INSTALLMENT_SHARE": ("INSTALLMENTS_PURCHASES", "/", "PURCHASES"),
    "CASH_ADVANCE_SHARE": ("CASH_ADVANCE", "/", "TOTAL_SPENDING"),
    "UTILISATION": ("BALANCE", "/", "CREDIT_LIMIT"),
    "PAYMENT_TO_MINIMUM": ("PAYMENTS", "/", "MINIMUM_PAYMENTS"),
    "CASH_ADVANCE_TO_LIMIT": ("CASH_ADVANCE", "/", "CREDIT_LIMIT"),
    "MONTHLY_PURCHASES": ("PURCHASES", "/", "TENURE"),
    "MONTHLY_CASH_ADVANCE": ("CASH_ADVANCE", "/", "TENURE"),
    "MONTHLY_PAYMENTS": ("PAYMENTS", "/", "TENURE"),
}
_NUMBER = r"^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$"
_INFINITY = r"(?i)^[+-]?inf(inity)?$"
_MISSING_TEXT = sorted(NULL_SPELLINGS | MISSING_MARKS)
_PARQUET_SUFFIXES = (".parquet", ".pq")
_SHOWN = 3


@dataclass(frozen=True, eq=False)
class SparkCustomers:
    """A checked customer table: ``CUST_ID`` (text), the 17 behavioural columns (double, null
    where missing), then the pass-through attributes as read.

    ``notes`` are the soft problems the local loader prints as warnings.
    """

    frame: DataFrame
    source: str
    rows: int
    attributes: tuple[str, ...]
    notes: tuple[str, ...]


def col(name: str) -> Column:
    """A column by its exact name (names with dots or spaces included)."""
    return F.col("`" + name.replace("`", "``") + "`")


def read_customers(spark: SparkSession, uri: str) -> SparkCustomers:
    """Read a CSV or Parquet table (a file or a folder, any URI Spark reads) and check it.

    Parameters
    ----------
    spark : SparkSession
    uri : str
        A local path or a URI; names ending in ``.parquet``/``.pq`` (or local files starting
        with ``PAR1``, or folders of such files) are Parquet, anything else CSV with a header row
        (delimiter ``,``, ``;``, tab or ``|``, chosen by the header).

    Raises
    ------
    DataValidationError
        For a missing or unreadable file and for every blocking problem the loader refuses:
        missing or clashing columns, text, infinite, negative or placeholder values, blank or
        duplicate ids, no rows.
    """
    name = source_name(uri)
    raw = _read(spark, uri, name)
    headers = [clean_header(h) for h in raw.columns]
    match = match_headers(headers)
    problems = _header_problems(headers, match)
    if problems:
        raise DataValidationError(problems, name)
    names = _names(headers, match.columns)
    raw = raw.toDF(*names)
    attributes = tuple(n for n in names if n not in match.columns)
    schema = {field.name: field.dataType for field in raw.schema.fields}
    parsed = {c: _number(c, schema[c]) for c in BEHAVIOUR_COLUMNS}
    texts = [f"_text{i}" for i in range(len(parsed))]
    checked = raw.select(_ids(schema[ID_COLUMN]).alias(ID_COLUMN),
                         *(value.alias(c) for c, (value, _) in parsed.items()),
                         *(text.alias(t) for (_, text), t in zip(parsed.values(), texts,
                                                                 strict=True)),
                         *(col(a) for a in attributes))
    counts = _counts(checked, texts)
    problems, notes = _value_problems(raw, parsed, counts)
    frame = checked.drop(*texts)
    if not problems:
        problems = _duplicate_ids(frame)
    if problems:
        raise DataValidationError(problems, name)
    return SparkCustomers(frame, name, counts["rows"], attributes, notes)


def clean(frame: DataFrame, fills: dict[str, float]) -> DataFrame:
    """``frame`` with the rules of :meth:`core.cleaning.Cleaner.clean` applied, given its
    ``fill_values_``: medians and modes fill the gaps, MINIMUM_PAYMENTS is 0 where nothing was
    paid, and PURCHASES becomes ONEOFF + INSTALLMENTS where they are not ``numpy.isclose``."""
    frame = frame.withColumns({c: F.coalesce(col(c), F.lit(float(fills[c])))
                               for c in MEDIAN_COLUMNS + MODE_COLUMNS})
    minimum = col("MINIMUM_PAYMENTS")
    parts = col("ONEOFF_PURCHASES") + col("INSTALLMENTS_PURCHASES")
    purchases = col("PURCHASES")
    close = (F.abs(purchases - parts) <= F.lit(1e-8) + F.lit(1e-5) * F.abs(parts)) \
        | (purchases == parts)  # numpy.isclose(PURCHASES, parts) for finite values
    return frame.withColumns({
        "MINIMUM_PAYMENTS": F.when(minimum.isNotNull(), minimum)
        .when(col("PAYMENTS") == 0, F.lit(0.0))
        .otherwise(F.lit(float(fills["MINIMUM_PAYMENTS"]))),
        "PURCHASES": F.when(close, purchases).otherwise(parts),
    })


def add_features(frame: DataFrame) -> DataFrame:
    """``frame`` (cleaned) with every engineered feature of :data:`core.features.FEATURES`
    (doubles) and every style of :data:`core.features.STYLES` (the category's position)."""
    for feature in FEATURES:
        left, operation, right = SPARK_FEATURES[feature.name]
        frame = frame.withColumn(feature.name, _operate(col(left), operation, col(right)))
    return frame.withColumns({style.name: style_code(style) for style in STYLES})


def style_code(style) -> Column:
    """Position of each customer's category in ``style.categories``, from the style's own rule:
    the rule reads ``f[name].to_numpy()``, which :class:`_RuleColumns` makes a Spark column."""
    masks = style.rule(_RuleColumns())
    code = F.lit(len(style.categories) - 1)
    for position in reversed(range(len(masks))):  # the first mask that holds wins, as np.select
        code = F.when(masks[position], F.lit(position)).otherwise(code)
    return code


class _RuleColumns:
    """Stands in for the pandas frame a :class:`core.features.Style` rule reads."""

    def __getitem__(self, name: str) -> _RuleValues:
        return _RuleValues(col(name))


@dataclass(frozen=True)
class _RuleValues:
    column: Column

    def to_numpy(self, *args: object, **kwargs: object) -> Column:
        return self.column


def _operate(left: Column, operation: str, right: Column) -> Column:
    if operation == "+":
        return left + right
    return F.when(right > 0, left / right).otherwise(F.lit(0.0))  # core.features.safe_divide


def source_name(uri: str) -> str:
    """How messages name a table: its file or folder name."""
    return uri.rstrip("/").rsplit("/", 1)[-1] or uri


def check_exists(uri: str) -> None:
    """Fail early (before Spark starts) when a local path does not exist; URIs pass."""
    if _is_local(uri) and not os.path.exists(uri):
        raise DataValidationError([f"the file {uri!r} cannot be opened (No such file or "
                                   "directory)."], source_name(uri))


def _is_local(uri: str) -> bool:
    return "://" not in uri and not uri.startswith("file:")


def _read(spark: SparkSession, uri: str, name: str) -> DataFrame:
    check_exists(uri)
    local = _is_local(uri)
    try:
        if _is_parquet(uri, local):
            return spark.read.parquet(uri)
        first = spark.read.text(uri).first()
        if first is None or not first[0].strip():
            raise DataValidationError(["the file is empty."], name)
        delimiter = max(DELIMITERS, key=lambda d: header_score(first[0].split(d)))
        return spark.read.csv(uri, header=True, sep=delimiter, ignoreLeadingWhiteSpace=True,
                              ignoreTrailingWhiteSpace=True)
    except SPARK_ERRORS as exc:
        raise DataValidationError([f"Spark cannot read {uri!r}: {first_line(exc)}"],
                                  name) from None


def _is_parquet(uri: str, local: bool) -> bool:
    if uri.rstrip("/").lower().endswith(_PARQUET_SUFFIXES):
        return True
    if local and os.path.isfile(uri):
        with open(uri, "rb") as handle:
            return handle.read(4) == b"PAR1"
    if local and os.path.isdir(uri):
        return any(f.lower().endswith(_PARQUET_SUFFIXES) for f in os.listdir(uri))
    return False


def _header_problems(headers: list[str], match) -> list[str]:
    if not match.columns and not match.conflicts:
        shown = ", ".join(repr(h) for h in headers[:5] if h) or "none"
        return [f"none of the expected columns ({ID_COLUMN}, {', '.join(BEHAVIOUR_COLUMNS[:3])}, "
                f"...) were found; headers found: {shown}. Is this a CC GENERAL customer table?"]
    problems = [f"headers {', '.join(repr(headers[p]) for p in positions)} all match column "
                f"{column}; keep one and rename or delete the others."
                for column, positions in match.conflicts.items()]
    unknown = [headers[p] for p in match.attributes if headers[p]]
    alone = []
    for column in match.missing:
        closest = closest_header(column, unknown)
        if closest:
            problems.append(f"missing column {column} (closest header found: {closest!r}).")
        else:
            alone.append(column)
    if alone:
        problems.append(f"missing {'column' if len(alone) == 1 else 'columns'} "
                        f"{', '.join(alone)} (no similar header found).")
    return problems


def _names(headers: list[str], columns: dict[str, int]) -> list[str]:
    """Canonical names for matched headers; the others as found, made distinct."""
    canonical = {position: column for column, position in columns.items()}
    names: list[str] = []
    for position, header in enumerate(headers):
        base = canonical.get(position) or header or f"column {position + 1}"
        name, n = base, 2
        while name in names or (name != canonical.get(position) and name in columns):
            name, n = f"{base} ({n})", n + 1
        names.append(name)
    return names


def _ids(kind: T.DataType) -> Column:
    """Customer ids as text, as the loader writes them (whole-number floats without ``.0``)."""
    value = col(ID_COLUMN)
    if isinstance(kind, T.StringType):
        value = F.trim(value)
        return F.when(value != "", value)
    if isinstance(kind, T.FloatType | T.DoubleType):
        whole = (value == F.floor(value)) & (F.abs(value) < 2.0**53)
        return F.when(F.isnan(value), F.lit(None)) \
            .when(whole, value.cast("long").cast("string")).otherwise(value.cast("string"))
    return value.cast("string")


def _number(name: str, kind: T.DataType) -> tuple[Column, Column]:
    """A behavioural column as doubles (null where missing) and where it holds text."""
    value = col(name)
    if isinstance(kind, T.StringType):
        value = F.trim(value)
        missing = value.isNull() | (value == "") | F.lower(value).isin(_MISSING_TEXT) \
            | F.upper(value).isin(sorted(ERROR_CELLS))
        number = value.rlike(_NUMBER) | value.rlike(_INFINITY)
        return F.when(number, value.try_cast("double")), ~missing & ~number
    if isinstance(kind, T.NumericType | T.BooleanType):
        number = value.cast("double")
        return F.when(~F.isnan(number), number), F.lit(False)
    return F.lit(None).cast("double"), value.isNotNull()  # dates, binary, ...: not numbers


def _counts(checked: DataFrame, texts: list[str]) -> dict[str, int]:
    """Rows, blank ids, and per column: text, missing, infinite, negative, placeholder cells.

    Written as SQL: one aggregate of 87 counts costs a few py4j calls instead of thousands.
    """
    inf = "double('inf')"
    checks = ["count(1) AS rows", f"count_if(`{ID_COLUMN}` IS NULL) AS blank_ids"]
    for i, (name, text) in enumerate(zip(BEHAVIOUR_COLUMNS, texts, strict=True)):
        v = f"`{name}`"
        maxima = (f" OR {v} IN ({', '.join(f'{float(m)!r}D' for m in TYPE_MAXIMA)})"
                  if name in COUNT_COLUMNS else "")
        checks += [f"count_if({text}) AS text{i}",
                   f"count_if({v} IS NULL AND NOT {text}) AS missing{i}",
                   f"count_if(abs({v}) = {inf}) AS infinite{i}",
                   f"count_if({v} < 0 AND {v} > -{inf}) AS negative{i}",  # finite, as local
                   f"count_if(abs({v}) >= {PLACEHOLDER_LIMIT!r}D AND abs({v}) < {inf}{maxima})"
                   f" AS placeholder{i}"]
    row = checked.selectExpr(*checks).first()
    return {k: int(v or 0) for k, v in row.asDict().items()}


def _value_problems(raw: DataFrame, parsed: dict[str, tuple[Column, Column]],
                    counts: dict) -> tuple[list[str], tuple[str, ...]]:
    problems: list[str] = []
    notes: list[str] = []
    if counts["rows"] == 0:
        return ["the file has a header row but no customer rows."], ()
    if counts["blank_ids"]:
        problems.append(f"{ID_COLUMN} is blank in {_plural(counts['blank_ids'], 'row')}; every "
                        "customer needs an id.")
    for i, (name, (_, text)) in enumerate(parsed.items()):
        if counts[f"text{i}"]:
            rows = counts[f"text{i}"]
            problems.append(f"column {name} must be numeric; {_plural(rows, 'row')} "
                            f"{_verb(rows, 'contains', 'contain')} text (e.g. "
                            f"{_examples(raw, name, text)}). The Spark engine reads plain numbers "
                            "such as 1234.5, without currency signs, thousands separators or "
                            "percent signs.")
        if counts[f"infinite{i}"]:
            problems.append(f"column {name} contains infinite values in "
                            f"{_plural(counts[f'infinite{i}'], 'row')}; use real numbers or "
                            "leave the cells empty.")
        if counts[f"placeholder{i}"]:
            problems.append(f"column {name} holds values far beyond any real amount or count in "
                            f"{_plural(counts[f'placeholder{i}'], 'row')} (the largest number a "
                            "file type can store, usually a placeholder for 'unknown'). Leave "
                            "unknown values empty.")
        negative = counts[f"negative{i}"]
        if negative and name == CREDIT_BALANCE_COLUMN:
            notes.append(f"{name}: {_plural(negative, 'customer')} "
                         f"{_verb(negative, 'has', 'have')} a credit balance (below 0). Kept as "
                         "found; segmentations that log-scale money count them as a balance of "
                         "0.")
        elif negative:
            problems.append(f"column {name} must not be negative "
                            f"({COLUMN_BY_NAME[name].label.lower()} cannot be below 0); "
                            f"{_plural(negative, 'row')} {_verb(negative, 'is', 'are')} below 0.")
        missing = counts[f"missing{i}"]
        if missing:
            share = 100 * missing / counts["rows"]
            percent = f"{share:.1f}" if share >= 0.1 else "<0.1"
            notes.append(f"{name}: {missing:,} missing ({percent} %) — will be filled during "
                         "cleaning.")
    return problems, tuple(notes)


def _duplicate_ids(frame: DataFrame) -> list[str]:
    repeated = frame.groupBy(ID_COLUMN).count().filter(F.col("count") > 1)
    shown = [r[0] for r in repeated.limit(_SHOWN).collect()]
    if not shown:
        return []
    n = repeated.count() if len(shown) == _SHOWN else len(shown)
    examples = ", ".join(repr(s) for s in shown)
    return [f"{ID_COLUMN} must be unique; {_plural(n, 'id')} {_verb(n, 'appears', 'appear')} "
            f"more than once (e.g. {examples})."]


def _examples(raw: DataFrame, name: str, condition: Column) -> str:
    rows = raw.filter(condition).select(col(name)).distinct().limit(_SHOWN).collect()
    return ", ".join(repr(str(r[0])) for r in rows)


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _verb(count: int, one: str, many: str) -> str:
    return one if count == 1 else many
