"""wil's Streamlit pages and their pieces: layout only; ``wil`` does the work and ``wil.charts`` builds the
charts. ``app.py`` (the entry point, ``streamlit run app.py``) serves ``navigation``'s pages, ``page``
(the explorer) and ``phase`` (the phase diagram), and warms the server up at start (``warm``).

- ``state``: URL <-> session state, in one place (the configuration, the view, the lessons' callbacks);
- ``sidebar``: the configuration widgets, their options from the registries, read into a ``Config``;
- ``run``: training, cached per configuration, one run at a time, live, with Stop; the lines that describe it;
- ``runs``: the server's queue of runs and who follows each; ``worker``: the process a run trains in;
- ``story``: the verdicts and the charts that grow while a run trains;
- ``tabs/``: one module per result tab, the table of them, and the cached drawing of their charts;
- ``workshop``: predict-then-reveal and the guided tour; ``upload``: your own data;
- ``lessons``: the demo configuration, the prepared lessons and the Learn tab's text;
- ``policy``: the server's budgets; ``text``: text shown literally; ``memory``: malloc tuning;
  ``viewport``: the main column's width in the browser.

Imports go one way: ``page``/``phase`` -> the pieces above -> ``wil`` (the public API only). Streamlit puts
the script's folder on ``sys.path`` (locally and on Community Cloud), so this package, beside ``app.py``,
imports without installing.
"""
