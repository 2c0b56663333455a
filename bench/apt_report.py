#!/usr/bin/env python3
"""Writes the apt benchmark section (bench/apt.sh) and puts it into bench/RESULTS.md between the markers
<!-- apt:begin --> and <!-- apt:end --> (appended when absent; no other section is touched).
Reads the figures from the environment apt.sh exports and the wrk JSON files in --results."""

from __future__ import annotations

import argparse
import datetime
import os
from pathlib import Path

from benchlib import git_describe, machine_note, mib, report_tail, write_section, wrk_rows

BEGIN, END = "<!-- apt:begin -->", "<!-- apt:end -->"
SERVERS = ("safehaven", "nginx", "apt-cacher-ng")


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
    rows, commands, max_other, disturbed_total = wrk_rows(r, scenarios, SERVERS)
    git = git_describe()
    checks = [l.rstrip("\n") for l in open(r / "checks.txt") if l.strip()]
    other = e.get("OTHER", "").strip()
    limit = float(e.get("MAX_OTHER_CPU", "0.25"))
    machine = machine_note(max_other, limit, disturbed_total)
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
        *report_tail(commands, "nginx and apt-cacher-ng get", e.get("LOADAVG"), other, checks, END),
    ]
    write_section("\n".join(lines) + "\n", a.out, a.update, BEGIN, END)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
