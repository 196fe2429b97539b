"""``c2c``: the segmentation engine from the command line (fit, sweep, score, demo-data, serve)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from core.clustering import ALGORITHMS, K_MAX, K_MIN
from core.demo import DEMO_PATH, DEMO_SEED, generate_demo_data
from core.errors import C2CError, ConfigError
from core.loading import CustomerData, load_customers
from core.model import SegmentModel
from core.pipeline import SegmentationConfig, segment_customers, sweep
from core.preprocessing import SCALINGS
from core.profiling import profile_table


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
                f"--pca takes a number of components or a variance share, got {text!r}"
            ) from None


def _load(path: Path | None) -> CustomerData:
    return load_customers(path or DEMO_PATH, filename=None if path else "demo data")


def _config(args: argparse.Namespace, k: int = 4) -> SegmentationConfig:
    return SegmentationConfig(features=args.features, algorithm=args.algorithm,
                              k=getattr(args, "k", k), scaling=args.scaling, pca=args.pca,
                              random_state=args.seed)


def _write(frame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def cmd_fit(args: argparse.Namespace) -> None:
    data = _load(args.data)
    result = segment_customers(data, _config(args))
    args.out.mkdir(parents=True, exist_ok=True)
    _write(result.assignments(), args.out / "assignments.csv")
    _write(profile_table(result.profiles), args.out / "profiles.csv")
    result.model.save(args.out / "model.json")
    print(f"{data.source}: {len(data.frame):,} customers → {result.k} segments "
          f"({result.clusters.algorithm}, features {args.features})")
    for p in result.profiles:
        print(f"  {p.segment:>2}  {p.name:<40} {p.size:>9,}  {p.share:6.1%}")
    print(f"silhouette {result.metrics['silhouette']:.3f}; wrote assignments.csv, "
          f"profiles.csv and model.json to {args.out}")


def cmd_sweep(args: argparse.Namespace) -> None:
    data = _load(args.data)
    result = sweep(data, _config(args), args.k)
    table = result.table.assign(recommended=result.table["k"] == result.recommended_k)
    _write(table, args.out)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(f"recommended: {result.reason}")


def cmd_score(args: argparse.Namespace) -> None:
    model = SegmentModel.load(args.model)
    data = load_customers(args.data)
    scored = model.score(data.frame)
    _write(scored, args.out)
    counts = scored["segment"].value_counts().sort_index()
    print(f"scored {len(scored):,} customers with a {model.k}-segment model: "
          + ", ".join(f"{s}: {n:,}" for s, n in counts.items()))


def cmd_demo_data(args: argparse.Namespace) -> None:
    if args.rows < 1:
        raise ConfigError(f"--rows must be at least 1, got {args.rows}")
    _write(generate_demo_data(args.rows, seed=args.seed), args.out)
    print(f"wrote {args.rows:,} synthetic customers to {args.out}")


def cmd_serve(args: argparse.Namespace) -> None:
    from dashapp.app import create_app
    create_app().run(host=args.host, port=args.port, debug=False)


def build_parser() -> argparse.ArgumentParser:
    """The ``c2c`` argument parser."""
    parser = argparse.ArgumentParser(prog="c2c", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    def model_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data", type=Path, help="customer table (CSV, XLSX or Parquet); "
                       "default: the built-in demo data")
        p.add_argument("--features", default="seed",
                       help="seed, behaviour, engineered or COL,COL,… (default: seed)")
        p.add_argument("--algorithm", default="kmeans", choices=ALGORITHMS)
        p.add_argument("--scaling", default="standard", choices=SCALINGS)
        p.add_argument("--pca", type=_pca, default=None,
                       help="PCA before clustering: components (e.g. 3) or variance share (0.9)")
        p.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")

    fit = commands.add_parser("fit", help="segment customers and write assignments, "
                              "profiles and model.json")
    model_options(fit)
    fit.add_argument("--k", type=int, default=4, help=f"number of segments ({K_MIN}-{K_MAX})")
    fit.add_argument("--out", type=Path, required=True, help="output folder")
    fit.set_defaults(run=cmd_fit)

    sweep_cmd = commands.add_parser("sweep", help="compare k values and recommend one")
    model_options(sweep_cmd)
    sweep_cmd.add_argument("--k", type=_k_range, default=range(2, 13), help="k range, e.g. 2-12")
    sweep_cmd.add_argument("--out", type=Path, required=True, help="output CSV")
    sweep_cmd.set_defaults(run=cmd_sweep)

    score = commands.add_parser("score", help="assign new customers with a saved model")
    score.add_argument("--model", type=Path, required=True, help="model.json from c2c fit")
    score.add_argument("--data", type=Path, required=True, help="customer table to score")
    score.add_argument("--out", type=Path, required=True, help="output CSV")
    score.set_defaults(run=cmd_score)

    demo = commands.add_parser("demo-data", help="write synthetic demo customers")
    demo.add_argument("--rows", type=int, default=9000)
    demo.add_argument("--seed", type=int, default=DEMO_SEED,
                      help=f"random seed (default: {DEMO_SEED}, the built-in demo data's)")
    demo.add_argument("--out", type=Path, required=True, help="output CSV")
    demo.set_defaults(run=cmd_demo_data)

    serve = commands.add_parser("serve", help="start the web app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8050)
    serve.set_defaults(run=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``c2c``; bad input prints one clear message and returns exit code 2."""
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except C2CError as exc:
        print(f"c2c: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"c2c: error: {exc.strerror}: {exc.filename}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
