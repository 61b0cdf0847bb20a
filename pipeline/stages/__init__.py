"""The loop around the pure rules, free of faust: decode and dedupe a batch, decide, and keep each key's state.

`processor` runs a stage's rule over a batch; `state` restores and keeps a stage's per-key state; `shipping` and
`notify` are the I/O stages' handlers around the carrier and notifier ports.
"""
