#!/usr/bin/env bash
# Concurrent media calls one harness process sustains with zero loss: `load --media` against
# the embedded gw1/gw2 over TLS, each call held HOLD_SECS so about RATE*HOLD_SECS calls are up
# at once, every call carrying SRTP both ways (50 packets/s each way; the trunk's and the
# gateway's ends both live in this one process). The concurrency steps up until a step loses a
# packet (or a call hears nothing, or a packet fails authentication); the last clean step is
# the figure. Prints the load average beside each step: read it on a quiet machine only.
# Usage: bench/media-capacity.sh   Env: HOLD_SECS=10 SECS=20 STEPS="100 200 400 600 800 1000"
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN="$ROOT/target/release/e911-harness"
HOLD=${HOLD_SECS:-10}
SECS=${SECS:-20}
STEPS=${STEPS:-"100 200 400 600 800 1000"}
OUT=${OUT:-"$ROOT/out/media-capacity"}
if [[ ! -x "$BIN" || -n "${BUILD-1}" ]]; then cargo build --release --quiet --bin e911-harness; fi
command -v jq >/dev/null || { echo "jq is not installed (apt-get install jq)" >&2; exit 1; }
rm -rf "$OUT" && mkdir -p "$OUT"
best=0
printf '%-10s %-8s %-10s %-10s %-8s %-8s %-10s %-s\n' concurrent rate pkts/s trunk_rx lost gw_lost jit_p99ms loadavg
for target in $STEPS; do
  rate=$(awk -v c="$target" -v h="$HOLD" 'BEGIN { printf "%.2f", c / h }')
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  dir="$OUT/c$target"
  "$BIN" load --media --quiet --rate "$rate" --duration "${SECS}s" --hold "${HOLD}s" \
    --timeout 10s --connections 2 --max-lag 60s --max-concurrent $((target * 2)) \
    --out "$dir" >/dev/null 2>&1 || true
  r="$dir/report.json"
  [[ -s "$r" ]] || { echo "step $target: no report"; break; }
  read -r conc pps rx lost glost auth silent jit answered attempted < <(jq -r '.load as $l | $l.media as $m |
    "\($l.max_concurrent) \($m.packets_per_second) \($m.trunk_received) \($m.trunk_lost) \($m.gateway.lost // 0) \($m.trunk_auth_failures + ($m.gateway.auth_failures // 0)) \($m.silent_calls) \($m.jitter.p99_us / 1000) \($l.counts.answered) \($l.counts.attempted)"' "$r")
  printf '%-10s %-8s %-10s %-10s %-8s %-8s %-10s %-s\n' "$conc" "$rate" "$pps" "$rx" "$lost" "$glost" "$jit" "$load"
  if [[ "$lost" != 0 || "$glost" != 0 || "$auth" != 0 || "$silent" != 0 || "$answered" != "$attempted" ]]; then
    echo "step $target: not clean (lost $lost/$glost, auth failures $auth, silent $silent, answered $answered of $attempted)"
    break
  fi
  best=$conc
done
echo "zero-loss media calls sustained by one process: $best (hold ${HOLD}s, ${SECS}s per step; loadavg at start of the step shown above)"
