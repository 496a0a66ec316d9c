#!/usr/bin/env bash
# What full TLS handshakes cost: calls per second with a new connection per call, trunk profile
# (TLS 1.2, ECDHE secp384r1, RSA 2048 certificate), against the harness's own gateway, with
# session resumption off (every handshake full: the gateway signs each time, as an SBC does for
# distinct trunks) and on (resumed sessions), beside the ceiling the machine's public-key speed
# sets (harness/examples/tls_ceiling.rs: RSA-2048 signatures/s and P-384 ECDHE/s with aws-lc-rs).
# Everything on loopback, bounded in time, stopped at exit. Client and gateway share the CPUs.
#
# Usage: bench/tls-handshakes.sh           (from the repository root; builds the release binary)
# Env:   START_RATE=400 STEP_SECS=3 MAX_STEPS=8 ARRIVALS=poisson SLO="p99_setup<50ms,isa<0.1%"
#        FIXED_RATE=300 FIXED_SECS=5 OUT=out/tls-handshakes
# Besides the knees it prints the gateway's CPU time per call at FIXED_RATE (from /proc), which
# other processes on a shared machine disturb far less than they disturb a latency knee.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN="$ROOT/target/release/e911-harness"
CEILING="$ROOT/target/release/examples/tls_ceiling"
START_RATE=${START_RATE:-400}
STEP=${STEP_SECS:-3}
MAX_STEPS=${MAX_STEPS:-8}
FIXED_RATE=${FIXED_RATE:-300}
FIXED_SECS=${FIXED_SECS:-5}
ARRIVALS=${ARRIVALS:-poisson}
SLO=${SLO:-"p99_setup<50ms,isa<0.1%"}
OUT=${OUT:-"$ROOT/out/tls-handshakes"}
GW=127.0.0.1:15081

if [[ ! -x "$BIN" || ! -x "$CEILING" || -n "${BUILD-1}" ]]; then
  cargo build --release --quiet --bin e911-harness -p harness --example tls_ceiling
fi
rm -rf "$OUT" && mkdir -p "$OUT"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

echo "TLS handshakes, trunk profile (TLS 1.2, secp384r1, RSA 2048), $ARRIVALS arrivals, SLO \"$SLO\", $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
echo "== ceiling (single thread, the gateway's crypto provider)"
"$CEILING" 2 | sed 's/^/   /'

"$BIN" certs --out "$OUT/certs" >/dev/null
"$BIN" gateway --quiet --listen "$GW" --tls-profile genesys-byoc \
  --cert "$OUT/certs/gw1.pem" --key "$OUT/certs/gw1.key" --duration 900s \
  >/dev/null 2>"$OUT/gateway.err" &
PIDS+=($!)
for _ in $(seq 1 200); do
  (echo >/dev/tcp/127.0.0.1/15081) 2>/dev/null && break
  sleep 0.05
done

knee() { # $1 = resumption off|on
  local dir="$OUT/resumption-$1"
  # A new connection per call puts connect + handshake before the INVITE, in the generator's
  # lag: the lag bound is relaxed so the handshake queue shows in setup (the SLO), not as an
  # invalid run.
  timeout 600 "$BIN" load --target "$GW" --ca "$OUT/certs/ca.pem" --connection-per-call \
    --tls-profile genesys-byoc --tls-resumption "$1" --arrivals "$ARRIVALS" \
    --find-max --find-max-steps "$MAX_STEPS" --rate "$START_RATE" --duration "${STEP}s" \
    --max-lag 1s --slo "$SLO" --quiet --out "$dir" >"$dir.txt" 2>&1 || true
  python3 - "$1" "$dir/report.json" <<'PY'
import json, sys
name, path = sys.argv[1], sys.argv[2]
try:
    r = json.load(open(path))
except Exception as e:
    print(f"   resumption {name}: no report ({e})"); sys.exit(0)
l = r.get("load") or {}
fm = l.get("find_max") or {}
def fmt(x): return "none" if x is None else f"{x:.0f}/s"
print(f"== resumption {name}: knee: last pass {fmt(fm.get('last_pass_cps'))}, first fail {fmt(fm.get('first_fail_cps'))}")
for s in fm.get("steps") or []:
    d = s.get("detail") or {}
    print(f"   {s.get('rate', 0):>7.0f}/s  {'pass' if s.get('passed') else 'FAIL'}  achieved {d.get('achieved_cps') or 0:>7.1f}/s"
          f"  setup p99 {s.get('setup_p99_us', 0)/1000:7.2f} ms  {s.get('why') or ''}")
t = l.get("tls") or {}
print(f"   reported step: {t.get('total', 0)} handshakes, {t.get('full', 0)} full, {t.get('resumed', 0)} resumed;"
      f" tls_handshake p50 {((l.get('metrics') or {}).get('tls_handshake') or {}).get('p50_us', 0)/1000:.3f} ms")
PY
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
per_call() { # $1 = resumption off|on: gateway CPU per call at a fixed rate
  local before after calls
  before=$(cpu_ticks "${PIDS[0]}")
  "$BIN" load --target "$GW" --ca "$OUT/certs/ca.pem" --connection-per-call \
    --tls-profile genesys-byoc --tls-resumption "$1" --arrivals "$ARRIVALS" \
    --rate "$FIXED_RATE" --duration "${FIXED_SECS}s" --max-lag 1s --quiet \
    --out "$OUT/fixed-$1" >"$OUT/fixed-$1.txt" 2>&1 || true
  after=$(cpu_ticks "${PIDS[0]}")
  calls=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['load']['counts']['answered'])" "$OUT/fixed-$1/report.json" 2>/dev/null || echo 0)
  python3 - "$1" "$before" "$after" "$calls" "$(getconf CLK_TCK)" <<'PY'
import sys
name, before, after, calls, hz = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
ms = (after - before) * 1000 / hz / max(calls, 1)
print(f"== resumption {name} at a fixed rate: {calls} calls, gateway CPU {ms:.3f} ms per call"
      f" => one gateway core carries about {1000 / ms if ms else 0:.0f} such calls/s")
PY
}
per_call off
per_call on
knee off
knee on
kill -INT "${PIDS[0]}" 2>/dev/null || true   # the gateway prints its counts on SIGINT
wait "${PIDS[0]}" 2>/dev/null || true
echo "== gateway: $(tail -1 "$OUT/gateway.err")"
echo "reports: $OUT/resumption-off/, $OUT/resumption-on/"
