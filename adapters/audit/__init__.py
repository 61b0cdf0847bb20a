"""`oms check`: invariants of the live log and the views, checked from the outside.

`findings`, `invariants`, `stock`, `parcels` and `changelogs` are pure (events in, violations out); `log` reads the
topics, `views` compares the views with a fold of the log, `report` puts them together and `watch`
exports the result for Prometheus.
"""
