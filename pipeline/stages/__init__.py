"""The loop around the pure rules, free of faust: decode and dedupe a batch, decide, and keep each key's state.

`processor` runs a stage's rule over a batch: `intake` says what it may take, `deadletters` writes what it cannot,
`records` are the Kafka records it reads and writes; `stored` is what it keeps per key and `state` restores and keeps
those for a stage's partitions; `shipping` and `notify` are the I/O stages' handlers around the carrier and notifier
ports.
"""
