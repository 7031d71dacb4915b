"""The scoring core: articles, heuristic signals, the trained pipeline and its artifacts.

Imported as `misinfo_risk.model`; the public names are re-exported by `misinfo_risk`
(`from misinfo_risk import load_scorer, parse_article`). Kept import-free: importing a submodule must not
pull in scikit-learn.
"""
