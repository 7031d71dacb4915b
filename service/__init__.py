"""The HTTP service: FastAPI app (`misinfo_risk.service.app.create_app`) run by `misinfo-risk serve`.

Kept import-free on purpose: importing a submodule must not pull in the web stack or Prometheus.
"""
