#!/usr/bin/env bash
# Replicas: a cached PyPI project page and a cached wheel through nginx balancing ONE and then TWO SafeHaven replicas,
# against nginx serving the same bytes statically, on loopback only. The replicas share one PostgreSQL (Debian's,
# started here in bench/out/replicas/pg) and one S3 bucket (s3rver from tests/tools/s3rver), as a scale-out site's do
# (appliance/deploy/scale-out.md).
#
#   bash bench/replicas.sh            writes bench/out/replicas/results.md and prints it
#
# Knobs (environment): ROUNDS=3 ROUND_SECONDS=8 PAGE_CONNS=32 WHEEL_CONNS=8 VERSIONS=300 WHEEL_MIB=4 SKIP_BUILD=0 CONFIGURATION=Release
# STORE=shared (PostgreSQL + s3rver) | local (each replica its own SQLite + filesystem: the balancer alone, for a build
# that refuses Provider=postgres) BENCH_NETNS=1.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
OUT="$BENCH_DIR/out/replicas"
ROUNDS=${ROUNDS:-3}
ROUND_SECONDS=${ROUND_SECONDS:-8}
PAGE_CONNS=${PAGE_CONNS:-32}
WHEEL_CONNS=${WHEEL_CONNS:-8}
VERSIONS=${VERSIONS:-300}
WHEEL_MIB=${WHEEL_MIB:-4}
SKIP_BUILD=${SKIP_BUILD:-0}
CONFIGURATION=${CONFIGURATION:-Release}
STORE=${STORE:-shared}
ACCEPT='application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01'

source "$BENCH_DIR/isolate.sh"
bench_isolate "$@"
for c in python3 curl wrk nginx dotnet node; do command -v "$c" >/dev/null || die "missing '$c' (Debian: apt-get install -y nginx-light wrk curl nodejs)"; done
bench_track_processes

rm -rf "$OUT"; mkdir -p "$OUT"/{upstream,static,logs,tmp}
port() { py freeport; }

# ---------------------------------------------------------------- build
APPLIANCE="$REPO/appliance/SafeHaven.Appliance/bin/$CONFIGURATION/net10.0/safehaven.dll"
if [[ $SKIP_BUILD != 1 ]]; then
    log "building the appliance ($CONFIGURATION)"
    dotnet build "$REPO/appliance/SafeHaven.Appliance/SafeHaven.Appliance.csproj" -c "$CONFIGURATION" --no-restore -v q -nologo >"$OUT/logs/build.log" 2>&1 || die "build failed: $OUT/logs/build.log"
fi
[[ -f $APPLIANCE ]] || die "no appliance build at $APPLIANCE"

# ---------------------------------------------------------------- upstream fixture (PEP 503 HTML, a static mirror's shape)
log "fixtures: benchproj with $VERSIONS versions, benchwheel of $WHEEL_MIB MiB"
python3 - "$OUT/upstream" "$VERSIONS" "$WHEEL_MIB" <<'PY'
import hashlib, os, sys
root, versions, mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(f"{root}/files", exist_ok=True)
def wheel(project, version, size):
    name = f"{project}-{version}-py3-none-any.whl"
    data = os.urandom(size)
    open(f"{root}/files/{name}", "wb").write(data)
    return name, hashlib.sha256(data).hexdigest()
def page(project, files):
    os.makedirs(f"{root}/simple/{project}", exist_ok=True)
    links = "\n".join(f'<a href="../../files/{n}#sha256={h}" data-requires-python="&gt;=3.7">{n}</a><br/>' for n, h in files)
    open(f"{root}/simple/{project}/index.html", "w").write(f"<!DOCTYPE html>\n<html><body>\n{links}\n</body></html>\n")
