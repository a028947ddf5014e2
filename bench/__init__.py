"""GridOps benchmarks: `python -m bench` (see bench/README.md). Figures, not tests."""
