"""``numbagrad bench``: benchmark suites against PyTorch and NumPy (see cli.py)."""
