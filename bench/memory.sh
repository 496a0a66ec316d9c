#!/usr/bin/env bash
# Memory per call in progress, e911-harness against SIPp, each half in its own process over TCP
# on loopback: calls are held (ACK -> BYE) long enough that tens of thousands are up at once,
# and the peak resident memory of each process (VmHWM) above its idle size is divided by the
# peak number of calls in progress.
#   harness: e911-harness load --hold H  ->  e911-harness gateway --quiet
#   SIPp:    sipp uac (tests/sipp/uac-e911.xml, -d H)  ->  sipp uas
# Usage: bench/memory.sh   Env: RATE=2000 HOLD_SECS=15 SECS=10 (calls = RATE*SECS, all bounded)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN="$ROOT/target/release/e911-harness"
RATE=${RATE:-2000}
HOLD=${HOLD_SECS:-15}
SECS=${SECS:-10}
CALLS=$((RATE * SECS))
OUT=${OUT:-"$ROOT/out/memory"}
GW_PORT=5190
UAS_PORT=5191
if [[ ! -x "$BIN" || -n "${BUILD-1}" ]]; then cargo build --release --quiet --bin e911-harness; fi
command -v sipp >/dev/null || { echo "sipp is not installed (apt-get install sip-tester)" >&2; exit 1; }
rm -rf "$OUT" && mkdir -p "$OUT"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
wait_port() {
  for _ in $(seq 1 200); do (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done
  echo "nothing listening on $1" >&2; exit 1
}
# Samples a process's peak RSS until it exits; prints the peak in KiB.
watch_peak() {
  local pid=$1 peak=0 v
  while kill -0 "$pid" 2>/dev/null; do
    v=$(hwm_kb "$pid"); [[ ${v:-0} -gt $peak ]] && peak=$v
    sleep 0.2
  done
  echo "$peak"
}
per_call() { python3 -c "import sys; p,b,n=map(float,sys.argv[1:]); print(f'{(p-b)*1024/max(n,1):8.0f} bytes/call  (peak {p/1024:.1f} MiB, idle {b/1024:.1f} MiB, {int(n)} calls up)')" "$@"; }

echo "memory per call in progress: ${RATE}/s for ${SECS}s, hold ${HOLD}s (~$((RATE * (HOLD < SECS ? HOLD : SECS))) up at once), TCP, $(date -u +%FT%TZ)"

# --- harness ---
"$BIN" gateway --transport tcp --quiet --listen 127.0.0.1:$GW_PORT --duration $((SECS + HOLD + 60))s \
  >/dev/null 2>"$OUT/gateway.err" &
GW=$!; PIDS+=($GW); wait_port $GW_PORT; sleep 0.3
gw_idle=$(rss_kb $GW)
"$BIN" load --transport tcp --target 127.0.0.1:$GW_PORT --rate "$RATE" --duration "${SECS}s" \
  --hold "${HOLD}s" --timeout 10s --quiet --out "$OUT/harness" >"$OUT/harness.txt" 2>&1 &
LD=$!; PIDS+=($LD)
gw_peak=0
while kill -0 $LD 2>/dev/null; do v=$(hwm_kb $GW); [[ $v -gt $gw_peak ]] && gw_peak=$v; sleep 0.2; done
up=$(python3 -c "import json;r=json.load(open('$OUT/harness/report.json'));print(r['load'].get('max_concurrent',0))" 2>/dev/null || echo 0)
kill $GW 2>/dev/null || true
echo "  harness gateway:  $(per_call "$gw_peak" "$gw_idle" "$up")"

# The generator's own peak: rerun under /usr/bin/time (it reports the maximum resident size).
"$BIN" gateway --transport tcp --quiet --listen 127.0.0.1:$GW_PORT --duration $((SECS + HOLD + 60))s \
  >/dev/null 2>>"$OUT/gateway.err" &
GW=$!; PIDS+=($GW); wait_port $GW_PORT
/usr/bin/time -f "%M" -o "$OUT/load.maxrss" "$BIN" load --transport tcp --target 127.0.0.1:$GW_PORT \
  --rate "$RATE" --duration "${SECS}s" --hold "${HOLD}s" --timeout 10s --quiet \
  --out "$OUT/harness2" >/dev/null 2>&1 || true
/usr/bin/time -f "%M" -o "$OUT/load.idle" "$BIN" load --transport tcp --target 127.0.0.1:$GW_PORT \
  --rate 10 --calls 1 --duration 1s --quiet --out "$OUT/idle" >/dev/null 2>&1 || true
up2=$(python3 -c "import json;r=json.load(open('$OUT/harness2/report.json'));print(r['load'].get('max_concurrent',0))" 2>/dev/null || echo 0)
kill $GW 2>/dev/null || true
echo "  harness generator: $(per_call "$(tail -1 "$OUT/load.maxrss")" "$(tail -1 "$OUT/load.idle")" "$up2")"

# --- SIPp ---
(cd "$OUT" && exec sipp -sn uas -t t1 -i 127.0.0.1 -p $UAS_PORT -nostdin -max_socket 100000 >/dev/null 2>&1) &
UAS=$!; PIDS+=($UAS); wait_port $UAS_PORT; sleep 0.3
uas_idle=$(rss_kb $UAS)
(cd "$OUT" && exec /usr/bin/time -f "%M" -o "$OUT/uac.maxrss" sipp 127.0.0.1:$UAS_PORT \
  -sf "$ROOT/tests/sipp/uac-e911.xml" -s 911 -key org 4f3b1c2e-8d7a-4e59-9b0c-6a1d2e3f4a5b \
  -key ani +13125550100 -t t1 -i 127.0.0.1 -r "$RATE" -m "$CALLS" -d $((HOLD * 1000)) \
  -timeout $((SECS + HOLD + 30))s -nostdin -trace_stat -fd 1 >/dev/null 2>&1) &
UAC=$!; PIDS+=($UAC)
uas_peak=0
while kill -0 $UAC 2>/dev/null; do v=$(hwm_kb $UAS); [[ $v -gt $uas_peak ]] && uas_peak=$v; sleep 0.2; done
sipp_up=$(python3 - "$OUT" <<'PY'
import csv, glob, sys
best = 0
for f in glob.glob(sys.argv[1] + "/*_.csv"):
    rows = list(csv.reader(open(f), delimiter=";"))
    if not rows: continue
    h = rows[0]
    if "CurrentCall" in h:
        i = h.index("CurrentCall")
        best = max([best] + [int(r[i]) for r in rows[1:] if len(r) > i and r[i].isdigit()])
print(best)
PY
)
# The uac's own idle size: the same scenario for one call, no hold.
(cd "$OUT" && /usr/bin/time -f "%M" -o "$OUT/uac.idle" sipp 127.0.0.1:$UAS_PORT \
  -sf "$ROOT/tests/sipp/uac-e911.xml" -s 911 -key org 4f3b1c2e-8d7a-4e59-9b0c-6a1d2e3f4a5b \
  -key ani +13125550100 -t t1 -i 127.0.0.1 -m 1 -timeout 10s -nostdin >/dev/null 2>&1) || true
echo "  sipp uas:          $(per_call "$uas_peak" "$uas_idle" "$sipp_up")"
echo "  sipp uac:          $(per_call "$(tail -1 "$OUT/uac.maxrss")" "$(tail -1 "$OUT/uac.idle")" "$sipp_up")"
