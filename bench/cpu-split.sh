#!/usr/bin/env bash
# A proxy's CPU per request split into user and kernel time: /proc/PID/stat's utime and stime
# read around one bounded wrk run (one thread, 64 keep-alive connections, after a 1 s warm-up).
# The peer bench reports their sum; the split tells whether a change moved the proxy's own
# work (user) or its system calls and the wake-ups of its peers (kernel), which on a loaded
# 2-vCPU VM grow as the proxy gets slower.
#
#   bench/cpu-split.sh URL PID [SECONDS] [WRK ARGUMENTS...]
#   bench/cpu-split.sh http://127.0.0.1:18090/ok "$(pgrep -of 'luxy run')" 5 -H 'authorization: Bearer t'
set -euo pipefail
if [ $# -lt 2 ]; then sed -n 2,9p "$0"; exit 2; fi
url=$1; pid=$2; seconds=${3:-5}; shift $(( $# >= 3 ? 3 : 2 ))
ticks=$(getconf CLK_TCK)
cpu() { awk '{ print $14, $15 }' "/proc/$pid/stat"; }
wrk -t1 -c64 -d1s "$@" "$url" > /dev/null
read -r user0 system0 < <(cpu)
requests=$(wrk -t1 -c64 -d"${seconds}s" "$@" "$url" | awk '/requests in/ { print $1 }')
if [ -z "$requests" ] || [ "$requests" -eq 0 ]; then echo "cpu-split: wrk completed no request" >&2; exit 1; fi
read -r user1 system1 < <(cpu)
awk -v n="$requests" -v t="$ticks" -v u=$((user1 - user0)) -v s=$((system1 - system0)) 'BEGIN {
  printf "%d requests: user %.1f µs, kernel %.1f µs, total %.1f µs of CPU per request\n",
    n, u / t * 1e6 / n, s / t * 1e6 / n, (u + s) / t * 1e6 / n }'
