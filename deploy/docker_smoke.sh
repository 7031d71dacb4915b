#!/usr/bin/env bash
# Build the Dockerfile and use the image the way the README says, checking what the image promises:
#
#   deploy/docker_smoke.sh                 # needs a running Docker engine
#
# 1. `docker build` (base: python:3.11-slim, or $PYTHON_IMAGE). Where no registry can be reached
#    (STANDIN_BASE=1), the base is a stand-in made here: Debian bookworm from debootstrap with Debian's
#    Python 3.11 as `python`/`pip`, the host's CA bundle, and nothing else.
# 2. `docker run --init -p PORT:8000`: HEALTHCHECK turns healthy, /readyz, a scored article with
#    evidence (and the heist story, when ../shared/examples is beside the clone), /docs, /metrics,
#    the process is not root.
# 3. `docker stop` during a 1,000-article batch: the request completes with all 1,000 results.
#
# Settings (environment): IMAGE (misinfo-risk:smoke), PORT (18000), PYTHON_IMAGE, STANDIN_BASE=1,
# BUILD_NETWORK (passed to `docker build --network`, e.g. "host" where the bridge has no DNS).
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE=${IMAGE:-misinfo-risk:smoke}
PORT=${PORT:-18000}
NAME=misinfo-risk-smoke-$$
work=$(mktemp -d)
cleanup() { docker rm -f "$NAME" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
say() { printf '\n--- %s\n' "$*"; }
fail() { echo "FAIL: $*" >&2; docker logs "$NAME" 2>&1 | tail -20 >&2 || true; exit 1; }

build_args=()
if [ "${STANDIN_BASE:-0}" = 1 ]; then
  PYTHON_IMAGE=${PYTHON_IMAGE:-local/python-standin:3.11-bookworm}
  if ! docker image inspect "$PYTHON_IMAGE" >/dev/null 2>&1; then
    say "stand-in base image $PYTHON_IMAGE (debootstrap bookworm + Debian's python3)"
    rootfs="$work/rootfs"
    debootstrap --variant=minbase --include=python3,python3-pip,ca-certificates bookworm "$rootfs" \
      http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log"; fail "debootstrap"; }
    rm -f "$rootfs"/usr/lib/python3*/EXTERNALLY-MANAGED   # python:3.11-slim lets pip install system-wide too
    ln -sf /usr/bin/python3 "$rootfs/usr/local/bin/python"
    ln -sf /usr/bin/pip3 "$rootfs/usr/local/bin/pip"
    cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | docker import -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin' \
      -c 'CMD ["python3"]' - "$PYTHON_IMAGE" >/dev/null
  fi
fi
[ -n "${PYTHON_IMAGE:-}" ] && build_args+=(--build-arg "PYTHON_IMAGE=$PYTHON_IMAGE")
[ -n "${BUILD_NETWORK:-}" ] && build_args+=(--network "$BUILD_NETWORK")

say "docker build ${build_args[*]:-} -t $IMAGE ."
docker build -q "${build_args[@]}" -t "$IMAGE" . >/dev/null || fail "docker build"
docker image inspect "$IMAGE" --format 'user={{.Config.User}} ports={{json .Config.ExposedPorts}} cmd={{json .Config.Cmd}}'

say "docker run --init -p $PORT:8000 $IMAGE"
docker run -d --init --name "$NAME" -p "$PORT:8000" "$IMAGE" >/dev/null
url="http://127.0.0.1:$PORT"
for _ in $(seq 120); do
  status=$(docker inspect "$NAME" --format '{{.State.Health.Status}}')
  [ "$status" = healthy ] && break
  [ "$(docker inspect "$NAME" --format '{{.State.Running}}')" = true ] || fail "container exited"
  sleep 1
done
[ "$status" = healthy ] || fail "HEALTHCHECK never turned healthy ($status)"
echo "HEALTHCHECK: $status"
curl -fsS "$url/readyz" >/dev/null || fail "/readyz"
[ "$(docker exec "$NAME" id -u)" != 0 ] || fail "the service runs as root"
echo "runs as: $(docker exec "$NAME" id -un)"

article='{"id": "smoke-1", "title": "Council approves budget", "text": "The council voted 7-2 on Tuesday to approve the budget, a spokesperson said."}'
curl -fsS "$url/v1/score" -H 'content-type: application/json' -d "$article" >"$work/one.json" || fail "POST /v1/score"
python3 - "$work/one.json" <<'EOF' || fail "assessment"
import json, sys
a = json.load(open(sys.argv[1]))
assert a["id"] == "smoke-1" and 0 <= a["score"] <= 1 and a["level"] in {"low", "medium", "high"} and a["model_version"], a
print("scored:", a["level"], round(a["score"], 3), a["model_version"], a["language"]["detected"], a["genre"]["label"])
EOF
foreign='{"id": "smoke-pt", "text": "A prefeitura aprovou nesta terça-feira um novo plano para ampliar o transporte público no centro da cidade."}'
curl -fsS "$url/v1/score" -H 'content-type: application/json' -d "$foreign" >"$work/pt.json" || fail "POST /v1/score (Portuguese)"
python3 - "$work/pt.json" <<'EOF' || fail "not assessed"
import json, sys
a = json.load(open(sys.argv[1]))
assert a["assessed"] is False and a["reason"] == "unsupported_language" and a["score"] is None and a["level"] is None, a
print("not assessed:", a["reason_detail"])
EOF
heist=../shared/examples/fabricated-heist-story.json
if [ -f "$heist" ]; then
  curl -fsS "$url/v1/score" -H 'content-type: application/json' -d @"$heist" >"$work/heist.json" || fail "heist story"
  python3 - "$work/heist.json" <<'EOF' || fail "heist story assessment"
import json, sys
a = json.load(open(sys.argv[1]))
assert a["level"] == "high" and a["signals"] and all(s["evidence"] for s in a["signals"]), a
print("heist story:", a["level"], round(a["score"], 3), [s["name"] for s in a["signals"]])
EOF
fi
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/docs")" = 200 ] || fail "/docs"
# the review page and the docs' local assets are package data: they must be in the installed package
for asset in / /ui/review.js /ui/review.css /ui/vendor/swagger-ui-bundle.js /ui/vendor/redoc.standalone.js; do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$url$asset")" = 200 ] || fail "GET $asset"
done
curl -fsS "$url/metrics" | grep -q '^risk_http_requests_total{' || fail "/metrics has no request counts"
echo "/docs, the review page and their assets 200, /metrics counts requests"

