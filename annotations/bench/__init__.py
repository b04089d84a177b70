"""Benchmarks at research scale: synthetic data, figures and the runner.

``python manage.py bench_data`` generates a project; ``python manage.py bench``
measures every figure of issue 8 and writes ``BENCHMARKS.md``.
"""
