"""The Spark engine: the same cleaning, features, scaling, PCA and segments as the local engine,
run with Spark's DataFrame API and MLlib KMeans on tables larger than one machine.

Only this module is imported without pyspark (the command line parses ``--master`` and
``--conf`` with it); :func:`require_pyspark` says how to install the ``[spark]`` extra. The
modules beside it import pyspark at the top:

- :mod:`core.spark.session` starts the session, :mod:`core.spark.frames` reads, checks, cleans
  and adds features, :mod:`core.spark.scoring` maps customers to model space and their nearest
  segment (the same labels as :meth:`core.model.SegmentModel.predict`), :mod:`core.spark.fitting`
  learns fill values, scaling, PCA, KMeans centres and segment profiles, and
  :mod:`core.spark.jobs` runs ``c2c fit``, ``c2c score`` and ``c2c export``.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from core.errors import ConfigError

EXTRA_MESSAGE = ("the Spark engine needs the [spark] extra: "
                 "pip install 'clusters-to-campaigns[spark]'")
DEFAULT_MASTER = "local[*]"
# Confs for local mode: no web UI, and the driver on loopback (on a host whose name resolves to
# another address, task results fetched from the driver's block manager fail otherwise).
LOCAL_CONFS: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.host": "127.0.0.1",
}
_MASTER = re.compile(r"local(\[(\*|[1-9]\d*)(,[1-9]\d*)?\])?|local-cluster\[\d+,\d+,\d+\]"
                     r"|(spark|mesos)://\S+|k8s://\S+|yarn")
_CONF_KEY = re.compile(r"spark\.[A-Za-z0-9_.\-]+")


def require_pyspark() -> None:
    """Raise a ConfigError naming the ``[spark]`` extra when pyspark cannot be imported."""
    try:
        importlib.import_module("pyspark")
    except ImportError:
        raise ConfigError(EXTRA_MESSAGE) from None


def check_master(text: str) -> str:
    """``text`` if it is a Spark master URL (``local[*]``, ``spark://host:7077``, ``yarn``…)."""
    if not _MASTER.fullmatch(text.strip()):
        raise ConfigError(f"--master must be local, local[N], local[*], spark://HOST:PORT, "
                          f"k8s://URL or yarn; got {text!r}")
    return text.strip()


def parse_conf(text: str) -> tuple[str, str]:
    """``spark.key=value`` as ``(key, value)``; a ConfigError for anything else."""
    key, equals, value = text.partition("=")
    if not equals or not _CONF_KEY.fullmatch(key.strip()) or not value.strip():
        raise ConfigError(f"--conf expects spark.KEY=VALUE (e.g. spark.executor.memory=4g); "
                          f"got {text!r}")
    return key.strip(), value.strip()


def session_confs(master: str, confs: list[tuple[str, str]] | tuple = ()) -> dict[str, str]:
    """The confs a session starts with: :data:`LOCAL_CONFS` in local mode, a driver log of
    errors only, then ``confs``."""
    log = Path(__file__).with_name("log4j2.properties").as_uri()
    return {**(LOCAL_CONFS if master.startswith("local") else {}),
            "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={log}",
            "spark.ui.showConsoleProgress": "false", **dict(confs)}