say "docker stop during a 1,000-article batch"
python3 - "$work/batch.json" <<'EOF'
import json, sys
sentence = "The regional council published its annual transport report on Monday, a spokesperson said. "
items = [{"id": f"b{i}", "text": f"Item {i}. " + sentence * 100} for i in range(1000)]
json.dump(items, open(sys.argv[1], "w"))
EOF
curl -sS -o "$work/batch-out.json" -w '%{http_code}' "$url/v1/score/batch" -H 'content-type: application/json' \
  --data-binary @"$work/batch.json" >"$work/batch-status" &
client=$!
for _ in $(seq 200); do  # SIGTERM once the batch is being handled
  curl -s "$url/metrics" | grep -q '^risk_http_requests_in_progress{route="/v1/score/batch"} 1' && break
  sleep 0.02
done
docker stop -t 30 "$NAME" >/dev/null
wait "$client" || fail "the batch request failed during shutdown"
python3 - "$work/batch-out.json" "$(cat "$work/batch-status")" <<'EOF' || fail "batch during shutdown"
import json, sys
assert sys.argv[2] == "200", sys.argv[2]
results = json.load(open(sys.argv[1]))["results"]
assert [r["id"] for r in results] == [f"b{i}" for i in range(1000)], "results missing or out of order"
print("in-flight batch completed across SIGTERM:", len(results), "results, in order")
EOF
docker logs "$NAME" >"$work/logs" 2>&1
python3 - "$work/logs" <<'EOF' || fail "the batch did not span the shutdown"
import json, sys
lines = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
stop = next(i for i, e in enumerate(lines) if e.get("msg") == "Shutting down")
batch = next(i for i, e in enumerate(lines) if e.get("route") == "/v1/score/batch")
assert stop < batch, "the batch finished before SIGTERM arrived: nothing was drained"
print("SIGTERM arrived while the batch was being scored; it was answered before the worker exited")
EOF
echo "exit code: $(docker inspect "$NAME" --format '{{.State.ExitCode}}')"
say "docker smoke test passed"
