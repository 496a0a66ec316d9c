#!/bin/sh
# Instructions per message for each `parse` bench workload, under callgrind (machine load does
# not change the count). Usage: sip-proto/benches/icount.sh  (honours CARGO_TARGET_DIR)
set -e
target=${CARGO_TARGET_DIR:-target}
cargo build -q --release -p sip-proto --example parse_count
bin=$target/release/examples/parse_count
total() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" 2>&1 |
        sed -n 's/.*Collected : *\([0-9]*\).*/\1/p'
}
for w in parse_invite parse_200_ok build_invite build_200_ok; do
    a=$(total "$w" 2000)
    b=$(total "$w" 4000)
    echo "$w: $(((b - a) / 2000)) instructions/message"
done
