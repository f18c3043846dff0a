#!/usr/bin/env python3
"""Send UDP datagrams with a forged source address (raw IPv4 socket, IP_HDRINCL; needs root).

Reads one datagram per line on stdin: "SRC_HOST SRC_PORT DST_HOST DST_PORT HEX_PAYLOAD"
and answers each with a line "." once it is sent. Used by the tests that play a
blind spoofer on loopback.
"""
import socket
import struct
import sys

raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
raw.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)

for line in sys.stdin:
    fields = line.split()
    if len(fields) < 4:
        continue
    src, sport, dst, dport = fields[0], int(fields[1]), fields[2], int(fields[3])
    payload = bytes.fromhex(fields[4]) if len(fields) > 4 else b""
    # UDP checksum 0: "none" in IPv4. The kernel fills the IP checksum, id and total length.
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, socket.IPPROTO_UDP, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    raw.sendto(ip + udp, (dst, 0))
    sys.stdout.write(".\n")
    sys.stdout.flush()
