#!/usr/bin/python3
"""Summarises Kafka messages as kcat prints them with -f '%k\\t%s\\n', or
with --envelope as kcat -J prints them (one JSON envelope per message, so a
message may hold several newline-separated records): one JSON object on
stdout, e.g.
{"messages": 20000, "records": 20000, "bad_json": 0, "packets": 313, ...}.
`key_is_exporter` counts records whose message key equals their
peer_ip_src; `missing_fields` records lacking one of the fields every
record has; `distinct` distinct record texts.
Usage: kcat ... | kafka_records.py [--envelope]"""
import json
import sys

FIELDS = ("event_type", "peer_ip_src", "ip_src", "ip_dst", "port_src", "port_dst", "ip_proto",
          "timestamp_start", "timestamp_end", "export_proto_version", "flows", "packets", "bytes",
          "export_protocol", "ip_version")
summary = {"messages": 0, "records": 0, "bad_json": 0, "packets": 0, "bytes": 0, "flows": 0,
           "key_is_exporter": 0, "missing_fields": 0, "distinct": 0}
seen = set()
envelope = "--envelope" in sys.argv[1:]


def messages():
    """(key, payload) per message."""
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line:
            continue
        if envelope:
            m = json.loads(line)
            yield m.get("key") or "", m.get("payload") or ""
        else:
            key, _, value = line.partition("\t")
            yield key, value


for key, payload in messages():
    summary["messages"] += 1
    for value in payload.split("\n"):
        summary["records"] += 1
        try:
            r = json.loads(value)
        except ValueError:
            summary["bad_json"] += 1
            continue
        if any(f not in r for f in FIELDS):
            summary["missing_fields"] += 1
            continue
        seen.add(value)
        summary["packets"] += r["packets"]
        summary["bytes"] += r["bytes"]
        summary["flows"] += r["flows"]
        summary["key_is_exporter"] += key == r["peer_ip_src"]
summary["distinct"] = len(seen)
print(json.dumps(summary))
