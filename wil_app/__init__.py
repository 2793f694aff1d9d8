"""wil's Streamlit page and its pieces. ``app.py`` (the entry point, ``streamlit run app.py``) serves
``page``, which wires the others together, and warms the server up at start (``warm``).

- ``lessons``: the demo and the prepared lessons, and the Learn tab's text;
- ``sidebar``: the configuration widgets, and the URL <-> session state <-> ``Config`` sync;
- ``run``: training, cached per configuration, with a progress bar; the lines that describe a run;
- ``tabs``: the result tabs and the cached drawing of their charts;
- ``export``: the Share & export tab.

Only this package and ``app.py`` use Streamlit; ``wil`` does the work and ``wil.charts`` builds the charts.
Streamlit puts the script's folder on ``sys.path`` (locally and on Community Cloud), so this package,
beside ``app.py``, imports without installing.
"""
