"""The chaos run from the command line, at any size, on its own embedded broker (or `--bootstrap`):

    .venv/bin/python -m tests.chaos.run --orders 3000 --rate 100 --kills 10 --projector-kills 2 --seed N

Prints the seed first and a summary last; exit code 0 when `oms check` is clean and nothing is missing, 1 when not
(the run's folder, with every process's log, the check's JSON and the whole log, is then kept), 2 when it could
not run. Without `--seed` a fresh one is drawn; the same seed replays the same load and kills.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import shutil
import sys
import tempfile
from pathlib import Path

from adapters.kafka.broker import EmbeddedBroker
from tests.chaos.runner import ChaosConfig, ChaosResult, run_chaos


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=100.0, help="orders per second")
    parser.add_argument("--kills", type=int, default=10, help="SIGKILLs in all, one every 2.5-5 s")
    parser.add_argument("--projector-kills", type=int, default=2, help="how many of the kills hit the projector")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--payment-timeout", type=float, default=15.0, help="seconds before unpaid orders expire")
    parser.add_argument(
        "--wrong-partition", action="store_true", help="add a placement on the wrong partition to the poison records"
    )
    parser.add_argument("--seed", type=int, default=None, help="replay this seed (default: a fresh one)")
    parser.add_argument("--bootstrap", default=None, help="use this broker instead of starting an embedded one")
    parser.add_argument("--data-dir", type=Path, default=None, help="the run's folder (default: a new temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the run's folder even when the run is clean")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    seed = args.seed if args.seed is not None else secrets.randbits(32)
    config = ChaosConfig(
        seed=seed,
        orders=args.orders,
        rate=args.rate,
        kills=args.kills,
        projector_kills=args.projector_kills,
        workers=args.workers,
        partitions=args.partitions,
        payment_timeout_s=args.payment_timeout,
        wrong_partition=args.wrong_partition,
    )
    root = args.data_dir or Path(tempfile.mkdtemp(prefix=f"oms-chaos-{seed}-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        result = asyncio.run(_run(config, args.bootstrap, root))
    except Exception as error:  # the run could not be made: say so, distinctly from "not clean"
        print(
            f"chaos seed {seed}: the run failed: {type(error).__name__}: {error}\n  data and logs: {root}", flush=True
        )
        return 2
    if result.is_clean and not args.keep and args.data_dir is None:
        shutil.rmtree(root, ignore_errors=True)
    return 0 if result.is_clean else 1


async def _run(config: ChaosConfig, bootstrap: str | None, root: Path) -> ChaosResult:
    if bootstrap:
        return await run_chaos(config, bootstrap, root, say=_say)
    with EmbeddedBroker(log_path=root / "broker.log") as broker:
        return await run_chaos(config, broker.bootstrap, root, say=_say)


def _say(line: str) -> None:
    print(line, flush=True)


if __name__ == "__main__":
    sys.exit(main())
