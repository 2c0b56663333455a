#!/usr/bin/env python3
"""Static upstream PyPI repository for the benchmark (loopback only).

Like `python3 -m http.server`, but: binds 127.0.0.1 only, sends files with
sendfile(2) so the cold 1 GiB read-through is not limited by Python, writes a
one-line-per-request log (method, path, Accept, status, size), and can
optionally negotiate PEP 691 JSON for project pages.

  --format html       always serve simple/<p>/index.html as text/html (default;
                      a static server cannot negotiate, and HTML is always understood)
  --format negotiate  serve simple/<p>/index.json as application/vnd.pypi.simple.v1+json
                      when the Accept header prefers it, as PyPI does

Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

JSON_CT = "application/vnd.pypi.simple.v1+json"


def accept_q(accept: str, mtype: str) -> float:
    best = -1.0
    for part in accept.split(","):
        fields = [p.strip() for p in part.split(";")]
        if not fields or not fields[0]:
            continue
        t = fields[0].lower()
        q = 1.0
        for p in fields[1:]:
            if p.lower().startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        if t == mtype or t == "*/*" or (t.endswith("/*") and mtype.startswith(t[:-1])):
            # exact match beats wildcards
            score = q + (0.0001 if t == mtype else 0.0)
            best = max(best, score)
    return best


class Handler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fmt = "html"
    log_lock = threading.Lock()
    log_file = None

    def log_message(self, format, *args):  # noqa: A002 - signature from base class
        pass  # replaced by log_request below

    def log_request(self, code="-", size="-"):
        if self.log_file is None:
            return
        line = f"{self.command} {self.path} status={code} size={size} accept={self.headers.get('Accept', '')!r}\n"
        with self.log_lock:
            self.log_file.write(line)
            self.log_file.flush()

    def send_head(self):
        path = self.translate_path(self.path)
        if (self.fmt == "negotiate" and os.path.isdir(path)
                and os.path.exists(os.path.join(path, "index.json"))):
            accept = self.headers.get("Accept", "")
            if accept_q(accept, JSON_CT) > max(accept_q(accept, "text/html"), 0.0):
                if not self.path.split("?", 1)[0].endswith("/"):
                    return super().send_head()  # let the base class redirect
                fpath = os.path.join(path, "index.json")
                f = open(fpath, "rb")
                fs = os.fstat(f.fileno())
                self.send_response(200)
                self.send_header("Content-Type", JSON_CT)
                self.send_header("Content-Length", str(fs.st_size))
                self.send_header("Vary", "Accept")
                self.end_headers()
                return f
        return super().send_head()

    def copyfile(self, source, outputfile):
        try:
            self.connection.sendfile(source)
        except (BrokenPipeError, ConnectionResetError):
            pass


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--directory", required=True)
    ap.add_argument("--format", choices=["html", "negotiate"], default="html")
    ap.add_argument("--log", help="request log file")
    args = ap.parse_args()

    Handler.fmt = args.format
    if args.log:
        Handler.log_file = open(args.log, "a", encoding="utf-8")
    handler = functools.partial(Handler, directory=args.directory)
    ThreadingHTTPServer.daemon_threads = True
    with ThreadingHTTPServer(("127.0.0.1", args.port), handler) as httpd:
        print(f"upstream: serving {args.directory} on http://127.0.0.1:{args.port}/ ({args.format})",
              file=sys.stderr, flush=True)
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
