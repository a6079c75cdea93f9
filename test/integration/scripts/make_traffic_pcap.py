#!/usr/bin/python3
"""Writes a deterministic capture of mixed traffic for exporters to turn into
flow records: IPv4 and IPv6, TCP (with handshakes and FINs), UDP, ICMP and
ICMPv6, some 802.1Q-tagged frames; every sixth flow (TCP, IPv4) is answered,
so bidirectional exporters have reverse counters to report.
Prints: packets unidirectional_flows ipv4_packets ipv4_flows.
Usage: make_traffic_pcap.py OUT.pcap [FLOWS]"""
import random
import sys

from scapy.all import Ether, Dot1Q, IP, IPv6, TCP, UDP, ICMP, ICMPv6EchoRequest, Raw, wrpcap

out = sys.argv[1]
flows = int(sys.argv[2]) if len(sys.argv) > 2 else 120
rng = random.Random(20261128)
packets = []
t = 1_700_000_000.0


def frame(l3, vlan):
    eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    return eth / Dot1Q(vlan=vlan) / l3 if vlan else eth / l3


for i in range(flows):
    v6 = i % 4 == 3
    vlan = 100 + i % 3 if i % 5 == 0 else 0
    if v6:
        src, dst = f"2001:db8:1::{i + 1:x}", f"2001:db8:2::{(i * 7) % 250 + 1:x}"
        ip = lambda: IPv6(src=src, dst=dst)
    else:
        src, dst = f"203.0.113.{i % 250 + 1}", f"198.51.100.{(i * 7) % 250 + 1}"
        ip = lambda: IP(src=src, dst=dst, tos=(i % 4) * 8)
    kind = i % 3
    sport, dport = 1024 + rng.randrange(60000), rng.choice([80, 443, 53, 123, 8080, 22])
    n = 2 + rng.randrange(20)
    for k in range(n):
        t += rng.random() * 0.01
        size = rng.randrange(0, 1200)
        if kind == 0:
            flags = "S" if k == 0 else ("FA" if k == n - 1 else "PA")
            l4 = TCP(sport=sport, dport=dport, flags=flags, seq=1000 + k)
        elif kind == 1:
            l4 = UDP(sport=sport, dport=dport)
        else:
            l4 = ICMPv6EchoRequest(id=i, seq=k) if v6 else ICMP(type=8, code=0, id=i, seq=k)
        p = frame(ip() / l4 / Raw(b"x" * size), vlan)
        p.time = t
        packets.append(p)
        if i % 6 == 0:
            t += 0.0005
            reply_flags = "SA" if k == 0 else ("FA" if k == n - 1 else "A")
            r = frame(IP(src=dst, dst=src, tos=(i % 4) * 8) /
                      TCP(sport=dport, dport=sport, flags=reply_flags, seq=5000 + k) /
                      Raw(b"y" * (size // 3)), vlan)
            r.time = t
            packets.append(r)
wrpcap(out, packets)
answered = len(range(0, flows, 6))
v4_packets = sum(1 for p in packets if IP in p)
v4_flows = sum(1 for i in range(flows) if i % 4 != 3) + answered
print(len(packets), flows + answered, v4_packets, v4_flows)
