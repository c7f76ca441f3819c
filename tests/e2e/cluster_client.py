#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Long-lived connections through a VIP for tests/e2e/test_cluster.sh, in one thread.

  cluster_client.py hold HOST PORT N SPORT_BASE INTERVAL MAX_SECS STOP_FILE EVENTS_FILE

N HTTP/1.1 keep-alive connections to HOST:PORT (HOST: one address, or several separated by
commas, taken in turn: connection I goes to the (I mod count)-th), connection I from source port
SPORT_BASE+I
(fixed 5-tuples: the router's ECMP hash puts each on the same node on every run). Each sends a
request every INTERVAL seconds and checks the reply (lb_server.py: "NAME /hold/I/SEQ", the same
NAME every time). A connection breaks at its first error: a reset, the peer closing, a wrong
reply, another backend answering, or no reply within BREAK_AFTER (3 s). A connection stalls
when a reply took longer than STALL (1.5 s) but came.

Prints "connected N" once every connection had its first reply (or failed), then runs until
STOP_FILE exists or MAX_SECS pass. EVENTS_FILE holds lines "NAME UNIX_TIME" the test wrote
meanwhile (drain, kill, ...): breaks, stalls and the longest wait for a reply are reported per
phase (the last event before the request was sent). The last line printed is one JSON object.
Every wait is bounded. Exit 0 unless the client itself failed.
"""
import errno
import heapq
import json
import os
import selectors
import socket
import sys
import time

BREAK_AFTER = 3.0
STALL = 1.5


class Conn:
    def __init__(self, cid, host, sport):
        self.cid, self.host, self.sport = cid, host, sport
        self.sock = None
        self.backend = None
        self.seq = 0
        self.buf = b""
        self.sent_at = None      # monotonic time of the outstanding request, None if idle
        self.requests = 0
        self.max_wait = 0.0
        self.broken = None       # (unix time, phase, reason)
        self.stalls = []         # (phase, seconds)


def reply_complete(buf):
    """(body, rest) when buf starts with one whole response, None if more is needed."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    length = None
    for line in buf[:end].split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    if length is None:
        raise ValueError("no Content-Length")
    if len(buf) < end + 4 + length:
        return None
    status = buf.split(None, 2)[1]
    if status != b"200":
        raise ValueError(f"status {status!r}")
    return buf[end + 4:end + 4 + length], buf[end + 4 + length:]


def hold(host, port, n, sport_base, interval, max_secs, stop_file, events_file):
    sel = selectors.DefaultSelector()
    hosts = host.split(",")
    conns = [Conn(i, hosts[i % len(hosts)], sport_base + i) for i in range(n)]
    t_end = time.monotonic() + max_secs
    # unix time = monotonic + offset, for the events file
    offset = time.time() - time.monotonic()
    events = []

    def load_events():
        try:
            with open(events_file) as f:
                events[:] = sorted((float(t), name) for name, t in (l.split() for l in f if l.strip()))
        except FileNotFoundError:
            pass

    def phase(mono):
        t, p = mono + offset, "start"
        for et, name in events:
            if et <= t:
                p = name
        return p

    def brk(c, why):
        if c.broken:
            return
        load_events()
        c.broken = (time.monotonic() + offset, phase(c.sent_at or time.monotonic()), why)
        try:
            sel.unregister(c.sock)
        except (KeyError, ValueError):
            pass
        c.sock.close()

    for c in conns:
        v6 = ":" in c.host
        s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if v6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind(("::" if v6 else "0.0.0.0", c.sport))
        s.setblocking(False)
        c.sock = s
        err = s.connect_ex((c.host, port))
        if err not in (0, errno.EINPROGRESS):
            brk(c, f"connect: {os.strerror(err)}")
            continue
        c.sent_at = time.monotonic()   # the connect counts as the first wait
        sel.register(s, selectors.EVENT_WRITE, c)

    def send(c, now):
        req = b"GET /hold/%d/%d HTTP/1.1\r\nHost: xl4-vip\r\n\r\n" % (c.cid, c.seq)
        try:
            c.sock.send(req)
        except OSError as e:
            brk(c, f"send: {e}")
            return
        c.sent_at = now

    said_connected = False
    max_wait_in = {}  # phase -> the longest wait for a reply over 100 ms, in ms
    due = []          # heap of (send time, cid): idle connections waiting for their next request
    last_scan = 0.0
    while time.monotonic() < t_end:
        now = time.monotonic()
        if now - last_scan >= 0.1:
            # ten times a second: the connected line, the stop file, replies overdue
            last_scan = now
            if not said_connected and all(c.backend or c.broken for c in conns):
                print(f"connected {sum(1 for c in conns if c.backend and not c.broken)}", flush=True)
                said_connected = True
            if said_connected and os.path.exists(stop_file):
                break
            for c in conns:
                if not c.broken and c.sent_at is not None and now - c.sent_at > BREAK_AFTER:
                    brk(c, f"no reply in {BREAK_AFTER:.0f} s")
        while due and due[0][0] <= now:
            c = conns[heapq.heappop(due)[1]]
            if not c.broken:
                send(c, now)
        timeout = 0.05 if not due else min(0.05, max(0.0, due[0][0] - now))
        for key, mask in sel.select(timeout):
            c = key.data
            now = time.monotonic()
            if c.broken:
                continue
            if mask & selectors.EVENT_WRITE:
                err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    brk(c, f"connect: {os.strerror(err)}")
                    continue
                sel.modify(c.sock, selectors.EVENT_READ, c)
                send(c, now)
                continue
            try:
                data = c.sock.recv(65536)
            except OSError as e:
                brk(c, f"recv: {e}")
                continue
            if not data:
                brk(c, "closed by the peer")
                continue
            c.buf += data
            try:
                r = reply_complete(c.buf)
            except ValueError as e:
                brk(c, str(e))
                continue
            if r is None:
                continue
            body, c.buf = r
            name, _, rest = body.decode(errors="replace").strip().partition(" ")
            if rest != f"/hold/{c.cid}/{c.seq}":
                brk(c, f"unexpected reply {body[:60]!r}")
                continue
            if c.backend is None:
                c.backend = name
            elif name != c.backend:
                brk(c, f"answered by {name}, was {c.backend}")
                continue
            wait = now - c.sent_at
            c.max_wait = max(c.max_wait, wait)
            if wait > 0.1:
                load_events()
                p = phase(c.sent_at)
                max_wait_in[p] = max(max_wait_in.get(p, 0), int(wait * 1000))
                if wait > STALL:
                    c.stalls.append((p, wait))
            c.requests += 1
            c.seq += 1
            c.sent_at = None
            heapq.heappush(due, (now + interval, c.cid))
    if not said_connected:
        print(f"connected {sum(1 for c in conns if c.backend and not c.broken)}", flush=True)

    load_events()
    broken_in, stalled_in, by, lines = {}, {}, {}, []
    for c in conns:
        by[c.backend or "none"] = by.get(c.backend or "none", 0) + 1
        if c.broken:
            broken_in[c.broken[1]] = broken_in.get(c.broken[1], 0) + 1
            lines.append(f"conn {c.cid} ({c.host} sport {c.sport}, {c.backend}) broke in phase "
                         f"'{c.broken[1]}' after {c.requests} replies: {c.broken[2]}")
        elif c.stalls:
            p, w = max(c.stalls, key=lambda x: x[1])
            stalled_in[p] = stalled_in.get(p, 0) + 1
            lines.append(f"conn {c.cid} ({c.host} sport {c.sport}) waited {w:.2f} s for a reply in phase '{p}'")
        if c.sock and not c.broken:
            c.sock.close()
    max_wait_ms = int(1000 * max((c.max_wait for c in conns), default=0.0))
    res = {"conns": n, "connected": sum(1 for c in conns if c.backend),
           "requests": sum(c.requests for c in conns), "by": by,
           "broken": sum(broken_in.values()), "broken_in": broken_in,
           "stalled": sum(stalled_in.values()), "stalled_in": stalled_in,
           "max_wait_ms": max_wait_ms, "max_wait_ms_in": max_wait_in, "phases": [e[1] for e in events]}
    print(f"hold: {n} connections, {res['requests']} replies, by backend {by}, broken {broken_in}, "
          f"stalled {stalled_in}, longest wait for a reply {max_wait_ms} ms (by phase, when over "
          f"100 ms: {max_wait_in})", file=sys.stderr)
    for line in lines[:12]:
        print("  " + line, file=sys.stderr)
    print(json.dumps(res), flush=True)


def main():
    a = sys.argv[1:]
    if a[:1] == ["hold"] and len(a) == 9:
        hold(a[1], int(a[2]), int(a[3]), int(a[4]), float(a[5]), float(a[6]), a[7], a[8])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