page("benchproj", [wheel("benchproj", f"1.{i}", 2048) for i in range(versions)])
page("benchwheel", [wheel("benchwheel", "1.0", mib * 1024 * 1024)])
open(f"{root}/simple/index.html", "w").write('<!DOCTYPE html>\n<html><body><a href="benchproj/">benchproj</a><a href="benchwheel/">benchwheel</a></body></html>\n')
PY
WHEEL_FILE=benchwheel-1.0-py3-none-any.whl
UPSTREAM_PORT=$(port)
mkdir -p "$OUT/nginx-upstream/tmp"
nginx_conf "$OUT/nginx-upstream" "$UPSTREAM_PORT" "$OUT/upstream" "index index.html;"
nginx -p "$OUT/nginx-upstream" -e "$OUT/nginx-upstream/error.log" -c "$OUT/nginx-upstream/nginx.conf" >"$OUT/logs/upstream.log" 2>&1 &
PIDS+=($!)
py wait-http "http://127.0.0.1:$UPSTREAM_PORT/readyz" --timeout 20

# ---------------------------------------------------------------- shared PostgreSQL and s3rver
declare -a SHARED_ENV=()
bench_extra_cleanup() { [[ -n "${PG_CTL:-}" ]] && $PG_AS "$PG_CTL" -D "$OUT/pg/data" -m immediate stop >/dev/null 2>&1 || true; }
if [[ $STORE == shared ]]; then
    PG_BIN=$(pg_config --bindir 2>/dev/null || true)
    [[ -x "$PG_BIN/initdb" ]] || PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [[ -x "$PG_BIN/initdb" ]] || die "PostgreSQL is not installed (apt-get install -y postgresql)"
    PG_PORT=$(port); PG_CTL="$PG_BIN/pg_ctl"; PG_AS=""
    mkdir -p "$OUT/pg"
    if [[ $(id -u) == 0 ]]; then PG_AS="runuser -u postgres --"; chown postgres "$OUT/pg"; fi
    $PG_AS "$PG_BIN/initdb" -D "$OUT/pg/data" -U postgres --auth=trust >"$OUT/logs/initdb.log" 2>&1 || die "initdb failed: $OUT/logs/initdb.log"
    $PG_AS "$PG_CTL" -D "$OUT/pg/data" -l "$OUT/pg/server.log" -w \
        -o "-p $PG_PORT -k $OUT/pg -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null || die "PostgreSQL did not start: $OUT/pg/server.log"
    $PG_AS "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE safehaven" >/dev/null
    S3RVER="$REPO/tests/tools/s3rver/node_modules/s3rver/bin/s3rver.js"
    [[ -f $S3RVER ]] || die "s3rver is not installed: npm ci --prefix tests/tools/s3rver"
    S3_PORT=$(port); mkdir -p "$OUT/s3"
    node "$S3RVER" -d "$OUT/s3" -a 127.0.0.1 -p "$S3_PORT" --silent --no-vhost-buckets --configure-bucket safehaven >"$OUT/logs/s3rver.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 100); do curl -fso /dev/null "http://127.0.0.1:$S3_PORT/" && break; sleep 0.2; done
    SHARED_ENV=(
        SafeHaven__Database__Provider=postgres
        "SafeHaven__Database__ConnectionString=Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=safehaven"
        SafeHaven__BlobStore__Provider=s3
        "SafeHaven__BlobStore__S3__ServiceUrl=http://127.0.0.1:$S3_PORT"
        SafeHaven__BlobStore__S3__Bucket=safehaven SafeHaven__BlobStore__S3__AccessKey=S3RVER SafeHaven__BlobStore__S3__SecretKey=S3RVER
    )
fi

