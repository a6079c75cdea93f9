#!/usr/bin/python3
"""Prints one line per JSON record (tidewatch's or nfacctd's output):
`src dst sport dport proto packets bytes tcpflags`, sorted.
Usage: flows_from_json.py FILE..."""
import json
import socket
import sys

protos = {"tcp": 6, "udp": 17, "icmp": 1, "ipv6-icmp": 58, "icmp6": 58}
lines = []
for path in sys.argv[1:]:
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            proto = r.get("ip_proto", 0)
            if isinstance(proto, str):
                proto = protos.get(proto, proto)
            flags = r.get("tcp_flags", 0)
            lines.append(" ".join(str(x) for x in [
                r["ip_src"], r["ip_dst"], r.get("port_src", 0), r.get("port_dst", 0), proto,
                r["packets"], r["bytes"], int(flags)]))
print("\n".join(sorted(lines)))
