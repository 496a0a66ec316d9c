#!/bin/sh
# SIPp as an unattended originator for `e911-harness certify --originator PLAN --transport tcp
# --drive 'sh tests/sipp/drive.sh'`: the step's calls (E911_DIAL from E911_ANI with E911_ORG),
# one at a time, to gw1 (E911_GW1), failing over to gw2 (E911_GW2) as originator-e911.xml says.
# Debian's SIPp speaks TCP only, and has no number plan: it dials whatever the step says.
here=$(cd "$(dirname "$0")" && pwd)
exec sipp -sf "$here/originator-e911.xml" -t tn -max_socket 100 -i 127.0.0.1 -p 0 -nostdin \
    -m "${E911_CALLS:-1}" -l 1 -timeout "${E911_TIMEOUT:-60}s" \
    -s "$E911_DIAL" -key org "$E911_ORG" -key ani "${E911_ANI:-+13125550100}" \
    -set gw2host "${E911_GW2%:*}" -set gw2port "${E911_GW2##*:}" "$E911_GW1"
