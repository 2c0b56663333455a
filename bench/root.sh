#!/usr/bin/env bash
# The PyPI root index /pypi/simple/ at PyPI's real size (886k names), SafeHaven vs nginx, loopback only.
#
#   bash bench/root.sh          (or: bash bench/run.sh --root-only)
#
# Upstream: the names of ../shared/data/pypi-projects-2026-11.tsv.gz (relative to the repository
# root) as PyPI serves them, PEP 691 JSON (and PEP 503 HTML), from bench/upstream_server.py.
# Skipped with a message (exit 0) when that file is absent.
# Measures: the cold first request (upstream fetch + parse + render + gzip), RSS after the first
# renders, then wrk at ROOT_CONNS (16) connections at Tier 0 with pip's Accept, with and without
# Accept-Encoding: gzip, against SafeHaven and nginx serving the same bytes: req/s, p99 latency,
# SafeHaven's peak RSS (VmHWM) under load. Also the cold first request against an HTML upstream.
# Writes bench/out/root/RESULTS.root.md and the root-index section of bench/RESULTS.md.
#
# Knobs: ROUNDS=3 ROUND_SECONDS=5 WARMUP=5 ROOT_CONNS=16 MAX_OTHER_CPU=0.25 RETRIES=2 QUIET_BUDGET=120
# SERVER_CPUS=0 CLIENT_CPUS=1 SKIP_BUILD=0 BENCH_NETNS=1 ROOT_TSV=<path> ROOT_HTML_COLD=1
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
OUT="$BENCH_DIR/out/root"
TSV=${ROOT_TSV:-$REPO/../shared/data/pypi-projects-2026-11.tsv.gz}

CMD_LINE="bash bench/root.sh"
for v in ROUNDS ROUND_SECONDS WARMUP ROOT_CONNS MAX_OTHER_CPU RETRIES QUIET_BUDGET SERVER_CPUS CLIENT_CPUS SKIP_BUILD BENCH_NETNS ROOT_TSV ROOT_HTML_COLD; do
    if [[ -n "${!v+x}" && -z "${BENCH_CMD_LINE:-}" ]]; then CMD_LINE="$v=$(printf %q "${!v}") $CMD_LINE"; fi
done
export BENCH_CMD_LINE="${BENCH_CMD_LINE:-$CMD_LINE}"

if [[ ! -f $TSV ]]; then
    echo "root.sh: SKIPPED: the PyPI project snapshot $TSV is absent (expected at ../shared/data/ relative to the repository root; set ROOT_TSV to use another copy)" >&2
    exit 0
fi

ROUNDS=${ROUNDS:-3}
ROUND_SECONDS=${ROUND_SECONDS:-5}
WARMUP=${WARMUP:-5}
ROOT_CONNS=${ROOT_CONNS:-16}
MAX_OTHER_CPU=${MAX_OTHER_CPU:-0.25}
RETRIES=${RETRIES:-2}
QUIET_BUDGET=${QUIET_BUDGET:-120}
SKIP_BUILD=${SKIP_BUILD:-0}
ROOT_HTML_COLD=${ROOT_HTML_COLD:-1}
SERVER_CPUS=${SERVER_CPUS:-0}
if [[ $(nproc) -ge 2 ]]; then CLIENT_CPUS=${CLIENT_CPUS:-1}; else CLIENT_CPUS=${CLIENT_CPUS:-0}; fi

# Loopback-only isolation, as in run.sh.
source "$BENCH_DIR/isolate.sh"
bench_isolate "$@"
for c in python3 curl wrk nginx taskset dotnet; do command -v "$c" >/dev/null || die "missing '$c'"; done

bench_track_processes
stop() { kill -TERM "$1" 2>/dev/null || true; for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done; kill -KILL "$1" 2>/dev/null || true; }
reset_hwm() { echo 5 >"/proc/$1/clear_refs" 2>/dev/null || log "cannot reset VmHWM of $1"; }

