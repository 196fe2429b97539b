"""Where the read-only reference data set lives, and the skip marker for tests that need it."""

from pathlib import Path

import pytest

REFERENCE_CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "cc_general.csv"
needs_reference = pytest.mark.skipif(
    not REFERENCE_CSV.exists(),
    reason="../shared/data/cc_general.csv (reference data) is absent",
)
