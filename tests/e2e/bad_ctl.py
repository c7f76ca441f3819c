#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Malformed clients for xl4's control socket (used by test_bad_input.sh).

  bad_ctl.py SOCK raw TEXT          send TEXT (\\x escapes allowed), half-close, print the reply line
  bad_ctl.py SOCK nonl              '{"cmd":"ping"}' without a newline, then half-close
  bad_ctl.py SOCK huge MIB          MIB MiB of '[' without a newline; print the reply (or the error)
  bad_ctl.py SOCK matrix            one request per (command, field, wrong value); prints
                                    "OK|BAD <request> -> <reply>" per line: OK = the reply is an
                                    error naming the command or the field
  bad_ctl.py SOCK idle N SECS       hold N idle connections for SECS while timing pings; prints
                                    the slowest ping in seconds (10.0 = it never came back)
  bad_ctl.py SOCK slow SECS         one client that trickles a request a byte every 1.5 s for
                                    SECS while timing pings; prints the slowest ping
  bad_ctl.py SOCK unread N SECS REQ N clients send REQ (a request with a large reply) and do not
                                    read it for SECS while timing pings; then each reads its
                                    reply. Prints the slowest ping, the number of whole JSON
                                    replies and the smallest reply in bytes
"""
import json
import socket
import sys
import threading
import time


def connect(path, timeout=10.0):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(path)
    return s


def request(path, data, timeout=10.0):
    s = connect(path, timeout)
    try:
        if data:
            s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        return buf.decode("utf-8", "replace").strip()
    finally:
        s.close()


def ping_latency(path, timeout=10.0):
    t = time.monotonic()
    try:
        r = request(path, b'{"cmd":"ping"}\n', timeout)
        if '"ok":true' not in r.replace(" ", ""):
            return timeout
    except OSError:
        return timeout
    return time.monotonic() - t


def pinger(path, stop, worst):
    while not stop.is_set():
        worst[0] = max(worst[0], ping_latency(path))
        time.sleep(0.2)


# Wrong values: each is the wrong type, empty, huge, or not UTF-8-ish for its field.
WRONG = [1, -1, 1.5, True, None, [], {}, "", "x" * 10240, "\udcff", 2**63, -(2**63)]

FIELDS = {
    "vip-add": {"name": "t1", "address": "198.18.9.9:80/tcp", "mode": "l2", "mtu": 1500,
                "health": "none", "reschedule": True},
    "vip-del": {"name": "nosuch"},
    "vip-list": {},
    "backend-add": {"vip": "nosuch", "address": "198.18.2.9", "weight": 1, "mac": "02:00:00:00:00:09"},
    "backend-del": {"vip": "nosuch", "address": "198.18.2.9"},
    "backend-weight": {"vip": "nosuch", "address": "198.18.2.9", "weight": 2},
    "backend-drain": {"vip": "nosuch", "address": "198.18.2.9"},
    "backend-undrain": {"vip": "nosuch", "address": "198.18.2.9"},
    "block-add": {"prefixes": ["198.18.99.0/24"], "ttl": 5},
    "block-del": {"prefixes": ["198.18.99.0/24"]},
    "block-list": {},
    "allow-add": {"prefixes": ["198.18.98.0/24"], "ttl": 5},
    "allow-del": {"prefixes": ["198.18.98.0/24"]},
    "allow-list": {},
    "rule-add": {"dst": "198.18.97.0/24", "proto": "tcp", "ports": "1-2", "action": "drop",
                 "rate": 1, "burst": 1, "v6_prefix": 64},
    "rule-del": {"id": 4000},
    "rule-list": {},
    "limit-set": {"rate": 5, "burst": 5, "v6_prefix": 64},
    "limit-off": {},
    "limit-show": {},
    "status": {},
    "stats": {},
    "events": {},
    "ping": {},
}


def undo(path, cmd, req):
    """Take back a request that should have been refused, so that later checks see the state."""
    undo_req = None
    if cmd == "vip-add" and isinstance(req.get("name"), str):
        undo_req = {"cmd": "vip-del", "name": req["name"]}
    elif cmd == "backend-add" and isinstance(req.get("address"), str):
        undo_req = {"cmd": "backend-del", "vip": req.get("vip"), "address": req["address"]}
    elif cmd in ("block-add", "allow-add"):
        undo_req = {"cmd": cmd[:-3] + "del", "prefixes": FIELDS[cmd]["prefixes"]}
    elif cmd == "rule-add":
        try:
            undo_req = {"cmd": "rule-del", "id": json.loads(reply_of(path, req))["id"]}
        except Exception:  # noqa: BLE001
            undo_req = None
    elif cmd == "limit-set":
        undo_req = {"cmd": "limit-set", "rate": 1000, "burst": 2000, "v6_prefix": 64}
    if undo_req:
        try:
            request(path, json.dumps(undo_req).encode() + b"\n")
        except OSError:
            pass


def reply_of(path, req):
    return request(path, json.dumps(req).encode("utf-8", "surrogateescape") + b"\n")


def names_value(v, err):
    """The error quotes the offending string value itself (e.g. "'' is not a MAC address")."""
    if not isinstance(v, str):
        return False
    return ("'%s'" % v[:40]) in err or (len(v) > 40 and ("'" + v[:40]) in err)


def matrix(path):
    """Every command with every field given each wrong value, plus an unknown field. Prints
    OK (an error naming the field), VAGUE (an error not naming it) or BAD (accepted: the value
    was silently ignored or misread; the change is undone) per case."""
    n = 0
    for cmd, fields in FIELDS.items():
        cases = []
        for f, good in fields.items():
            for w in WRONG:
                if type(w) is type(good) and not (isinstance(w, str) and w in ("", "x" * 10240, "\udcff")):
                    continue  # same type: not a wrong-type case (ranges are covered elsewhere)
                req = dict(fields)
                req[f] = w
                cases.append((f, req))
        req = dict(fields)
        req["no_such_field"] = 1
        cases.append(("no_such_field", req))
        for f, req in cases:
            n += 1
            req = dict(req)
            req["cmd"] = cmd
            # a fresh name/address per case, so that an earlier wrongly accepted case cannot
            # turn this one into an "already exists" error
            if cmd == "vip-add" and f != "name":
                req["name"] = "m%d" % n
            if cmd == "vip-add" and f != "address":
                req["address"] = "198.18.9.%d:80/tcp" % (n % 250 + 1)
            if cmd.startswith("backend-") and f != "vip":
                req["vip"] = "web"
            if cmd == "backend-add" and f != "address":
                req["address"] = "198.18.3.%d" % (n % 250 + 1)
            try:
                data = json.dumps(req).encode("utf-8", "surrogateescape")
            except Exception:  # noqa: BLE001
                continue
            try:
                reply = request(path, data + b"\n")
            except OSError as e:
                reply = "EXC %s" % e
            short = data[:110].decode("utf-8", "replace")
            try:
                r = json.loads(reply)
            except ValueError:
                print("BAD   %s field %s: %s -> not JSON: %s" % (cmd, f, short, reply[:200]))
                continue
            if r.get("ok") is True:
                print("BAD   %s field %s=%s -> accepted" % (cmd, f, json.dumps(req.get(f))[:40]))
                undo(path, cmd, req)
            elif not isinstance(r.get("error"), str) or not r["error"]:
                print("BAD   %s field %s: %s -> error without text: %s" % (cmd, f, short, reply[:160]))
            elif f.replace("_", "") in r["error"].replace("_", "").replace("-", "") or \
                    "not JSON" in r["error"] or names_value(req.get(f), r["error"]):
                print("OK    %s field %s -> %s" % (cmd, f, r["error"][:100]))
            else:
                print("VAGUE %s field %s=%s -> %s" % (cmd, f, json.dumps(req.get(f))[:40], r["error"][:120]))
        sys.stdout.flush()


def main():
    path, mode = sys.argv[1], sys.argv[2]
    if mode == "raw":
        data = sys.argv[3].encode("latin-1").decode("unicode_escape").encode("latin-1")
        try:
            print(request(path, data))
        except OSError as e:
            print("EXC %s" % e)
    elif mode == "nonl":
        print(request(path, b'{"cmd":"ping"}'))
    elif mode == "huge":
        mib = int(sys.argv[3])
        s = connect(path, 30)
        try:
            chunk = b"[" * (1 << 20)
            for _ in range(mib):
                s.sendall(chunk)
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            print("send stopped: %s" % e)
        try:
            print(s.makefile("rb").readline().decode("utf-8", "replace").strip())
        except OSError as e:
            print("EXC %s" % e)
        s.close()
    elif mode == "idle":
        n, secs = int(sys.argv[3]), float(sys.argv[4])
        conns = []
        for _ in range(n):
            s = socket.socket(socket.AF_UNIX)
            s.setblocking(False)
            try:
                s.connect(path)
            except BlockingIOError:
                pass  # backlog full: the connect is pending
            except OSError:
                pass
            conns.append(s)
        stop, worst = threading.Event(), [0.0]
        th = threading.Thread(target=pinger, args=(path, stop, worst))
        th.start()
        time.sleep(secs)
        stop.set()
        th.join()
        for s in conns:
            s.close()
        print("%.2f" % worst[0])
    elif mode == "slow":
        secs = float(sys.argv[3])
        s = connect(path, 30)
        stop, worst = threading.Event(), [0.0]
        th = threading.Thread(target=pinger, args=(path, stop, worst))
        th.start()
        end = time.monotonic() + secs
        try:
            for b in b'{"cmd":"ping"      ':
                if time.monotonic() > end:
                    break
                s.send(bytes([b]))
                time.sleep(1.5)
        except OSError:
            pass
        stop.set()
        th.join()
        s.close()
        print("%.2f" % worst[0])
    elif mode == "unread":
        n, secs, req = int(sys.argv[3]), float(sys.argv[4]), sys.argv[5].encode() + b"\n"
        conns = []
        for _ in range(n):
            s = connect(path, 30)
            s.sendall(req)
            conns.append(s)
        for s in conns:  # answered (building a long list takes time): the rest is held
            s.recv(1, socket.MSG_PEEK)
        stop, worst = threading.Event(), [0.0]
        th = threading.Thread(target=pinger, args=(path, stop, worst))
        th.start()
        time.sleep(secs)
        stop.set()
        th.join()
        whole, smallest = 0, None
        for s in conns:
            buf = b""
            try:
                while not buf.endswith(b"\n"):
                    chunk = s.recv(1 << 20)
                    if not chunk:
                        break
                    buf += chunk
            except OSError:
                pass
            s.close()
            try:
                if json.loads(buf).get("ok") is True:
                    whole += 1
            except ValueError:
                pass
            smallest = len(buf) if smallest is None else min(smallest, len(buf))
        print("%.2f %d %d" % (worst[0], whole, smallest or 0))
    elif mode == "matrix":
        matrix(path)
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
