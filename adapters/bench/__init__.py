"""`oms bench`: the whole pipeline on the embedded broker against two baselines.

`run_bench(BenchOptions(...))` starts an embedded broker, the worker and the projector as children,
drives paid orders through them (a throughput phase and a fixed-rate latency phase), then measures a
raw aiokafka consume -> produce loop and an idiomatic faust agent on the same broker.
"""

from adapters.bench.runner import BenchOptions, run_bench

__all__ = ["BenchOptions", "run_bench"]
