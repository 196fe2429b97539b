"""Start (or reuse) a Spark session, and turn Spark's failures into one-line engine errors."""

from __future__ import annotations

import os
import re
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from py4j.protocol import Py4JError
from pyspark.errors import PySparkException
from pyspark.sql import SparkSession

from core.errors import C2CError, ConfigError
from core.spark import session_confs

SPARK_ERRORS = (PySparkException, Py4JError)  # what a failed Spark call raises in Python
_RAISED = re.compile(r"[A-Za-z_.]*(Error|Exception): ")


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, without Spark's stack traces; for an error
    in a Python worker, the traceback's last line (``ModuleNotFoundError: …``)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    if any(line.startswith("Traceback") for line in lines):
        raised = [line for line in lines if _RAISED.match(line)]
        return raised[-1] if raised else lines[0]
    return lines[0]


@contextmanager
def spark_session(master: str, confs: Sequence[tuple[str, str]] = (),
                  app_name: str = "clusters-to-campaigns") -> Iterator[SparkSession]:
    """A session for ``master`` with ``confs`` (see :func:`core.spark.session_confs`).

    A session already active in this process (a notebook's, a test's) is used as it is and left
    running; a session started here is stopped at the end.
    """
    active = SparkSession.getActiveSession()
    spark = active or _start(master, confs, app_name)
    try:
        yield spark
    except SPARK_ERRORS as exc:
        raise C2CError(f"the Spark job failed: {first_line(exc)}") from None
    finally:
        if active is None:
            spark.stop()


def _start(master: str, confs: Sequence[tuple[str, str]], app_name: str) -> SparkSession:
    if master.startswith("local"):  # Python workers (export's draws) run this interpreter
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in session_confs(master, list(confs)).items():
        builder = builder.config(key, value)
    try:
        with warnings.catch_warnings():  # pyspark's check at start-up; no pandas interop here
            warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas",
                                    FutureWarning)
            return builder.getOrCreate()
    except SPARK_ERRORS as exc:
        raise ConfigError(f"cannot start Spark with --master {master} (is Java 17 or newer "
                          f"installed?): {first_line(exc)}") from None
