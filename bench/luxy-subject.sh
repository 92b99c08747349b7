#!/usr/bin/env bash
# SUBJECT_CMD for the peer benchmark (bench/README.md in the shared workspace): runs Luxy with
# one worker on $SUBJECT_PORT in front of the bench backend.
#   LUXY_BENCH_KIND=lua    the 3-plugin workload (default)
#   LUXY_BENCH_KIND=plain  no Lua stage at all
#   LUXY_BENCH_KIND=modules  no plugin, the observability modules only: metrics-http,
#                          logging-http (JSON lines on stdout, which the bench writes to
#                          a file) and tracing-http sampling 10% (spans to the backend)
#   LUXY_WORKERS=N         event loops (default 1, as the peers run one worker)
#   LUXY_BIN=PATH          the binary (default .build/release/luxy, scripts/build-release's);
#                          the README's figures are the shipped build's, made by
#                          `scripts/install --static --print-binary --scratch-path .build-static`
#                          (thin LTO needs vm.max_map_count >= 131072: scripts/build-release)
#   LUXY_BENCH_STAGES=...  the inbound-http chain's items as YAML lines, instead of the
#                          kind's (to measure one plugin or module alone; SUBJECT_KIND=plain
#                          unless they are the 3-plugin workload)
#   LUXY_BENCH_HEALTH=on   the backend cluster also gets an active TCP health check every
#                          second and success-rate outlier detection (passive ejection on
#                          consecutive failures is on by default either way)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
luxy="${LUXY_BIN:-$here/../.build/release/luxy}"
kind="${LUXY_BENCH_KIND:-lua}"
cfg="$BENCH_TMP/luxy-$kind.yaml"

stages="    []"
if [ "$kind" = "lua" ]; then
  stages="    - { name: bench-request-start, priority: 300 }
    - { name: bench-auth, priority: 200, config: { token: \"$BENCH_TOKEN\" } }
    - { name: bench-response-done, priority: 100 }"
elif [ "$kind" = "modules" ]; then
  stages="    - { name: metrics-http, priority: 1010 }
    - { name: logging-http, priority: 1000, config: { format: json, destination: stdout } }
    - { name: tracing-http, priority: 900, config: { collector_cluster: backend, format: zipkin, sample_rate: 0.1 } }"
fi
stages="${LUXY_BENCH_STAGES:-$stages}"

health=""
if [ "${LUXY_BENCH_HEALTH:-off}" = "on" ]; then
  health="    outlier_detection: { enabled: true, interval: 1s }
    health_checks:
      - { tcp: {}, interval: 1s, timeout: 1s }"
fi

cat >"$cfg" <<YAML
workers: ${LUXY_WORKERS:-1}
plugins_dir: $here/plugins
modules_dir: $here/../modules
listeners:
  - name: bench
    direction: inbound
    protocol: http
    address: 127.0.0.1:$SUBJECT_PORT
    virtual_hosts:
      - name: all
        routes:
          - match: { prefix: / }
            cluster: backend
clusters:
  - name: backend
    endpoints: ["$BENCH_BACKEND_HOST:$BENCH_BACKEND_PORT"]
    max_idle_connections: 128
chains:
  inbound-http:
$stages
YAML
exec "$luxy" run --config "$cfg" --log-level warning
