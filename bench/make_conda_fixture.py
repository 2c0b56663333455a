#!/usr/bin/env python3
"""Writes a large conda channel index for bench/conda.sh: <out>/linux-64/repodata.json and <out>/noarch/repodata.json.

The records imitate conda-forge's (a channel of that shape, not its content): `packages.conda` for `.conda` files and
`packages` for older `.tar.bz2` ones, millisecond `timestamp`s spread over six years (a few percent in the last 7 days),
build strings like `py312h1a2b3c4_0`, `depends` with version ranges, `__glibc` virtual packages, `python_abi` pins and
build-string globs, some `constrains`, `license`/`license_family`, md5/sha256/size. The hashes and sizes are random:
the benchmark serves the index, not the files. Deterministic for a given --seed. Prints a JSON summary."""

from __future__ import annotations

import argparse
import json
import os
import random
import time

LICENSES = (("MIT", "MIT"), ("BSD-3-Clause", "BSD"), ("Apache-2.0", "Apache"), ("GPL-3.0-or-later", "GPL3"), ("LGPL-2.1-or-later", "LGPL"))
PYTHONS = ("39", "310", "311", "312", "313")


def name_of(rng: random.Random, i: int) -> str:
    stems = ("lib", "py", "r-", "perl-", "", "", "")
    syll = ("ar", "bo", "cy", "de", "fu", "ga", "hi", "jo", "ka", "lu", "me", "no", "pa", "qu", "ri", "so", "ti", "vu", "xe", "zo")
    return rng.choice(stems) + "".join(rng.choice(syll) for _ in range(rng.randint(2, 4))) + str(i % 97 if i % 5 == 0 else "")


def records(rng: random.Random, subdir: str, count: int, names: list[str], now_ms: int):
    """Yields (filename, record, is_conda) until `count` records exist."""
    made = 0
    while made < count:
        name = rng.choice(names)
        major, minor = rng.randint(0, 5), rng.randint(0, 30)
        for patch in range(rng.randint(1, 6)):
            version = f"{major}.{minor}.{patch}"
            for build_number in range(rng.randint(1, 3)):
                py = rng.choice(PYTHONS) if subdir == "linux-64" and rng.random() < 0.5 else None
                h = "%07x" % rng.getrandbits(28)
                build = (f"py{py}h{h}_{build_number}" if py else f"h{h}_{build_number}") if subdir == "linux-64" else f"pyhd8ed1ab_{build_number}"
                is_conda = rng.random() < 0.7
                filename = f"{name}-{version}-{build}" + (".conda" if is_conda else ".tar.bz2")
                depends = []
                if subdir == "linux-64":
                    depends += ["__glibc >=2.17,<3.0.a0", "libgcc-ng >=12"]
                    if py:
                        depends += [f"python >={py[0]}.{py[1:]},<{py[0]}.{int(py[1:]) + 1}.0a0", f"python_abi {py[0]}.{py[1:]}.* *_cp{py}"]
                else:
                    depends += ["python >=3.8"]
                for _ in range(rng.randint(0, 6)):
                    dep = rng.choice(names)
                    if dep != name:
                        lo = rng.randint(0, 4)
                        depends.append(rng.choice((dep, f"{dep} >={lo}.{rng.randint(0, 20)}", f"{dep} >={lo}.0,<{lo + 1}.0a0", f"{dep} {lo}.*")))
                license_name, family = rng.choice(LICENSES)
                age_days = rng.random() * 6 * 365 if rng.random() > 0.03 else rng.random() * 7
                record = {
                    "build": build,
                    "build_number": build_number,
                    "depends": depends,
                    "license": license_name,
                    "license_family": family,
                    "md5": "%032x" % rng.getrandbits(128),
                    "name": name,
                    "sha256": "%064x" % rng.getrandbits(256),
                    "size": rng.randint(4_000, 40_000_000),
                    "subdir": subdir,
                    "timestamp": now_ms - int(age_days * 86_400_000),
                    "version": version,
                }
                if rng.random() < 0.1:
                    record["constrains"] = [f"{rng.choice(names)} >={rng.randint(0, 3)}"]
                if subdir == "noarch":
                    record["noarch"] = "python"
                yield filename, record, is_conda
                made += 1
                if made >= count:
                    return


def write(path: str, subdir: str, items) -> tuple[int, int]:
    """Streams a repodata.json (records grouped by key, as conda-forge's index is): returns (records, bytes)."""
    conda, tar = {}, {}
    for filename, record, is_conda in items:
        (conda if is_conda else tar)[filename] = record
    with open(path, "w", encoding="utf-8") as out:
        out.write('{"info":{"subdir":%s},"packages":{' % json.dumps(subdir))
        for i, (f, r) in enumerate(sorted(tar.items())):
            out.write(("," if i else "") + json.dumps(f) + ":" + json.dumps(r, separators=(",", ":")))
        out.write('},"packages.conda":{')
        for i, (f, r) in enumerate(sorted(conda.items())):
            out.write(("," if i else "") + json.dumps(f) + ":" + json.dumps(r, separators=(",", ":")))
        out.write('},"removed":[],"repodata_version":1}\n')
    return len(conda) + len(tar), os.path.getsize(path)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--records", type=int, default=200_000, help="records in linux-64 (noarch gets a fifth)")
    ap.add_argument("--seed", type=int, default=13)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    names = sorted({name_of(rng, i) for i in range(max(50, a.records // 20))})
    now_ms = int(time.time() * 1000)
    summary = {}
    for subdir, count in (("linux-64", a.records), ("noarch", a.records // 5)):
        os.makedirs(os.path.join(a.out, subdir), exist_ok=True)
        n, size = write(os.path.join(a.out, subdir, "repodata.json"), subdir, records(rng, subdir, count, names, now_ms))
        summary[subdir] = {"records": n, "bytes": size}
    summary["names"] = len(names)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
