#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Send one ICMP "too big" error to a VIP about a reply VIP:vport -> client:cport, or one UDP
datagram client -> VIP (to make the flow exist first).

    icmp_err.py err  VIP VPORT CLIENT CPORT MTU    (IPv4 frag-needed or ICMPv6 packet too big)
    icmp_err.py flow VIP VPORT CPORT               (a datagram from this host's port CPORT)

The error goes out through a raw socket; its outer source is this host's address (whoever sends an error: a router, the client,
an attacker); it quotes what the backend would have sent: IP header + UDP header (+ payload for
IPv6 up to 48 bytes, RFC 4443 asks for as much as fits). Run with /usr/bin/python3 (scapy).
"""
import socket
import struct
import sys

from scapy.all import IP, UDP, IPv6, Raw


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def err(vip, vport, client, cport, mtu):
    # A raw socket, so the kernel routes the error like any packet (through the balancer; scapy's
    # own IPv6 routing broadcast it to every port of the bridge, backends included).
    v6 = ":" in vip
    payload = Raw(b"x" * 1300)
    if v6:
        quote = bytes(IPv6(src=vip, dst=client) / UDP(sport=vport, dport=cport) / payload)[:48]
        msg = struct.pack("!BBHI", 2, 0, 0, mtu) + quote  # the kernel fills the checksum
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    else:
        quote = bytes(IP(src=vip, dst=client, flags="DF") / UDP(sport=vport, dport=cport) / payload)[:28]
        ck = csum(struct.pack("!BBHHH", 3, 4, 0, 0, mtu) + quote)
        msg = struct.pack("!BBHHH", 3, 4, ck, 0, mtu) + quote
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.sendto(msg, (vip, 0))


def flow(vip, vport, cport):
    fam = socket.AF_INET6 if ":" in vip else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind(("", cport))
    s.settimeout(2)
    s.sendto(b"xl4-e2e-icmp", (vip, vport))
    try:
        s.recvfrom(2048)  # the echo: the flow works
    except socket.timeout:
        sys.exit("no echo from %s:%d" % (vip, vport))


if __name__ == "__main__":
    if sys.argv[1] == "err":
        err(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
    elif sys.argv[1] == "flow":
        flow(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(__doc__)
