#!/usr/bin/env python3
"""Helpers for bench/run.sh (Python 3.11 standard library only).

  freeport                      print a free TCP port on 127.0.0.1
  wait-http URL [--timeout S]   poll URL until it answers 200
  page ...                      fetch a project page, save body + headers, check/warm its file links
  rss ...                       run a command while sampling another process's VmRSS every 100 ms
  wrk-parse FILE                turn wrk's text output into JSON
  report ...                    write the Markdown table and bench/RESULTS.md

Every URL used here must be on 127.0.0.1; anything else is refused.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import hashlib
import html.parser
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def write_section(section: str, out: str, update: str | None, begin: str, end: str) -> None:
    """Writes a scenario's report section to `out`, and into `update` (RESULTS.md) between its markers
    `begin` and `end`, replacing the old section or appending it when absent; no other section is touched."""
    from pathlib import Path
    Path(out).write_text(section)
    if update:
        target = Path(update)
        text = target.read_text() if target.exists() else ""
        pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end) + "\n?", re.S)
        text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
        target.write_text(text)


def loopback_only(url: str) -> str:
    host = urllib.parse.urlsplit(url).hostname
    if host not in ("127.0.0.1", "::1", "localhost"):
        raise SystemExit(f"benchlib: refusing non-loopback URL {url!r}")
    return url


def http_get(url: str, accept: str | None = None, timeout: float = 120.0, accept_encoding: str | None = None):
    req = urllib.request.Request(loopback_only(url))
    if accept:
        req.add_header("Accept", accept)
    if accept_encoding:
        req.add_header("Accept-Encoding", accept_encoding)  # urllib does not decompress: the raw body is kept
    try:
        with OPENER.open(req, timeout=timeout) as r:
            return r.status, dict(r.headers.items()), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers.items()), e.read()


# ---------------------------------------------------------------- freeport / wait

def cmd_freeport(_args) -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()
    return 0


def cmd_wait_http(args) -> int:
    deadline = time.monotonic() + args.timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            status, _, body = http_get(args.url, timeout=2)
            if status == 200:
                return 0
            last = f"status {status}: {body[:200]!r}"
        except (OSError, urllib.error.URLError) as e:
            last = str(e)
        time.sleep(0.25)
    print(f"benchlib: {args.url} not ready after {args.timeout}s ({last})", file=sys.stderr)
    return 1


# ---------------------------------------------------------------- page

class LinkParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []  # (href, text)
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._href = dict(attrs).get("href")
            self._text = []

    def handle_data(self, data):
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text).strip()))
            self._href = None


def page_links(body: bytes, ctype: str) -> list[dict]:
    """Return [{href, filename, sha256}] from a PEP 503 HTML or PEP 691 JSON page."""
    out = []
    if "json" in ctype:
        doc = json.loads(body)
        for f in doc.get("files", []):
            out.append({"href": f.get("url", ""), "filename": f.get("filename", ""),
                        "sha256": (f.get("hashes") or {}).get("sha256")})
    else:
        p = LinkParser()
        p.feed(body.decode("utf-8", "replace"))
        for href, text in p.links:
            frag = urllib.parse.urlsplit(href).fragment
            sha = frag[len("sha256="):] if frag.startswith("sha256=") else None
            out.append({"href": href, "filename": text, "sha256": sha})
    return out


def cmd_page(args) -> int:
    t0 = time.monotonic()
    status, headers, body = http_get(args.url, args.accept, accept_encoding=args.accept_encoding)
    elapsed = time.monotonic() - t0
    hdr = lambda name: next((v for k, v in headers.items() if k.lower() == name), "")
    ctype = hdr("content-type")
    res = {"url": args.url, "accept": args.accept, "status": status, "content_type": ctype,
           "bytes": len(body), "first_fetch_seconds": round(elapsed, 4), "problems": []}
    if args.accept_encoding:
        res.update({"accept_encoding": args.accept_encoding, "content_encoding": hdr("content-encoding"),
                    "vary": hdr("vary"), "etag": hdr("etag")})
    if args.body_out:
        Path(args.body_out).write_bytes(body)  # exactly as sent (still compressed, if it was)
    if args.accept_encoding:
        if res["content_encoding"].lower() != "gzip":
            res["problems"].append(f"asked with Accept-Encoding {args.accept_encoding!r}, got Content-Encoding "
                                   f"{res['content_encoding']!r} (expected gzip)")
        else:
            import gzip
            try:
                body = gzip.decompress(body)
                res["decompressed_bytes"] = len(body)
            except (OSError, EOFError) as e:
                res["problems"].append(f"Content-Encoding gzip but the body does not decompress: {e}")
    if status != 200:
        res["problems"].append(f"GET {args.url} (Accept: {args.accept}) -> {status}: {body[:300]!r}")
        Path(args.meta_out).write_text(json.dumps(res, indent=1) + "\n")
        print(json.dumps(res, indent=1), file=sys.stderr)
        return 1
    try:
        links = page_links(body, ctype)
    except ValueError as e:
        res["problems"].append(f"page does not parse as {ctype!r}: {e}; body starts {body[:300]!r}")
        links = []
    res["links"] = len(links)
    if args.expect_files is not None and len(links) != args.expect_files:
        res["problems"].append(f"expected {args.expect_files} file links, page has {len(links)}")
    pattern = re.compile(r"^\.\./\.\./packages/[^/]+/[^/#]+(#sha256=[0-9a-f]{64})?$")
    odd = [l["href"] for l in links if not pattern.match(l["href"])]
    res["links_not_relative_packages_form"] = len(odd)
    if odd:
        res["problems"].append(f"{len(odd)} links not of the form ../../packages/<project>/<file>, e.g. {odd[0]!r}")
    nohash = [l for l in links if not l["sha256"]]
    if nohash:
        res["problems"].append(f"{len(nohash)} links without sha256, e.g. {nohash[0]['href']!r}")

    if args.fetch_links and links:
        def fetch(l):
            u = urllib.parse.urljoin(args.url, l["href"]).split("#", 1)[0]
            st, _, b = http_get(u)
            ok = st == 200 and (l["sha256"] is None or hashlib.sha256(b).hexdigest() == l["sha256"])
            return u, st, ok
        bad = []
        with cf.ThreadPoolExecutor(max_workers=args.workers) as ex:
            for u, st, ok in ex.map(fetch, links):
                if not ok:
                    bad.append((u, st))
        res["links_fetched"] = len(links)
        res["links_failed"] = len(bad)
        if bad:
            res["problems"].append(f"{len(bad)} file links failed (status or sha256), e.g. {bad[0]}")
    Path(args.meta_out).write_text(json.dumps(res, indent=1) + "\n")
    if res["problems"]:
        print("\n".join("page: " + p for p in res["problems"]), file=sys.stderr)
        return 1 if args.strict else 0
    return 0


def cmd_page_summary(args) -> int:
    d = json.loads(Path(args.file).read_text())
    s = f"status {d['status']}, {d['content_type']!r}, {d['bytes']} bytes"
    if "accept_encoding" in d:
        s += (f" (Content-Encoding {d.get('content_encoding') or 'none'!r}, {d.get('decompressed_bytes', '?')} bytes "
              f"decompressed, Vary {d.get('vary')!r}, ETag {d.get('etag')!r})")
    s += f", {d.get('links')} links, first fetch {d['first_fetch_seconds']} s"
    if "links_fetched" in d:
        s += f", {d['links_fetched'] - d['links_failed']}/{d['links_fetched']} file links fetched through SafeHaven with matching sha256"
    if d["problems"]:
        s += "; PROBLEMS: " + " | ".join(d["problems"])
    print(s)
    return 0


# ---------------------------------------------------------------- rss

def read_status(pid: int) -> dict[str, int]:
    out = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:", "RssAnon:", "RssFile:", "RssShmem:")):
                k, v = line.split(":", 1)
                out[k] = int(v.split()[0])  # kB
    return out


def cmd_rss(args) -> int:
    pid = args.pid
    hwm_reset = False
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")  # reset VmHWM to the current RSS
        hwm_reset = True
    except OSError:
        pass
    before = read_status(pid)
    samples = [(0.0, before["VmRSS"])]
    t0 = time.monotonic()
    proc = subprocess.Popen(args.command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = before["VmRSS"]
    peak_detail = before
    while True:
        time.sleep(args.interval)
        try:
            st = read_status(pid)
        except OSError:
            print("benchlib rss: monitored process vanished", file=sys.stderr)
            proc.kill()
            return 1
        samples.append((round(time.monotonic() - t0, 3), st["VmRSS"]))
        if st["VmRSS"] > peak:
            peak, peak_detail = st["VmRSS"], st
        if proc.poll() is not None:
            break
        if time.monotonic() - t0 > args.timeout:
            proc.kill()
            print("benchlib rss: command timed out", file=sys.stderr)
            break
    duration = time.monotonic() - t0
    out, err = proc.communicate()
    time.sleep(1.0)
    after = read_status(pid)
    res = {
        "command": args.command,
        "exit_code": proc.returncode,
        "command_stdout": out.decode(errors="replace").strip(),
        "command_stderr": err.decode(errors="replace").strip()[-500:],
        "interval_seconds": args.interval,
        "samples": len(samples),
        "duration_seconds": round(duration, 3),
        "rss_before_kb": before["VmRSS"],
        "rss_peak_sampled_kb": peak,
        "rss_after_kb": after["VmRSS"],
        "peak_breakdown_kb": {k: peak_detail.get(k) for k in ("RssAnon", "RssFile", "RssShmem")},
        "before_breakdown_kb": {k: before.get(k) for k in ("RssAnon", "RssFile", "RssShmem")},
        "vmhwm_reset": hwm_reset,
        "vmhwm_after_kb": after.get("VmHWM") if hwm_reset else None,
    }
    # The true peak is the larger of the sampled peak and the kernel's high-water mark
    # (which also catches spikes between two samples), if it could be reset beforehand.
    res["rss_peak_kb"] = max(peak, res["vmhwm_after_kb"] or 0)
    res["rss_growth_kb"] = res["rss_peak_kb"] - before["VmRSS"]
    Path(args.out).write_text(json.dumps(res, indent=1) + "\n")
    if args.samples_out:
        with open(args.samples_out, "w") as f:
            f.write("t_seconds,vmrss_kb\n")
            for t, v in samples:
                f.write(f"{t},{v}\n")
    print(f"rss: before {before['VmRSS'] / 1024:.1f} MiB, peak {res['rss_peak_kb'] / 1024:.1f} MiB, "
          f"growth {res['rss_growth_kb'] / 1024:.1f} MiB, {duration:.1f} s, exit {proc.returncode}, "
          f"curl: {res['command_stdout']}", file=sys.stderr)
    return 0 if proc.returncode == 0 else 1


# ---------------------------------------------------------------- wrk

UNITS = {"": 1, "B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3, "TB": 1024 ** 4}


def to_bytes(num: str, unit: str) -> float:
    return float(num) * UNITS[unit.upper()]


def to_ms(s: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s|m)$", s)
    if not m:
        return float("nan")
    v, u = float(m.group(1)), m.group(2)
    return v * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[u]


def parse_wrk(text: str) -> dict:
    r: dict = {"non_2xx_3xx": 0, "socket_errors": 0}
    m = re.search(r"Requests/sec:\s*([\d.]+)", text)
    r["requests_per_sec"] = float(m.group(1)) if m else None
    m = re.search(r"Transfer/sec:\s*([\d.]+)([KMGT]?B)", text)
    r["transfer_bytes_per_sec"] = to_bytes(m.group(1), m.group(2)) if m else None
    m = re.search(r"(\d+) requests in ([\d.]+\w+), ([\d.]+)([KMGT]?B) read", text)
    if m:
        r["requests"] = int(m.group(1))
        r["duration"] = m.group(2)
        r["bytes_read"] = to_bytes(m.group(3), m.group(4))
    m = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", text)
    if m:
        r["non_2xx_3xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        r["socket_errors"] = sum(int(x) for x in m.groups())
        r["socket_errors_detail"] = m.group(0)
    m = re.search(r"^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)", text, re.M)
    if m:
        r["latency_avg_ms"] = to_ms(m.group(1))
        r["latency_max_ms"] = to_ms(m.group(3))
    for pct in ("50", "99"):
        m = re.search(rf"^\s*{pct}%\s+(\S+)", text, re.M)
        if m:
            r[f"latency_p{pct}_ms"] = to_ms(m.group(1))
    return r


def proc_ticks(pid: int) -> int:
    """utime+stime of a live process (all its threads), in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def busy_ticks() -> int:
    """Busy clock ticks of all CPUs together (user+nice+system+irq+softirq+steal)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[0] + v[1] + v[2] + v[5] + v[6] + v[7]


def run_wrk_once(cmd: list[str], out_file: Path, server_pid: int | None) -> dict:
    hz = os.sysconf("SC_CLK_TCK")
    t0 = time.monotonic()
    b0 = busy_ticks()
    s0 = proc_ticks(server_pid) if server_pid else 0
    with out_file.open("w") as f:
        p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
    b1 = busy_ticks()
    s1 = proc_ticks(server_pid) if server_pid else 0
    r = parse_wrk(out_file.read_text())
    r["exit_code"] = p.returncode
    server_cores = (s1 - s0) / hz / wall
    wrk_cores = (ru.ru_utime + ru.ru_stime) / wall
    all_cores = (b1 - b0) / hz / wall
    r["cpu_server_cores"] = round(server_cores, 3)
    r["cpu_wrk_cores"] = round(wrk_cores, 3)
    # Everything else that was busy meanwhile: other processes on the machine, plus
    # kernel work not charged to either process. An estimate, to spot a disturbed round.
    r["cpu_other_cores"] = round(max(0.0, all_cores - server_cores - wrk_cores), 3)
    with open("/proc/loadavg") as f:
        r["loadavg_1m"] = float(f.read().split()[0])
    return r


def wait_quiet(max_other: float, deadline: float) -> float | None:
    """Wait until the machine's busy CPU over one second is at most `max_other` cores
    (our servers are idle at this point), or until the epoch `deadline`. Returns seconds waited, None if never quiet."""
    hz = os.sysconf("SC_CLK_TCK")
    t0 = time.monotonic()
    while True:
        b0 = busy_ticks()
        time.sleep(1.0)
        if (busy_ticks() - b0) / hz <= max_other:
            return time.monotonic() - t0
        if time.time() >= deadline:
            return None


def median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def cmd_wrk_compare(args) -> int:
    """Warm up every target, then measure them in interleaved rounds (A B, B A, A B, ...)."""
    outdir = Path(args.outdir)
    targets = []
    for t in args.target:
        name, url, pid = t.split("=", 2) if t.count("=") >= 2 else (*t.split("=", 1), "")
        targets.append((name, loopback_only(url), int(pid) if pid else None))
    base = ["taskset", "-c", args.cpus, "wrk", *args.wrk_args.split(), "-H", f"Accept: {args.accept}"]
    for h in args.header or []:
        base += ["-H", h]
    cmds = []
    for name, url, pid in targets:
        warm = base + ["-d", f"{args.warmup}s", url]
        print(f"wrk {args.scenario} {name}: warm-up {args.warmup}s", file=sys.stderr, flush=True)
        run_wrk_once(warm, outdir / f"wrk-{args.scenario}-{name}.warmup.txt", pid)
    rounds: dict[str, list[dict]] = {name: [] for name, _, _ in targets}
    for r in range(args.rounds):
        order = targets if r % 2 == 0 else list(reversed(targets))
        for name, url, pid in order:
            cmd = base + ["-d", f"{args.round_seconds}s", url]
            if r == 0:
                cmds.append(" ".join(cmd[3:5]) + " " + " ".join(
                    f"'{c}'" if " " in c else c for c in cmd[5:]))
            for attempt in range(args.retries + 1):
                waited = None
                if args.max_other is not None and attempt > 0 or (args.max_other is not None and args.quiet_first):
                    waited = wait_quiet(args.max_other, args.deadline)
                res = run_wrk_once(cmd, outdir / f"wrk-{args.scenario}-{name}.round{r + 1}.txt", pid)
                res["attempt"] = attempt + 1
                res["waited_for_quiet_seconds"] = None if waited is None else round(waited, 1)
                res["disturbed"] = args.max_other is not None and res["cpu_other_cores"] > args.max_other
                if not res["disturbed"]:
                    break
                if attempt < args.retries and time.time() < args.deadline:
                    print(f"wrk {args.scenario} {name} round {r + 1}: disturbed (other CPU "
                          f"{res['cpu_other_cores']:.2f} cores > {args.max_other}), waiting for a quiet machine and retrying",
                          file=sys.stderr, flush=True)
                else:
                    break
            rounds[name].append(res)
            print(f"wrk {args.scenario} {name} round {r + 1}/{args.rounds}: "
                  f"{res.get('requests_per_sec')} req/s, {(res.get('transfer_bytes_per_sec') or 0) / 1024 ** 2:.1f} MiB/s, "
                  f"server {res['cpu_server_cores']:.2f} cores, wrk {res['cpu_wrk_cores']:.2f}, "
                  f"other {res['cpu_other_cores']:.2f}", file=sys.stderr, flush=True)
    for name, _, _ in targets:
        rs = rounds[name]
        rps = [x.get("requests_per_sec") for x in rs]
        mid = sorted(range(len(rs)), key=lambda i: rps[i] or 0)[len(rs) // 2]
        agg = dict(rs[mid])  # latency figures of the median round
        agg.update({
            "requests_per_sec": median(rps),
            "transfer_bytes_per_sec": median([x.get("transfer_bytes_per_sec") for x in rs]),
            "rounds_requests_per_sec": rps,
            "rounds_transfer_bytes_per_sec": [x.get("transfer_bytes_per_sec") for x in rs],
            "rounds_cpu_other_cores": [x["cpu_other_cores"] for x in rs],
            "rounds_cpu_server_cores": [x["cpu_server_cores"] for x in rs],
            # Work per CPU-second of the server: much less sensitive to other load than req/s.
            "requests_per_server_cpu_second": median([(x.get("requests_per_sec") or 0) / x["cpu_server_cores"]
                                                      for x in rs if x["cpu_server_cores"] > 0.01]),
            "bytes_per_server_cpu_second": median([(x.get("transfer_bytes_per_sec") or 0) / x["cpu_server_cores"]
                                                   for x in rs if x["cpu_server_cores"] > 0.01]),
            "rounds_disturbed": sum(1 for x in rs if x.get("disturbed")),
            "rounds_attempts": [x.get("attempt", 1) for x in rs],
            "cpu_server_cores": median([x["cpu_server_cores"] for x in rs]),
            "cpu_wrk_cores": median([x["cpu_wrk_cores"] for x in rs]),
            "requests": sum(x.get("requests", 0) for x in rs),
            "non_2xx_3xx": sum(x.get("non_2xx_3xx", 0) for x in rs),
            "socket_errors": sum(x.get("socket_errors", 0) for x in rs),
            "socket_errors_detail": "; ".join(x["socket_errors_detail"] for x in rs if x.get("socket_errors_detail")) or None,
            "exit_codes": [x["exit_code"] for x in rs],
            "rounds": len(rs),
            "round_seconds": args.round_seconds,
            "commands": cmds,
        })
        (outdir / f"wrk-{args.scenario}-{name}.json").write_text(json.dumps(agg, indent=1) + "\n")
    return 0 if all(x["exit_code"] == 0 for rs in rounds.values() for x in rs) else 1


def cmd_wrk_parse(args) -> int:
    print(json.dumps(parse_wrk(Path(args.file).read_text()), indent=1))
    return 0


# ---------------------------------------------------------------- report

def fmt_rate(b: float | None) -> str:
    if b is None:
        return "n/a"
    return f"{b / 1024 ** 2:,.1f} MiB/s"


def fmt_num(x: float | None, nd: int = 0) -> str:
    return "n/a" if x is None else f"{x:,.{nd}f}"


def ratio(a, b):
    return None if not a or not b else a / b


def load(p: Path):
    try:
        return json.loads(p.read_text())
    except (OSError, ValueError):
        return None


def wrk_rows(results: Path, scenarios, servers: tuple[str, ...]) -> tuple[list[str], list[str], float, int]:
    """Markdown table rows `| request | server | req/s | MiB/s | p50 / p99 | SafeHaven ratio (req/s) | notes |` for
    the wrk-compare JSON files of `scenarios` ((scenario, label, connections), ...) and `servers` (SafeHaven first; its
    row gives its req/s as a ratio of each other server's). Returns (rows, SafeHaven's wrk commands, the most CPU
    other processes used in a measured round, the number of rounds that stayed disturbed)."""
    rows, commands, max_other, disturbed_total = [], [], 0.0, 0
    for scenario, label, conns in scenarios:
        res = {s: load(results / f"wrk-{scenario}-{s}.json") for s in servers}
        for s in servers:
            x = res[s]
            if not x:
                rows.append(f"| {label}, {conns} conn. | {s} | missing | | | | |")
                continue
            rps, bps = x.get("requests_per_sec"), x.get("transfer_bytes_per_sec")
            errors = x.get("non_2xx_3xx", 0) + x.get("socket_errors", 0)
            disturbed = x.get("rounds_disturbed", 0)
            disturbed_total += disturbed
            others = x.get("rounds_cpu_other_cores") or []
            max_other = max([max_other, *others])
            vs = ""
            if s == servers[0]:
                vs = ", ".join(f"{fmt_ratio(rps, (res[o] or {}).get('requests_per_sec'))} of {o}" for o in servers[1:])
                commands += x.get("commands", [])[:1]
            rows.append(
                f"| {label}, {conns} conn. | {s} | {fmt_num(rps, 1)} | {fmt_num((bps or 0) / 2 ** 20, 1)} | {fmt_num(x.get('latency_p50_ms'), 1)} / {fmt_num(x.get('latency_p99_ms'), 1)} ms "
                f"| {vs} | server {fmt_num(x.get('cpu_server_cores'), 2)} cores, wrk {fmt_num(x.get('cpu_wrk_cores'), 2)}; {errors} errors; other CPU per round {others}; {disturbed} disturbed |")
    return rows, commands, max_other, disturbed_total


def fmt_ratio(a, b) -> str:
    return f"{a / b:.2f}x" if a and b else "n/a"


def machine_note(max_other: float, limit: float, disturbed_total: int) -> str:
    """The paragraph saying whether the measured rounds ran on a quiet machine."""
    if max_other > limit or disturbed_total > 0:
        return (f"**Loaded machine:** other processes used up to {max_other:.2f} cores during the measured rounds "
                f"(limit for a quiet round: {limit}); {disturbed_total} of the measured rounds stayed disturbed after the retries. "
                f"These figures come from a loaded, shared 2-core machine: absolute req/s are low and noisy; the ratios, "
                f"taken in interleaved rounds, are the more useful figures.")
    return f"Quiet machine: other processes used at most {max_other:.2f} cores during the measured rounds."


def mib(kb: str | None) -> str:
    """A /proc/<pid>/status figure (KiB) in MiB, for the reports."""
    return "n/a" if not kb else f"{int(kb) / 1024:.0f} MiB"


def report_tail(commands: list[str], others: str, loadavg: str | None, busy: str, checks: list[str], end: str) -> list[str]:
    """The closing lines of a scenario section: SafeHaven's wrk commands (`others` names the servers that got the same),
    the load and busy processes when the report was written, the checks, and the end marker."""
    return [
        f"* wrk commands (SafeHaven's; {others} the same with their URLs):",
        "",
        "```",
        *commands,
        "```",
        "",
        f"* Load average when the report was written: {loadavg}. Busy processes then (the machine is shared):",
        "",
        "```",
        busy or "(none above 5 % CPU)",
        "```",
        "",
        "Checks:",
        "",
        *[f"* {c}" for c in checks],
        end,
    ]


def git_describe() -> str:
    return subprocess.run(["git", "-C", str(Path(__file__).resolve().parent.parent), "describe", "--always", "--dirty"],
                          capture_output=True, text=True).stdout.strip()


def cmd_report(args) -> int:
    rd = Path(args.results)
    env = load(rd / "env.json") or {}
    scenarios = [
        ("page-html", "(a) project page, 500 versions, HTML (`Accept: text/html`), uncompressed", "rps", 0.8),
        ("page-json", "(a') project page, 500 versions, PEP 691 JSON (pip's `Accept`), uncompressed", "rps", 0.8),
        ("page-json-gz", "(a-gz) project page, 500 versions, PEP 691 JSON **as pip asks**: pip's `Accept` + "
                         "`Accept-Encoding: gzip, deflate`, gzip body", "rps", 0.8),
        ("page-html-gz", "(a-gz') project page, 500 versions, HTML (`Accept: text/html`) + "
                         "`Accept-Encoding: gzip, deflate`, gzip body", "rps", 0.8),
        ("wheel-50m", "(b) 50 MiB wheel", "tput", 0.9),
        ("cran-packages-gz", "(d) CRAN `src/contrib/PACKAGES.gz`, 20,000 entries", "rps", None),
        ("nuget-flat-index", "(e) NuGet flat container version list `flatcontainer/bigpackage/index.json`, 500 versions",
         "rps", None),
    ]
    verdict_names = []
    rows = []
    verdicts = []
    for key, label, metric, target in scenarios:
        sh = load(rd / f"wrk-{key}-safehaven.json")
        ng = load(rd / f"wrk-{key}-nginx.json")
        if not sh and not ng:
            continue
        sh = sh or {}
        ng = ng or {}
        r_rps = ratio(sh.get("requests_per_sec"), ng.get("requests_per_sec"))
        r_tp = ratio(sh.get("transfer_bytes_per_sec"), ng.get("transfer_bytes_per_sec"))
        errs = []
        for name, d in (("SafeHaven", sh), ("nginx", ng)):
            if d.get("non_2xx_3xx"):
                errs.append(f"{name}: {d['non_2xx_3xx']} non-2xx")
            if d.get("socket_errors"):
                errs.append(f"{name}: {d.get('socket_errors_detail')}")
        decisive = r_rps if metric == "rps" else r_tp
        if target is None:
            verdict = "ratio reported (no target)" if not errs else "errors"
            target_txt = "none given"
        else:
            ok = decisive is not None and decisive >= target and not errs
            verdict = "n/a" if decisive is None else ("PASS" if ok else "FAIL")
            verdicts.append(verdict)
            verdict_names.append(label.split(" ", 1)[0])
            target_txt = '≥' + str(target) + '× ' + ('req/s' if metric == 'rps' else 'throughput')
        rows.append(
            f"| {label} | {fmt_num(sh.get('requests_per_sec'), 1)} | {fmt_num(ng.get('requests_per_sec'), 1)} "
            f"| {fmt_rate(sh.get('transfer_bytes_per_sec'))} | {fmt_rate(ng.get('transfer_bytes_per_sec'))} "
            f"| **{fmt_num(r_rps, 3)}×** req/s, {fmt_num(r_tp, 3)}× bytes/s "
            f"| {target_txt} | {verdict}"
            f"{' (' + '; '.join(errs) + ')' if errs else ''} |")

    table = [
        "| scenario | SafeHaven req/s | nginx req/s | SafeHaven transfer | nginx transfer | ratio SafeHaven/nginx | target | result |",
        "|---|---:|---:|---:|---:|---|---|---|",
        *rows,
    ]
    lat = ["| scenario | server | req/s per round | MiB/s per round | server CPU (cores) | wrk CPU (cores) | other CPU per round (cores) "
           "| latency avg | p50 | p99 | max | requests | non-2xx | socket errors |",
           "|---|---|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---|"]
    for key, label, _, _ in scenarios:
        for srv in ("safehaven", "nginx"):
            d = load(rd / f"wrk-{key}-{srv}.json")
            if not d:
                continue
            per = ", ".join(fmt_num(x, 0) for x in d.get("rounds_requests_per_sec", []))
            per_t = ", ".join(fmt_num((x or 0) / 1024 ** 2, 0) for x in d.get("rounds_transfer_bytes_per_sec", []))
            oth = ", ".join(fmt_num(x, 2) for x in d.get("rounds_cpu_other_cores", []))
            if d.get("rounds_disturbed"):
                oth += f" (**{d['rounds_disturbed']} disturbed**)"
            if any(a > 1 for a in d.get("rounds_attempts", [])):
                oth += f"; attempts {d['rounds_attempts']}"
            lat.append(f"| {key} | {srv} | {per} | {per_t} | {fmt_num(d.get('cpu_server_cores'), 2)} "
                       f"| {fmt_num(d.get('cpu_wrk_cores'), 2)} | {oth} | {fmt_num(d.get('latency_avg_ms'), 2)} ms | {fmt_num(d.get('latency_p50_ms'), 2)} ms "
                       f"| {fmt_num(d.get('latency_p99_ms'), 2)} ms | {fmt_num(d.get('latency_max_ms'), 2)} ms "
                       f"| {d.get('requests', 'n/a')} | {d.get('non_2xx_3xx', 0)} | {d.get('socket_errors_detail') or 0} |")

    eff = ["| scenario | SafeHaven req per CPU-s | nginx req per CPU-s | SafeHaven MiB per CPU-s | nginx MiB per CPU-s | ratio SafeHaven/nginx |",
           "|---|---:|---:|---:|---:|---:|"]
    for key, label, _, _ in scenarios:
        sh = load(rd / f"wrk-{key}-safehaven.json") or {}
        ng = load(rd / f"wrk-{key}-nginx.json") or {}
        if not sh and not ng:
            continue
        mib = lambda d: None if d.get("bytes_per_server_cpu_second") is None else d["bytes_per_server_cpu_second"] / 1024 ** 2
        eff.append(f"| {key} | {fmt_num(sh.get('requests_per_server_cpu_second'), 0)} | {fmt_num(ng.get('requests_per_server_cpu_second'), 0)} "
                   f"| {fmt_num(mib(sh), 0)} | {fmt_num(mib(ng), 0)} "
                   f"| {fmt_num(ratio(sh.get('requests_per_server_cpu_second'), ng.get('requests_per_server_cpu_second')), 3)}× |")

    rss_rows = ["| 1 GiB download through SafeHaven | RSS before | peak RSS | growth | after | download | curl (status, bytes, seconds) | target | result |",
                "|---|---:|---:|---:|---:|---:|---|---|---|"]
    for key, label in (("cold", "cold (read-through from upstream)"), ("warm", "warm (served from the store)")):
        d = load(rd / f"rss-{key}.json")
        if not d:
            continue
        growth_bytes = d["rss_growth_kb"] * 1024
        ok = growth_bytes < 100e6 and d.get("exit_code") == 0 and d.get("command_stdout", "").startswith("200 ")
        verdicts.append("PASS" if ok else "FAIL")
        verdict_names.append(f"{key} 1 GiB RSS")
        parts = d.get("command_stdout", "").split()
        speed = ""
        if len(parts) >= 3:
            try:
                speed = f"{int(parts[1]) / float(parts[2]) / 1024 ** 2:,.0f} MiB/s"
            except (ValueError, ZeroDivisionError):
                speed = "?"
        rss_rows.append(
            f"| {label} | {d['rss_before_kb'] / 1024:,.1f} MiB | {d['rss_peak_kb'] / 1024:,.1f} MiB "
            f"| **{d['rss_growth_kb'] / 1024:,.1f} MiB** | {d['rss_after_kb'] / 1024:,.1f} MiB | {speed} "
            f"| `{d.get('command_stdout', '')}` | < 100 MB | {'PASS' if ok else 'FAIL'} |")

    checks = load(rd / "checks.json") or []
    text = Path(args.table_out) if args.table_out else None
    md_table = "\n".join(table) + "\n\n" + "\n".join(rss_rows) + "\n"
    if text:
        text.write_text(md_table)
    print(md_table)

    lines = [
        "# SafeHaven (PyPI, CRAN, NuGet mirrors) vs nginx — benchmark results",
        "",
        "Generated by `bench/run.sh`; do not edit by hand (re-run the script instead). "
        "See `bench/README.md` for what is measured and why.",
        "",
        f"- **Date:** {env.get('date', 'n/a')}",
        f"- **Command:** `{env.get('command', 'bash bench/run.sh')}`",
        f"- **Machine:** {env.get('nproc', '?')} CPUs ({env.get('cpu_model', '?')}), "
        f"{env.get('mem_total', '?')} RAM, kernel {env.get('kernel', '?')}",
        f"- **Software:** {env.get('dotnet', '?')}; {env.get('nginx', '?')}; {env.get('wrk', '?')}; {env.get('curl', '?')}",
        f"- **SafeHaven:** `{env.get('safehaven_cmd', '?')}` (git {env.get('git', '?')})",
        f"- **Network:** {env.get('network', '?')}",
        f"- **nginx:** 1 worker, `sendfile {env.get('nginx_sendfile', 'on')}`, `access_log off`, unlimited keep-alive requests; "
        f"serves the bodies SafeHaven sent (project pages plain and gzip, CRAN PACKAGES.gz, NuGet version list, saved "
        f"after warming) and the fixture wheel, byte-identical, same content type and Content-Encoding (see Checks)",
        f"- **Pinning:** servers (SafeHaven, nginx with 1 worker) on CPU {env.get('server_cpus', '?')}, "
        f"load generator (wrk, curl) and the upstream on CPU {env.get('client_cpus', '?')}",
        f"- **wrk:** page, CRAN, NuGet: `{env.get('wrk_page_args', '?')} -d{env.get('round_seconds', '?')}s`; "
        f"gz rows add `-H 'Accept-Encoding: gzip, deflate'`; wheel: `{env.get('wrk_wheel_args', '?')} -d{env.get('round_seconds', '?')}s`. Per scenario: an unrecorded "
        f"{env.get('warmup_seconds', '?')} s warm-up of each server, then {env.get('rounds', '?')} interleaved rounds "
        f"(SafeHaven, nginx, then nginx, SafeHaven, ...); the figures are the median round of each server. "
        f"Each round starts once the machine is quiet (at most {env.get('max_other_cpu', '?')} cores busy); a round "
        f"during which more than that was busy elsewhere is retried up to {env.get('retries', '?')} times, "
        f"as long as that makes the load phase no more than {env.get('quiet_budget', '?')} s longer than on a quiet machine",
        f"- **Upstream:** `bench/upstream_server.py --format {env.get('upstream_format', '?')}`, "
        f"file links {env.get('links', '?')}",
        "",
        "## Throughput (same bytes, same run, same wrk settings)",
        "",
        *table,
        "",
        "## Peak RSS of SafeHaven while one client downloads a 1 GiB file",
        "",
        f"`curl -o /dev/null` of `/pypi/packages/onegib/onegib-1.0-py3-none-any.whl`; VmRSS of the SafeHaven "
        f"process sampled from `/proc/PID/status` every 100 ms; peak = max(sampled peak, VmHWM after "
        f"resetting it with `clear_refs`). Growth = peak − RSS just before the download.",
        "",
        *rss_rows,
        "",
        "## Per-round detail, CPU use and latency (median round)",
        "",
        "CPU in cores (1.00 = one CPU busy for the whole round). *Other* is all remaining busy CPU on the "
        "machine meanwhile (other processes, unattributed kernel work): a large value marks a disturbed round.",
        "",
        *lat,
        "",
        "## Server CPU efficiency (secondary; median over rounds)",
        "",
        "Requests and bytes served per CPU-second the server process used (user + system time of all its "
        "threads; for nginx, its worker). Less sensitive to other load on the machine than the rates above, "
        "but not the target figure: a server that cannot use its whole core (e.g. because the client is the "
        "bottleneck) looks more efficient than it is fast.",
        "",
        *eff,
        "",
        "## Checks",
        "",
    ]
    for c in checks:
        lines.append(f"- {c}")
    if not verdicts or "n/a" in verdicts or len(verdicts) < 7:
        overall = "incomplete (not every figure was measured)"
    elif all(v == "PASS" for v in verdicts):
        overall = "all targets met"
    else:
        overall = "some targets missed: " + ", ".join(n for n, v in zip(verdict_names, verdicts) if v != "PASS")
    overall += " (the CRAN and NuGet rows have no target; their ratios are reported above)"
    lines += ["", f"**Overall:** {overall}.", ""]
    Path(args.out).write_text("\n".join(lines))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="sub", required=True)
    sub.add_parser("freeport").set_defaults(fn=cmd_freeport)

    p = sub.add_parser("wait-http")
    p.add_argument("url")
    p.add_argument("--timeout", type=float, default=60)
    p.set_defaults(fn=cmd_wait_http)

    p = sub.add_parser("page")
    p.add_argument("--url", required=True)
    p.add_argument("--accept", required=True)
    p.add_argument("--accept-encoding", help="send this Accept-Encoding; the response must then be gzip")
    p.add_argument("--body-out")
    p.add_argument("--meta-out", required=True)
    p.add_argument("--expect-files", type=int)
    p.add_argument("--fetch-links", action="store_true")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--strict", action="store_true", help="exit 1 on any problem")
    p.set_defaults(fn=cmd_page)

    p = sub.add_parser("page-summary")
    p.add_argument("file")
    p.set_defaults(fn=cmd_page_summary)

    p = sub.add_parser("rss")
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--interval", type=float, default=0.1)
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--out", required=True)
    p.add_argument("--samples-out")
    p.add_argument("command", nargs=argparse.REMAINDER)
    p.set_defaults(fn=cmd_rss)

    p = sub.add_parser("wrk-compare")
    p.add_argument("--scenario", required=True)
    p.add_argument("--target", action="append", required=True, help="name=url[=server pid]")
    p.add_argument("--wrk-args", required=True, help="e.g. '-t1 -c32 --latency --timeout 10s' (no -d)")
    p.add_argument("--accept", required=True)
    p.add_argument("--header", action="append", help="extra request header for wrk, e.g. 'Accept-Encoding: gzip, deflate'")
    p.add_argument("--cpus", required=True, help="CPU list for taskset")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--round-seconds", type=int, default=5)
    p.add_argument("--outdir", required=True)
    p.add_argument("--max-other", type=float, default=None,
                   help="a round with more CPU busy elsewhere than this (cores) is disturbed and retried")
    p.add_argument("--retries", type=int, default=2)
    p.add_argument("--quiet-first", action="store_true", help="wait for a quiet machine before every round")
    p.add_argument("--deadline", type=float, default=float("inf"),
                   help="epoch seconds after which nothing waits or retries any more")
    p.set_defaults(fn=cmd_wrk_compare)

    p = sub.add_parser("wrk-parse")
    p.add_argument("file")
    p.set_defaults(fn=cmd_wrk_parse)

    p = sub.add_parser("report")
    p.add_argument("--results", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--table-out")
    p.set_defaults(fn=cmd_report)

    args = ap.parse_args()
    if getattr(args, "command", None) and args.command[0] == "--":
        args.command = args.command[1:]
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
