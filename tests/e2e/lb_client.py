#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Client side of the load-balancer e2e tests: real connections to a VIP, counted by the
backend that answered (every backend puts its name in the reply, see lb_server.py).

  lb_client.py http HOST PORT COUNT PARALLEL [SPORT_BASE]
      COUNT HTTP requests, each on a new TCP connection ("Connection: close"), PARALLEL at a
      time. A request succeeds when the status is 200 and the body is "NAME /req/I". With
      SPORT_BASE, request I leaves from source port SPORT_BASE+I and the client closes only
      after the server did (so the port is free again at once: no TIME_WAIT on the client),
      and "by_port" in the result says who answered each port: running it twice sends new
      connections with the same 5-tuples as before.
  lb_client.py udp HOST PORT SOCKETS PER_SOCKET
      SOCKETS sockets (each its own flow) send PER_SOCKET datagrams each, one at a time; a reply
      must come from HOST:PORT, be b"NAME " + the datagram, and every reply of one socket must
      come from the same backend.
  lb_client.py hold HOST4 HOST6 PORT N INTERVAL MAX_SECS STOP_FILE EVENTS_FILE
      N long-lived HTTP/1.1 connections, alternately to HOST4 and HOST6; each sends a request
      every INTERVAL seconds on the same connection and checks the reply ("NAME /hold/C/S", the
      same NAME every time). A connection is broken at its first error (reset, timeout 3 s,
      wrong reply, another backend) and then stops. Prints "connected N" once all have their
      first reply; ends when STOP_FILE exists or after MAX_SECS. EVENTS_FILE holds lines
      "NAME UNIX_TIME" the test wrote meanwhile (drain, add, ...): breaks are attributed to the
      last event before them.

