#!/usr/bin/env python3
"""Generate the upstream PyPI-style repository the SafeHaven benchmark mirrors.

Layout written under OUT (default bench/out/upstream):

  simple/index.html                      PEP 503 root index
  simple/<project>/index.html            PEP 503 project page (sha256 fragments, data-* attrs)
  simple/<project>/index.json            PEP 691 v1.1 JSON form of the same page
  files/<project>/<filename>             the artifacts
  cran/src/contrib/PACKAGES(.gz)         a CRAN repository index of 20,000 DCF entries (no tarballs)
  nuget/v3/index.json                    a static NuGet v3 feed: service index,
  nuget/v3/registration/<id>/index.json  registration with inline pages (published, listed, SHA-512 hash),
  nuget/v3/flatcontainer/<id>/index.json flat container version list (no .nupkg files)

Projects:
  bigproject  500 versions, one small wheel each (real bytes, real SHA-256)
  fiftymb     fiftymb-1.0-py3-none-any.whl, 50 MiB of random bytes
  onegib      onegib-1.0-py3-none-any.whl, 1 GiB of random bytes
  CRAN        pkg00000 .. pkg19999, one version each
  NuGet       BigPackage with 500 versions

Large files are reused between runs: a sidecar "<file>.sha256" records the
digest with the file's size and mtime, so they are only generated and hashed
once. The project pages are rewritten on every run because the file URLs
carry the upstream port.

Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import html
import json
import os
import random
import sys
from pathlib import Path

MIB = 1024 * 1024
CHUNK = 8 * MIB

BIG_VERSIONS = 500
SMALL_WHEEL_BYTES = 2048
FIFTY_BYTES = 50 * MIB
ONE_GIB_BYTES = 1024 * MIB

CRAN_PACKAGES = 20000
NUGET_ID = "BigPackage"
NUGET_VERSIONS = 500

BASE_TIME = dt.datetime(2021, 3, 1, 12, 0, 0, tzinfo=dt.timezone.utc)


def iso_z(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while True:
            b = f.read(CHUNK)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def cached_digest(path: Path) -> str | None:
    side = path.with_name(path.name + ".sha256")
    if not path.exists() or not side.exists():
        return None
    try:
        rec = json.loads(side.read_text())
    except (OSError, ValueError):
        return None
    st = path.stat()
    if rec.get("size") == st.st_size and rec.get("mtime_ns") == st.st_mtime_ns:
        return rec.get("sha256")
    return None


def record_digest(path: Path, digest: str) -> None:
    st = path.stat()
    side = path.with_name(path.name + ".sha256")
    side.write_text(json.dumps({"sha256": digest, "size": st.st_size, "mtime_ns": st.st_mtime_ns}) + "\n")


def ensure_random_file(path: Path, size: int) -> str:
    """Create `path` with `size` random bytes unless a verified copy exists; return its SHA-256."""
    digest = cached_digest(path)
    if digest is not None and path.stat().st_size == size:
        return digest
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    h = hashlib.sha256()
    left = size
    with tmp.open("wb") as f:
        while left:
            b = os.urandom(min(CHUNK, left))
            f.write(b)
            h.update(b)
            left -= len(b)
    os.replace(tmp, path)
    digest = h.hexdigest()
    record_digest(path, digest)
    return digest


def ensure_bytes_file(path: Path, data: bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def write_project(out: Path, name: str, files: list[dict], versions: list[str], link_base: str) -> None:
    """Write simple/<name>/index.html (PEP 503) and index.json (PEP 691 v1.1)."""
    d = out / "simple" / name
    d.mkdir(parents=True, exist_ok=True)
    for f in files:
        f["url"] = f"{link_base}files/{name}/{f['filename']}"

    lines = [
        "<!DOCTYPE html>",
        "<html>",
        "  <head>",
        '    <meta name="pypi:repository-version" content="1.1">',
        f"    <title>Links for {html.escape(name)}</title>",
        "  </head>",
        "  <body>",
        f"    <h1>Links for {html.escape(name)}</h1>",
    ]
    for f in files:
        href = html.escape(f"{f['url']}#sha256={f['hashes']['sha256']}", quote=True)
        attrs = f' href="{href}"'
        if f.get("requires-python"):
            attrs += f' data-requires-python="{html.escape(f["requires-python"], quote=True)}"'
        lines.append(f"    <a{attrs}>{html.escape(f['filename'])}</a><br />")
    lines += ["  </body>", "</html>", f"<!--SERIAL {len(files)}-->", ""]
    (d / "index.html").write_text("\n".join(lines), encoding="utf-8")

    doc = {
        "meta": {"api-version": "1.1"},
        "name": name,
        "versions": versions,
        "files": files,
    }
    (d / "index.json").write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")


def write_cran(out: Path, count: int) -> dict:
    """src/contrib/PACKAGES and PACKAGES.gz with `count` DCF entries (tarballs are not created)."""
    import gzip
    rng = random.Random(20000)
    licenses = ["GPL-2", "GPL-3", "MIT + file LICENSE", "GPL (>= 2)", "Apache License 2.0", "BSD_3_clause + file LICENSE"]
    entries = []
    for i in range(count):
        name = f"pkg{i:05d}"
        lines = [f"Package: {name}", f"Version: {rng.randint(0, 4)}.{rng.randint(0, 20)}-{rng.randint(0, 9)}"]
        if rng.random() < 0.6:
            lines.append(f"Depends: R (>= {rng.choice(['3.5.0', '4.0.0', '4.1.0'])})")
        if i > 0 and rng.random() < 0.5:
            deps = sorted({f"pkg{rng.randrange(i):05d}" for _ in range(rng.randint(1, 4))})
            lines.append("Imports: " + ", ".join(deps))
        lines.append(f"License: {rng.choice(licenses)}")
        lines.append(f"MD5sum: {rng.randbytes(16).hex()}")
        lines.append("NeedsCompilation: no")
        t = BASE_TIME - dt.timedelta(minutes=37 * (count - i))
        lines.append(f"Date/Publication: {t.strftime('%Y-%m-%d %H:%M:%S')} UTC")
        entries.append("\n".join(lines) + "\n")
    text = "\n".join(entries).encode("utf-8")
    d = out / "cran" / "src" / "contrib"
    d.mkdir(parents=True, exist_ok=True)
    ensure_bytes_file(d / "PACKAGES", text)
    ensure_bytes_file(d / "PACKAGES.gz", gzip.compress(text, compresslevel=9, mtime=0))
    return {"cran_packages": count, "cran_packages_bytes": len(text)}


def write_nuget(out: Path, base: str, pkg_id: str, count: int) -> dict:
    """A static NuGet v3 feed under nuget/v3/ for one package with `count` versions (no .nupkg files)."""
    rng = random.Random(500)
    lower = pkg_id.lower()
    v3 = out / "nuget" / "v3"
    root = f"{base}nuget/v3/"
    (v3).mkdir(parents=True, exist_ok=True)
    service = {"version": "3.0.0", "resources": [
        {"@id": root + "flatcontainer/", "@type": "PackageBaseAddress/3.0.0"},
        {"@id": root + "registration/", "@type": "RegistrationsBaseUrl/3.6.0"},
        {"@id": root + "registration/", "@type": "RegistrationsBaseUrl"},
    ]}
    (v3 / "index.json").write_text(json.dumps(service, indent=1) + "\n", encoding="utf-8")
    import base64
    versions = [f"{1 + i // 100}.{(i // 10) % 10}.{i % 10}" for i in range(count)]
    reg_url = f"{root}registration/{lower}/index.json"
    leaves = []
    for i, ver in enumerate(versions):
        content = f"{root}flatcontainer/{lower}/{ver}/{lower}.{ver}.nupkg"
        published = BASE_TIME + dt.timedelta(hours=12 * i)
        leaves.append({
            "@id": f"{root}registration/{lower}/{ver}.json",
            "@type": "Package",
            "catalogEntry": {
                "@id": f"{root}catalog/{lower}.{ver}.json",
                "@type": "PackageDetails",
                "id": pkg_id,
                "version": ver,
                "published": published.strftime("%Y-%m-%dT%H:%M:%S.%f0+00:00"),
                "listed": True,
                "authors": "SafeHaven bench",
                "description": f"Benchmark fixture {pkg_id} {ver}",
                "packageContent": content,
                "packageHash": base64.b64encode(rng.randbytes(64)).decode("ascii"),
                "packageHashAlgorithm": "SHA512",
                "dependencyGroups": [{"targetFramework": "netstandard2.0", "dependencies": []}],
            },
            "packageContent": content,
            "registration": reg_url,
        })
    pages = []
    for k in range(0, count, 128):
        chunk = leaves[k:k + 128]
        lo, hi = chunk[0]["catalogEntry"]["version"], chunk[-1]["catalogEntry"]["version"]
        pages.append({"@id": f"{root}registration/{lower}/index.json#page/{lo}/{hi}", "@type": "catalog:CatalogPage",
                      "count": len(chunk), "lower": lo, "upper": hi, "parent": reg_url, "items": chunk})
    reg = {"@id": reg_url, "@type": ["catalog:CatalogRoot", "PackageRegistration", "catalog:Permalink"],
           "count": len(pages), "items": pages}
    (v3 / "registration" / lower).mkdir(parents=True, exist_ok=True)
    (v3 / "registration" / lower / "index.json").write_text(json.dumps(reg) + "\n", encoding="utf-8")
    (v3 / "flatcontainer" / lower).mkdir(parents=True, exist_ok=True)
    (v3 / "flatcontainer" / lower / "index.json").write_text(json.dumps({"versions": versions}, indent=2) + "\n", encoding="utf-8")
    return {"nuget_id": pkg_id, "nuget_versions": count}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "out" / "upstream"))
    ap.add_argument("--port", type=int, required=False,
                    help="upstream port, used for absolute file URLs (required with --links absolute)")
    ap.add_argument("--links", choices=["absolute", "relative"], default="absolute",
                    help="absolute: http://127.0.0.1:PORT/files/... like PyPI's separate file host; "
                         "relative: ../../files/... like a static mirror")
    ap.add_argument("--skip-onegib", action="store_true", help="do not create the 1 GiB file (quick tests)")
    args = ap.parse_args()

    out = Path(args.out)
    if args.links == "absolute":
        if not args.port:
            ap.error("--port is required with --links absolute")
        link_base = f"http://127.0.0.1:{args.port}/"
    else:
        link_base = "../../"  # relative to /simple/<project>/

    out.mkdir(parents=True, exist_ok=True)
    projects = []

    # (a) bigproject: 500 versions, one small deterministic wheel each.
    rng = random.Random(20210301)
    files, versions = [], []
    for i in range(BIG_VERSIONS):
        ver = f"{i // 100}.{(i // 10) % 10}.{i % 10}"
        fn = f"bigproject-{ver}-py3-none-any.whl"
        data = rng.randbytes(SMALL_WHEEL_BYTES)
        digest = ensure_bytes_file(out / "files" / "bigproject" / fn, data)
        versions.append(ver)
        files.append({
            "filename": fn,
            "hashes": {"sha256": digest},
            "requires-python": ">=3.8",
            "size": len(data),
            "upload-time": iso_z(BASE_TIME + dt.timedelta(hours=6 * i)),
            "yanked": False,
        })
    write_project(out, "bigproject", files, versions, link_base)
    projects.append("bigproject")

    # (b) fiftymb, (c) onegib: one big random wheel each.
    big = [("fiftymb", FIFTY_BYTES)]
    if not args.skip_onegib:
        big.append(("onegib", ONE_GIB_BYTES))
    for k, (name, size) in enumerate(big):
        fn = f"{name}-1.0-py3-none-any.whl"
        path = out / "files" / name / fn
        print(f"make_fixtures: {name}: {size} bytes", file=sys.stderr)
        digest = ensure_random_file(path, size)
        write_project(out, name, [{
            "filename": fn,
            "hashes": {"sha256": digest},
            "requires-python": ">=3.8",
            "size": size,
            "upload-time": iso_z(BASE_TIME + dt.timedelta(days=30 + k)),
            "yanked": False,
        }], ["1.0"], link_base)
        projects.append(name)

    root = ["<!DOCTYPE html>", "<html>", "  <head>",
            '    <meta name="pypi:repository-version" content="1.1">',
            "    <title>Simple index</title>", "  </head>", "  <body>"]
    root += [f'    <a href="{p}/">{p}</a><br />' for p in projects]
    root += ["  </body>", "</html>", ""]
    (out / "simple" / "index.html").write_text("\n".join(root), encoding="utf-8")
    (out / "simple" / "index.json").write_text(json.dumps({
        "meta": {"api-version": "1.1"},
        "projects": [{"name": p} for p in projects],
    }) + "\n", encoding="utf-8")

    extra = write_cran(out, CRAN_PACKAGES)
    # The NuGet feed's URLs are absolute (the appliance resolves them against its configured origin).
    extra.update(write_nuget(out, f"http://127.0.0.1:{args.port}/" if args.port else "http://127.0.0.1:1/",
                             NUGET_ID, NUGET_VERSIONS))

    print(json.dumps({"out": str(out), "projects": projects, "links": args.links, **extra}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
