#!/usr/bin/env bash
# Fleet convergence: REPLICAS Luxy processes (workers: 1) run ONE ConfigMap-style folder, laid
# out as the kubelet does (a timestamped folder, `..data` linking to it, every file a symlink
# through `..data`). Each replica serves bounded load (a curl per replica, keep-alive, in
# batches) while `..data` is swapped atomically to a new version with a changed plugin; then
# every replica's /stats is polled until all report the new content hash.
#
# Prints: the time from the swap until all replicas report the new hash, requests sent and
# failed (anything but 200, or no answer), each replica's RSS idle after start and after the
# run, and its idle Pss (shared pages split between the processes that map them). Every port is
# the kernel's pick (listeners and admin say port 0), so all replicas run the very same file, as
# pods of one Deployment do; each one's ports are read from its log.
#
#   bench/fleet.sh                 # REPLICAS=20 BATCH=50 MAX_BATCHES=40 LUXY_BIN=.build/release/luxy
#   MALLOC_ARENA_MAX=2 bench/fleet.sh
# Bounded: the load stops at convergence (or after MAX_BATCHES batches); waits give up after 30 s.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
luxy="${LUXY_BIN:-$here/../.build/release/luxy}"
REPLICAS="${REPLICAS:-20}"
BATCH="${BATCH:-50}"
MAX_BATCHES="${MAX_BATCHES:-40}"