Every mode prints one JSON object as its last line; exit 0 unless the client itself failed.
Every wait is bounded (socket timeouts, MAX_SECS).
"""
import json
import os
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

# Per-operation timeout; LB_CLIENT_TIMEOUT raises it (flood tests: a SYN First Drop dropped
# is retransmitted after 1 s, then 3 s).
TIMEOUT = float(os.environ.get("LB_CLIENT_TIMEOUT", "3.0"))


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def read_response(f):
    """One HTTP response from a buffered reader: (status, body). Raises on anything odd."""
    line = f.readline(4096)
    if not line:
        raise ConnectionError("connection closed before a status line")
    parts = line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise ValueError(f"bad status line {line!r}")
    length = None
    while True:
        h = f.readline(4096)
        if not h:
            raise ConnectionError("connection closed in the headers")
        if h in (b"\r\n", b"\n"):
            break
        k, _, v = h.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    if length is None:
        raise ValueError("no Content-Length")
    body = f.read(length)
    if len(body) != length:
        raise ConnectionError("short body")
    return int(parts[1]), body


def http_once(host, port, i, sport=None):
    path = b"/req/%d" % i
    with socket.socket(family(host), socket.SOCK_STREAM) as s:
        s.settimeout(TIMEOUT)
        if sport:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("::" if ":" in host else "0.0.0.0", sport))
        s.connect((host, port))
        s.sendall(b"GET %s HTTP/1.1\r\nHost: xl4-vip\r\nConnection: close\r\n\r\n" % path)
        with s.makefile("rb") as f:
            status, body = read_response(f)
            if sport and f.read(1) != b"":
                raise ValueError("data after the response")
    name, _, rest = body.decode(errors="replace").strip().partition(" ")
    if status != 200 or rest != path.decode():
        raise ValueError(f"unexpected reply {status} {body[:60]!r}")
    return name


def cmd_http(host, port, count, parallel, sport_base=None):
    by, errors, fail, by_port = {}, {}, 0, {}

    def one(i):
        try:
            name = http_once(host, port, i, sport_base + i if sport_base else None)
            if sport_base:
                by_port[sport_base + i] = name
            return name, None
        except Exception as e:  # noqa: BLE001 - every failure is counted and reported
            return None, f"{type(e).__name__}: {e}"

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=parallel) as ex:
        for name, err in ex.map(one, range(count)):
            if name:
                by[name] = by.get(name, 0) + 1
            else:
                fail += 1
                errors[err] = errors.get(err, 0) + 1
    secs = time.monotonic() - t0
    ok = sum(by.values())
    print(f"http {host}:{port}: {ok}/{count} ok in {secs:.1f}s, by backend: "
          + " ".join(f"{k}={v}" for k, v in sorted(by.items())), file=sys.stderr)
    for e, n in errors.items():
        print(f"  {n} x {e}", file=sys.stderr)
    print(json.dumps({"ok": ok, "fail": fail, "by": by, "secs": round(secs, 2),
                      "errors": dict(list(errors.items())[:5]), "by_port": by_port}))


def cmd_udp(host, port, sockets, per):
    by, fail, mixed, errors = {}, 0, 0, []
    fam = family(host)
    want = socket.getaddrinfo(host, port, fam, socket.SOCK_DGRAM)[0][4][:2]
    for k in range(sockets):
        names = set()
        with socket.socket(fam, socket.SOCK_DGRAM) as s:
            s.settimeout(2.0)
            for i in range(per):
                msg = b"xl4-lb-%d-%d-" % (k, i) + os.urandom(6).hex().encode() + b"." * (i * 53 % 700)
                s.sendto(msg, (host, port))
                try:
                    data, addr = s.recvfrom(65535)
                except socket.timeout:
                    fail += 1
                    errors.append(f"socket {k} datagram {i}: no reply in 2 s")
                    continue
                name, _, echo = data.partition(b" ")
                if addr[:2] != want or echo != msg:
                    fail += 1
                    errors.append(f"socket {k} datagram {i}: reply {data[:40]!r} from {addr}")
                    continue
                names.add(name.decode())
                by[name.decode()] = by.get(name.decode(), 0) + 1
        if len(names) > 1:
            mixed += 1
            errors.append(f"socket {k}: replies from {sorted(names)}")
    ok = sum(by.values())
    print(f"udp {host}:{port}: {ok}/{sockets * per} ok, by backend: "
          + " ".join(f"{k}={v}" for k, v in sorted(by.items())), file=sys.stderr)
    for e in errors[:5]:
        print(f"  {e}", file=sys.stderr)
    print(json.dumps({"ok": ok, "fail": fail, "mixed": mixed, "by": by, "errors": errors[:5]}))


class Held(threading.Thread):
    def __init__(self, cid, host, port, interval, stop):
        super().__init__(daemon=True)
        self.cid, self.host, self.port, self.interval, self.stop = cid, host, port, interval, stop
        self.backend = None
        self.requests = 0
        self.max_wait = 0.0  # the longest a request waited for its reply (an echo gap)
        self.last_ok = 0.0
        self.broken_at = None
        self.error = None
        self.first = threading.Event()

    def run(self):
        try:
            with socket.socket(family(self.host), socket.SOCK_STREAM) as s:
                s.settimeout(TIMEOUT)
                s.connect((self.host, self.port))
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                f = s.makefile("rb")
                seq = 0
                while not self.stop.is_set():
                    path = b"/hold/%d/%d" % (self.cid, seq)
                    sent = time.monotonic()
                    s.sendall(b"GET %s HTTP/1.1\r\nHost: xl4-vip\r\n\r\n" % path)
                    status, body = read_response(f)
                    self.max_wait = max(self.max_wait, time.monotonic() - sent)
                    name, _, rest = body.decode(errors="replace").strip().partition(" ")
                    if status != 200 or rest != path.decode():
                        raise ValueError(f"unexpected reply {status} {body[:60]!r}")
                    if self.backend is None:
                        self.backend = name
                        self.first.set()
                    elif name != self.backend:
                        raise ValueError(f"answered by {name}, was {self.backend}")
                    self.requests += 1
                    self.last_ok = time.time()
                    seq += 1
                    self.stop.wait(self.interval)
        except Exception as e:  # noqa: BLE001 - the first error breaks the connection
            self.broken_at = time.time()
            self.error = f"{type(e).__name__}: {e}"
        finally:
            self.first.set()


def cmd_hold(host4, host6, port, n, interval, max_secs, stop_file, events_file):
    stop = threading.Event()
    conns = []
    t_end = time.monotonic() + max_secs
    for i in range(n):
        c = Held(i, host4 if i % 2 == 0 else host6, port, interval, stop)
        conns.append(c)
        c.start()
        time.sleep(0.005)
    for c in conns:
        c.first.wait(max(0.1, t_end - time.monotonic()))
    connected = sum(1 for c in conns if c.backend is not None and c.broken_at is None)
    print(f"connected {connected}", flush=True)
    while time.monotonic() < t_end and not os.path.exists(stop_file):
        time.sleep(0.05)
    t_stop = time.time()
    stop.set()
    for c in conns:
        c.join(TIMEOUT + 1)

    events = []
    try:
        with open(events_file) as f:
            for line in f:
                name, t = line.split()
                events.append((float(t), name))
    except FileNotFoundError:
        pass
    events.sort()

    def phase(t):
        p = "start"
        for et, name in events:
            if et <= t:
                p = name
        return p

    by, alive_by, broken_by, broken_in = {}, {}, {}, {}
    stalled, broken = [], []
    for c in conns:
        b = c.backend or "none"
        by[b] = by.get(b, 0) + 1
        if c.broken_at is not None:
            p = phase(c.broken_at)
            broken_in[p] = broken_in.get(p, 0) + 1
            broken_by.setdefault(p, {})
            broken_by[p][b] = broken_by[p].get(b, 0) + 1
            broken.append(f"conn {c.cid} ({c.host}, {b}) broke in phase '{p}' after "
                          f"{c.requests} requests: {c.error}")
        elif c.last_ok < t_stop - max(1.0, 5 * interval):
            # not broken, but no reply lately: as bad as broken
            stalled.append(f"conn {c.cid} ({c.host}, {b}): last reply {t_stop - c.last_ok:.1f}s before the end")
        else:
            alive_by[b] = alive_by.get(b, 0) + 1
    max_wait_ms = int(1000 * max((c.max_wait for c in conns), default=0.0))
    print(f"hold: {n} connections, {connected} connected, {sum(c.requests for c in conns)} requests; "
          f"by backend {by}; alive at the end {alive_by}; broken {broken_by}; "
          f"longest wait for a reply {max_wait_ms} ms", file=sys.stderr)
    for line in (broken + stalled)[:12]:
        print("  " + line, file=sys.stderr)
    print(json.dumps({"conns": n, "connected": connected, "requests": sum(c.requests for c in conns),
                      "by": by, "alive_by": alive_by, "broken_in": broken_in, "broken_by": broken_by,
                      "stalled": len(stalled), "max_wait_ms": max_wait_ms,
                      "phases": [e[1] for e in events]}))


def main():
    a = sys.argv[1:]
    if a[:1] == ["http"] and len(a) in (5, 6):
        cmd_http(a[1], int(a[2]), int(a[3]), int(a[4]), int(a[5]) if len(a) == 6 else None)
    elif a[:1] == ["udp"] and len(a) == 5:
        cmd_udp(a[1], int(a[2]), int(a[3]), int(a[4]))
    elif a[:1] == ["hold"] and len(a) == 9:
        cmd_hold(a[1], a[2], int(a[3]), int(a[4]), float(a[5]), float(a[6]), a[7], a[8])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
