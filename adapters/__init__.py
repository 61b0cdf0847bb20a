"""Everything that touches the outside world, grouped by what it talks to.

- `kafka/`     the embedded broker, topics, log ends, the publisher, the projection runner
- `sql/`       database engines, the archive export, the intake's record, the processors' local state copy
- `http/`      the API, the dashboard and the channel connectors
- `outbound/`  carriers and notifiers
- `cli/`, `demo/`, `bench/`, `audit/`  the entry points: the `oms` command, the demo, the benchmark, the auditor
- `bootstrap.py` the composition root: each runtime built from `Settings` alone; `settings.py` the configuration
"""
