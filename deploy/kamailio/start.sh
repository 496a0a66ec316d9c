#!/usr/bin/env bash
# Starts Kamailio (kamailio.cfg beside this script) in the foreground as the SBC between the
# e911-harness trunk and the E911 gateways, writing its TLS and dispatcher files to a work folder.
#
#   deploy/kamailio/start.sh --certs DIR [--listen 127.0.0.1:5071] [--trunk-transport tls|tcp] \
#       [--gateways 127.0.0.1:15061,127.0.0.1:15062] [--gateway-transport tls|tcp] \
#       [--gateway-socket 127.0.0.1:5072] \
#       [--workdir DIR] [--gw-timeout-ms 2000] [--server-cert FILE --server-key FILE] [--shm MB] \
#       [--rtpengine 127.0.0.1:2223]
#
# --certs is a folder written by `e911-harness certs` (or `certify --sut`): ca.pem is the CA the
# gateways' certificates chain to; unless --server-cert/--server-key are given, Kamailio presents
# gw1.pem/gw1.key (its names include 127.0.0.1 and localhost) to the trunk.
# --trunk-transport is what the trunk connects with (TLS by default; TCP for a TCP-in SBC),
# --gateway-transport what Kamailio speaks to the gateways (TLS, as ICD 5.1.2 requires); when
# the two differ, Kamailio also listens on --gateway-socket (default: the next port) so it has a
# socket of the gateway leg's protocol to send from.
# Gateways are tried in the order given (dispatcher algorithm 8), failover on 5xx, 408,
# unreachable, and a gateway that neither answers nor rings within --gw-timeout-ms. Toward the
# gateways Kamailio speaks the trunk's TLS profile (ICD 5.1): TLS 1.2, the two ECDHE-RSA
# AES-GCM suites, and ECDHE on secp384r1 (through an OpenSSL config file, as the tls module has
# no setting for groups). --rtpengine anchors the media on an rtpengine already running with
# its ng control socket at that address (e.g. rtpengine --table=-1 --interface=127.0.0.1
# --listen-ng=127.0.0.1:2223 --port-min=30000 --port-max=60000); without it the SDP passes
# through untouched. Stop with Ctrl-C (or kill).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
listen="127.0.0.1:5071"
gateways="127.0.0.1:15061,127.0.0.1:15062"
certs=""
workdir=""
server_cert=""
server_key=""
gw_timeout_ms=2000
shm=256
trunk_transport=tls
gateway_transport=tls
gateway_socket=""
rtpengine=""
while [ $# -gt 0 ]; do
    case "$1" in
        --certs) certs="$2"; shift 2 ;;
        --listen) listen="$2"; shift 2 ;;
        --gateways) gateways="$2"; shift 2 ;;
        --workdir) workdir="$2"; shift 2 ;;
        --server-cert) server_cert="$2"; shift 2 ;;
        --server-key) server_key="$2"; shift 2 ;;
        --gw-timeout-ms) gw_timeout_ms="$2"; shift 2 ;;
        --trunk-transport) trunk_transport="$2"; shift 2 ;;
        --gateway-transport) gateway_transport="$2"; shift 2 ;;
        --gateway-socket) gateway_socket="$2"; shift 2 ;;
        --shm) shm="$2"; shift 2 ;;
        --rtpengine) rtpengine="$2"; shift 2 ;;
        -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
        *) echo "start.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
case "$trunk_transport" in tls|tcp) ;; *) echo "start.sh: --trunk-transport is tls or tcp" >&2; exit 2 ;; esac
case "$gateway_transport" in tls|tcp) ;; *) echo "start.sh: --gateway-transport is tls or tcp" >&2; exit 2 ;; esac
[ -n "$certs" ] || { echo "start.sh: --certs DIR is required (e911-harness certs --out DIR)" >&2; exit 2; }
certs="$(cd "$certs" && pwd)"
[ -f "$certs/ca.pem" ] || { echo "start.sh: $certs/ca.pem not found" >&2; exit 2; }
server_cert="${server_cert:-$certs/gw1.pem}"
server_key="${server_key:-$certs/gw1.key}"
workdir="${workdir:-$(mktemp -d -t e911-kamailio.XXXXXX)}"
mkdir -p "$workdir"
# Kamailio resolves relative paths against its config's folder, so every path goes in absolute.
workdir="$(cd "$workdir" && pwd)"
server_cert="$(realpath "$server_cert")"
server_key="$(realpath "$server_key")"
kamailio="$(command -v kamailio || true)"
[ -n "$kamailio" ] || [ ! -x /usr/sbin/kamailio ] || kamailio=/usr/sbin/kamailio
[ -n "$kamailio" ] || { echo "start.sh: kamailio is not installed (apt-get install kamailio kamailio-tls-modules)" >&2; exit 3; }

cat > "$workdir/tls.cfg" <<TLS
[server:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
certificate = $server_cert
private_key = $server_key

[client:default]
method = TLSv1.2
cipher_list = ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256
verify_certificate = yes
require_certificate = yes
ca_list = $certs/ca.pem
TLS

# OpenSSL reads this at start: it limits the key-exchange groups to secp384r1 (both sides).
cat > "$workdir/openssl.cnf" <<SSL
openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
Groups = secp384r1
SSL
export OPENSSL_CONF="$workdir/openssl.cnf"

# Dispatcher list: set 1, higher priority first, so the first gateway given is tried first.
IFS=',' read -r -a gws <<< "$gateways"
: > "$workdir/gateways.list"
prio=${#gws[@]}
for gw in "${gws[@]}"; do
    echo "1 sip:$gw;transport=$gateway_transport 0 $prio" >> "$workdir/gateways.list"
    prio=$((prio - 1))
done

# Kamailio sends from a listening socket of the protocol it sends with: a TCP trunk leg needs a
# second socket, of the gateway leg's protocol, on the next port.
extra=()
if [ "$trunk_transport" != "$gateway_transport" ]; then
    gateway_socket="${gateway_socket:-${listen%:*}:$(( ${listen##*:} + 1 ))}"
    extra=(-A "LISTEN_GW=$gateway_transport:$gateway_socket")
fi
if [ -n "$rtpengine" ]; then
    extra+=(-A WITH_RTPENGINE -A "RTPENGINE_SOCK=\"udp:$rtpengine\"")
fi

exec "$kamailio" -f "$here/kamailio.cfg" -DD -E -m "$shm" -M 16 -w "$workdir" "${extra[@]}" \
    -A "LISTEN=$trunk_transport:$listen" \
    -A "DISPATCHER_LIST=\"$workdir/gateways.list\"" \
    -A "TLS_CFG=\"$workdir/tls.cfg\"" \
    -A "GW_TIMEOUT_MS=$gw_timeout_ms"
