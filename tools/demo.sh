#!/usr/bin/env bash
# The main job: installs what is needed, builds tidewatch, runs tidewatchd on
# its built-in default config (NetFlow on UDP 2055, IPFIX on 4739, JSON lines
# under /var/lib/tidewatch/flows) and feeds it with flowgen for a few seconds
# on loopback, then shows some records and what was received and decoded.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
build=${TIDEWATCH_BUILD:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  $(command -v ccache >/dev/null && echo -DCMAKE_CXX_COMPILER_LAUNCHER=ccache) >/dev/null
cmake --build "$build" -j "$(nproc)" --target tidewatchd tidewatch flowgen
out=/var/lib/tidewatch/flows/netflow.json
rm -f /var/lib/tidewatch/flows/netflow*.json
log=$(mktemp /tmp/tidewatchd-demo-XXXXXX.log)
"$build/tidewatchd" 2>"$log" &
daemon=$!
trap 'kill $daemon 2>/dev/null || true' EXIT
until grep -q "listening on udp \[::\]:4739" "$log"; do
  kill -0 $daemon 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done
echo "== tidewatchd is up; flowgen sends NetFlow v9 and IPFIX for 3 s each (50k records/s)"
"$build/tools/flowgen" --target 127.0.0.1:2055 --protocol v9 --rate 50000 --duration 3 --hosts 2000
"$build/tools/flowgen" --target 127.0.0.1:4739 --protocol ipfix --rate 50000 --duration 3 --hosts 2000 \
  --attack 198.51.100.77 --attack-type syn --attack-rate 5000
kill -TERM $daemon
wait $daemon
trap - EXIT
echo "== first records in $out"
head -n 3 "$out"
echo "== tidewatchd's log (received / decoded / errors)"
grep -E "listening|received|decoded|wrote|stopped" "$log"
echo "== $(cat /var/lib/tidewatch/flows/netflow*.json | wc -l) records in $(ls /var/lib/tidewatch/flows/netflow*.json | wc -l) file(s) (rotated at 256 MiB)"
