"""Files over the browser upload's cap: ``c2c`` reads them; unpacking stays bounded."""

import io

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import core.loading
from core.cli import main
from core.demo import generate_demo_data
from core.errors import DataValidationError
from core.loading import DEFAULT_MAX_BYTES, load_customers
from core.schema import ID_COLUMN

ROWS = 700


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory):
    """A valid CSV just over DEFAULT_MAX_BYTES, written in well under a second: 700 demo
    customers whose TENURE cells are padded with spaces (as fixed-width exports do)."""
    text = generate_demo_data(ROWS, seed=11).to_csv(index=False)
    header, *rows = text.splitlines()
    pad = " " * ((DEFAULT_MAX_BYTES - len(text)) // ROWS + 1)
    path = tmp_path_factory.mktemp("big") / "customers.csv"
    path.write_text("\n".join([header, *(row + pad for row in rows)]) + "\n", encoding="utf-8")
    assert path.stat().st_size > DEFAULT_MAX_BYTES
    return path


def test_the_file_is_over_the_default_limit(big_csv):
    with pytest.raises(DataValidationError, match="over the 50 MB limit"):
        load_customers(big_csv)


def test_fit_score_and_export_read_a_file_over_the_upload_limit(big_csv, tmp_path):
    assert main(["fit", "--data", str(big_csv), "--k", "3", "--out", str(tmp_path)]) == 0
    assignments = pd.read_csv(tmp_path / "assignments.csv", dtype={ID_COLUMN: str})
    assert len(assignments) == ROWS
    model = str(tmp_path / "model.json")
    assert main(["score", "--model", model, "--data", str(big_csv),
                 "--out", str(tmp_path / "scored.csv")]) == 0
    scored = pd.read_csv(tmp_path / "scored.csv")
    assert scored["segment"].tolist() == assignments["segment"].tolist()
    plan = str(tmp_path / "plan.json")
    assert main(["plan", "--model", model, "--segment", "1", "--out", plan]) == 0
    assert main(["export", "--model", model, "--plan", plan, "--data", str(big_csv),
                 "--out", str(tmp_path / "members.csv")]) == 0


def test_no_limit_still_bounds_what_a_parquet_file_unpacks_to(monkeypatch):
    # Long, nearly identical ids compress ~100x: unpacked size is far over 20x the file size.
    ids = pa.array([f"{'x' * 2000}{i}" for i in range(2000)])
    table = pa.table({ID_COLUMN: ids})
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd", use_dictionary=False)
    data = buffer.getvalue()
    monkeypatch.setattr(core.loading, "DEFAULT_MAX_BYTES", 1000)  # the floor of the bound
    with pytest.raises(DataValidationError, match="unpack"):
        load_customers(data, filename="ids.parquet", max_bytes=None)
