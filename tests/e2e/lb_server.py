#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""A load-balancer backend for the e2e tests and the demo: an HTTP server and a UDP echo that
both say which backend answered.

    lb_server.py NAME HTTP_PORT UDP_PORT UDP_ADDR...

HTTP: one dual-stack socket on [::]:HTTP_PORT, so it answers the VIPs on lo (the clients) and
the backend's own addresses (the balancer's health checks) alike. HTTP/1.1 with keep-alive
(`Connection: close` and HTTP/1.0 close). Every response is 200 with the body "NAME PATH\\n",
written with one send (no Nagle/delayed-ACK stalls on kept-alive connections).

UDP: one socket per UDP_ADDR (the VIPs), bound to that address (IP_FREEBIND: it may not be on
lo yet) so that replies leave from the VIP, as DSR needs; each datagram comes back as
b"NAME " + datagram.

Runs until killed. Prints "ready" once every socket is bound.
"""
import socket
import socketserver
import sys
import threading

IP_FREEBIND = getattr(socket, "IP_FREEBIND", 15)
IPV6_FREEBIND = 78


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    address_family = socket.AF_INET6
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 512

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


def make_handler(name):
    class Handler(socketserver.StreamRequestHandler):
        timeout = 60

        def handle(self):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while True:
                line = self.rfile.readline(4096)
                if not line:
                    return
                parts = line.split()
                if len(parts) != 3:
                    return
                keep = parts[2] == b"HTTP/1.1"
                while True:
                    h = self.rfile.readline(4096)
                    if not h:
                        return
                    if h in (b"\r\n", b"\n"):
                        break
                    k, _, v = h.partition(b":")
                    if k.strip().lower() == b"connection":
                        v = v.strip().lower()
                        keep = v == b"keep-alive" or (keep and v != b"close")
                body = b"%s %s\n" % (name, parts[1])
                hdr = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n" % len(body)
                if not keep:
                    hdr += b"Connection: close\r\n"
                self.wfile.write(hdr + b"\r\n" + body)
                if not keep:
                    return

    return Handler


def udp_echo(sock, name):
    while True:
        data, addr = sock.recvfrom(65535)
        sock.sendto(name + b" " + data, addr)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    name = sys.argv[1].encode()
    http_port, udp_port = int(sys.argv[2]), int(sys.argv[3])
    for addr in sys.argv[4:]:
        v6 = ":" in addr
        s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
        if v6:
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_FREEBIND, 1)
        else:
            s.setsockopt(socket.IPPROTO_IP, IP_FREEBIND, 1)
        s.bind((addr, udp_port))
        threading.Thread(target=udp_echo, args=(s, name), daemon=True).start()
    srv = Server(("::", http_port), make_handler(name))
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
