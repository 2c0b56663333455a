#!/usr/bin/env python3
"""Writes the apt benchmark section (bench/apt.sh) and puts it into bench/RESULTS.md between the markers
<!-- apt:begin --> and <!-- apt:end --> (appended when absent; no other section is touched).
Reads the figures from the environment apt.sh exports and the wrk JSON files in --results."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
from pathlib import Path

from benchlib import write_section

BEGIN, END = "<!-- apt:begin -->", "<!-- apt:end -->"
SERVERS = ("safehaven", "nginx", "apt-cacher-ng")


def load(p: Path):
    try:
        return json.loads(p.read_text())
    except (OSError, ValueError):
        return None


def mib(kb: str | None) -> str:
    return "n/a" if not kb else f"{int(kb) / 1024:.0f} MiB"


def num(x, nd=0) -> str:
    return "n/a" if x is None else f"{x:,.{nd}f}"


def ratio(a, b) -> str:
    return f"{a / b:.2f}x" if a and b else "n/a"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--update")
    a = ap.parse_args()
    r = Path(a.results)
    e = os.environ
    ext = e.get("INDEX_EXT", "xz")
    scenarios = (
        ("apt-index", f"`{e.get('INDEX_PATH')}` (full suite, {int(e.get('ENTRIES', '0')):,} entries)", e.get("INDEX_CONNS", "8")),
        ("apt-deb", f"`{e.get('DEB_REL')}` ({int(e.get('DEB_SIZE', '0')) / 2 ** 20:.1f} MiB, cached)", e.get("DEB_CONNS", "4")),
    )
    rows, commands, max_other, disturbed_total = [], [], 0.0, 0
    for scenario, label, conns in scenarios:
        res = {s: load(r / f"wrk-{scenario}-{s}.json") for s in SERVERS}
        for s in SERVERS:
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
            if s == "safehaven":
                vs = f"{ratio(rps, (res['nginx'] or {}).get('requests_per_sec'))} of nginx, {ratio(rps, (res['apt-cacher-ng'] or {}).get('requests_per_sec'))} of apt-cacher-ng"
            else:
                vs = ""
            rows.append(
                f"| {label}, {conns} conn. | {s} | {num(rps, 1)} | {num((bps or 0) / 2 ** 20, 1)} | {num(x.get('latency_p50_ms'), 1)} / {num(x.get('latency_p99_ms'), 1)} ms "
                f"| {vs} | server {num(x.get('cpu_server_cores'), 2)} cores, wrk {num(x.get('cpu_wrk_cores'), 2)}; {errors} errors; other CPU per round {others}; {disturbed} disturbed |")
            if s == "safehaven":
                commands += x.get("commands", [])[:1]
    git = subprocess.run(["git", "-C", str(Path(__file__).resolve().parent.parent), "describe", "--always", "--dirty"],
                         capture_output=True, text=True).stdout.strip()
    checks = [l.rstrip("\n") for l in open(r / "checks.txt") if l.strip()]
    other = e.get("OTHER", "").strip()
    limit = float(e.get("MAX_OTHER_CPU", "0.25"))
    loaded = max_other > limit or disturbed_total > 0
    machine = (f"**Loaded machine:** other processes used up to {max_other:.2f} cores during the measured rounds "
               f"(limit for a quiet round: {limit}); {disturbed_total} of the measured rounds stayed disturbed after the retries. "
               f"These figures come from a loaded, shared 2-core machine: absolute req/s are low and noisy; the ratios, "
               f"taken in interleaved rounds, are the more useful figures." if loaded else
               f"Quiet machine: other processes used at most {max_other:.2f} cores during the measured rounds.")
    lines = [
        BEGIN,
        f"## apt: a full suite's index and a cached .deb (SafeHaven, nginx, apt-cacher-ng)",
        "",
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}, commit `{git}`, command `{e.get('BENCH_CMD_LINE', 'bash bench/apt.sh')}` "
        f"(also `bash bench/run.sh --apt-only`; 4–5 minutes). Upstream: this machine's `{e.get('SUITE')}` main amd64 `Packages` "
        f"(from `/var/lib/apt/lists/`, {int(e.get('ENTRIES', '0')):,} entries) plus one `.deb` built by `dpkg-deb --build`, published with "
        f"`apt-ftparchive` as `Packages`, `.xz`, `.gz`, signed with a key made for the run, served by nginx. SafeHaven at Tier 0 "
        f"(one apt repository `bench`) serves its re-signed index and the `.deb` from its store; nginx serves the bytes SafeHaven served; "
        f"apt-cacher-ng {e.get('AC_VERSION')} (Debian package, own config, `Remap-bench: /bench ; <upstream>`, "
        f"{'FreshIndexMaxAge ' + e['ACNG_FRESH_INDEX_MAX_AGE'] + ' s' if e.get('ACNG_FRESH_INDEX_MAX_AGE') else 'defaults otherwise (FreshIndexMaxAge 27 s)'}, "
        f"warmed once) serves the upstream's own files. All three servers on CPU {e.get('SERVER_CPUS')}, wrk on CPU {e.get('CLIENT_CPUS')}; "
        f"{e.get('ROUNDS')} interleaved rounds of {e.get('ROUND_SECONDS')} s after {e.get('WARMUP')} s warm-up each, median round; {e.get('NETWORK')}.",
        "",
        machine,
        "",
        "| request | server | req/s | MiB/s | p50 / p99 | SafeHaven ratio (req/s) | notes |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
    ]
    if ext != "xz":
        lines += ["* SafeHaven publishes no `Packages.xz` (only `Packages` and `Packages.gz`), so the index rows compare "
                  f"`Packages.{ext}` on all three servers: SafeHaven's own re-compression ({int(e.get('SH_INDEX_BYTES', '0')) / 2 ** 20:.1f} MiB) "
                  f"against the upstream's file through apt-cacher-ng ({int(e.get('AC_INDEX_BYTES', '0')) / 2 ** 20:.1f} MiB).", ""]
    lines += [
        f"* Cold start to a published suite (verify the upstream `InRelease`, fetch and hash-check the index, parse, filter, write, re-sign): "
        f"**{e.get('PUBLISH_S')} s** after the process started (`/readyz` 200 after {e.get('READY_S')} s); SafeHaven RSS peak during it "
        f"{mib(e.get('PUBLISH_HWM'))}, after it {mib(e.get('PUBLISH_RSS'))}; peak under load {mib(e.get('LOAD_HWM'))}, at the end {mib(e.get('END_RSS'))}.",
        f"* First (read-through) request of the `.deb` through SafeHaven: {e.get('DEB_COLD_S')} s.",
        "* Both bodies are megabytes: a row whose wrk used ~1.0 core was limited by the client (one wrk thread reading loopback), "
        "not by the server; the server's own CPU is in the notes.",
        "* wrk commands (SafeHaven's; nginx and apt-cacher-ng get the same with their URLs):",
        "",
        "```",
        *commands,
        "```",
        "",
        f"* Load average when the report was written: {e.get('LOADAVG')}. Busy processes then (the machine is shared):",
        "",
        "```",
        other or "(none above 5 % CPU)",
        "```",
        "",
        "Checks:",
        "",
        *[f"* {c}" for c in checks],
        END,
    ]
    write_section("\n".join(lines) + "\n", a.out, a.update, BEGIN, END)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
