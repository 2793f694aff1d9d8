"""The engine: K networks of one architecture trained at once as stacked NumPy arrays.

Read ``model`` first (forward, loss, backward: the ten-minute read), then ``train`` (the loop). Beside
them: ``workspace`` (buffers and blocks of rows), ``threads`` (how a run uses the cores), ``draw`` (the
initial weights), ``statistics`` and ``record`` (what a run records), ``divergence`` (a network that
blows up stops, with its epoch and cause). Shapes and byte estimates come from ``wil.spec.layout``.
"""
