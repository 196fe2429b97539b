"""``c2c``: the segmentation engine from the command line (fit, sweep, score, plan, export,
demo-data, serve, users)."""

from __future__ import annotations

import argparse
import getpass
import json
import math
import os
import socket
import sys
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import NoReturn

from core.campaign import campaign_summary, default_plan
from core.clustering import ALGORITHMS, K_MAX, K_MIN
from core.currency import currency
from core.demo import DEMO_PATH, DEMO_SEED, generate_demo_data
from core.errors import C2CError, ConfigError
from core.export import CAMPAIGN_GROUP, FORMATS, with_campaign, write_export
from core.loading import CustomerData, load_customers
from core.model import SegmentModel
from core.pipeline import SegmentationConfig, segment_customers, sweep
from core.plan_file import plan_to_json, read_plan_file
from core.preprocessing import SCALINGS
from core.profiling import SegmentProfile, profile_table
from core.spark import DEFAULT_MASTER, check_master, parse_conf, require_pyspark
from core.users import Users, add_user, check_password, remove_user, user_name


def _k_range(text: str) -> range:
    """Parse ``2-12`` (inclusive) or a single ``5``."""
    low, _, high = text.partition("-")
    try:
        ks = range(int(low), int(high or low) + 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a k range like 2-12, got {text!r}") from None
    if not ks or ks[0] < K_MIN or ks[-1] > K_MAX:
        raise argparse.ArgumentTypeError(f"k must lie in {K_MIN}-{K_MAX}, got {text!r}")
    return ks


def _pca(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a number of components (e.g. 3) or a variance share (e.g. 0.9), "
                f"got {text!r}"
            ) from None


SEED_MAX = 2**32 - 1  # the seeds scikit-learn accepts as random_state
ROWS_MAX = 10_000_000  # demo-data needs ≈ 0.7 GB of memory per million rows


def _whole_number(text: str, what: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what} (a whole number), got {text!r}") \
            from None
    if not low <= value <= high:
        top = f"{high:,}" if high > 99_999 else high  # 65535 for a port, 10,000,000 rows
        raise argparse.ArgumentTypeError(f"expected {what} from {low} to {top}, got {text!r}")
    return value


def _seed(text: str) -> int:
    return _whole_number(text, "a seed", 0, SEED_MAX)


def _rows(text: str) -> int:
    return _whole_number(text, "a number of rows", 1, ROWS_MAX)


def _port(text: str) -> int:
    return _whole_number(text, "a TCP port", 1, 65535)


def _master(text: str) -> str:
    try:
        return check_master(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _conf(text: str) -> tuple[str, str]:
    try:
        return parse_conf(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _check_address(host: str, port: int) -> None:
    """Fail in one line, before the app starts, if the server could not listen there."""
    if host.startswith("unix://"):  # werkzeug serves on a Unix socket
        return
    if not host.strip():
        raise ConfigError("--host must not be empty; e.g. 127.0.0.1 or 0.0.0.0")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # as werkzeug chooses
    try:
        address = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)[0][4]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        raise ConfigError(f"cannot serve on --host {host} --port {port}: "
                          f"{exc.strerror or exc}") from None


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line that ``main`` prints (exit code 2)."""

    def error(self, message: str) -> NoReturn:
        raise ConfigError(f"{message} (see {self.prog} --help)")


def _export_path(text: str) -> str:
    if Path(text).suffix.lower().lstrip(".") not in FORMATS:
        raise argparse.ArgumentTypeError(f"the member list must end in "
                                         f"{', '.join('.' + f for f in FORMATS)}; got {text!r}")
    return text


def _load(path: str | None) -> CustomerData:
    """Read a customer table (default: the demo data) with no size limit: the 50 MB cap is
    for browser uploads; here any file that fits the machine is read. What the loader noticed
    in a given file is printed first, one ``note:`` or ``warning:`` line each."""
    data = load_customers(Path(path) if path else DEMO_PATH,
                          filename=None if path else "demo data", max_bytes=None)
    if path is not None:
        for issue in sorted(data.quality.issues, key=lambda i: i.level != "warning"):
            print(f"{'warning' if issue.level == 'warning' else 'note'}: {issue.message}")
        if any(issue.rows for issue in data.quality.issues):
            print(f"({data.quality.convention})")
    return data


def _config(args: argparse.Namespace, k: int = 4) -> SegmentationConfig:
    return SegmentationConfig(features=args.features, algorithm=args.algorithm,
                              k=getattr(args, "k", k), scaling=args.scaling, pca=args.pca,
                              random_state=args.seed)


def _write(frame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def _print_segments(warnings: Sequence[str], profiles: Sequence[SegmentProfile]) -> None:
    for warning in warnings:
        print(f"warning: {warning}")
    for p in profiles:
        print(f"  {p.segment:>2}  {p.name:<40} {p.size:>9,}  {p.share:6.1%}")


def _spark(args: argparse.Namespace, data: str) -> tuple[ModuleType, AbstractContextManager]:
    """The Spark jobs module and a session for ``--master``/``--conf`` (the [spark] extra),
    once ``data`` is known to exist (when it is a local path)."""
    require_pyspark()
    from core.spark import jobs
    from core.spark.frames import check_exists
    from core.spark.session import spark_session
    check_exists(data)
    return jobs, spark_session(args.master or DEFAULT_MASTER, args.conf)


def _check_engine(args: argparse.Namespace) -> None:
    if args.engine == "local" and (args.master or args.conf):
        raise ConfigError("--master and --conf are Spark settings; add --engine spark")


def _spark_fit(args: argparse.Namespace) -> None:
    data = args.data or str(DEMO_PATH)
    jobs, session = _spark(args, data)
    with session as spark:
        result = jobs.fit(spark, data, _config(args), args.out)
    for note in result.notes:
        print(f"warning: {note}")
    print(f"{result.source}: {result.rows:,} customers → {result.model.k} segments "
          f"(Spark MLlib kmeans, features {args.features})")
    _print_segments(result.warnings, result.profiles)
    ties = (f" ({result.near_ties:,} near ties labelled by the local engine)"
            if result.near_ties else "")
    print(f"inertia {result.inertia:.6g}{ties}; wrote {jobs.ASSIGNMENTS}, profiles.csv and "
          f"model.json to {args.out}")


def cmd_fit(args: argparse.Namespace) -> None:
    _check_engine(args)
    if args.engine == "spark":
        return _spark_fit(args)
    data = _load(args.data)
    result = segment_customers(data, _config(args))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    _write(result.assignments(), out / "assignments.csv")
    _write(profile_table(result.profiles), out / "profiles.csv")
    result.model.save(out / "model.json")
    print(f"{data.source}: {len(data.frame):,} customers → {result.k} segments "
          f"({result.clusters.algorithm}, features {args.features})")
    _print_segments(result.prepared.warnings, result.profiles)
    silhouette = result.metrics["silhouette"]
    score = ("silhouette not computed (its sample of customers holds one segment only)"
             if math.isnan(silhouette) else f"silhouette {silhouette:.3f}")
    print(f"{score}; wrote assignments.csv, profiles.csv and model.json to {args.out}")


def cmd_sweep(args: argparse.Namespace) -> None:
    data = _load(args.data)
    result = sweep(data, _config(args), args.k)
    table = result.table.assign(recommended=result.table["k"] == result.recommended_k)
    _write(table, args.out)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(f"recommended: {result.reason}")
    if result.alternative_k is not None:
        print(f"best k ≥ 3 (two segments rarely make two useful campaigns): "
              f"{result.alternative_reason}")


def cmd_score(args: argparse.Namespace) -> None:
    _check_engine(args)
    model = SegmentModel.load(args.model)
    if args.engine == "spark":
        jobs, session = _spark(args, args.data)
        with session as spark:
            result = jobs.score(spark, model, args.data, args.out)
        for note in result.notes:
            print(f"warning: {note}")
        ties = (f"; {result.near_ties:,} near ties labelled by the local engine"
                if result.near_ties else "")
        print(f"scored {result.rows:,} customers with a {model.k}-segment model on Spark: "
              + ", ".join(f"{s}: {n:,}" for s, n in result.counts.items())
              + f"{ties}; wrote {args.out}")
        return
    data = _load(args.data)
    scored = model.score(data.frame)
    _write(scored, Path(args.out))
    counts = scored["segment"].value_counts().sort_index()
    print(f"scored {len(scored):,} customers with a {model.k}-segment model: "
          + ", ".join(f"{s}: {n:,}" for s, n in counts.items()))


def cmd_plan(args: argparse.Namespace) -> None:
    segment = SegmentModel.load(args.model).segment(args.segment)
    plan = default_plan(segment)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(plan_to_json(plan), encoding="utf-8")
    print(f"wrote the plan “{plan.name}” for segment {segment.segment} ({segment.name}) "
          f"to {args.out}")


def cmd_export(args: argparse.Namespace) -> None:
    _check_engine(args)
    model = SegmentModel.load(args.model)
    plan, segments = read_plan_file(args.plan)
    for number in segments:
        model.segment(number)
    if args.engine == "spark":
        jobs, session = _spark(args, args.data)
        with session as spark:
            summary = jobs.export(spark, model, plan, segments, args.data, args.out)
        print(f"wrote {summary['audience']:,} members of segment(s) "
              f"{', '.join(map(str, segments))} to {args.out}")
        print(json.dumps(summary))
        return
    scored = model.score(_load(args.data).frame)
    audience = scored[scored["segment"].isin(segments)].reset_index(drop=True)
    members = with_campaign(audience, [(plan, segments)])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_export(members, out.suffix, out)
    print(f"wrote {len(members):,} members of segment(s) "
          f"{', '.join(map(str, segments))} to {args.out}")
    print(json.dumps(campaign_summary(plan, members[CAMPAIGN_GROUP])))


def cmd_demo_data(args: argparse.Namespace) -> None:
    _write(generate_demo_data(args.rows, seed=args.seed), args.out)
    print(f"wrote {args.rows:,} synthetic customers to {args.out}")


def cmd_serve(args: argparse.Namespace) -> None:
    _check_address(args.host, args.port)
    from dashapp.app import create_app
    from dashapp.config import Settings, existing_file
    settings = Settings.from_env()
    if args.data is not None:
        settings = replace(settings, data_file=existing_file("--data", str(args.data)))
    settings.check_served_on(args.host)
    create_app(settings).run(host=args.host, port=args.port, debug=False)



def _users_file(args: argparse.Namespace) -> Path:
    path = args.file or os.environ.get("C2C_USERS_FILE")
    if not path:
        raise ConfigError("name the users file with --file or the environment variable "
                          "C2C_USERS_FILE")
    return Path(path)


def _new_password(from_stdin: bool) -> str:
    """One line of standard input, or typed twice at a prompt that does not echo."""
    password = (sys.stdin.readline().rstrip("\r\n") if from_stdin
                else getpass.getpass("New password: "))
    check_password(password)
    if not from_stdin and getpass.getpass("Repeat it: ") != password:
        raise ConfigError("the two passwords differ; nothing changed")
    return password


def cmd_users_add(args: argparse.Namespace) -> None:
    path, name = _users_file(args), user_name(args.name)
    if path.exists():
        Users.read(path)  # a broken file fails before the password is asked for
    added = add_user(path, name, _new_password(args.password_stdin))
    print(f"added user {name} to {path}" if added else
          f"changed the password of {name} in {path}")


def cmd_users_remove(args: argparse.Namespace) -> None:
    path = _users_file(args)
    remove_user(path, args.name)
    print(f"removed user {user_name(args.name)} from {path}")


def cmd_users_list(args: argparse.Namespace) -> None:
    for name in Users.read(_users_file(args)).names():
        print(name)


def build_parser() -> argparse.ArgumentParser:
    """The ``c2c`` argument parser."""
    parser = _Parser(prog="c2c", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    def model_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data", help="customer table (CSV, XLSX or Parquet; with --engine "
                       "spark CSV or Parquet, any URI Spark reads); default: the built-in demo "
                       "data")
        p.add_argument("--features", default="seed",
                       help="seed, behaviour, engineered or COL,COL,… (default: seed)")
        p.add_argument("--algorithm", default="kmeans", choices=ALGORITHMS)
        p.add_argument("--scaling", default="standard", choices=SCALINGS)
        p.add_argument("--pca", type=_pca, default=None,
                       help="PCA before clustering: components (e.g. 3) or variance share (0.9)")
        p.add_argument("--seed", type=_seed, default=42,
                       help=f"random seed, 0-{SEED_MAX} (default: 42)")

    def engine_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--engine", choices=("local", "spark"), default="local",
                       help="local (pandas and scikit-learn; default) or spark (the [spark] "
                       "extra; outputs Parquet)")
        p.add_argument("--master", type=_master, help=f"Spark master URL (default: "
                       f"{DEFAULT_MASTER}); with --engine spark")
        p.add_argument("--conf", type=_conf, action="append", default=[], metavar="KEY=VALUE",
                       help="a Spark setting such as spark.executor.memory=4g (repeatable); "
                       "with --engine spark")

    fit = commands.add_parser("fit", help="segment customers and write assignments, "
                              "profiles and model.json")
    model_options(fit)
    fit.add_argument("--k", type=int, default=4, help=f"number of segments ({K_MIN}-{K_MAX})")
    fit.add_argument("--out", required=True, help="output folder (a URI with --engine spark)")
    engine_options(fit)
    fit.set_defaults(run=cmd_fit)

    sweep_cmd = commands.add_parser("sweep", help="compare k values and recommend one")
    model_options(sweep_cmd)
    sweep_cmd.add_argument("--k", type=_k_range, default=range(2, 13), help="k range, e.g. 2-12")
    sweep_cmd.add_argument("--out", type=Path, required=True, help="output CSV")
    sweep_cmd.set_defaults(run=cmd_sweep)

    score = commands.add_parser("score", help="assign new customers with a saved model")
    score.add_argument("--model", type=Path, required=True, help="model.json from c2c fit")
    score.add_argument("--data", required=True, help="customer table to score")
    score.add_argument("--out", required=True, help="output CSV (with --engine spark: a "
                       "Parquet folder)")
    engine_options(score)
    score.set_defaults(run=cmd_score)

    plan = commands.add_parser("plan", help="write the campaign plan the app suggests for a "
                               "segment, as plan.json")
    plan.add_argument("--model", type=Path, required=True, help="model.json from c2c fit")
    plan.add_argument("--segment", type=int, required=True, help="segment number (1..k)")
    plan.add_argument("--out", type=Path, required=True, help="output plan.json")
    plan.set_defaults(run=cmd_plan)

    export = commands.add_parser("export", help="score a customer file and write the member "
                                 "list of a plan (treatment, control, not contacted)")
    export.add_argument("--model", type=Path, required=True, help="model.json from c2c fit")
    export.add_argument("--plan", type=Path, required=True, help="plan.json (c2c plan or the app)")
    export.add_argument("--data", required=True, help="customer table (CSV, XLSX or "
                        "Parquet)")
    export.add_argument("--out", type=_export_path, required=True,
                        help="member list: .csv, .xlsx or .parquet (with --engine spark: a "
                        ".parquet folder)")
    engine_options(export)
    export.set_defaults(run=cmd_export)

    demo = commands.add_parser("demo-data", help="write synthetic demo customers")
    demo.add_argument("--rows", type=_rows, default=9000,
                      help=f"number of customers, 1-{ROWS_MAX:,} (default: 9,000)")
    demo.add_argument("--seed", type=_seed, default=DEMO_SEED,
                      help=f"random seed (default: {DEMO_SEED}, the built-in demo data's)")
    demo.add_argument("--out", type=Path, required=True, help="output CSV")
    demo.set_defaults(run=cmd_demo_data)

    serve = commands.add_parser("serve", help="start the web app")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default: 127.0.0.1; 0.0.0.0: every interface)")
    serve.add_argument("--port", type=_port, default=8050, help="1-65535 (default: 8050)")
    serve.add_argument("--data", type=Path, help="customer table every workspace starts with, "
                       "of any size (default: $C2C_DATA, else the demo customers)")
    serve.set_defaults(run=cmd_serve)

    users = commands.add_parser("users", help="manage who may sign in to the web app "
                                "(the users file C2C_USERS_FILE)")
    user_commands = users.add_subparsers(dest="users_command", required=True,
                                         metavar="{add,remove,list}")
    file_option = _Parser(add_help=False)
    file_option.add_argument("--file", type=Path, help="users file (default: $C2C_USERS_FILE)")
    add = user_commands.add_parser("add", parents=[file_option],
                                   help="add a user, or change their password")
    add.add_argument("name", help="user name: letters, digits, '.', '_', '-', '@'")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of standard input")
    add.set_defaults(run=cmd_users_add)
    remove = user_commands.add_parser("remove", parents=[file_option], help="remove a user")
    remove.add_argument("name")
    remove.set_defaults(run=cmd_users_remove)
    listing = user_commands.add_parser("list", parents=[file_option], help="print user names")
    listing.set_defaults(run=cmd_users_list)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``c2c``; a bad option or input prints one clear message and returns exit code 2."""
    try:
        args = build_parser().parse_args(argv)
        currency()  # a bad C2C_CURRENCY stops the command before any work
        args.run(args)
    except C2CError as exc:
        print(f"c2c: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        print(f"c2c: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except MemoryError as exc:
        print(f"c2c: error: not enough memory for this input ({exc or 'MemoryError'})",
              file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
