#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Send malformed frames, each class named by the xl4 drop reason it must hit.

    craft.py --iface IF --dst-mac MAC [--src4 A --dst4 A --src6 A --dst6 A] REASON[@6]=COUNT...

REASON is an xl4 drop reason name (include/xl4/abi.h); "@6" builds the IPv6 variant where
both exist. Exactly COUNT frames of each class go out on IF with sendp(), in the order given.
Run it with /usr/bin/python3 (the interpreter that has scapy) inside the sending namespace.
"""
import argparse
import sys

from scapy.all import (ICMP, IP, UDP, Dot1Q, Ether, IPv6, IPv6ExtHdrDestOpt,
                       IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, Raw, TCP, conf, sendp)

conf.verb = 0


def l3(a, v6, **kw):
    if v6:
        return IPv6(src=kw.pop("src", a.src6), dst=a.dst6, **kw)
    return IP(src=kw.pop("src", a.src4), dst=a.dst4, **kw)


def tcp(flags, i, **kw):
    return TCP(sport=kw.pop("sport", 40000 + i), dport=kw.pop("dport", 80), flags=flags,
               seq=1000 + i, **kw)


def udp(i, **kw):
    return UDP(sport=kw.pop("sport", 41000 + i), dport=kw.pop("dport", 53), **kw)


PAY = Raw(b"xl4-e2e-malformed")


def bad_csum(a, i):
    # Let scapy compute the right checksum, then spoil it (never into 0x0000/0xffff, the two
    # encodings of the same one's-complement zero).
    p = Ether(bytes(Ether(dst=a.dst_mac) / l3(a, False) / udp(i) / PAY))
    p[IP].chksum ^= 0x5555
    return p


MARTIANS4 = ["127.0.0.1", "224.0.0.5", "0.1.2.3", "255.255.255.255", "127.9.9.9"]
MARTIANS6 = ["ff02::1", "::1"]

# reason -> builder(args, index, v6) returning the L3 part (or a whole frame for the odd ones)
BUILDERS = {
    "tcp_flags_syn_fin": lambda a, i, v6: l3(a, v6) / tcp("SF", i),
    "tcp_flags_xmas": lambda a, i, v6: l3(a, v6) / tcp("FPU", i),
    "tcp_flags_null": lambda a, i, v6: l3(a, v6) / tcp(0, i),
    "tcp_flags_syn_rst": lambda a, i, v6: l3(a, v6) / tcp("SR", i),
    "tcp_flags_no_ack": lambda a, i, v6: l3(a, v6) / tcp("F", i),
    "tcp_bad_doff": lambda a, i, v6: l3(a, v6) / tcp("S", i, dataofs=4),
    "tcp_port_zero": lambda a, i, v6: l3(a, v6) / tcp("S", i, sport=0),
    "udp_len_mismatch": lambda a, i, v6: l3(a, v6) / udp(i, len=100) / PAY,
    "udp_port_zero": lambda a, i, v6: l3(a, v6) / udp(i, dport=0) / PAY,
    "ip4_bad_ihl": lambda a, i, v6: l3(a, False, ihl=4) / udp(i) / PAY,
    "ip4_len_over": lambda a, i, v6: l3(a, False, len=400) / udp(i) / PAY,
    "ip4_bad_csum": lambda a, i, v6: bad_csum(a, i),
    "ip4_src_martian": lambda a, i, v6: l3(a, False, src=MARTIANS4[i % len(MARTIANS4)]) / udp(i) / PAY,
    "ip4_frag_offset1": lambda a, i, v6: l3(a, False, proto=6, frag=1) / Raw(b"\0" * 16),
    "ip6_src_martian": lambda a, i, v6: l3(a, True, src=MARTIANS6[i % len(MARTIANS6)]) / udp(i) / PAY,
    "ip6_len_over": lambda a, i, v6: l3(a, True, plen=400) / udp(i) / PAY,
    # Hop-by-hop anywhere but first (RFC 8200 4.1).
    "ip6_ext_order": lambda a, i, v6: l3(a, True) / IPv6ExtHdrDestOpt() / IPv6ExtHdrHopByHop() / udp(i) / PAY,
    # Nine destination-options headers: one more than the parser walks.
    "ip6_ext_chain": lambda a, i, v6: l3(a, True) / (IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() /
                                                     IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() /
                                                     IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() /
                                                     IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() /
                                                     IPv6ExtHdrDestOpt()) / udp(i) / PAY,
    # Well-formed first fragments: dropped only under `parser: { fragments = "drop"; }`.
    "ip4_frag": lambda a, i, v6: l3(a, False, flags="MF", id=100 + i) / udp(i, len=200) / PAY,
    "ip6_frag": lambda a, i, v6: (l3(a, True) / IPv6ExtHdrFragment(m=1, id=100 + i) /
                                  udp(i, len=200) / PAY),
    # ICMP (proto 1) inside IPv6.
    "l4_proto_mismatch": lambda a, i, v6: l3(a, True, nh=1) / ICMP(id=i) / PAY,
    # Three VLAN tags; the parser takes two.
    "vlan_too_deep": lambda a, i, v6: (Dot1Q(vlan=10) / Dot1Q(vlan=20) / Dot1Q(vlan=30) /
                                      l3(a, v6) / udp(i) / PAY),
}
V4_ONLY = {"ip4_frag", "ip4_bad_ihl", "ip4_len_over", "ip4_bad_csum", "ip4_src_martian", "ip4_frag_offset1"}
V6_ONLY = {"ip6_frag", "ip6_src_martian", "ip6_len_over", "ip6_ext_order", "ip6_ext_chain", "l4_proto_mismatch"}


def frames(a, spec):
    reason, _, count = spec.partition("=")
    reason, _, fam = reason.partition("@")
    if reason not in BUILDERS or fam not in ("", "4", "6") or not count.isdigit():
        sys.exit(f"craft.py: bad class '{spec}' (known: {', '.join(sorted(BUILDERS))}; "
                 "form REASON[@6]=COUNT)")
    v6 = fam == "6" or reason in V6_ONLY
    if fam == "6" and reason in V4_ONLY:
        sys.exit(f"craft.py: {reason} has no IPv6 variant")
    out = []
    for i in range(int(count)):
        p = BUILDERS[reason](a, i, v6)
        if not isinstance(p, Ether):
            p = Ether(dst=a.dst_mac) / p
        out.append(p)
    return reason + ("@6" if v6 else ""), out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iface", required=True)
    ap.add_argument("--dst-mac", required=True)
    ap.add_argument("--src4", default="198.18.0.1")
    ap.add_argument("--dst4", default="198.18.0.2")
    ap.add_argument("--src6", default="2001:db8::1")
    ap.add_argument("--dst6", default="2001:db8::2")
    ap.add_argument("-q", "--quiet", action="store_true")
    ap.add_argument("classes", nargs="+", metavar="REASON[@6]=COUNT")
    a = ap.parse_args()

    batches = [frames(a, s) for s in a.classes]  # build everything first: no half-sent runs
    for name, pkts in batches:
        sendp(pkts, iface=a.iface)
        if not a.quiet:
            print(f"  sent {len(pkts):3d} x {name}")


if __name__ == "__main__":
    main()
