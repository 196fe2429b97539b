"""``c2c`` end to end: outputs on success, exit code 2 and one clear message on bad input."""

import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from core.cli import main
from core.demo import generate_demo_data
from core.schema import BEHAVIOUR_COLUMNS, ID_COLUMN


@pytest.fixture(scope="module")
def customers_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "customers.csv"
    generate_demo_data(700, seed=11).to_csv(path, index=False)
    return path


def test_fit_writes_assignments_profiles_and_model(customers_csv, tmp_path, capsys):
    assert main(["fit", "--data", str(customers_csv), "--k", "4", "--out", str(tmp_path)]) == 0
    assignments = pd.read_csv(tmp_path / "assignments.csv", dtype={ID_COLUMN: str})
    source = pd.read_csv(customers_csv, dtype={ID_COLUMN: str})
    assert list(assignments.columns) == [ID_COLUMN, "segment", "segment_name",
                                         "distance_to_centre"]
    assert assignments[ID_COLUMN].tolist() == source[ID_COLUMN].tolist()
    assert set(assignments["segment"]) == {1, 2, 3, 4}
    profiles = pd.read_csv(tmp_path / "profiles.csv")
    assert len(profiles) == 4 and {"segment", "name", "size"} <= set(profiles.columns)
    assert profiles["size"].sum() == len(source)
    assert (tmp_path / "model.json").exists()
    assert "4 segments" in capsys.readouterr().out


def test_score_with_a_saved_model_matches_the_fit(customers_csv, tmp_path):
    main(["fit", "--data", str(customers_csv), "--k", "3", "--features", "behaviour",
          "--out", str(tmp_path)])
    out = tmp_path / "scored.csv"
    assert main(["score", "--model", str(tmp_path / "model.json"), "--data", str(customers_csv),
                 "--out", str(out)]) == 0
    scored = pd.read_csv(out)
    fitted = pd.read_csv(tmp_path / "assignments.csv")
    assert scored["segment"].tolist() == fitted["segment"].tolist()


