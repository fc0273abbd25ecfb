"""Analysis on top of the solver and the ledger: parameter sweeps (sweep.py) and their
files (outputs.py, plots.py), bottleneck reports (bottlenecks.py), replay and compare of
recorded runs (replay.py), and the benchmark runner (bench.py). Nothing here is needed to
plan or commit; `import broker.analysis` loads none of them."""
