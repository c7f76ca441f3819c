#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Long-lived flows for tests/e2e/test_chaos.sh: many TCP connections and UDP flows that each
echo a byte every PERIOD, counting every break and stall.

    chaos_flows.py server TCP_PORT UDP_PORT VIP
        TCP echo on [::]:TCP_PORT and UDP echo bound to VIP:UDP_PORT (IP_FREEBIND), one
        selectors loop. Prints "ready".

    chaos_flows.py client VIP TCP_PORT UDP_PORT N_TCP N_UDP STOPFILE
        Opens N_TCP connections and N_UDP UDP sockets to the VIP. Every 200 ms each sends one
        byte and expects it back. A stall is a flow with no echo for more than 2 s; a break is
        a connection reset or closed. A fast UDP stream (one datagram every 2 ms) counts lost
        replies. Prints one JSON status line per second to stdout ("phase": "running") and a
        final one ("phase": "done") once STOPFILE exists. Every loop is bounded: it gives up
        after 300 s whatever happens.
"""
import json
import os
import selectors
import socket
import sys
import time

PERIOD = 0.2
STALL = 2.0
FAST_PERIOD = 0.002
# Sends per pass of the loop, all flows together. After the client was starved (a loaded
# machine, 0.2 s say), every flow is due at once: 1,000 segments in one burst overflow the
# balancer's 256-frame veth ring, and the fast stream's datagrams in it are lost on the way
# in, before xl4 sees them. The rest go out in the next passes, 2 ms apart.
SEND_BURST = 64
LIMIT_S = 300
IP_FREEBIND = 15


SO_RCVBUFFORCE = 33  # linux/asm-generic/socket.h; Python's socket module does not name it


def big_rcvbuf(sock):
    """4 MiB of receive buffer (forced: the test runs as root), so a UDP datagram is lost only
    where the test looks for losses, not in a socket whose Python reader the machine starved
    for a fraction of a second (the default ~200 KiB holds under a second of the streams)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20)
    except PermissionError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)


def server(tcp_port, udp_port, vip):
    sel = selectors.DefaultSelector()
    ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ls.bind(("::", tcp_port))
    ls.listen(4096)
    ls.setblocking(False)
    sel.register(ls, selectors.EVENT_READ, "listen")
    us = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    us.setsockopt(socket.SOL_IP, IP_FREEBIND, 1)
    big_rcvbuf(us)
    us.bind((vip, udp_port))
    us.setblocking(False)
    sel.register(us, selectors.EVENT_READ, "udp")
    print("ready", flush=True)
    while True:
        for key, _ in sel.select(1.0):
            if key.data == "listen":
                try:
                    c, _ = ls.accept()
                except BlockingIOError:
                    continue
                c.setblocking(False)
                c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sel.register(c, selectors.EVENT_READ, "conn")
            elif key.data == "udp":
                for _ in range(64):
                    try:
                        d, a = us.recvfrom(2048)
                    except BlockingIOError:
                        break
                    us.sendto(d, a)
            else:
                c = key.fileobj
                try:
                    d = c.recv(4096)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    d = b""
                if not d:
                    sel.unregister(c)
                    c.close()
                    continue
                try:
                    c.send(d)
                except OSError:
                    sel.unregister(c)
                    c.close()


class Flow:
    def __init__(self, sock, kind):
        self.sock = sock
        self.kind = kind
        self.last_echo = time.monotonic()
        self.next_send = time.monotonic() + PERIOD
        self.waiting = False
        self.sent_at = 0.0
        self.broken = False
        self.stalled = False
        self.max_gap = 0.0


def client(vip, tcp_port, udp_port, n_tcp, n_udp, stopfile):
    sel = selectors.DefaultSelector()
    start = time.monotonic()
    flows = []
    # Connect in batches; each must complete within 5 s.
    for i in range(n_tcp):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.settimeout(5.0)
        s.connect((vip, tcp_port))
        s.setblocking(False)
        f = Flow(s, "tcp")
        f.next_send += (i % 200) * PERIOD / 200  # spread the sends over the period
        flows.append(f)
        sel.register(s, selectors.EVENT_READ, f)
    for i in range(n_udp):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        big_rcvbuf(s)
        s.connect((vip, udp_port))
        s.setblocking(False)
        f = Flow(s, "udp")
        flows.append(f)
        sel.register(s, selectors.EVENT_READ, f)
    fast = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    big_rcvbuf(fast)
    fast.connect((vip, udp_port))
    fast.setblocking(False)
    sel.register(fast, selectors.EVENT_READ, "fast")
    fast_sent = fast_recv = 0
    fast_next = time.monotonic()
    stop_at = None
    last_report = 0.0

    def status(phase):
        now = time.monotonic()
        tcp = [f for f in flows if f.kind == "tcp"]
        udp = [f for f in flows if f.kind == "udp"]
        return json.dumps({
            "phase": phase,
            "t": round(now - start, 1),
            "tcp": len(tcp), "udp": len(udp),
            "tcp_broken": sum(f.broken for f in tcp),
            "tcp_stalled": sum(f.stalled for f in tcp),
            "udp_stalled": sum(f.stalled for f in udp),
            "max_gap_ms": int(1000 * max([f.max_gap for f in flows] + [0])),
            "fast_sent": fast_sent, "fast_recv": fast_recv,
        })

    while time.monotonic() - start < LIMIT_S:
        now = time.monotonic()
        if stop_at is None and os.path.exists(stopfile):
            stop_at = now + 1.0  # stop sending; let the last replies arrive
        if stop_at is not None and now >= stop_at:
            break
        burst = SEND_BURST
        for f in flows:
            if f.broken:
                continue
            if f.waiting:
                if now - f.sent_at > STALL:
                    f.stalled = True
            elif stop_at is None and now >= f.next_send and burst > 0:
                burst -= 1
                try:
                    f.sock.send(b"x")
                    f.waiting = True
                    f.sent_at = now
                except BlockingIOError:
                    pass
                except OSError:
                    f.broken = True
                f.next_send = now + PERIOD
        if now - fast_next > 4 * FAST_PERIOD:
            fast_next = now  # starved: the slots missed are skipped, not sent in one burst
        while stop_at is None and now >= fast_next:
            try:
                fast.send(b"fast%d" % fast_sent)
                fast_sent += 1
            except BlockingIOError:
                pass
            fast_next += FAST_PERIOD
        for key, _ in sel.select(0.002):
            if key.data == "fast":
                for _ in range(64):
                    try:
                        fast.recv(64)
                        fast_recv += 1
                    except BlockingIOError:
                        break
                continue
            f = key.data
            try:
                d = f.sock.recv(64)
            except BlockingIOError:
                continue
            except OSError:
                d = b""
            if not d:
                if f.kind == "tcp":
                    f.broken = True
                    sel.unregister(f.sock)
                continue
            t = time.monotonic()
            if f.waiting:
                f.max_gap = max(f.max_gap, t - f.sent_at)
            f.last_echo = t
            f.waiting = False
        if now - last_report >= 1.0:
            print(status("running"), flush=True)
            last_report = now
    print(status("done"), flush=True)


def main():
    if sys.argv[1] == "server":
        server(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    else:
        client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]),
               int(sys.argv[6]), sys.argv[7])


if __name__ == "__main__":
    main()
