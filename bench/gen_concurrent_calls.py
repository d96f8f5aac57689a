#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes a pcap of N concurrent, established SIP calls (SPEC §4, §13: <= 1 KiB per call).

    bench/gen_concurrent_calls.py [--calls N] [--span SECONDS] [OUT]

Defaults: N = 1000000, span 100 s, OUT = /tmp/perf/concurrent-1m.pcap (concurrent-<N>.pcap
for other N). Classic pcap (microseconds), Ethernet / IPv4 / UDP, pure Python, streamed to
disk. Each call is SIPp-uac-like: INVITE with SDP (~700 bytes), 180 Ringing (To-tag),
200 OK (To-tag, Contact, SDP), ACK; no BYE. The INVITEs are spread evenly over `span` seconds
of packet time (the tracker's first-INVITE timeout is 120 s, the established one 3600 s), the
replies follow after fixed delays, so the messages of different calls interleave and at the
end of the file all N calls are established at once and none has ended. Caller addresses and
ports, callee gateways, numbers, tags, branches and Call-IDs differ per call; the file is the
same for the same arguments (no randomness)."""

import argparse
import heapq
import os
import struct
import sys
import time

EPOCH = 1700000000  # 2023-11-14T22:13:20Z, packet time of the first INVITE
DELAY_US = (0, 40_000, 3_000_000, 3_020_000)  # INVITE, 180, 200, ACK after the INVITE
INVITE, RINGING, OK, ACK = range(4)

PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)  # LINKTYPE_ETHERNET
REC = struct.Struct("<IIII")
# Ethernet (dst, src, type) + IPv4 (no options) + UDP, checksums filled in below.
HDR = struct.Struct("!6s6sH BBHHHBBH II HHHH")

SDP = ("v=0\r\n"
       "o=- {sess} {sess} IN IP4 {ip}\r\n"
       "s=-\r\n"
       "c=IN IP4 {ip}\r\n"
       "t=0 0\r\n"
       "m=audio {rtp} RTP/AVP 8 0 101\r\n"
       "a=rtpmap:8 PCMA/8000\r\n"
       "a=rtpmap:0 PCMU/8000\r\n"
       "a=rtpmap:101 telephone-event/8000\r\n"
       "a=fmtp:101 0-15\r\n"
       "a=ptime:20\r\n"
       "a=sendrecv\r\n")

INVITE_MSG = ("INVITE sip:{callee}@{dip}:{dport} SIP/2.0\r\n"
              "Via: SIP/2.0/UDP {sip}:{sport};branch=z9hG4bK-{cid}-1-0\r\n"
              "From: \"{caller}\" <sip:{caller}@{sip}:{sport}>;tag={cid}SIPpTag00{n}\r\n"
              "To: <sip:{callee}@{dip}:{dport}>\r\n"
              "Call-ID: {cid}-{n}@{sip}\r\n"
              "CSeq: 1 INVITE\r\n"
              "Contact: <sip:{caller}@{sip}:{sport}>\r\n"
              "Max-Forwards: 70\r\n"
              "User-Agent: SIPp/3.7.2\r\n"
              "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\n"
              "Subject: Performance Test\r\n"
              "Content-Type: application/sdp\r\n"
              "Content-Length: {clen}\r\n"
              "\r\n")

RINGING_MSG = ("SIP/2.0 180 Ringing\r\n"
               "Via: SIP/2.0/UDP {sip}:{sport};branch=z9hG4bK-{cid}-1-0;received={sip}\r\n"
               "From: \"{caller}\" <sip:{caller}@{sip}:{sport}>;tag={cid}SIPpTag00{n}\r\n"
               "To: <sip:{callee}@{dip}:{dport}>;tag={cid}SIPpTag01{n}\r\n"
               "Call-ID: {cid}-{n}@{sip}\r\n"
               "CSeq: 1 INVITE\r\n"
               "Contact: <sip:{callee}@{dip}:{dport}>\r\n"
               "Server: SIPp/3.7.2\r\n"
               "Content-Length: 0\r\n"
               "\r\n")

OK_MSG = ("SIP/2.0 200 OK\r\n"
          "Via: SIP/2.0/UDP {sip}:{sport};branch=z9hG4bK-{cid}-1-0;received={sip}\r\n"
          "From: \"{caller}\" <sip:{caller}@{sip}:{sport}>;tag={cid}SIPpTag00{n}\r\n"
          "To: <sip:{callee}@{dip}:{dport}>;tag={cid}SIPpTag01{n}\r\n"
          "Call-ID: {cid}-{n}@{sip}\r\n"
          "CSeq: 1 INVITE\r\n"
          "Contact: <sip:{callee}@{dip}:{dport}>\r\n"
          "Server: SIPp/3.7.2\r\n"
          "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\n"
          "Content-Type: application/sdp\r\n"
          "Content-Length: {clen}\r\n"
          "\r\n")

ACK_MSG = ("ACK sip:{callee}@{dip}:{dport} SIP/2.0\r\n"
           "Via: SIP/2.0/UDP {sip}:{sport};branch=z9hG4bK-{cid}-2-4\r\n"
           "From: \"{caller}\" <sip:{caller}@{sip}:{sport}>;tag={cid}SIPpTag00{n}\r\n"
           "To: <sip:{callee}@{dip}:{dport}>;tag={cid}SIPpTag01{n}\r\n"
           "Call-ID: {cid}-{n}@{sip}\r\n"
           "CSeq: 1 ACK\r\n"
           "Contact: <sip:{caller}@{sip}:{sport}>\r\n"
           "Max-Forwards: 70\r\n"
           "Subject: Performance Test\r\n"
           "Content-Length: 0\r\n"
           "\r\n")


def call(i):
    """The addresses and identifiers of call i (deterministic, spread over 10/8)."""
    h = ((i + 1) * 2654435761) & 0xFFFFFFFF  # Knuth's multiplicative hash: neighbours differ
    caller_ip = 0x0A000000 | (((i >> 8) % 200 + 1) << 16) | ((h >> 8) & 0xFF) << 8 | (1 + i % 254)
    callee_ip = 0x0AC80000 | ((h >> 20) & 0x3) << 8 | (1 + (h >> 12) % 250)  # 1000 gateways
    sport = 1024 + h % 64000
    dport = 5060 if h & 0x10 else 5080
    return {
        "n": i + 1,
        "cid": f"{h:08x}",
        "sip": f"10.{(caller_ip >> 16) & 0xFF}.{(caller_ip >> 8) & 0xFF}.{caller_ip & 0xFF}",
        "dip": f"10.200.{(callee_ip >> 8) & 0xFF}.{callee_ip & 0xFF}",
        "sport": sport,
        "dport": dport,
        "caller": f"+4930{1000000 + i}",
        "callee": f"+4989{(h >> 4) % 10000000:07d}",
        "rtp_a": 10000 + 2 * (h % 10000),
        "rtp_b": 20000 + 2 * ((h >> 7) % 10000),
        "sess": 100000000 + i,
    }, caller_ip, callee_ip, sport, dport


def payload(kind, c):
    if kind == INVITE:
        body = SDP.format(sess=c["sess"], ip=c["sip"], rtp=c["rtp_a"])
        return (INVITE_MSG.format(clen=len(body), **c) + body).encode()
    if kind == RINGING:
        return RINGING_MSG.format(**c).encode()
    if kind == OK:
        body = SDP.format(sess=c["sess"] + 1, ip=c["dip"], rtp=c["rtp_b"])
        return (OK_MSG.format(clen=len(body), **c) + body).encode()
    return ACK_MSG.format(**c).encode()


def mac(ip):
    return b"\x02\x00" + ip.to_bytes(4, "big")


def events(n, span_us):
    """(time in µs, kind, call) in time order: one sorted stream per message kind, merged."""
    def stream(kind):
        d = DELAY_US[kind]
        for i in range(n):
            yield (i * span_us // n + d, kind, i)
    return heapq.merge(*(stream(k) for k in range(4)))


def generate(path, n, span_s=100.0):
    """Writes the pcap and returns (packets, bytes)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".part"
    span_us = int(span_s * 1e6)
    packets = 0
    ip_id = 0
    batch = []
    with open(tmp, "wb", buffering=1 << 20) as f:
        f.write(PCAP_HEADER)
        pending = {}  # call -> call() tuple, between its INVITE and its ACK
        for t, kind, i in events(n, span_us):
            c = pending.get(i)
            if c is None:
                c = pending[i] = call(i)
            info, caller_ip, callee_ip, sport, dport = c
            data = payload(kind, info)
            if kind == ACK:
                del pending[i]
            if kind in (INVITE, ACK):
                src, dst, sp, dp = caller_ip, callee_ip, sport, dport
            else:
                src, dst, sp, dp = callee_ip, caller_ip, dport, sport
            ip_id = (ip_id + 1) & 0xFFFF
            total = 28 + len(data)
            s = (0x4500 + total + ip_id + 0x4000 + 0x4011 + (src >> 16) + (src & 0xFFFF) +
                 (dst >> 16) + (dst & 0xFFFF))
            s = (s & 0xFFFF) + (s >> 16)
            s = (s & 0xFFFF) + (s >> 16)
            ts = EPOCH * 1_000_000 + t
            caplen = 14 + total
            batch.append(REC.pack(ts // 1_000_000, ts % 1_000_000, caplen, caplen))
            batch.append(HDR.pack(mac(dst), mac(src), 0x0800,
                                  0x45, 0, total, ip_id, 0x4000, 64, 17, ~s & 0xFFFF, src, dst,
                                  sp, dp, 8 + len(data), 0))
            batch.append(data)
            packets += 1
            if len(batch) >= 3 * 8192:
                f.write(b"".join(batch))
                batch.clear()
        f.write(b"".join(batch))
    os.replace(tmp, path)
    return packets, os.path.getsize(path)


def default_path(n, out_dir=None):
    """Where the benchmarks cache the capture of n calls: $OUT (default /tmp/perf)."""
    name = "concurrent-1m.pcap" if n == 1_000_000 else f"concurrent-{n}.pcap"
    return os.path.join(out_dir or os.environ.get("OUT", "/tmp/perf"), name)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", nargs="?", help="pcap to write (default $OUT/concurrent-1m.pcap, "
                    "OUT=/tmp/perf; concurrent-<N>.pcap for other N)")
    ap.add_argument("--calls", "-n", type=int, default=1_000_000)
    ap.add_argument("--span", type=float, default=100.0,
                    help="seconds of packet time over which the INVITEs are spread (< 120)")
    args = ap.parse_args()
    if args.calls < 1:
        sys.exit("--calls must be >= 1")
    path = args.out or default_path(args.calls)
    start = time.monotonic()
    packets, size = generate(path, args.calls, args.span)
    print(f"{path}: {args.calls} calls, {packets} packets, {size / 1e6:.1f} MB "
          f"in {time.monotonic() - start:.1f} s")


if __name__ == "__main__":
    main()