# ---------------------------------------------------------------- two replicas
declare -a REPLICA_PORTS=()
for i in 1 2; do
    p=$(port); REPLICA_PORTS+=("$p"); mkdir -p "$OUT/replica$i"
    (cd "$OUT/replica$i" && exec env "${SHARED_ENV[@]}" SafeHaven__Urls="http://127.0.0.1:$p" SafeHaven__DataDirectory="$OUT/replica$i" \
        SafeHaven__Tier=0 SafeHaven__Mirrors__pypi__Upstream="http://127.0.0.1:$UPSTREAM_PORT/simple/" SafeHaven__Mirrors__pypi__IndexTtlSeconds=3600 \
        dotnet "$APPLIANCE" serve >"$OUT/logs/replica$i.log" 2>&1) &
    PIDS+=($!)
    # One at a time: the first creates the schema.
    py wait-http "http://127.0.0.1:$p/readyz" --timeout 180 || die "replica $i did not become ready: $OUT/logs/replica$i.log"
done

# ---------------------------------------------------------------- balancers (one replica, two replicas) and the static reference
balancer() { # name port replica-ports...
    local dir="$OUT/$1" listen=$2; shift 2
    mkdir -p "$dir/tmp"
    {
        echo "$USER_LINE worker_processes 1; daemon off; pid $dir/nginx.pid; error_log $dir/error.log warn; events { worker_connections 4096; }"
        echo "http { access_log off; client_body_temp_path $dir/tmp/b; proxy_temp_path $dir/tmp/p; fastcgi_temp_path $dir/tmp/f; uwsgi_temp_path $dir/tmp/u; scgi_temp_path $dir/tmp/s;"
        echo "  upstream safehaven {"; for p in "$@"; do echo "    server 127.0.0.1:$p max_fails=1 fail_timeout=10s;"; done; echo "    keepalive 64; }"
        echo "  server { listen 127.0.0.1:$listen; location / { proxy_pass http://safehaven; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_set_header Host \$http_host;"
        echo "    proxy_next_upstream error timeout http_502 http_503; } } }"
    } >"$dir/nginx.conf"
    nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" >"$OUT/logs/$1.log" 2>&1 &
    PIDS+=($!)
}
LB1=$(port); LB2=$(port)
balancer lb1 "$LB1" "${REPLICA_PORTS[0]}"
balancer lb2 "$LB2" "${REPLICA_PORTS[@]}"
py wait-http "http://127.0.0.1:$LB2/readyz" --timeout 20

# Warm both replicas (page cached in memory, wheel stored) and keep the exact bytes they serve for the static reference.
PAGE=pypi/simple/benchproj/
WHEEL=pypi/packages/benchwheel/$WHEEL_FILE
curl -fsS -o /dev/null "http://127.0.0.1:$LB2/pypi/simple/benchwheel/"
for p in "${REPLICA_PORTS[@]}"; do
    for _ in 1 2 3; do
        curl -fsS -H "Accept: $ACCEPT" -o "$OUT/tmp/page" -D "$OUT/tmp/page.headers" "http://127.0.0.1:$p/$PAGE"
        curl -fsS -o "$OUT/tmp/wheel" "http://127.0.0.1:$p/$WHEEL"
    done
done
cmp -s "$OUT/tmp/wheel" "$OUT/upstream/files/$WHEEL_FILE" || die "the wheel served differs from upstream's"
mkdir -p "$OUT/static/$PAGE" "$OUT/static/pypi/packages/benchwheel"
cp "$OUT/tmp/page" "$OUT/static/${PAGE}index.json"
cp "$OUT/tmp/wheel" "$OUT/static/$WHEEL"
STATIC=$(port)
mkdir -p "$OUT/nginx-static/tmp"
nginx_conf "$OUT/nginx-static" "$STATIC" "$OUT/static" "index index.json;"
nginx -p "$OUT/nginx-static" -e "$OUT/nginx-static/error.log" -c "$OUT/nginx-static/nginx.conf" >"$OUT/logs/static.log" 2>&1 &
PIDS+=($!)
py wait-http "http://127.0.0.1:$STATIC/readyz" --timeout 20

