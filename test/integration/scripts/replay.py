#!/usr/bin/python3
"""Sends the UDP payloads of a capture to 127.0.0.1:PORT in order, each from
the same source port as in the capture (bound on SRC_IP, default 127.0.0.1),
with a short pause every 50 datagrams so the receiver is never flooded.
FIRST and END select datagrams by their index among the UDP ones.
Usage: replay.py CAPTURE PORT [SRC_IP [FIRST END]]"""
import socket
import sys
import time

from scapy.all import PcapReader, UDP

capture, port = sys.argv[1], int(sys.argv[2])
src_ip = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1"
first = int(sys.argv[4]) if len(sys.argv) > 4 else 0
end = int(sys.argv[5]) if len(sys.argv) > 5 else None
sockets = {}
sent = 0
index = -1
for p in PcapReader(capture):
    if UDP not in p:
        continue
    index += 1
    if index < first or (end is not None and index >= end):
        continue
    s = sockets.get(p[UDP].sport)
    if s is None:
        s = sockets[p[UDP].sport] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((src_ip, 0))
    s.sendto(bytes(p[UDP].payload), ("127.0.0.1", port))
    sent += 1
    if sent % 50 == 0:
        time.sleep(0.002)
print(sent)
