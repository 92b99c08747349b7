#!/usr/bin/env bash
# Reload under load: wrk drives 64 connections through Luxy while a loop edits a plugin
# EDITS times; prints reloads done, requests served, non-2xx, socket errors, and p99 with
# and without reloads. Bounded: each wrk run lasts DURATION seconds. 127.0.0.1 only.
#
#   bench/reload-under-load.sh            # EDITS=100 DURATION=40 CONNS=64 (an edit every ~0.4 s, past the 250 ms debounce)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
luxy="${LUXY_BIN:-$here/../.build/release/luxy}"
EDITS="${EDITS:-100}"
DURATION="${DURATION:-40}"
CONNS="${CONNS:-64}"
PROXY_PORT="${PROXY_PORT:-18290}"
BACKEND_PORT="${BACKEND_PORT:-18291}"
ADMIN_PORT="${ADMIN_PORT:-18292}"

command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 1; }
[ -x "$luxy" ] || { echo "build first: scripts/build-release --product luxy" >&2; exit 1; }

tmp="$(mktemp -d /tmp/luxy-reload.XXXXXX)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

mkdir -p "$tmp/plugins"
cat >"$tmp/backend.yaml" <<YAML
workers: 1
listeners:
  - name: backend
    direction: inbound
    protocol: http
    address: 127.0.0.1:$BACKEND_PORT
    virtual_hosts:
      - routes:
          - match: { prefix: / }
            direct_response: { status: 200, body: "ok\n" }
YAML
cat >"$tmp/proxy.yaml" <<YAML
workers: 1
admin: { address: 127.0.0.1:$ADMIN_PORT }
plugins_dir: plugins
listeners:
  - name: proxy
    direction: inbound
    protocol: http
    address: 127.0.0.1:$PROXY_PORT
    virtual_hosts:
      - routes:
          - match: { prefix: / }
            cluster: backend
clusters:
  - name: backend
    endpoints: ["127.0.0.1:$BACKEND_PORT"]
chains:
  inbound-http:
    - { name: edited, priority: 100 }
YAML
write_plugin() {
  cat >"$tmp/plugins/edited.lua.tmp" <<LUA
-- version $1
function envoy_on_request(h) h:headers():replace("x-version", "$1") end
function envoy_on_response(h) h:headers():replace("x-version", "$1") end
LUA
  mv "$tmp/plugins/edited.lua.tmp" "$tmp/plugins/edited.lua"   # an editor's atomic save
}
write_plugin 0

"$luxy" run --config "$tmp/backend.yaml" --no-watch --log-level warning >"$tmp/backend.log" 2>&1 & pids+=($!)
"$luxy" run --config "$tmp/proxy.yaml" --log-level warning >"$tmp/proxy.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$PROXY_PORT/" >/dev/null 2>&1 && break
  sleep 0.1
done

run_wrk() { wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "http://127.0.0.1:$PROXY_PORT/" >"$tmp/$1.txt"; }
summarize() {
  python3 - "$tmp/$1.txt" "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
requests = int(re.search(r"(\d+) requests in", text).group(1))
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
p99 = re.search(r"99%\s+(\S+)", text).group(1)
rps = re.search(r"Requests/sec:\s+(\S+)", text).group(1)
errors = sum(map(int, sock.groups())) if sock else 0
print(f"{sys.argv[2]:>16}: requests={requests} req/s={rps} non-2xx={non2xx.group(1) if non2xx else 0} socket_errors={errors} p99={p99}")
PY
}

run_wrk baseline
summarize baseline

run_wrk reloading &
wrk_pid=$!
interval=$(python3 -c "print(max(0.05, ($DURATION - 2) / $EDITS))")
for i in $(seq 1 "$EDITS"); do
  write_plugin "$i"
  sleep "$interval"
done
wait "$wrk_pid"
summarize reloading

sleep 1
stats="$(curl -s "http://127.0.0.1:$ADMIN_PORT/stats")"
python3 - "$stats" "$EDITS" <<'PY'
import json, sys
s = json.loads(sys.argv[1])
print(f"{'reloads':>16}: edits={sys.argv[2]} succeeded={s['reloads_succeeded'] - 1} failed={s['reloads_failed']} "
      f"unchanged={s['reloads_unchanged']} generation={s['generation']} retired_generations_alive={s['retired_generations']}")
PY
last="$(curl -s -D - -o /dev/null "http://127.0.0.1:$PROXY_PORT/" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-version"{print $2}')"
echo "      last x-version: $last (expected $EDITS)"