# ---------------------------------------------------------------- measure
measure() { # label url conns -> prints "requests/s bytes/s" (medians over ROUNDS)
    local label=$1 url=$2 conns=$3 r
    wrk -t1 -c"$conns" -d2s -H "Accept: $ACCEPT" "$url" >/dev/null 2>&1 || true
    for r in $(seq "$ROUNDS"); do
        wrk -t1 -c"$conns" -d"${ROUND_SECONDS}s" --timeout 10s -H "Accept: $ACCEPT" "$url" >"$OUT/logs/wrk-$label-$r.txt" 2>&1
        py wrk-parse "$OUT/logs/wrk-$label-$r.txt"
    done | python3 -c '
import json, sys, statistics
docs, buf = [], ""
for line in sys.stdin:
    buf += line
    if line.startswith("}"):
        docs.append(json.loads(buf)); buf = ""
bad = sum(d["non_2xx_3xx"] + d["socket_errors"] for d in docs)
print(statistics.median(d["requests_per_sec"] for d in docs), statistics.median(d["transfer_bytes_per_sec"] for d in docs), bad)'
}
declare -A RPS BPS BAD
for target in static lb1 lb2; do
    case $target in static) base="http://127.0.0.1:$STATIC" ;; lb1) base="http://127.0.0.1:$LB1" ;; lb2) base="http://127.0.0.1:$LB2" ;; esac
    for what in page wheel; do
        if [[ $what == page ]]; then url="$base/$PAGE"; conns=$PAGE_CONNS; else url="$base/$WHEEL"; conns=$WHEEL_CONNS; fi
        log "wrk: $what via $target ($ROUNDS x ${ROUND_SECONDS}s, $conns connections)"
        read -r RPS[$target-$what] BPS[$target-$what] BAD[$target-$what] < <(measure "$target-$what" "$url" "$conns")
    done
done

# ---------------------------------------------------------------- report
{
    echo "## Replicas: cached page and artifact through nginx, one replica vs two"
    echo
    echo "\`bash bench/replicas.sh\` (STORE=$STORE, $CONFIGURATION build, ROUNDS=$ROUNDS × ${ROUND_SECONDS}s, wrk -t1), $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)), load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); $NETWORK."
    [[ $STORE == shared ]] && echo "Replicas share PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') (metadata) and s3rver (blobs)."
    echo
    echo "| request | connections | nginx static | 1 replica via nginx | 2 replicas via nginx | 1 replica / static | 2 replicas / static | 2 / 1 |"
    echo "|---|---|---|---|---|---|---|---|"
    for what in page wheel; do
        if [[ $what == page ]]; then name="project page, $VERSIONS versions (PEP 691 JSON), req/s"; conns=$PAGE_CONNS; else name="$WHEEL_MIB MiB wheel, MiB/s"; conns=$WHEEL_CONNS; fi
        python3 - "$name" "$conns" "$what" "${RPS[static-$what]}" "${RPS[lb1-$what]}" "${RPS[lb2-$what]}" "${BPS[static-$what]}" "${BPS[lb1-$what]}" "${BPS[lb2-$what]}" "${BAD[static-$what]}" "${BAD[lb1-$what]}" "${BAD[lb2-$what]}" <<'PY'
import sys
name, conns, what = sys.argv[1:4]
rps = [float(x) for x in sys.argv[4:7]]
bps = [float(x) / 2**20 for x in sys.argv[7:10]]
bad = [int(x) for x in sys.argv[10:13]]
v = rps if what == "page" else bps
fmt = (lambda x: f"{x:,.0f}") if what == "page" else (lambda x: f"{x:,.1f}")
note = "" if sum(bad) == 0 else f" (errors or non-2xx: {bad})"
print(f"| {name}{note} | {conns} | {fmt(v[0])} | {fmt(v[1])} | {fmt(v[2])} | {v[1]/v[0]:.2f}x | {v[2]/v[0]:.2f}x | {v[2]/v[1]:.2f}x |")
PY
    done
} | tee "$OUT/results.md"
