#!/usr/bin/env python3
"""Writes the root-index benchmark section (bench/root.sh) and puts it into bench/RESULTS.md
between the markers <!-- root-index:begin --> and <!-- root-index:end --> (appended when absent).
Reads the figures from the environment root.sh exports and the wrk JSON files in --results."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
from pathlib import Path

from benchlib import write_section

BEGIN, END = "<!-- root-index:begin -->", "<!-- root-index:end -->"


def load(p: Path):
    try:
        return json.loads(p.read_text())
    except (OSError, ValueError):
        return None


def mib(kb: str | None) -> str:
    return "n/a" if not kb else f"{int(kb) / 1024:.0f} MiB"


def num(x, nd=0) -> str:
    return "n/a" if x is None else f"{x:,.{nd}f}"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--update")
    a = ap.parse_args()
    r = Path(a.results)
    e = os.environ
    rows = []
    for scenario, label, hwm in (("root-json-gz", "pip `Accept` + `Accept-Encoding: gzip, deflate`", e.get("GZ_HWM")),
                                 ("root-json", "pip `Accept`, uncompressed", e.get("PLAIN_HWM"))):
        s, n = load(r / f"wrk-{scenario}-safehaven.json"), load(r / f"wrk-{scenario}-nginx.json")
        if not s or not n:
            rows.append(f"| ({scenario}) {label} | missing | | | | | | |")
            continue
        ratio = (s["requests_per_sec"] / n["requests_per_sec"]) if s.get("requests_per_sec") and n.get("requests_per_sec") else None
        p99 = s.get("latency_p99_ms")
        errors = s.get("non_2xx_3xx", 0) + s.get("socket_errors", 0)
        disturbed = s.get("rounds_disturbed", 0) + n.get("rounds_disturbed", 0)
        rows.append(
            f"| ({scenario}) {label}, {e.get('ROOT_CONNS', '16')} connections | {num(s.get('requests_per_sec'), 1)} | {num(n.get('requests_per_sec'), 1)} "
            f"| {num(ratio, 2)}x | {num(s.get('latency_p50_ms'), 1)} / **{num(p99, 1)} ms**{' ✅' if p99 is not None and p99 < 50 else ' ❌'} "
            f"| {num(n.get('latency_p50_ms'), 1)} / {num(n.get('latency_p99_ms'), 1)} ms "
            f"| {mib(hwm)}{' ✅' if hwm and int(hwm) < 400 * 1024 else ' ❌'} | {errors} errors; {disturbed} disturbed rounds; other CPU per round {s.get('rounds_cpu_other_cores')} |")
    html_cold = (e.get("HTML_COLD") or "").split()
    git = subprocess.run(["git", "-C", str(Path(__file__).resolve().parent.parent), "describe", "--always", "--dirty"],
                         capture_output=True, text=True).stdout.strip()
    checks = [l.rstrip("\n") for l in open(r / "checks.txt") if l.strip()]
    other = e.get("OTHER", "").strip()
    lines = [
        BEGIN,
        f"## PyPI root index at PyPI scale ({int(e.get('NAMES', '0')):,} names)",
        "",
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}, commit `{git}`, command `{e.get('BENCH_CMD_LINE', 'bash bench/root.sh')}` "
        f"(also `bash bench/run.sh --root-only`; about 3 minutes). Tier 0; upstream is `bench/upstream_server.py` serving the names of "
        f"`../shared/data/pypi-projects-2026-11.tsv.gz` as PyPI does; SafeHaven and nginx (one worker, same bytes SafeHaven sent) on CPU {e.get('SERVER_CPUS')}, "
        f"wrk on CPU {e.get('CLIENT_CPUS')}; `wrk -t1 -c{e.get('ROOT_CONNS', '16')}`, {e.get('ROUNDS')} interleaved rounds of {e.get('ROUND_SECONDS')} s, median round; "
        f"{e.get('NETWORK')}. Targets: p99 < 50 ms and SafeHaven RSS < 400 MB at 16 connections.",
        "",
        "| scenario | SafeHaven req/s | nginx req/s | ratio | SafeHaven p50 / p99 | nginx p50 / p99 | SafeHaven peak RSS (VmHWM) | notes |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"* Cold first request (upstream PEP 691 JSON fetched, parsed, rendered as JSON, gzip-compressed, answered): **{e.get('cold_s')} s**; "
        f"RSS idle {mib(e.get('IDLE'))}, peak during it {mib(e.get('COLD_HWM'))}, after it {mib(e.get('AFTER_JSON'))}; after the HTML render as well "
        f"(JSON and HTML each kept plain and gzip): {mib(e.get('AFTER_RENDERS'))}.",
    ]
    if len(html_cold) == 4:
        lines.append(f"* Cold first request against a PEP 503 HTML upstream: **{html_cold[0]} s**, peak RSS {html_cold[1]} MiB, after {html_cold[2]} MiB, {html_cold[3]} names.")
    lines += [
        "* Busy processes when the report was written (the machine is shared; figures taken while others build are noisy):",
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
