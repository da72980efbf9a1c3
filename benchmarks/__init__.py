"""Performance benchmark of survey-sim: `make bench` or `python -m benchmarks.bench` (see README.md)."""
