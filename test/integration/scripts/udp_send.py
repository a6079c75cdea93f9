#!/usr/bin/python3
"""Sends UDP datagrams listed in a file, in order, to ADDRESS:PORT. Each line
of the file is "SOURCE_ADDRESS SOURCE_PORT HEX_PAYLOAD"; one socket is bound
per source, so that the receiver sees exactly that address and port.
With GAP_MS, waits that many milliseconds after each datagram.
Usage: udp_send.py ADDRESS PORT DATAGRAMS_FILE [GAP_MS]"""
import socket
import sys
import time

address, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
gap = float(sys.argv[4]) / 1000 if len(sys.argv) > 4 else 0
family = socket.AF_INET6 if ":" in address else socket.AF_INET
sockets = {}
sent = 0
with open(path) as f:
    for line in f:
        src, sport, payload = line.split()
        s = sockets.get((src, sport))
        if s is None:
            s = sockets[(src, sport)] = socket.socket(family, socket.SOCK_DGRAM)
            s.bind((src, int(sport)))
        s.sendto(bytes.fromhex(payload), (address, port))
        sent += 1
        if gap:
            time.sleep(gap)
print("sent", sent, flush=True)
