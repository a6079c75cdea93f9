#!/usr/bin/python3
"""Checks aggregated JSON lines against the per-flow lines of the same run.
Usage: compare_aggregates.py FLOWS AGGREGATED KEY[,KEY...] INTERVAL_SECONDS
Groups FLOWS by the arrival time's bucket and KEYs and sums flows, packets
and bytes; sums AGGREGATED (stamp_inserted, KEYs) the same way (a late record
may give a second line for a bucket); prints `keys N flows F packets P bytes B`
when both agree, else every difference, and exits 1. Also fails when an
aggregated line has keys other than event_type, KEYs, stamps and counters."""
import datetime
import json
import sys

flows_path, aggregated_path, keys, interval = sys.argv[1], sys.argv[2], sys.argv[3].split(","), int(sys.argv[4])
counters = ("flows", "packets", "bytes")
expected_keys = {"event_type", "stamp_inserted", "stamp_updated", *keys, *counters}


def bucket_of(arrival):
    t = datetime.datetime.strptime(arrival, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc)
    s = int(t.timestamp())
    start = s - s % interval
    return datetime.datetime.fromtimestamp(start, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def add(table, key, record):
    sums = table.setdefault(key, [0, 0, 0])
    for i, c in enumerate(counters):
        sums[i] += record[c]


want, got = {}, {}
with open(flows_path) as f:
    for line in f:
        r = json.loads(line)
        add(want, (bucket_of(r["timestamp_arrival"]),) + tuple(str(r[k]) for k in keys), r)
bad = 0
with open(aggregated_path) as f:
    for line in f:
        r = json.loads(line)
        if set(r) != expected_keys:
            print("unexpected keys:", sorted(set(r) ^ expected_keys))
            bad += 1
        add(got, (r["stamp_inserted"],) + tuple(str(r[k]) for k in keys), r)
for k in sorted(set(want) | set(got)):
    if want.get(k) != got.get(k):
        print("differs:", k, "flows/packets/bytes", want.get(k), "aggregated", got.get(k))
        bad += 1
if bad:
    sys.exit(1)
totals = [sum(v[i] for v in want.values()) for i in range(3)]
print(f"keys {len(want)} flows {totals[0]} packets {totals[1]} bytes {totals[2]}")
