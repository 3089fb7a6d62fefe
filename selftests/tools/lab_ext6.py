#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""lab_ext6.py - IPv6 SYNs carrying extension headers, for the lab.

  lab_ext6.py syn --to ADDR --port P --count N --src-net PREFIX --ext KIND
      raw SYNs (spoofed sources PREFIX::1, ::2, ...) with the extension
      headers KIND names, through a raw IPv6 socket; prints "sent=N"
  lab_ext6.py connect --to ADDR --port P --count N --ext KIND
      N real TCP connections (connect, then close) with KIND set as a
      sticky option on the socket, so the kernel puts it on every segment;
      prints "connected=C failed=F"

KIND (a comma-separated chain, in order, for syn; one of dst, srh for
connect):
  hbh        hop-by-hop options, one PadN (only first in a chain)
  dst        destination options, one PadN
  rh0        routing header type 0 (RFC 2460), segments left 0, one address
  rh0-sl1    routing header type 0 with a segment left (RFC 5095 says drop)
  rh2        routing header type 2 (Mobile IPv6), segments left 1
  srh        segment routing header (type 4, RFC 8754), segments left 0

Addresses must be in 2001:db8::/32 (RFC 3849), and like the other lab
tools it refuses to send from a namespace with a default route.
Exit status: 0 all sent (syn) or run (connect), 1 refusal or failure,
2 usage error.
"""
import argparse
import ipaddress
import os
import socket
import struct
import sys

DOC_NET = ipaddress.ip_network("2001:db8::/32")
NH_HBH, NH_TCP, NH_ROUTING, NH_DST = 0, 6, 43, 60


def usage(msg):
    print(f"lab_ext6.py: {msg}", file=sys.stderr)
    sys.exit(2)


def has_default_route():
    # /proc/net/ipv6_route: destination ::/0 with a route that is not the
    # kernel's unreachable catch-all (RTF_REJECT 0x0200).
    with open("/proc/net/ipv6_route") as f:
        for line in f:
            d = line.split()
            if d[0] == "0" * 32 and d[1] == "00" and not int(d[8], 16) & 0x0200:
                return True
    with open("/proc/net/route") as f:
        for line in list(f)[1:]:
            d = line.split()
            if d[1] == "00000000" and d[7] == "00000000":
                return True
    return False


def padn(nh):
    # next header, length 0 (8 bytes), PadN with 4 zero bytes
    return bytes([nh, 0, 1, 4, 0, 0, 0, 0])


def routing(kind, nh, addr):
    a = addr.packed
    if kind == "rh0":
        return bytes([nh, 2, 0, 0]) + bytes(4) + a
    if kind == "rh0-sl1":
        return bytes([nh, 2, 0, 1]) + bytes(4) + a
    if kind == "rh2":
        return bytes([nh, 2, 2, 1]) + bytes(4) + a
    if kind == "srh":
        # last entry 0, flags 0, tag 0; one segment: the final destination
        return bytes([nh, 2, 4, 0, 0, 0, 0, 0]) + a
    raise ValueError(kind)


def chain(kinds, dst):
    """The extension headers of KINDS, in order, before TCP; the first
    header's protocol number."""
    out, nh = b"", NH_TCP
    for kind in reversed(kinds):
        if kind == "hbh":
            out, nh = padn(nh) + out, NH_HBH
        elif kind == "dst":
            out, nh = padn(nh) + out, NH_DST
        else:
            out, nh = routing(kind, nh, dst) + out, NH_ROUTING
    return nh, out


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def tcp_syn(src, dst, sport, dport, seq):
    # MSS 1460, NOP NOP SACK-permitted, NOP window scale 7: 12 bytes
    opts = bytes([2, 4, 0x05, 0xB4, 1, 1, 4, 2, 1, 3, 3, 7])
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, (5 + len(opts) // 4) << 4,
                      0x02, 64240, 0, 0) + opts
    pseudo = src.packed + dst.packed + struct.pack("!I3xB", len(hdr), NH_TCP)
    c = csum(pseudo + hdr)
    return hdr[:16] + struct.pack("!H", c) + hdr[18:]


def cmd_syn(o):
    kinds = o.ext.split(",")
    for k in kinds:
        if k not in ("hbh", "dst", "rh0", "rh0-sl1", "rh2", "srh"):
            usage(f"unknown --ext '{k}'")
    if "hbh" in kinds[1:]:
        usage("hbh must come first")
    net = ipaddress.ip_network(o.src_net)
    if not net.subnet_of(DOC_NET):
        usage("--src-net must be inside 2001:db8::/32")
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
    rnd = int.from_bytes(os.urandom(4), "big")
    for i in range(o.count):
        src = net[1 + i]
        nh, ext = chain(kinds, o.to)
        tcp = tcp_syn(src, o.to, 20000 + (rnd + i) % 40000, o.port, (rnd * 7 + i) & 0xFFFFFFFF)
        ip6 = struct.pack("!IHBB", 6 << 28, len(ext) + len(tcp), nh, 64) + src.packed + o.to.packed
        s.sendto(ip6 + ext + tcp, (str(o.to), 0))
    print(f"sent={o.count}")


def cmd_connect(o):
    ok = failed = 0
    for _ in range(o.count):
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        if o.ext == "dst":
            # IPV6_DSTOPTS: after a routing header, or alone (RFC 3542)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_DSTOPTS, padn(0))
        elif o.ext == "srh":
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RTHDR, routing("srh", 0, o.to))
        else:
            usage(f"connect: --ext dst or srh, not '{o.ext}'")
        s.settimeout(o.timeout)
        try:
            s.connect((str(o.to), o.port))
            ok += 1
        except OSError:
            failed += 1
        s.close()
    print(f"connected={ok} failed={failed}")


def main():
    p = argparse.ArgumentParser(prog="lab_ext6.py")
    p.add_argument("cmd", choices=("syn", "connect"))
    p.add_argument("--to", required=True, type=ipaddress.IPv6Address)
    p.add_argument("--port", required=True, type=int)
    p.add_argument("--count", required=True, type=int)
    p.add_argument("--src-net", default="2001:db8:ff::/64")
    p.add_argument("--ext", required=True)
    p.add_argument("--timeout", type=float, default=3.0)
    o = p.parse_args()
    if o.to not in DOC_NET:
        usage("--to must be inside 2001:db8::/32")
    if not 0 < o.port < 65536 or o.count < 0:
        usage("bad --port or --count")
    if has_default_route():
        print("lab_ext6.py: refusing to send: this network namespace has a default route",
              file=sys.stderr)
        return 1
    try:
        (cmd_syn if o.cmd == "syn" else cmd_connect)(o)
    except OSError as e:
        print(f"lab_ext6.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