[ -x "$luxy" ] || { echo "build first: scripts/build-release --product luxy (or set LUXY_BIN)" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is missing" >&2; exit 1; }

tmp="$(mktemp -d /tmp/luxy-fleet.XXXXXX)"
pids=()
loaders=()
cleanup() {
  for pid in "${loaders[@]}" "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

cm="$tmp/configmap"
mkdir -p "$cm"
version_files() {  # $1: folder, $2: version
  cat >"$1/luxy.yaml" <<YAML
admin: { address: 127.0.0.1:0 }
workers: 1
plugins_dir: .
modules_dir: $here/../modules
listeners:
  - name: inbound
    direction: inbound
    protocol: http
    address: 127.0.0.1:0
    virtual_hosts:
      - routes:
          - match: { prefix: / }
            echo: true
chains:
  inbound-http:
    - { name: request-id, priority: 150 }
    - { name: stamp, priority: 100 }
YAML
  cat >"$1/stamp.lua" <<LUA
-- $2
function envoy_on_response(h) h:headers():replace("x-version", "$2") end
LUA
}

# Version 1, laid out as the kubelet does.
mkdir "$cm/..2026_12_03_00_00_00.1"
version_files "$cm/..2026_12_03_00_00_00.1" v1
ln -s ..2026_12_03_00_00_00.1 "$cm/..data"
ln -s ..data/luxy.yaml "$cm/luxy.yaml"
ln -s ..data/stamp.lua "$cm/stamp.lua"

# What the replicas will report after the swap: `luxy check` on a copy of version 2 (the hash
# depends on the files, not on where they are).
mkdir "$tmp/expected"
version_files "$tmp/expected" v2
old_hash="$("$luxy" check --config "$cm/luxy.yaml" | sed -n 's/^content hash: //p')"
new_hash="$("$luxy" check --config "$tmp/expected/luxy.yaml" | sed -n 's/^content hash: //p')"

for i in $(seq 1 "$REPLICAS"); do
  "$luxy" run --config "$cm/luxy.yaml" >"$tmp/replica-$i.log" 2>&1 &
  pids+=($!)
done

logged_port() {  # $1: log, $2: marker → the port of the address= on the marker's line
  grep -m1 -- "$2" "$1" 2>/dev/null | sed -n 's/.*address=[^ ]*:\([0-9][0-9]*\) .*/\1/p' || true
}
admin=(); proxy=()
deadline=$((SECONDS + 30))
for i in $(seq 1 "$REPLICAS"); do
  while :; do
    a="$(logged_port "$tmp/replica-$i.log" "admin API listening")"
    p="$(logged_port "$tmp/replica-$i.log" "] listening")"
    [ -n "$a" ] && [ -n "$p" ] && break
    [ $SECONDS -lt $deadline ] || { echo "replica $i did not start:" >&2; cat "$tmp/replica-$i.log" >&2; exit 1; }
    sleep 0.05
  done
  admin+=("$a"); proxy+=("$p")
done

hashes() {  # every replica's content_hash, one per line, in replica order
  local urls=()
  for a in "${admin[@]}"; do urls+=("http://127.0.0.1:$a/stats"); done
  curl -s --max-time 2 "${urls[@]}" | grep -o '"content_hash":"[0-9a-f]*"' | cut -d'"' -f4 || true
}
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
# Pss: each page divided by the number of processes mapping it. The binary's clean pages are one
# page-cache copy for all replicas, so the sum of Pss is what the fleet really occupies; RSS counts
# those pages in full in every replica.
pss_kb() { awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup"; }

# Idle: started, configuration installed, no traffic yet (one /stats each).
[ "$(hashes | sort -u)" = "$old_hash" ] || { echo "replicas disagree before the swap:" >&2; hashes >&2; exit 1; }
sleep 1
idle_rss=(); idle_pss=()
for pid in "${pids[@]}"; do idle_rss+=("$(rss_kb "$pid")"); idle_pss+=("$(pss_kb "$pid")"); done

# Bounded load: per replica, batches of BATCH keep-alive requests until the stop file appears.
load() {  # $1: replica index, $2: port
  local urls=() n=0
  # -o applies to one URL: each gets its own, so only the status codes reach the file.
  for _ in $(seq 1 "$BATCH"); do urls+=(-o /dev/null "http://127.0.0.1:$2/"); done
  : >"$tmp/codes-$1"
  while [ ! -e "$tmp/stop" ] && [ $n -lt "$MAX_BATCHES" ]; do
    curl -s -w '%{http_code}\n' --max-time 5 "${urls[@]}" >>"$tmp/codes-$1" || true
    n=$((n + 1))
  done
}
for i in $(seq 1 "$REPLICAS"); do
  load "$i" "${proxy[$((i - 1))]}" &
  loaders+=($!)
done
answered() { cat "$tmp"/codes-* 2>/dev/null | wc -l; }
loading() { for pid in "${loaders[@]}"; do kill -0 "$pid" 2>/dev/null && return 0; done; return 1; }
wait_for_answers() {  # $1: answers (any status) in all, or until the loaders ran their MAX_BATCHES
  local deadline=$((SECONDS + 30))
  until [ "$(answered)" -ge "$1" ] || ! loading; do
    [ $SECONDS -lt $deadline ] || { echo "only $(answered) of $1 requests answered after 30 s" >&2; exit 1; }
    sleep 0.05
  done
}
# Let every replica be under load before the swap.
wait_for_answers $((REPLICAS * 10))

# The kubelet's atomic update: a new timestamped folder, then `..data` renamed over.
mkdir "$cm/..2026_12_03_00_01_00.2"
version_files "$cm/..2026_12_03_00_01_00.2" v2
ln -s ..2026_12_03_00_01_00.2 "$cm/..data_tmp"
swap_ns=$(date +%s%N)
mv -T "$cm/..data_tmp" "$cm/..data"
rm -rf "$cm/..2026_12_03_00_00_00.1"

deadline=$((SECONDS + 30))
until [ "$(hashes | grep -c "^$new_hash$")" -eq "$REPLICAS" ]; do
  [ $SECONDS -lt $deadline ] || { echo "not converged after 30 s:" >&2; hashes >&2; exit 1; }
  sleep 0.02
done
converged_ns=$(date +%s%N)
wait_for_answers $(($(answered) + REPLICAS * 10))  # some load on the new generation too
touch "$tmp/stop"
wait "${loaders[@]}"
loaders=()

sent=$(cat "$tmp"/codes-* | wc -l)
failed=$(grep -vc '^200$' <(cat "$tmp"/codes-*) || true)
after_rss=(); for pid in "${pids[@]}"; do after_rss+=("$(rss_kb "$pid")"); done
reloads=$(curl -s "http://127.0.0.1:${admin[0]}/stats" | grep -o '"reloads_succeeded":[0-9]*' | cut -d: -f2)

ms=$(( (converged_ns - swap_ns) / 1000000 ))
echo "replicas:              $REPLICAS (workers: 1 each)${MALLOC_ARENA_MAX:+, MALLOC_ARENA_MAX=$MALLOC_ARENA_MAX}"
echo "hash before / after:   ${old_hash:0:16}… / ${new_hash:0:16}…"
echo "converged in:          $ms ms after the ..data swap (all $REPLICAS report the new hash; includes the 250 ms debounce)"
echo "requests:              $sent sent during the run, $failed failed"
[ "$failed" -eq 0 ] || echo "failed by status:      $(cat "$tmp"/codes-* | grep -v '^200$' | sort | uniq -c | tr -s ' \n' ' ')(000: no answer)"
echo "reloads (replica 1):   $reloads succeeded"
printf 'RSS per replica (MB):  idle'
for kb in "${idle_rss[@]}"; do awk -v kb="$kb" 'BEGIN { printf " %.1f", kb / 1024 }'; done
printf '\n                       after'
for kb in "${after_rss[@]}"; do awk -v kb="$kb" 'BEGIN { printf " %.1f", kb / 1024 }'; done
printf '\nPss per replica (MB):  idle'
for kb in "${idle_pss[@]}"; do awk -v kb="$kb" 'BEGIN { printf " %.1f", kb / 1024 }'; done
echo
total_idle=0; max_idle=0
for kb in "${idle_rss[@]}"; do total_idle=$((total_idle + kb)); [ "$kb" -gt "$max_idle" ] && max_idle=$kb; done
total_after=0; max_after=0
for kb in "${after_rss[@]}"; do total_after=$((total_after + kb)); [ "$kb" -gt "$max_after" ] && max_after=$kb; done
echo "RSS idle:              max $((max_idle / 1024)) MB, mean $((total_idle / REPLICAS / 1024)) MB, all $((total_idle / 1024)) MB"
total_pss=0; max_pss=0
for kb in "${idle_pss[@]}"; do total_pss=$((total_pss + kb)); [ "$kb" -gt "$max_pss" ] && max_pss=$kb; done
echo "Pss idle:              max $((max_pss / 1024)) MB, mean $((total_pss / REPLICAS / 1024)) MB, all $((total_pss / 1024)) MB"
echo "RSS after the run:     max $((max_after / 1024)) MB, mean $((total_after / REPLICAS / 1024)) MB, all $((total_after / 1024)) MB"
[ "$failed" -eq 0 ]