mkdir -p "$OUT"/{upstream,logs,nginx/root,nginx/tmp}
rm -rf "$OUT/results" "$OUT"/safehaven-data* "$OUT"/logs/* "$OUT"/nginx/root/*
mkdir -p "$OUT/results"
R="$OUT/results"
CHECKS=()
check() { CHECKS+=("$1"); log "check: $1"; }

UP_PORT=$(py freeport); SH_PORT=$(py freeport); NG_PORT=$(py freeport)
while [[ $SH_PORT == "$UP_PORT" ]]; do SH_PORT=$(py freeport); done
while [[ $NG_PORT == "$UP_PORT" || $NG_PORT == "$SH_PORT" ]]; do NG_PORT=$(py freeport); done
UP="http://127.0.0.1:$UP_PORT"; SH="http://127.0.0.1:$SH_PORT"; NG="http://127.0.0.1:$NG_PORT"

log "fixture: the root index from $TSV (written once, reused while the snapshot is unchanged)"
python3 "$BENCH_DIR/make_root_fixture.py" --tsv "$TSV" --out "$OUT/upstream" >"$R/fixture.json"
NAMES=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["names"])' "$R/fixture.json")
SIZES=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("PEP 691 JSON %.1f MiB, PEP 503 HTML %.1f MiB" % (d["json_bytes"]/2**20, d["html_bytes"]/2**20))' "$R/fixture.json")
check "upstream root: $NAMES names; $SIZES"

SH_DLL="$REPO/appliance/SafeHaven.Appliance/bin/Release/net10.0/safehaven.dll"
if [[ $SKIP_BUILD != 1 ]]; then
    log "building the appliance (Release, --no-restore)"
    dotnet build "$REPO/appliance/SafeHaven.Appliance/SafeHaven.Appliance.csproj" -c Release --no-restore \
        --disable-build-servers -nologo -v:q >"$OUT/logs/build.log" 2>&1 || { tail -20 "$OUT/logs/build.log" >&2; die "build failed"; }
fi
[[ -f $SH_DLL ]] || die "$SH_DLL not found"

PIP_ACCEPT="application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"
GZ="gzip, deflate"

start_upstream() { # format
    taskset -c "$CLIENT_CPUS" python3 "$BENCH_DIR/upstream_server.py" --port "$UP_PORT" --directory "$OUT/upstream" \
        --format "$1" --log "$OUT/logs/upstream-requests.log" >>"$OUT/logs/upstream.log" 2>&1 &
    UP_PID=$!; PIDS+=("$UP_PID")
    py wait-http "$UP/simple/" --timeout 20 >/dev/null || die "upstream did not start"
}
start_safehaven() { # data-dir-suffix
    SafeHaven__Urls="$SH" SafeHaven__DataDirectory="$OUT/safehaven-data$1" SafeHaven__Tier=0 \
    SafeHaven__Mirrors__pypi__Upstream="$UP/simple/" SafeHaven__Mirrors__pypi__IndexTtlSeconds=3600 \
    SafeHaven__Mirrors__pypi__Enabled=true \
        taskset -c "$SERVER_CPUS" dotnet "$SH_DLL" serve >"$OUT/logs/safehaven$1.log" 2>&1 &
    SH_PID=$!; PIDS+=("$SH_PID")
    py wait-http "$SH/readyz" --timeout 120 >/dev/null || { tail -30 "$OUT/logs/safehaven$1.log" >&2; die "SafeHaven did not become ready"; }
}
# The first request: upstream fetch, parse, render, gzip, then the answer. Prints "status seconds bytes".
timed_get() { # accept accept-encoding body-out
    taskset -c "$CLIENT_CPUS" curl -sS --noproxy '*' --max-time 300 -H "Accept: $1" -H "Accept-Encoding: $2" \
        -o "$3" -w '%{http_code} %{time_total} %{size_download}' "$SH/pypi/simple/"
}

# ------------------------------------------------------------------ cold, JSON upstream, then load
start_upstream negotiate
start_safehaven ""
IDLE=$(kib VmRSS "$SH_PID")
check "SafeHaven ready (pid $SH_PID), RSS idle $(mib "$IDLE") MiB"
reset_hwm "$SH_PID"
read -r st cold_s size <<<"$(timed_get "$PIP_ACCEPT" "" "$OUT/nginx/root/root.json")"
sleep 1
COLD_HWM=$(kib VmHWM "$SH_PID"); AFTER_JSON=$(kib VmRSS "$SH_PID")
[[ $st == 200 ]] || die "first request: status $st"
got=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["projects"]))' "$OUT/nginx/root/root.json")
check "cold first request, JSON upstream (fetch, parse, render JSON, gzip, answer ${size} B): ${cold_s} s, status $st, $got names (upstream $NAMES); RSS peak $(mib "$COLD_HWM") MiB, after $(mib "$AFTER_JSON") MiB"
[[ $got == "$NAMES" ]] || die "SafeHaven lists $got names, upstream $NAMES"
grep -o 'Rendered the PyPI root index[^)]*)' "$OUT/logs/safehaven.log" | head -1 | sed 's/^/  log: /' >&2 || true
read -r st warm_s size <<<"$(timed_get "$PIP_ACCEPT" "$GZ" "$OUT/nginx/root/root.json.gz")"
gunzip -c "$OUT/nginx/root/root.json.gz" | cmp -s - "$OUT/nginx/root/root.json" \
    && check "gzip answer: ${size} B in ${warm_s} s, decompresses to the identity body" || die "the gzip body does not decompress to the identity body"
read -r st html_s size <<<"$(timed_get "text/html" "" "$OUT/nginx/root/root.html")"
n=$(grep -c '<a href=' "$OUT/nginx/root/root.html" || true)
check "first HTML request (render HTML from the cached names, gzip): ${html_s} s, ${size} B, $n links"
sleep 1
AFTER_RENDERS=$(kib VmRSS "$SH_PID"); RENDER_HWM=$(kib VmHWM "$SH_PID")
check "RSS after the first renders (JSON and HTML, each plain + gzip kept): $(mib "$AFTER_RENDERS") MiB (peak so far $(mib "$RENDER_HWM") MiB)"
ETAG=$(curl -sS --noproxy '*' -D - -o /dev/null -H "Accept: $PIP_ACCEPT" "$SH/pypi/simple/" | awk 'tolower($1)=="etag:"{print $2}' | tr -d '\r')
st=$(curl -sS --noproxy '*' -o /dev/null -w '%{http_code}' -H "Accept: $PIP_ACCEPT" -H "If-None-Match: $ETAG" "$SH/pypi/simple/")
check "If-None-Match $ETAG: $st"
n=$(grep -c 'Rendered the PyPI root index' "$OUT/logs/safehaven.log" || true)
check "renders so far: $n (one per representation)"

# nginx with the same bytes.
NGX="$OUT/nginx"
USER_LINE=""; [[ $(id -u) == 0 ]] && USER_LINE="user root;"
JSON_CT="application/vnd.pypi.simple.v1+json"
cat >"$NGX/nginx.conf" <<NGINX
$USER_LINE
worker_processes 1;
daemon off;
pid $NGX/nginx.pid;
error_log $NGX/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 10000000;
    server_tokens off;
    client_body_temp_path $NGX/tmp/client_body;
    proxy_temp_path $NGX/tmp/proxy;
    fastcgi_temp_path $NGX/tmp/fastcgi;
    uwsgi_temp_path $NGX/tmp/uwsgi;
    scgi_temp_path $NGX/tmp/scgi;
    types { }
    map \$http_accept_encoding \$root_gz { "~*gzip" _gz; default ""; }
    server {
        listen 127.0.0.1:$NG_PORT;
        location = /pypi/simple/ { rewrite ^ /_root\$root_gz last; }
        location = /_root { internal; default_type "$JSON_CT"; alias $NGX/root/root.json; }
        location = /_root_gz { internal; default_type "$JSON_CT"; add_header Content-Encoding gzip; add_header Vary "Accept, Accept-Encoding"; alias $NGX/root/root.json.gz; }
        location = /readyz { default_type text/plain; return 200 "ok\n"; }
    }
}
NGINX
taskset -c "$SERVER_CPUS" nginx -p "$NGX" -e "$NGX/error.log" -c "$NGX/nginx.conf" >"$OUT/logs/nginx.log" 2>&1 &
NG_PID=$!; PIDS+=("$NG_PID")
py wait-http "$NG/readyz" --timeout 20 >/dev/null || die "nginx did not start; see $NGX/error.log"
for enc in "" "$GZ"; do
    a=$(curl -sS --noproxy '*' -H "Accept: $PIP_ACCEPT" -H "Accept-Encoding: $enc" -w '%{http_code} %{content_type} %header{content-encoding}' -o "$R/a" "$NG/pypi/simple/")
    b=$(curl -sS --noproxy '*' -H "Accept: $PIP_ACCEPT" -H "Accept-Encoding: $enc" -w '%{http_code} %{content_type} %header{content-encoding}' -o "$R/b" "$SH/pypi/simple/")
    if cmp -s "$R/a" "$R/b" && [[ $a == "$b" ]]; then check "Accept-Encoding '${enc}': nginx and SafeHaven send identical bodies ($(stat -c %s "$R/a") B) and status/type/encoding ($a)"
    else check "Accept-Encoding '${enc}': DIFFERENT: nginx '$a', SafeHaven '$b'"; fi
    rm -f "$R/a" "$R/b"
done
NG_WORKER=$(cat "/proc/$NG_PID/task/$NG_PID/children" 2>/dev/null | awk '{print $1}'); [[ -n $NG_WORKER ]] || NG_WORKER=$NG_PID

WRK_ARGS="-t1 -c$ROOT_CONNS --latency --timeout 10s"
NOMINAL=$(( 2 * (2 * WARMUP + 2 * ROUNDS * ROUND_SECONDS + 2 * ROUNDS) ))
QUIET_DEADLINE=$(( $(date +%s) + NOMINAL + QUIET_BUDGET ))
compare() { # scenario [header]
    local h=(); [[ -z ${2:-} ]] || h=(--header "$2")
    py wrk-compare --scenario "$1" --wrk-args "$WRK_ARGS" --accept "$PIP_ACCEPT" "${h[@]}" --cpus "$CLIENT_CPUS" \
        --warmup "$WARMUP" --rounds "$ROUNDS" --round-seconds "$ROUND_SECONDS" --outdir "$R" \
        --target "safehaven=$SH/pypi/simple/=$SH_PID" --target "nginx=$NG/pypi/simple/=$NG_WORKER" \
        --max-other "$MAX_OTHER_CPU" --retries "$RETRIES" --quiet-first --deadline "$QUIET_DEADLINE" \
        || log "wrk reported a failure in $1, see $R/wrk-$1-*.txt"
    alive "$SH_PID" SafeHaven; alive "$NG_PID" nginx
}
reset_hwm "$SH_PID"
compare root-json-gz "Accept-Encoding: $GZ"
GZ_HWM=$(kib VmHWM "$SH_PID")
reset_hwm "$SH_PID"
compare root-json
PLAIN_HWM=$(kib VmHWM "$SH_PID")
END_RSS=$(kib VmRSS "$SH_PID")
n=$(grep -c 'Rendered the PyPI root index' "$OUT/logs/safehaven.log" || true)
check "renders after all load: $n; upstream GETs of /simple/: $(grep -c '^GET /simple/ ' "$OUT/logs/upstream-requests.log" || true)"
check "SafeHaven peak RSS (VmHWM) under load: gzip $(mib "$GZ_HWM") MiB, uncompressed $(mib "$PLAIN_HWM") MiB; RSS at the end $(mib "$END_RSS") MiB"
stop "$SH_PID"; stop "$NG_PID"; stop "$UP_PID"

# ------------------------------------------------------------------ cold, HTML upstream
HTML_COLD=""
if [[ $ROOT_HTML_COLD == 1 ]]; then
    start_upstream html
    start_safehaven "-html"
    reset_hwm "$SH_PID"
    read -r st hcold_s size <<<"$(timed_get "$PIP_ACCEPT" "" "$R/root-from-html.json")"
    sleep 1
    HC_HWM=$(kib VmHWM "$SH_PID"); HC_RSS=$(kib VmRSS "$SH_PID")
    got=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["projects"]))' "$R/root-from-html.json" 2>/dev/null || echo 0)
    check "cold first request, HTML upstream (PEP 503 page, parse, render JSON, gzip): ${hcold_s} s, status $st, $got names; RSS peak $(mib "$HC_HWM") MiB, after $(mib "$HC_RSS") MiB"
    HTML_COLD="$hcold_s $(mib "$HC_HWM") $(mib "$HC_RSS") $got"
    rm -f "$R/root-from-html.json"
    stop "$SH_PID"; stop "$UP_PID"
fi

# ------------------------------------------------------------------ report
printf '%s\n' "${CHECKS[@]}" >"$R/checks.txt"
OTHER=$(ps -eo pid,pcpu,etimes,args --sort=-pcpu | awk 'NR>1 && $2>5 {print $0}' | head -8 | cut -c1-160 || true)
export R NAMES cold_s AFTER_JSON COLD_HWM AFTER_RENDERS GZ_HWM PLAIN_HWM IDLE HTML_COLD NETWORK SERVER_CPUS CLIENT_CPUS ROUNDS ROUND_SECONDS ROOT_CONNS OTHER
python3 "$BENCH_DIR/root_report.py" --results "$R" --out "$OUT/RESULTS.root.md" --update "$BENCH_DIR/RESULTS.md"
log "wrote $OUT/RESULTS.root.md and the root-index section of bench/RESULTS.md"
