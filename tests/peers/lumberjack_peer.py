#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A Lumberjack v2 server (what Logstash's Beats input speaks, reference/beats.md §4) for
tests of output.logstash, with faults to order.

It reads window (2W), JSON data (2J) and compressed (2C, zlib, unpacked recursively)
frames and answers 2A ACKs. Each event is appended to --out as one JSON line, flushed,
before the ACK that covers it is sent, so the file holds exactly what was acknowledged.

Faults (options, or at run time by writing the same words as lines on stdin, e.g.
"delay-ack 2", "partial 0", "bad-ack 1", "close-after 5", "garbage-ack 0"):
  --partial N       ACK every N events inside a window, then the final ACK
  --delay-ack S     wait S seconds before each ACK
  --keepalive S     while waiting, send ACK(0) every S seconds (go-lumber and Logstash do)
  --close-after N   close the connection once N events arrived (before ACKing them);
                    fires once, counting events over all connections
  --bad-ack         answer the final ACK of a window with seq N+1
  --garbage-ack     answer junk bytes instead of ACKs
  --max-window N    close connections that announce windows bigger than N

--trace FILE appends "connect", "window COUNT raw|compressed" and "close" lines (the
tests check window sizes and reconnections with it). The first stdout line is
"listening on HOST:PORT". Stops on SIGTERM.
"""

import argparse
import json
import os
import signal
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import zlib

LOCK = threading.Lock()
OPTS = None


def log(msg):
    print(f"lumberjack_peer: {msg}", file=sys.stderr, flush=True)


def trace(line):
    if OPTS.trace:
        with LOCK:
            with open(OPTS.trace, "a") as f:
                f.write(line + "\n")


class Closed(Exception):
    pass


def read_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise Closed()
        buf += chunk
    return bytes(buf)


def bytes_reader(data):
    pos = [0]

    def read(n):
        if pos[0] + n > len(data):
            raise ValueError("truncated frame inside a compressed block")
        out = data[pos[0]:pos[0] + n]
        pos[0] += n
        return out

    def done():
        return pos[0] >= len(data)
    return read, done


def read_frames(read, compressed=False):
    """One frame from `read` as a list of items: ("W", count, compressed) or
    ("J", seq, payload); a 2C frame gives the items of its content."""
    head = read(2)
    if head[0:1] != b"2":
        raise ValueError(f"unsupported protocol version {head[0:1]!r}")
    kind = head[1:2]
    if kind == b"W":
        (count,) = struct.unpack(">I", read(4))
        return [("W", count)]
    if kind == b"J":
        seq, size = struct.unpack(">II", read(8))
        return [("J", seq, read(size))]
    if kind == b"C":
        (size,) = struct.unpack(">I", read(4))
        inner = zlib.decompress(read(size))
        sub, done = bytes_reader(inner)
        items = [("C",)]
        while not done():
            items.extend(read_frames(sub, True))
        return items
    raise ValueError(f"unknown frame type {kind!r}")


class Handler(socketserver.BaseRequestHandler):

    def handle(self):
        sock = self.request
        if OPTS.tls_cert:
            try:
                sock = self.server.tls.wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError) as e:
                log(f"TLS handshake failed: {e}")
                return
        trace("connect")
        try:
            self.serve(sock)
        except Closed:
            pass
        except (ValueError, zlib.error) as e:
            log(f"protocol error: {e}")
        except OSError as e:
            log(f"connection error: {e}")
        finally:
            trace("close")
            try:
                sock.close()
            except OSError:
                pass

    def ack(self, sock, seq, pending):
        delay = OPTS.delay_ack
        end = time.monotonic() + delay
        while time.monotonic() < end:
            step = min(end - time.monotonic(), OPTS.keepalive or delay)
            time.sleep(max(step, 0))
            if OPTS.keepalive and time.monotonic() < end:
                sock.sendall(struct.pack(">2sI", b"2A", 0))
        if pending and OPTS.out:
            with LOCK:
                with open(OPTS.out, "a") as f:
                    for payload in pending:
                        f.write(payload.decode("utf-8") + "\n")
                    f.flush()
        pending.clear()
        if OPTS.garbage_ack:
            sock.sendall(b"HTTP/1")
        else:
            sock.sendall(struct.pack(">2sI", b"2A", seq))

    def close_gracefully(self, sock):
        """Half-close, then read until the client closes: closing with unread bytes would
        send a TCP reset, which can make the client lose ACKs that were already sent."""
        try:
            sock.shutdown(socket.SHUT_WR)
            sock.settimeout(5)
            while sock.recv(65536):
                pass
        except OSError:
            pass

    def serve(self, sock):
        global TOTAL
        count = 0
        received = 0
        pending = []
        while True:
            items = read_frames(lambda n: read_exact(sock, n))
            compressed = items[0][0] == "C"
            for item in items:
                if item[0] == "W":
                    count = item[1]
                    received = 0
                    pending = []
                    if OPTS.max_window and count > OPTS.max_window:
                        log(f"window of {count} events exceeds --max-window {OPTS.max_window}")
                        return
                elif item[0] == "J":
                    if received == 0:
                        trace(f"window {count} {'compressed' if compressed else 'raw'}")
                    received += 1
                    try:
                        json.loads(item[2])
                    except ValueError:
                        raise ValueError(f"event {item[1]} is not JSON")
                    pending.append(item[2])
                    with LOCK:
                        TOTAL += 1
                        close_now = OPTS.close_after and TOTAL >= OPTS.close_after
                        if close_now:
                            OPTS.close_after = 0
                    if close_now:
                        log(f"closing after {TOTAL} events (--close-after)")
                        self.close_gracefully(sock)
                        return
                    if received == count:
                        seq = count + 1 if OPTS.bad_ack else count
                        self.ack(sock, seq, pending)
                    elif OPTS.partial and received % OPTS.partial == 0:
                        self.ack(sock, received, pending)


TOTAL = 0


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def control():
    """Runtime faults: lines "<option> <value>" on stdin."""
    for line in sys.stdin:
        parts = line.split()
        if len(parts) != 2:
            continue
        name = parts[0].replace("-", "_")
        if not hasattr(OPTS, name):
            log(f"unknown control {parts[0]}")
            continue
        current = getattr(OPTS, name)
        try:
            value = type(current)(float(parts[1])) if not isinstance(current, bool) \
                else parts[1] not in ("0", "false", "off")
        except ValueError:
            log(f"bad value for {parts[0]}: {parts[1]}")
            continue
        setattr(OPTS, name, value)
        log(f"{parts[0]} = {value}")


def main():
    global OPTS
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5044)
    p.add_argument("--out", help="append each acknowledged event as one JSON line")
    p.add_argument("--trace", help="append connect/window/close lines")
    p.add_argument("--partial", type=int, default=0)
    p.add_argument("--delay-ack", type=float, default=0.0)
    p.add_argument("--keepalive", type=float, default=0.0)
    p.add_argument("--close-after", type=int, default=0)
    p.add_argument("--bad-ack", action="store_true")
    p.add_argument("--garbage-ack", action="store_true")
    p.add_argument("--max-window", type=int, default=0)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--client-ca", help="require client certificates signed by this CA")
    OPTS = p.parse_args()

    server = Server((OPTS.host, OPTS.port), Handler)
    if OPTS.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(OPTS.tls_cert, OPTS.tls_key)
        if OPTS.client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(OPTS.client_ca)
        server.tls = ctx
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    threading.Thread(target=control, daemon=True).start()
    host, port = server.server_address[:2]
    print(f"listening on {host}:{port}", flush=True)
    log(f"listening on {host}:{port}")
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    os._exit(0)  # connection threads end with the process


if __name__ == "__main__":
    main()
