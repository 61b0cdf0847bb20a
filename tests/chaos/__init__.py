"""The chaos suite: the pipeline under a foreign producer, hostile records and SIGKILLs, judged by `oms check`.

`python -m tests.chaos.run --orders 3000 --rate 100 --kills 10 --projector-kills 2 --seed N` runs it at full size;
`tests/integration/test_chaos.py` runs it at CI size, `tests/integration/test_topic_fuzz.py` fuzzes raw topic bytes.
"""
