#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A small Elasticsearch stand-in for the tests of output.elasticsearch
(reference/beats.md §3.2, §5.1): answers `GET /` with a version and `POST /_bulk` item by
item, writes every accepted document to --out as one NDJSON line
({"_index","_id","op","pipeline","_source"}), and injects faults on demand.

Faults are set on the command line or at run time with `POST /_peer/fault` (JSON object):
  item_status: [409|429|400|500, N]   the next N bulk items get that status
  request_status: [5xx, N]             the next N bulk requests get that status
  max_body: BYTES                      bulk bodies larger than this get 413
  stall: SECONDS                       the next bulk request is answered that much later
  garbage: N                           the next N bulk requests get a body that is no JSON
`GET /_peer/stats` returns counters. A document created with an `_id` already seen gets 409.
"""

import argparse
import base64
import gzip
import itertools
import json
import signal
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.args = args
        self.version = args.version
        self.out = open(args.out, "a", encoding="utf-8") if args.out else None
        self.item_status = None  # [status, remaining]
        self.request_status = None
        self.max_body = args.max_body
        self.stall = 0.0
        self.garbage = 0
        self.seen_ids = set()
        self.ids = itertools.count(1)
        self.stats = {"requests": 0, "bulk_requests": 0, "items": 0, "accepted": 0,
                      "rejected": 0, "gzip_requests": 0, "bytes": 0, "statuses": {}}
        if args.item_status:
            status, n = args.item_status.split(":")
            self.item_status = [int(status), int(n)]
        if args.request_status:
            status, n = args.request_status.split(":")
            self.request_status = [int(status), int(n)]
        self.stall = args.stall
        self.garbage = args.garbage

    def set_fault(self, fault):
        with self.lock:
            if "item_status" in fault:
                self.item_status = list(fault["item_status"]) if fault["item_status"] else None
            if "request_status" in fault:
                rs = fault["request_status"]
                self.request_status = list(rs) if rs else None
            if "max_body" in fault:
                self.max_body = int(fault["max_body"] or 0)
            if "stall" in fault:
                self.stall = float(fault["stall"] or 0)
            if "garbage" in fault:
                self.garbage = int(fault["garbage"] or 0)
            if "version" in fault:
                self.version = str(fault["version"])

    def write(self, record):
        if self.out:
            self.out.write(json.dumps(record, sort_keys=True) + "\n")
            self.out.flush()


def log(msg):
    print("es_peer: " + msg, file=sys.stderr, flush=True)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "es_peer"

    def log_message(self, fmt, *args):  # quiet: tests read stderr only on failure
        if self.server.state.args.verbose:
            log(fmt % args)

    def reply(self, status, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.end_headers()
        self.wfile.write(data)

    def authorized(self):
        args = self.server.state.args
        if not args.user and not args.api_key:
            return True
        auth = self.headers.get("Authorization", "")
        if args.user:
            want = "Basic " + base64.b64encode(
                f"{args.user}:{args.password}".encode()).decode()
            if auth == want:
                return True
        if args.api_key:
            if auth == "ApiKey " + base64.b64encode(args.api_key.encode()).decode():
                return True
        return False

    def read_body(self):
        length = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(length) if length else b""
        return data

    def do_GET(self):
        state = self.server.state
        with state.lock:
            state.stats["requests"] += 1
        path = self.path.split("?")[0]
        if path == "/_peer/stats":
            with state.lock:
                self.reply(200, state.stats)
            return
        if not self.authorized():
            self.reply(401, {"error": {"type": "security_exception",
                                       "reason": "missing authentication credentials"},
                             "status": 401})
            return
        if path.endswith("/"):  # `/` or `<path prefix>/`
            self.reply(200, {"name": "es-peer", "cluster_name": "peer",
                             "cluster_uuid": "peer-cluster-uuid",
                             "version": {"number": state.version, "build_flavor": "default"},
                             "tagline": "You Know, for Search"})
            return
        self.reply(404, {"error": "not found", "status": 404})

    def do_POST(self):
        state = self.server.state
        path = self.path.split("?")[0]
        raw = self.read_body()
        with state.lock:
            state.stats["requests"] += 1
        if path == "/_peer/fault":
            state.set_fault(json.loads(raw or b"{}"))
            self.reply(200, {"ok": True})
            return
        if not self.authorized():
            self.reply(401, {"error": {"type": "security_exception",
                                       "reason": "unable to authenticate"}, "status": 401})
            return
        if not path.endswith("/_bulk"):
            self.reply(404, {"error": "not found", "status": 404})
            return
        self.bulk(raw)

    def bulk(self, raw):
        state = self.server.state
        with state.lock:
            state.stats["bulk_requests"] += 1
            state.stats["bytes"] += len(raw)
            # What the last bulk request looked like, for header/parameter checks.
            state.stats["last_bulk"] = {"path": self.path, "headers": dict(self.headers.items())}
            stall, state.stall = state.stall, 0.0
            garbage = state.garbage > 0
            if garbage:
                state.garbage -= 1
            request_status = None
            if state.request_status and state.request_status[1] > 0:
                request_status = state.request_status[0]
                state.request_status[1] -= 1
            max_body = state.max_body
        if stall > 0:
            time.sleep(stall)
        if self.headers.get("Content-Encoding", "") == "gzip":
            with state.lock:
                state.stats["gzip_requests"] += 1
            raw = gzip.decompress(raw)
        if max_body and len(raw) > max_body:
            self.reply(413, b"", "text/plain")
            return
        if request_status:
            self.reply(request_status, {"error": {"type": "peer_fault"},
                                        "status": request_status})
            return
        if garbage:
            self.reply(200, b"this is { not json", "application/json")
            return
        lines = raw.decode("utf-8").split("\n")
        items = []
        errors = False
        i = 0
        while i < len(lines):
            if not lines[i].strip():
                i += 1
                continue
            action = json.loads(lines[i])
            op, meta = next(iter(action.items()))
            source = None
            if op != "delete":
                source = json.loads(lines[i + 1])
                i += 2
            else:
                i += 1
            status, error = self.item(op, meta, source)
            entry = {"status": status}
            if error:
                entry["error"] = error
                errors = True
            items.append({op: entry})
        self.reply(200, {"errors": errors, "items": items})

    def item(self, op, meta, source):
        state = self.server.state
        with state.lock:
            state.stats["items"] += 1
            forced = None
            if state.item_status and state.item_status[1] > 0:
                forced = state.item_status[0]
                state.item_status[1] -= 1
            doc_id = meta.get("_id")
            if forced is None and op == "create" and doc_id is not None:
                if doc_id in state.seen_ids:
                    forced = 409
            status = forced or (200 if op == "delete" else 201)
            state.stats["statuses"][str(status)] = state.stats["statuses"].get(str(status), 0) + 1
            if status >= 300:
                state.stats["rejected"] += 1
                kinds = {409: "version_conflict_engine_exception",
                         429: "es_rejected_execution_exception",
                         400: "document_parsing_exception"}
                return status, {"type": kinds.get(status, "peer_fault"),
                                "reason": f"peer fault {status}"}
            if doc_id is None:
                doc_id = f"peer-{next(state.ids)}"
            state.seen_ids.add(doc_id)
            state.stats["accepted"] += 1
            state.write({"_index": meta.get("_index"), "_id": doc_id, "op": op,
                         "pipeline": meta.get("pipeline"), "_source": source})
        return status, None


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--version", default="8.15.0", help="version.number of GET /")
    p.add_argument("--out", help="append accepted documents here (NDJSON)")
    p.add_argument("--user", help="require basic auth with this user")
    p.add_argument("--password", default="", help="password of --user")
    p.add_argument("--api-key", help="require 'ApiKey base64(id:key)' with this id:key")
    p.add_argument("--max-body", type=int, default=0,
                   help="answer 413 to bulk bodies larger than this (uncompressed)")
    p.add_argument("--item-status", help="STATUS:N for the next N items")
    p.add_argument("--request-status", help="STATUS:N for the next N bulk requests")
    p.add_argument("--stall", type=float, default=0.0, help="delay the first bulk answer")
    p.add_argument("--garbage", type=int, default=0, help="garbage bodies for N bulk answers")
    p.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    p.add_argument("--tls-key", help="its private key (PEM)")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.state = State(args)
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    log(f"version {args.version}, tls {'on' if args.tls_cert else 'off'}")
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    server.server_close()


if __name__ == "__main__":
    main()
