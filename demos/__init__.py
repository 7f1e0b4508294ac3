"""Runnable demos of the formulas on the cards: `notecards demo NAME` or `python demos/NAME.py`."""
