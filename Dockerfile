# misinfo-risk HTTP service: `docker build -t misinfo-risk . && docker run --init -p 8000:8000 misinfo-risk`
# See docs/service.md. Python matches the shipped model card (3.11); scikit-learn is pinned in pyproject.toml.
# PYTHON_IMAGE: another Python 3.11 image on Debian (a registry mirror's copy, say) can stand in for the default.
ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src

# 1. Dependencies only, in their own layer: rebuilt when pyproject.toml changes, not when the code does.
#    The list is read from pyproject.toml (core dependencies + the `service` extra), so it cannot drift.
COPY pyproject.toml ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
print('\n'.join(p['dependencies'] + p['optional-dependencies']['service']))" > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# 2. The code, installed with the README's command for the service; the shipped artifact
#    (model/artifacts/risk-v4) is package data and lands inside the installed package.
COPY . .
RUN pip install ".[service]" \
 && cd / && rm -rf /src \
 && misinfo-risk score --text "Officials confirmed the figures on Tuesday." > /dev/null \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin misinfo

WORKDIR /tmp
USER misinfo

# 0.0.0.0: inside a container the only way to be reachable through `docker run -p`, which decides what the
# host exposes (`-p 127.0.0.1:8000:8000` keeps it on the host's loopback). Outside a container the default is 127.0.0.1.
ENV RISK_HOST=0.0.0.0 \
    RISK_PORT=8000
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]

# SIGTERM (docker stop) drains in-flight requests for up to RISK_SHUTDOWN_TIMEOUT seconds (default 30).
STOPSIGNAL SIGTERM
CMD ["misinfo-risk", "serve"]
