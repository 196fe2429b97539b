"""Messages for files no customer table looks like: huge cells, too few customers for k."""

from __future__ import annotations

import re

import pytest

from core.cli import main
from core.demo import generate_demo_data
from core.errors import DataValidationError
from core.loading import load_customers

HUGE = "9" * 200_000


@pytest.mark.parametrize(("text", "where"), [
    (f"CUST_ID,BALANCE\nC1,{HUGE}\n", "row 2, BALANCE (column B)"),
    (f"CUST_ID{HUGE},BALANCE\nC1,1\n", "row 1, column A"),
])
def test_a_cell_over_csvs_field_limit_is_explained(text, where, tmp_path, capsys):
    with pytest.raises(DataValidationError, match=rf"huge\.csv: {re.escape(where)} holds a cell "
                                                  r"longer than the 131,072 characters a table "
                                                  r"cell may have \(starting '"):
        load_customers(text.encode(), filename="huge.csv")
    path = tmp_path / "huge.csv"
    path.write_text(text)
    assert main(["fit", "--data", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "longer than the 131,072 characters" in err and "Traceback" not in err


def test_fewer_customers_than_k_names_customers_not_matrices(tmp_path, capsys):
    path = tmp_path / "three.csv"
    generate_demo_data(3, seed=1).to_csv(path, index=False)
    assert main(["fit", "--data", str(path), "--k", "4", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "k = 4 needs more customers than segments, but the data has only 3" in err
    assert " X " not in err
