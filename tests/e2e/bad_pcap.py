#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Odd captures for `xl4 replay` (used by test_bad_input.sh): bad_pcap.py DIR writes
empty.pcap, text.pcap, zero.pcap, trunc.pcap, ng.pcapng, raw.pcap, sll.pcap, short.pcap,
big.pcap, badlen.pcap, snap0.pcap into DIR."""
import struct
import sys


def ipv4_udp(payload=b"x" * 18):
    udp = struct.pack("!HHHH", 40000, 53, 8 + len(payload), 0) + payload
    tot = 20 + len(udp)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, tot, 1, 0, 64, 17, 0,
                      bytes([198, 18, 0, 1]), bytes([198, 18, 1, 1]))
    s = sum(struct.unpack("!10H", hdr))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    hdr = hdr[:10] + struct.pack("!H", ~s & 0xFFFF) + hdr[12:]
    return hdr + udp


def eth(l3, etype=0x0800):
    return b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + struct.pack("!H", etype) + l3


def pcap(linktype, recs, snaplen=262144):
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype)
    for data, origlen in recs:
        out += struct.pack("<IIII", 1, 0, len(data), origlen) + data
    return out


def main():
    d = sys.argv[1]
    pkt = eth(ipv4_udp())
    files = {
        "empty.pcap": b"",
        "text.pcap": b"this is not a capture\n" * 10,
        "zero.pcap": pcap(1, []),
        "trunc.pcap": pcap(1, [(pkt, len(pkt)), (pkt, len(pkt))])[:-10],
        "raw.pcap": pcap(101, [(ipv4_udp(), len(ipv4_udp()))]),
        "sll.pcap": pcap(113, [(struct.pack("!HHH8sH", 0, 1, 6, b"\x02" * 8, 0x0800) + ipv4_udp(), 16 + len(ipv4_udp()))]),
        "short.pcap": pcap(1, [(pkt[:30], len(pkt))]),
        "big.pcap": pcap(1, [(eth(ipv4_udp(b"y" * (65535 - 14 - 28))), 65535)]),
        # a record header claiming 16 MB: libpcap must refuse it, xl4 must say so
        "badlen.pcap": pcap(1, [])[:] + struct.pack("<IIII", 1, 0, 16 << 20, 16 << 20) + b"z" * 100,
        "snap0.pcap": pcap(1, [(pkt, len(pkt))], snaplen=0),
    }
    # pcapng: section header, interface description (Ethernet), one enhanced packet block
    shb_body = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
    shb = struct.pack("<II", 0x0A0D0D0A, 12 + len(shb_body)) + shb_body + struct.pack("<I", 12 + len(shb_body))
    idb_body = struct.pack("<HHI", 1, 0, 262144)
    idb = struct.pack("<II", 1, 12 + len(idb_body)) + idb_body + struct.pack("<I", 12 + len(idb_body))
    padded = pkt + b"\0" * ((4 - len(pkt) % 4) % 4)
    epb_body = struct.pack("<IIIII", 0, 0, 1, len(pkt), len(pkt)) + padded
    epb = struct.pack("<II", 6, 12 + len(epb_body)) + epb_body + struct.pack("<I", 12 + len(epb_body))
    files["ng.pcapng"] = shb + idb + epb
    for name, data in files.items():
        with open("%s/%s" % (d, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
