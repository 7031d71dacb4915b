"""The HTTP service: FastAPI app (`service.app.create_app`) run by `misinfo-risk serve`.

Kept import-free on purpose: scoring processes import `service.scoring_worker`, and must not
pull in the web stack or Prometheus through this package.
"""
