#!/usr/bin/python3
"""Compares tidewatch's JSON lines with nfacctd's for the same datagrams.
Records are paired by their flow (addresses, ports, protocol, packets, bytes); every key nfacctd printed must be in tidewatch's record with the
same value, except the receive-time stamps named by --ignore. Prints each
difference and a last line `matched N of M nfacctd records, K differences`;
exits 0 only when everything matched. With --aggregate, records of each side
that agree on every key the reference printed (ignored keys and the counters
packets, bytes, flows aside) are summed first, their tcp_flags ORed: sfacctd
aggregates samples of one flow that share an arrival time (ORing their flags),
so its records are sums.
Usage: compare_with_nfacctd.py TIDEWATCH.json NFACCTD.json... [--ignore k1,k2] [--aggregate]"""
import json
import sys
from collections import defaultdict

args = sys.argv[1:]
ignore = {"timestamp_arrival", "stamp_inserted", "stamp_updated"}
if "--ignore" in args:
    i = args.index("--ignore")
    ignore |= set(args[i + 1].split(","))
    del args[i:i + 2]
aggregate = "--aggregate" in args
if aggregate:
    args.remove("--aggregate")
ours_path, theirs_paths = args[0], args[1:]
counters = ("packets", "bytes", "flows")


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def key(r):
    return (r.get("ip_src"), r.get("ip_dst"), r.get("port_src"), r.get("port_dst"),
            r.get("ip_proto"), r.get("packets"), r.get("bytes"))


def summed(records, keys):
    groups = {}
    for r in records:
        k = tuple(json.dumps(r.get(name)) for name in keys)
        if k in groups:
            for c in counters:
                groups[k][c] = groups[k].get(c, 0) + r.get(c, 0)
            if "tcp_flags" in r:
                groups[k]["tcp_flags"] = str(int(groups[k]["tcp_flags"]) | int(r["tcp_flags"]))
        else:
            groups[k] = dict(r)
    return list(groups.values())


theirs = [r for p in theirs_paths for r in load(p)]
ours_records = load(ours_path)
if aggregate and theirs:
    keys = [k for k in theirs[0] if k not in ignore and k not in counters and k != "tcp_flags"]
    theirs = summed(theirs, keys)
    ours_records = summed(ours_records, keys)
ours = defaultdict(list)
for r in ours_records:
    ours[key(r)].append(r)
differences = matched = 0


def report(text):
    global differences
    differences += 1
    if differences <= 20:
        print(text)


for t in theirs:
    candidates = ours.get(key(t))
    if not candidates:
        report("missing in tidewatch: " + json.dumps(t))
        continue
    o = candidates.pop()
    matched += 1
    for k, v in t.items():
        if k in ignore:
            continue
        if k not in o:
            report(f"key {k!r} missing in tidewatch's record for {key(t)}")
        elif o[k] != v:
            report(f"{key(t)}: {k}: tidewatch {o[k]!r} nfacctd {v!r}")
left = sum(len(v) for v in ours.values())
if left:
    report(f"{left} tidewatch records have no nfacctd counterpart")
    differences += left - 1
print(f"matched {matched} of {len(theirs)} nfacctd records, {differences} differences")
sys.exit(0 if differences == 0 else 1)
