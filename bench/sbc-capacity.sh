#!/usr/bin/env bash
# Capacity of an SBC for emergency calls, measured beside the direct figure in one invocation:
#   direct:  e911-harness load -> gw1 (mock gateway, TLS)
#   via SBC: e911-harness load -> Kamailio (deploy/kamailio, TLS) -> gw1/gw2 (TLS)
# Each runs `load --find-max` (x1.5 steps, then bisection) against the same SLO and prints the
# knee: the last rate that met it, the first that did not, and why. Everything on loopback,
# bounded in time, stopped at exit.
#
# Usage: bench/sbc-capacity.sh            (from the repository root; builds the release binary)
# Env:   START_RATE=500  STEP_SECS=3  CONNECTIONS=4 (TLS connections the trunk spreads calls over)  SLO="p99_setup<50ms,isa<0.1%"  OUT=out/sbc-capacity
#        ARRIVALS=poisson|uniform (default poisson: calls arrive as real callers do, in bursts;
#        uniform spaces them evenly, which costs a proxy like Kamailio more CPU per call, so the
#        knee depends on it: the header line and every report say which was used)
#        SUT=HOST:PORT SUT_CA=FILE  (your own SBC instead of Kamailio: it must route 911 to the
#        gateways this script starts on 127.0.0.1:15061 and :15062, trusting $OUT/certs/ca.pem)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN="$ROOT/target/release/e911-harness"
START_RATE=${START_RATE:-500}
STEP=${STEP_SECS:-3}
SLO=${SLO:-"p99_setup<50ms,isa<0.1%"}
ARRIVALS=${ARRIVALS:-poisson}
OUT=${OUT:-"$ROOT/out/sbc-capacity"}
GW1=127.0.0.1:15061
GW2=127.0.0.1:15062
KAM=127.0.0.1:15071

if [[ ! -x "$BIN" || -n "${BUILD-1}" ]]; then
  cargo build --release --quiet --bin e911-harness
fi
rm -rf "$OUT" && mkdir -p "$OUT"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

wait_port() { # $1 = host:port; bounded
  for _ in $(seq 1 200); do
    (echo >/dev/tcp/"${1%:*}"/"${1##*:}") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listening on $1 (see $OUT/*.err)" >&2
  exit 1
}

"$BIN" certs --out "$OUT/certs" >/dev/null
for gw in gw1 gw2; do
  addr=$([[ $gw == gw1 ]] && echo $GW1 || echo $GW2)
  "$BIN" gateway --quiet --listen "$addr" --name "$gw" --host "$gw.anywhere.e911cloud.com" \
    --cert "$OUT/certs/$gw.pem" --key "$OUT/certs/$gw.key" --duration 1200s \
    >/dev/null 2>"$OUT/$gw.err" &
  PIDS+=($!)
  wait_port "$addr"
done

if [[ -n "${SUT-}" ]]; then
  via=$SUT; via_ca=${SUT_CA:?SUT_CA=FILE (the CA of the SBC certificate) is required with SUT}
else
  deploy/kamailio/start.sh --certs "$OUT/certs" --listen $KAM --gateways "$GW1,$GW2" \
    --workdir "$OUT/kamailio" --shm 1024 >/dev/null 2>"$OUT/kamailio.err" &
  PIDS+=($!)
  wait_port $KAM
  via=$KAM; via_ca="$OUT/certs/ca.pem"
fi

knee() { # $1 = name, $2 = target, $3 = CA
  local dir="$OUT/$1"
  timeout 900 "$BIN" load --target "$2" --ca "$3" --find-max --rate "$START_RATE" \
    --connections "${CONNECTIONS:-4}" --arrivals "$ARRIVALS" \
    --duration "${STEP}s" --slo "$SLO" --quiet --out "$dir" >"$dir.txt" 2>&1 || true
  python3 - "$1" "$dir/report.json" <<'PY'
import json, sys
name, path = sys.argv[1], sys.argv[2]
try:
    r = json.load(open(path))
except Exception as e:
    print(f"   {name:<8} no report ({e})"); sys.exit(0)
fm = (r.get("load") or {}).get("find_max") or {}
steps = fm.get("steps") or []
def fmt(x): return "none" if x is None else f"{x:.0f}/s"
arr = ((r.get("load") or {}).get("config") or {}).get("arrivals", "uniform")
print(f"   {name:<8} knee ({arr} arrivals): last pass {fmt(fm.get('last_pass_cps'))}, first fail {fmt(fm.get('first_fail_cps'))}")
for s in steps:
    print(f"            {s.get('rate', 0):>8.0f}/s  {'pass' if s.get('passed') else 'FAIL'}  "
          f"setup p99 {s.get('setup_p99_us', 0)/1000:.2f} ms  {s.get('why') or ''}")
if fm.get("why"):
    print(f"            why: {fm['why']}")
PY
}

echo "SBC capacity, SLO \"$SLO\", $ARRIVALS arrivals, steps of ${STEP}s from ${START_RATE}/s, $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
knee direct "$GW1" "$OUT/certs/ca.pem"
knee via-sbc "$via" "$via_ca"
echo "reports: $OUT/direct/, $OUT/via-sbc/"
