#!/usr/bin/env python3
"""A real-size PyPI root index for the benchmark, from the project snapshot.

Reads the names (first column) of ../shared/data/pypi-projects-2026-11.tsv.gz (every
PyPI project, ~886k rows) and writes, in the shape PyPI itself serves them:

  <out>/simple/index.json   PEP 691 v1.1: {"meta": {"_last-serial": N, "api-version": "1.1"},
                            "projects": [{"_last-serial": N, "name": "..."}, ...]}
  <out>/simple/index.html   PEP 503: <a href="/simple/<normalised>/">name</a> per line

and prints a JSON summary (count, sizes, path of a names file for checks).
Python 3.11 standard library only. Rewrites the files only when the snapshot is newer.
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import os
import re
import sys


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tsv", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    simple = os.path.join(args.out, "simple")
    os.makedirs(simple, exist_ok=True)
    paths = {k: os.path.join(simple, f"index.{k}") for k in ("json", "html")}
    names_path = os.path.join(args.out, "names.txt")
    fresh = all(os.path.exists(p) and os.path.getmtime(p) >= os.path.getmtime(args.tsv) for p in [*paths.values(), names_path])
    if not fresh:
        names = []
        with gzip.open(args.tsv, "rt", encoding="utf-8", newline="\n") as f:
            header = f.readline().rstrip("\n").split("\t")
            if header[0] != "name":
                print(f"unexpected header {header!r}", file=sys.stderr)
                return 1
            for line in f:
                name = line.rstrip("\n").split("\t", 1)[0].strip()
                if name and not any(ord(c) < 0x20 or ord(c) == 0x7f for c in name):
                    names.append(name)
        serial = 30_000_000
        for kind in ("json", "html"):
            tmp = paths[kind] + ".tmp"
            with open(tmp, "w", encoding="utf-8", newline="\n") as out:
                if kind == "json":
                    out.write('{"meta":{"_last-serial":%d,"api-version":"1.1"},"projects":[' % serial)
                    for i, name in enumerate(names):
                        out.write(("," if i else "") + json.dumps({"_last-serial": serial - i, "name": name}, ensure_ascii=False, separators=(",", ":")))
                    out.write("]}")
                else:
                    out.write('<!DOCTYPE html>\n<html>\n  <head>\n    <meta name="pypi:repository-version" content="1.1">\n'
                              "    <title>Simple index</title>\n  </head>\n  <body>\n")
                    for name in names:
                        norm = re.sub(r"[-_.]+", "-", name).lower()
                        out.write(f'    <a href="/simple/{html.escape(norm)}/">{html.escape(name, quote=False)}</a>\n')
                    out.write("  </body>\n</html>\n")
            os.replace(tmp, paths[kind])
        with open(names_path + ".tmp", "w", encoding="utf-8", newline="\n") as out:
            out.writelines(n + "\n" for n in names)
        os.replace(names_path + ".tmp", names_path)
    with open(names_path, encoding="utf-8") as f:
        count = sum(1 for _ in f)
    print(json.dumps({"names": count, "names_file": names_path,
                      "json_bytes": os.path.getsize(paths["json"]), "html_bytes": os.path.getsize(paths["html"])}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
