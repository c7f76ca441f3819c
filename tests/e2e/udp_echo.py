#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""UDP request/response client: send COUNT datagrams to HOST PORT, one at a time, and check
that each comes back byte for byte (the server is a socat echo).

    udp_echo.py HOST PORT COUNT

Prints "udp echo HOST: N/COUNT ok" and exits 0 only if every reply matched. Each reply is
awaited at most 2 s and never retried: a veth pair loses nothing, so a missing reply is a bug.
"""
import os
import socket
import sys


def main():
    host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    ok = 0
    with socket.socket(fam, socket.SOCK_DGRAM) as s:
        s.settimeout(2.0)
        s.connect((host, port))
        for i in range(count):
            msg = b"xl4-udp-%d-" % i + os.urandom(8).hex().encode() + b"." * (i * 37 % 1200)
            s.send(msg)
            try:
                if s.recv(65535) == msg:
                    ok += 1
            except socket.timeout:
                pass
    print(f"udp echo {host}: {ok}/{count} ok")
    sys.exit(0 if ok == count else 1)


if __name__ == "__main__":
    main()
