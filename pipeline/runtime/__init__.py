"""The faust application that runs the stages: topics, agents, rebalance hooks, the payment timer, producing.

`faust_internals` is the one module that reaches into faust's or aiokafka's internals (pinned versions; a test
fails when a patched internal changes shape). Nothing here decides anything: the stages and rules do.
"""
