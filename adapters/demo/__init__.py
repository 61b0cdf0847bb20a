"""`oms demo`: the whole system on the embedded broker, with simulated channel traffic."""
