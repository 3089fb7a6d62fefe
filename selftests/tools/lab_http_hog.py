#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""lab_http_hog.py - clients that hold an HTTP server's connections, for the lab.

  lab_http_hog.py --port P [--addr A] [--slow N] [--idle N] [--stall N]
                  --ready FILE [--wait S]

Opens, to A:P (default 127.0.0.1, in the caller's namespace):
  slow   N connections that send a request line and one header, then one
         byte of a header that never ends every 0.5 s (slow headers)
  idle   N connections that send nothing
  stall  N connections, each with the smallest receive buffer, that send a
         whole "GET /metrics" and never read the answer
Once it has tried every connection it writes "open slow=N idle=N stall=N"
to FILE, how many opened (a connect or send that fails or waits 2 s is
not open, nor is any after it), then watches for S seconds (default
20) or until every slow and idle connection has been closed by the server,
holding the stall connections for all of S, and prints

  slow_closed=A idle_closed=B last_close=T

T being the seconds from FILE's writing to the last close it saw (0.0
when none).  A close is an end of file, a reset, or a failed send.

Lab traffic only: it refuses to run in a namespace with a default route,
and to connect anywhere but loopback, 198.18.0.0/15 or 2001:db8::/32.
Exit status: 0 done, 1 runtime failure, 2 usage error.
"""
import argparse
import errno
import ipaddress
import os
import selectors
import signal
import socket
import sys
import time

PROG = "lab_http_hog"


def die(code, msg):
    print(f"{PROG}: {msg}", file=sys.stderr)
    sys.exit(code)


def has_default_route():
    with open("/proc/net/route") as f:
        next(f)
        for line in f:
            fields = line.split()
            if len(fields) > 7 and fields[1] == "00000000" and fields[7] == "00000000":
                return True
    try:
        with open("/proc/net/ipv6_route") as f:
            for line in f:
                fields = line.split()
                if fields[0] == "0" * 32 and fields[1] == "00" and fields[9] != "lo":
                    return True
    except FileNotFoundError:
        pass
    return False


def lab_address(addr):
    ip = ipaddress.ip_address(addr)
    if ip.is_loopback:
        return True
    nets = ("198.18.0.0/15", "2001:db8::/32")
    return any(ip in ipaddress.ip_network(n) for n in nets)


def main():
    ap = argparse.ArgumentParser(prog=PROG)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--addr", default="127.0.0.1")
    ap.add_argument("--slow", type=int, default=0)
    ap.add_argument("--idle", type=int, default=0)
    ap.add_argument("--stall", type=int, default=0)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--wait", type=float, default=20.0)
    try:
        a = ap.parse_args()
    except SystemExit as e:
        sys.exit(2 if e.code else 0)
    try:
        if not lab_address(a.addr):
            die(2, f"{a.addr}: not a lab address (loopback, 198.18.0.0/15, 2001:db8::/32)")
    except ValueError:
        die(2, f"{a.addr}: not an IP address")
    if has_default_route():
        die(1, "this namespace has a default route: run me in a lab namespace")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    family = socket.AF_INET6 if ":" in a.addr else socket.AF_INET
    conns = []  # [kind, socket, open]
    opened = {"slow": 0, "idle": 0, "stall": 0}
    refused = False
    for kind, n in (("slow", a.slow), ("idle", a.idle), ("stall", a.stall)):
        for _ in range(0 if refused else n):
            s = socket.socket(family, socket.SOCK_STREAM)
            if kind == "stall":
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
            # A server that no longer accepts leaves connect() waiting for
            # SYN retries: 2 s, then that connection counts as not open.
            s.settimeout(2)
            try:
                s.connect((a.addr, a.port))
                if kind == "slow":
                    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: lab\r\nX-Slow: ")
                elif kind == "stall":
                    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: lab\r\n\r\n")
            except OSError:
                # The server stopped taking connections: the rest would
                # wait as long, so they count as not open either.
                s.close()
                refused = True
                break
            s.setblocking(False)
            conns.append([kind, s, True])
            opened[kind] += 1
    with open(a.ready + ".tmp", "w") as f:
        f.write(f"open slow={opened['slow']} idle={opened['idle']} stall={opened['stall']}\n")
    os.rename(a.ready + ".tmp", a.ready)
    t0 = time.monotonic()

    sel = selectors.DefaultSelector()
    for c in conns:
        if c[0] != "stall":
            sel.register(c[1], selectors.EVENT_READ, c)
    closed = {"slow": 0, "idle": 0}
    last = 0.0
    watched = opened["slow"] + opened["idle"]
    next_byte = t0 + 0.5

    def close(c):
        nonlocal last, watched
        if not c[2]:
            return
        c[2] = False
        sel.unregister(c[1])
        closed[c[0]] += 1
        watched -= 1
        last = time.monotonic() - t0

    # Stalled clients stay for the whole wait; the others until closed.
    stalled = opened["stall"] > 0
    while (watched or stalled) and time.monotonic() - t0 < a.wait:
        for key, _ in sel.select(timeout=0.1):
            c = key.data
            try:
                data = c[1].recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                close(c)
                continue
            if not data:
                close(c)
        if time.monotonic() >= next_byte:
            next_byte += 0.5
            for c in conns:
                if c[0] == "slow" and c[2]:
                    try:
                        c[1].send(b"x")
                    except BlockingIOError:
                        pass
                    except OSError as e:
                        if e.errno in (errno.EPIPE, errno.ECONNRESET):
                            close(c)
    print(f"slow_closed={closed['slow']} idle_closed={closed['idle']} last_close={last:.1f}")
    for c in conns:
        c[1].close()


if __name__ == "__main__":
    main()
