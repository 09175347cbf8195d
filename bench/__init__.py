"""Benchmarks (not part of `make test`): `make bench` or `python -m bench.run [--quick]`. See bench/README.md."""