def test_sweep_writes_the_table_and_marks_the_recommendation(customers_csv, tmp_path, capsys):
    out = tmp_path / "sweep.csv"
    assert main(["sweep", "--data", str(customers_csv), "--k", "2-6", "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert table["k"].tolist() == [2, 3, 4, 5, 6]
    assert {"inertia", "silhouette", "calinski_harabasz", "davies_bouldin"} <= set(table.columns)
    assert table["recommended"].sum() == 1
    assert "recommended" in capsys.readouterr().out


def test_demo_data_and_fit_without_data_uses_the_demo(tmp_path):
    out = tmp_path / "demo.csv"
    assert main(["demo-data", "--rows", "250", "--seed", "3", "--out", str(out)]) == 0
    demo = pd.read_csv(out)
    assert len(demo) == 250 and list(demo.columns) == [ID_COLUMN, *BEHAVIOUR_COLUMNS]
    assert main(["fit", "--k", "3", "--out", str(tmp_path / "fit")]) == 0
    assert len(pd.read_csv(tmp_path / "fit" / "assignments.csv")) == 9000


@pytest.mark.parametrize(("args", "message"), [
    (["fit", "--data", "{bad}", "--out", "{out}"], "CREDIT_LIMIT"),
    (["fit", "--data", "{missing}", "--out", "{out}"], "missing.csv"),
    (["fit", "--features", "sed", "--out", "{out}"], "unknown feature set 'sed'"),
    (["fit", "--k", "40", "--out", "{out}"], "40"),
    (["score", "--model", "{bad}", "--data", "{bad}", "--out", "{out}"], "model"),
    (["demo-data", "--rows", "0", "--out", "{out}"], "--rows"),
])
def test_bad_input_exits_2_with_a_clear_message(tmp_path, capsys, args, message):
    bad = tmp_path / "bad.csv"
    bad.write_text("CUST_ID,BALANCE\nC1,10\n")
    paths = {"bad": bad, "missing": tmp_path / "missing.csv", "out": tmp_path / "out"}
    assert main([a.format(**paths) for a in args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("c2c: error:") and message in err
    assert "Traceback" not in err


def test_the_installed_console_script(tmp_path):
    """The real ``c2c`` entry point, as an analyst runs it."""
    c2c = str(Path(sys.executable).with_name("c2c"))
    bad = tmp_path / "bad.csv"
    bad.write_text("CUST_ID,BALANCE\nC1,abc\n")
    done = subprocess.run([c2c, "fit", "--data", str(bad), "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "c2c: error:" in done.stderr and "Traceback" not in done.stderr
    help_text = subprocess.run([c2c, "--help"], capture_output=True, text=True, timeout=60).stdout
    assert all(cmd in help_text for cmd in ("fit", "sweep", "score", "demo-data", "serve"))


def _one_line_error(err: str, shown: str) -> bool:
    """A bad option is reported in exactly one line that names the bad value."""
    return (err.count("\n") == 1 and err.startswith("c2c") and " error: " in err
            and shown in err and "Traceback" not in err)


@pytest.mark.parametrize(("args", "shown"), [
    ([], "command"),
    (["fit"], "--out"),
    (["fit", "--out", "{out}", "--colour", "red"], "--colour"),
    (["fit", "--algorithm", "kmedoids", "--out", "{out}"], "kmedoids"),
    (["fit", "--k", "four", "--out", "{out}"], "four"),
    (["fit", "--k", "1", "--out", "{out}"], "k=1"),
    (["fit", "--seed", "-1", "--out", "{out}"], "-1"),
    (["fit", "--seed", "4294967296", "--out", "{out}"], "4294967296"),
    (["fit", "--seed", "1.5", "--out", "{out}"], "1.5"),
    (["fit", "--pca", "many", "--out", "{out}"], "many"),
    (["fit", "--pca", "0", "--out", "{out}"], "pca"),
    (["fit", "--pca", "nan", "--out", "{out}"], "nan"),
    (["fit", "--pca", "99", "--out", "{out}"], "99"),
    (["sweep", "--k", "5-3", "--out", "{out}/sweep.csv"], "5-3"),
    (["sweep", "--k", "2-99", "--out", "{out}/sweep.csv"], "2-99"),
    (["sweep", "--seed", "99999999999999", "--out", "{out}/sweep.csv"], "99999999999999"),
    (["score", "--model", "{out}/none.json", "--data", "{out}/none.csv", "--out", "{out}/s.csv"],
     "none.json"),
    (["demo-data", "--rows", "100000000", "--out", "{out}/demo.csv"], "100000000"),
    (["demo-data", "--rows", "1e3", "--out", "{out}/demo.csv"], "1e3"),
    (["demo-data", "--seed", "-5", "--out", "{out}/demo.csv"], "-5"),
    (["serve", "--port", "99999"], "99999"),
    (["serve", "--port", "0"], "'0'"),
    (["serve", "--port", "http"], "http"),
    (["serve", "--host", ""], "--host"),
    (["serve", "--host", "no-such-host.invalid"], "no-such-host.invalid"),
    (["serve", "--host", "192.0.2.1"], "192.0.2.1"),  # TEST-NET-1: not an address of this host
])
def test_every_bad_option_exits_2_with_one_line(tmp_path, capsys, args, shown):
    assert main([a.format(out=tmp_path) for a in args]) == 2
    assert _one_line_error(capsys.readouterr().err, shown)


def test_serve_on_a_port_in_use_exits_2_before_starting_the_app(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        assert main(["serve", "--port", port]) == 2
    assert _one_line_error(capsys.readouterr().err, f"--port {port}: Address already in use")


def test_a_bad_port_through_the_console_script(tmp_path):
    c2c = str(Path(sys.executable).with_name("c2c"))
    done = subprocess.run([c2c, "serve", "--port", "99999"], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert _one_line_error(done.stderr, "99999")


def test_fit_prints_what_the_loader_noticed_in_a_report_layout(tmp_path, capsys):
    corpus = Path(__file__).parent / "data" / "corpus"
    assert main(["fit", "--data", str(corpus / "report_layout.csv"), "--k", "3",
                 "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert any(line.startswith("note: the header is in row 4;") for line in out)
    assert any(line.startswith("note: a summary row (row 46: 'Total')") for line in out)
    assert "(Row numbers are the rows of the file as a spreadsheet shows them; the header is " \
        "row 4.)" in out
    assert out[-1].endswith(f"to {tmp_path}") and "40 customers → 3 segments" in "\n".join(out)
