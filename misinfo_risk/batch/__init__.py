"""Batch scoring of feeds and corpora (`misinfo-risk batch`): resumable, with progress, locally or on Dask.

>>> from misinfo_risk.batch import main
>>> main(["articles.jsonl", "https://example.org/feed.xml", "--output", "scores.parquet"])  # doctest: +SKIP
0
"""

from misinfo_risk.batch.cli import main

__all__ = ["main"]
