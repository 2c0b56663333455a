#!/usr/bin/env bash
# SafeHaven (PyPI, CRAN, NuGet mirrors) vs nginx, side by side, in one run, on loopback only.
#
#   bash bench/run.sh                 full run; writes bench/RESULTS.md
#   bash bench/run.sh --nginx-only    no appliance: tests fixtures, upstream, nginx and wrk
#                                     (writes bench/out/RESULTS.nginx-only.md, not RESULTS.md)
#   bash bench/run.sh --root-only     only the PyPI root index at PyPI scale (bench/root.sh, ~3 minutes;
#                                     updates the root-index section of RESULTS.md)
#   bash bench/run.sh --apt-only      only the apt mirror: a full suite's Packages index and a cached .deb, SafeHaven vs
#                                     nginx vs apt-cacher-ng (bench/apt.sh, 4-5 minutes; updates the apt section of RESULTS.md)
#   bash bench/run.sh --conda-only    only the conda mirror: a large filtered repodata.json and its .zst, SafeHaven vs nginx
#                                     (bench/conda.sh, 3-5 minutes; updates the conda section of RESULTS.md)
#
# Knobs (environment): ROUNDS=3 ROUND_SECONDS=5 WARMUP=5 MAX_OTHER_CPU=0.25 RETRIES=2 QUIET_BUDGET=300 PAGE_CONNS=32 WHEEL_CONNS=4 SERVER_CPUS=0
# CLIENT_CPUS=1 UPSTREAM_FORMAT=negotiate|html LINKS=absolute|relative SKIP_BUILD=0 NGINX_SENDFILE=on|off
# BENCH_NETNS=1 (run inside a private network namespace that has only loopback)
# SAFEHAVEN_CMD=... (start command replacing `dotnet .../safehaven.dll serve`; harness tests only).
# See bench/README.md.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
OUT="$BENCH_DIR/out"

MODE=full
for a in "$@"; do
    case "$a" in
        --nginx-only) MODE=nginx-only ;;
        --root-only) exec bash "$BENCH_DIR/root.sh" ;;
        --apt-only) exec bash "$BENCH_DIR/apt.sh" ;;
        --conda-only) exec bash "$BENCH_DIR/conda.sh" ;;
        -h|--help) sed -n "2,20p" "$0"; exit 0 ;;
        *) echo "unknown argument: $a" >&2; exit 2 ;;
    esac
done

# The exact command, with any knob that was changed from its default.
CMD_LINE="bash bench/run.sh${*:+ $*}"
for v in ROUNDS ROUND_SECONDS WARMUP NGINX_SENDFILE MAX_OTHER_CPU RETRIES QUIET_BUDGET PAGE_CONNS WHEEL_CONNS SERVER_CPUS CLIENT_CPUS UPSTREAM_FORMAT LINKS SKIP_BUILD BENCH_NETNS SAFEHAVEN_CMD; do
    if [[ -n "${!v+x}" && -z "${BENCH_CMD_LINE:-}" ]]; then CMD_LINE="$v=$(printf %q "${!v}") $CMD_LINE"; fi
done
export BENCH_CMD_LINE="${BENCH_CMD_LINE:-$CMD_LINE}"

ROUNDS=${ROUNDS:-3}
ROUND_SECONDS=${ROUND_SECONDS:-5}
WARMUP=${WARMUP:-5}
NGINX_SENDFILE=${NGINX_SENDFILE:-on}
MAX_OTHER_CPU=${MAX_OTHER_CPU:-0.25}
RETRIES=${RETRIES:-2}
QUIET_BUDGET=${QUIET_BUDGET:-300}
PAGE_CONNS=${PAGE_CONNS:-32}
WHEEL_CONNS=${WHEEL_CONNS:-4}
UPSTREAM_FORMAT=${UPSTREAM_FORMAT:-negotiate}
LINKS=${LINKS:-absolute}
SKIP_BUILD=${SKIP_BUILD:-0}
if [[ $(nproc) -ge 2 ]]; then
    SERVER_CPUS=${SERVER_CPUS:-0}
    CLIENT_CPUS=${CLIENT_CPUS:-1}
else
    SERVER_CPUS=${SERVER_CPUS:-0}
    CLIENT_CPUS=${CLIENT_CPUS:-0}
fi

# ---------------------------------------------------------------- loopback-only isolation
# Re-run ourselves inside a fresh network namespace: it has only "lo", so nothing
# started here (dotnet, nginx, python, curl, wrk) can reach anything else.
source "$BENCH_DIR/isolate.sh"
bench_isolate "$@"
[[ -n "${BENCH_IN_NETNS:-}" ]] || NETWORK="$NETWORK, upstream is 127.0.0.1, non-loopback sockets of SafeHaven checked with ss"

for c in python3 curl wrk nginx taskset sha256sum; do
    command -v "$c" >/dev/null || die "missing '$c' (Debian: apt-get install -y nginx-light wrk curl util-linux)"
done
[[ $MODE == full ]] && { command -v dotnet >/dev/null || die "missing dotnet"; }

# ---------------------------------------------------------------- processes and cleanup
bench_track_processes

# ---------------------------------------------------------------- layout
mkdir -p "$OUT"/{upstream,logs,nginx/root,nginx/tmp}
rm -rf "$OUT/results" "$OUT/safehaven-data" "$OUT"/logs/* "$OUT"/nginx/root/*
mkdir -p "$OUT/results" "$OUT/safehaven-data"
R="$OUT/results"
CHECKS=()
check() { CHECKS+=("$1"); log "check: $1"; }

UP_PORT=$(py freeport)
SH_PORT=$(py freeport)
NG_PORT=$(py freeport)
while [[ $SH_PORT == "$UP_PORT" ]]; do SH_PORT=$(py freeport); done
while [[ $NG_PORT == "$UP_PORT" || $NG_PORT == "$SH_PORT" ]]; do NG_PORT=$(py freeport); done
UP="http://127.0.0.1:$UP_PORT"
SH="http://127.0.0.1:$SH_PORT"
NG="http://127.0.0.1:$NG_PORT"
log "ports: upstream $UP_PORT, safehaven $SH_PORT, nginx $NG_PORT; mode $MODE"

# ---------------------------------------------------------------- fixtures + upstream
log "fixtures (the 1 GiB file is created once and reused)"
python3 "$BENCH_DIR/make_fixtures.py" --out "$OUT/upstream" --port "$UP_PORT" --links "$LINKS" >"$R/fixtures.json"
FILES="$OUT/upstream/files"
sidecar() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sha256"])' "$1.sha256"; }
FIFTY_SHA=$(sidecar "$FILES/fiftymb/fiftymb-1.0-py3-none-any.whl")
ONEGIB_SHA=$(sidecar "$FILES/onegib/onegib-1.0-py3-none-any.whl")

taskset -c "$CLIENT_CPUS" python3 "$BENCH_DIR/upstream_server.py" --port "$UP_PORT" \
    --directory "$OUT/upstream" --format "$UPSTREAM_FORMAT" --log "$OUT/logs/upstream-requests.log" \
    >"$OUT/logs/upstream.log" 2>&1 &
UP_PID=$!
PIDS+=("$UP_PID")
py wait-http "$UP/simple/" --timeout 20 || die "upstream did not start"

PAGE_HTML_ACCEPT="text/html"
PAGE_JSON_ACCEPT="application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"
# What pip sends: PAGE_JSON_ACCEPT above plus this (requests/urllib3 default).
GZ_ENCODING="gzip, deflate"
CRAN_PATH="/cran/src/contrib/PACKAGES.gz"
NUGET_PATH="/nuget/v3/flatcontainer/bigpackage/index.json"
CRAN_COUNT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cran_packages"])' "$R/fixtures.json")
NUGET_COUNT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["nuget_versions"])' "$R/fixtures.json")
WHEEL_PATH="/pypi/packages/fiftymb/fiftymb-1.0-py3-none-any.whl"
ONEGIB_PATH="/pypi/packages/onegib/onegib-1.0-py3-none-any.whl"

# ---------------------------------------------------------------- SafeHaven
SH_PID=""
SH_DLL="$REPO/appliance/SafeHaven.Appliance/bin/Release/net10.0/safehaven.dll"
if [[ $MODE == full ]]; then
    if [[ $SKIP_BUILD != 1 ]]; then
        log "building the appliance (Release, --no-restore: no package feed is contacted)"
        dotnet build "$REPO/appliance/SafeHaven.Appliance/SafeHaven.Appliance.csproj" -c Release --no-restore \
            --disable-build-servers -nologo -v:q >"$OUT/logs/build.log" 2>&1 \
            || { tail -20 "$OUT/logs/build.log" >&2; die "build failed (if packages were never restored, run 'dotnet restore' once outside the benchmark)"; }
    fi
    # SAFEHAVEN_CMD replaces the start command (only for testing this harness).
    if [[ -n "${SAFEHAVEN_CMD:-}" ]]; then read -r -a SH_START <<<"$SAFEHAVEN_CMD"
    else [[ -f $SH_DLL ]] || die "$SH_DLL not found"; SH_START=(dotnet "$SH_DLL" serve); fi
    log "starting SafeHaven on CPU $SERVER_CPUS: ${SH_START[*]}"
    SafeHaven__Urls="$SH" \
    SafeHaven__DataDirectory="$OUT/safehaven-data" \
    SafeHaven__Tier=0 \
    SafeHaven__Mirrors__pypi__Upstream="$UP/simple/" \
    SafeHaven__Mirrors__pypi__IndexTtlSeconds=3600 \
    SafeHaven__Mirrors__pypi__Enabled=true \
    SafeHaven__Mirrors__cran__Upstream="$UP/cran/" \
    SafeHaven__Mirrors__nuget__Upstream="$UP/nuget/v3/index.json" \
        taskset -c "$SERVER_CPUS" "${SH_START[@]}" >"$OUT/logs/safehaven.log" 2>&1 &
    SH_PID=$!
    PIDS+=("$SH_PID")
    if ! py wait-http "$SH/readyz" --timeout 120; then
        tail -30 "$OUT/logs/safehaven.log" >&2 || true
        die "SafeHaven did not answer 200 on /readyz"
    fi
    check "SafeHaven /readyz: 200 after start (pid $SH_PID)"

    log "warming: bigproject page (HTML, every file link fetched and hash-checked) and JSON"
    PAGE_RC=0
    py page --strict --url "$SH/pypi/simple/bigproject/" --accept "$PAGE_HTML_ACCEPT" --expect-files 500 --fetch-links \
        --body-out "$OUT/nginx/root/bigproject.html" --meta-out "$R/page-html.json" || PAGE_RC=1
    py page --strict --url "$SH/pypi/simple/bigproject/" --accept "$PAGE_JSON_ACCEPT" --expect-files 500 \
        --body-out "$OUT/nginx/root/bigproject.json" --meta-out "$R/page-json.json" || PAGE_RC=1
    py page --strict --url "$SH/pypi/simple/fiftymb/" --accept "$PAGE_HTML_ACCEPT" --expect-files 1 --fetch-links \
        --meta-out "$R/page-fiftymb.json" || PAGE_RC=1
    py page --strict --url "$SH/pypi/simple/onegib/" --accept "$PAGE_HTML_ACCEPT" --expect-files 1 \
        --meta-out "$R/page-onegib.json" || PAGE_RC=1
    # The same page as pip really asks for it (gzip accepted): the raw gzip body is saved for nginx.
    py page --strict --url "$SH/pypi/simple/bigproject/" --accept "$PAGE_JSON_ACCEPT" --accept-encoding "$GZ_ENCODING" \
        --expect-files 500 --body-out "$OUT/nginx/root/bigproject.json.gz" --meta-out "$R/page-json-gz.json" || PAGE_RC=1
    py page --strict --url "$SH/pypi/simple/bigproject/" --accept "$PAGE_HTML_ACCEPT" --accept-encoding "$GZ_ENCODING" \
        --expect-files 500 --body-out "$OUT/nginx/root/bigproject.html.gz" --meta-out "$R/page-html-gz.json" || PAGE_RC=1
    for f in page-html page-json page-json-gz page-html-gz page-fiftymb page-onegib; do
        check "$f: $(py page-summary "$R/$f.json")"
    done
    [[ $PAGE_RC == 0 ]] || die "SafeHaven's project pages are not as expected (see the checks above and $R/page-*.json); no figures recorded"
    HTML_CT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["content_type"])' "$R/page-html.json")
    JSON_CT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["content_type"])' "$R/page-json.json")
    out=$(curl -sS --noproxy '*' --max-time 120 -o "$R/fiftymb.body" -w '%{http_code} %{content_type}' "$SH$WHEEL_PATH" 2>&1) || true
    read -r st WHEEL_CT <<<"$out"
    got=$(sha256sum "$R/fiftymb.body" 2>/dev/null | cut -d' ' -f1) || true
    rm -f "$R/fiftymb.body"
    [[ $st == 200 && $got == "$FIFTY_SHA" ]] || die "SafeHaven $WHEEL_PATH: '$out', sha256 '${got:-none}' (want $FIFTY_SHA)"
    check "SafeHaven $WHEEL_PATH: 200, content type '$WHEEL_CT', sha256 matches the fixture"
    [[ -n $WHEEL_CT ]] || WHEEL_CT=application/octet-stream

    # ------------------------------------------------------------ CRAN and NuGet: warm, check, save for nginx
    warm_doc() { # name path body-out -> prints "seconds status content-type"
        local t0 t1 out
        t0=$(date +%s.%N)
        out=$(curl -sS --noproxy '*' --max-time 120 -o "$3" -w '%{http_code} %{content_type}' "$SH$2" 2>&1) || true
        t1=$(date +%s.%N)
        printf '%s %s\n' "$(python3 -c "print(round($t1 - $t0, 3))")" "$out"
    }
    read -r cran_s st CRAN_CT <<<"$(warm_doc cran "$CRAN_PATH" "$OUT/nginx/root/cran-PACKAGES.gz")"
    n=$(gzip -dc "$OUT/nginx/root/cran-PACKAGES.gz" 2>/dev/null | grep -c '^Package: ' || true)
    check "SafeHaven $CRAN_PATH (first fetch, read-through): status $st, content type '$CRAN_CT', $(stat -c %s "$OUT/nginx/root/cran-PACKAGES.gz") bytes gzip, $n 'Package:' entries after gunzip (upstream has $CRAN_COUNT), ${cran_s} s"
    [[ $st == 200 && $n -gt 0 ]] || die "SafeHaven did not serve $CRAN_PATH (status $st, $n entries); see $OUT/logs/safehaven.log"
    read -r nuget_s st NUGET_CT <<<"$(warm_doc nuget "$NUGET_PATH" "$OUT/nginx/root/nuget-bigpackage-index.json")"
    n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["versions"]))' "$OUT/nginx/root/nuget-bigpackage-index.json" 2>/dev/null || echo "unparseable")
    check "SafeHaven $NUGET_PATH (first fetch, read-through): status $st, content type '$NUGET_CT', $(stat -c %s "$OUT/nginx/root/nuget-bigpackage-index.json") bytes, $n versions (upstream has $NUGET_COUNT), ${nuget_s} s"
    [[ $st == 200 && $n != unparseable ]] || { tail -20 "$OUT/logs/safehaven.log" >&2; die "SafeHaven did not serve $NUGET_PATH (status $st); see $OUT/logs/safehaven.log"; }
    for p in /cran/src/contrib/PACKAGES.gz /cran/src/contrib/PACKAGES /nuget/v3/index.json /nuget/v3/registration/bigpackage/index.json /nuget/v3/flatcontainer/bigpackage/index.json; do
        n=$(grep -c "^GET $p " "$OUT/logs/upstream-requests.log" || true)
        check "upstream GETs of $p so far: $n"
    done

    # ------------------------------------------------------------ RSS during a 1 GiB download
    CURL_DL=(taskset -c "$CLIENT_CPUS" curl -sS --noproxy '*' -o /dev/null --max-time 300
             -w '%{http_code} %{size_download} %{time_total}' "$SH$ONEGIB_PATH")
    log "RSS: cold 1 GiB download (read-through from upstream)"
    py rss --pid "$SH_PID" --out "$R/rss-cold.json" --samples-out "$R/rss-cold.csv" -- "${CURL_DL[@]}" \
        || log "cold download failed, see $R/rss-cold.json"
    alive "$SH_PID" SafeHaven
    log "RSS: warm 1 GiB download (served from the store)"
    py rss --pid "$SH_PID" --out "$R/rss-warm.json" --samples-out "$R/rss-warm.csv" -- "${CURL_DL[@]}" \
        || log "warm download failed, see $R/rss-warm.json"
    alive "$SH_PID" SafeHaven
    got=$(curl -sS --noproxy '*' --max-time 300 "$SH$ONEGIB_PATH" | sha256sum | cut -d' ' -f1)
    if [[ $got == "$ONEGIB_SHA" ]]; then check "1 GiB file served by SafeHaven: sha256 matches the fixture"
    else check "1 GiB file served by SafeHaven: sha256 MISMATCH ($got, want $ONEGIB_SHA)"; fi
    n=$(grep -c "^GET /files/onegib/" "$OUT/logs/upstream-requests.log" || true)
    check "upstream GETs of the 1 GiB file during 3 downloads through SafeHaven: $n (1 = later downloads came from the store)"
else
    # nginx-only: serve the upstream's own pages in place of SafeHaven's rendering.
    cp "$OUT/upstream/simple/bigproject/index.html" "$OUT/nginx/root/bigproject.html"
    cp "$OUT/upstream/simple/bigproject/index.json" "$OUT/nginx/root/bigproject.json"
    gzip -nc "$OUT/nginx/root/bigproject.html" >"$OUT/nginx/root/bigproject.html.gz"
    gzip -nc "$OUT/nginx/root/bigproject.json" >"$OUT/nginx/root/bigproject.json.gz"
    cp "$OUT/upstream/cran/src/contrib/PACKAGES.gz" "$OUT/nginx/root/cran-PACKAGES.gz"
    cp "$OUT/upstream/nuget/v3/flatcontainer/bigpackage/index.json" "$OUT/nginx/root/nuget-bigpackage-index.json"
    CRAN_CT="application/x-gzip"
    NUGET_CT="application/json"
    HTML_CT="text/html"
    JSON_CT="application/vnd.pypi.simple.v1+json"
    WHEEL_CT="application/octet-stream"
fi

# ---------------------------------------------------------------- nginx with the same bytes
NGX="$OUT/nginx"
mkdir -p "$NGX/tmp"
USER_LINE=""
[[ $(id -u) == 0 ]] && USER_LINE="user root;"  # workers must read bench/out
python3 - "$BENCH_DIR/nginx.conf.template" "$NGX/nginx.conf" <<EOF
import sys
t = open(sys.argv[1]).read()
for k, v in {"@USER_LINE@": """$USER_LINE""", "@NGX@": """$NGX""", "@PORT@": """$NG_PORT""",
             "@FILES@": """$FILES""", "@HTML_CT@": """$HTML_CT""", "@JSON_CT@": """$JSON_CT""",
             "@WHEEL_CT@": """$WHEEL_CT""", "@SENDFILE@": """$NGINX_SENDFILE""",
             "@CRAN_CT@": """$CRAN_CT""", "@NUGET_CT@": """$NUGET_CT"""}.items():
    t = t.replace(k, v.replace('"', ''))
open(sys.argv[2], "w").write(t)
EOF
nginx -t -q -p "$NGX" -e "$NGX/error.log" -c "$NGX/nginx.conf" 2>"$OUT/logs/nginx-t.log" \
    || { cat "$OUT/logs/nginx-t.log" >&2; die "nginx config test failed"; }
taskset -c "$SERVER_CPUS" nginx -p "$NGX" -e "$NGX/error.log" -c "$NGX/nginx.conf" >"$OUT/logs/nginx.log" 2>&1 &
NG_PID=$!
PIDS+=("$NG_PID")
py wait-http "$NG/readyz" --timeout 20 || die "nginx did not start; see $NGX/error.log"

# Same bytes, same content type on both sides.
same() { # name url-path accept [accept-encoding]
    local a b ta tb
    local ae=(-H "Accept-Encoding:")  # curl sends none by default; say so explicitly
    [[ -z ${4:-} ]] || ae=(-H "Accept-Encoding: $4")
    local w='%{http_code} %{content_type} encoding=%header{content-encoding}'
    ta=$(curl -sS --noproxy '*' -H "Accept: $3" "${ae[@]}" -o "$R/cmp-a" -w "$w" "$NG$2")
    if [[ $MODE == full ]]; then
        tb=$(curl -sS --noproxy '*' -H "Accept: $3" "${ae[@]}" -o "$R/cmp-b" -w "$w" "$SH$2")
        a=$(sha256sum <"$R/cmp-a" | cut -d' ' -f1); b=$(sha256sum <"$R/cmp-b" | cut -d' ' -f1)
        if [[ $a == "$b" && $ta == "$tb" ]]; then check "$1: nginx and SafeHaven send identical bodies ($(stat -c %s "$R/cmp-a") bytes) and status/content type ($ta)"
        else check "$1: DIFFERENT: nginx '$ta' sha256 ${a:0:12}…, SafeHaven '$tb' sha256 ${b:0:12}… (a page rendered differently on the 2nd request?)"; fi
    else
        check "$1: nginx '$ta', $(stat -c %s "$R/cmp-a") bytes"
    fi
    rm -f "$R/cmp-a" "$R/cmp-b"
}
same "page-html" /pypi/simple/bigproject/ "$PAGE_HTML_ACCEPT"
same "page-json" /pypi/simple/bigproject/ "$PAGE_JSON_ACCEPT"
same "page-json-gz" /pypi/simple/bigproject/ "$PAGE_JSON_ACCEPT" "$GZ_ENCODING"
same "page-html-gz" /pypi/simple/bigproject/ "$PAGE_HTML_ACCEPT" "$GZ_ENCODING"
same "wheel-50m" "$WHEEL_PATH" "*/*"
same "cran-packages-gz" "$CRAN_PATH" "*/*"
same "nuget-flat-index" "$NUGET_PATH" "application/json, */*"

# ---------------------------------------------------------------- wrk, side by side
WRK_PAGE_ARGS="-t1 -c$PAGE_CONNS --latency --timeout 10s"
WRK_WHEEL_ARGS="-t1 -c$WHEEL_CONNS --latency --timeout 30s"
# The nginx worker (not the master) does the serving; its CPU time is what counts.
NG_WORKER=$(cat "/proc/$NG_PID/task/$NG_PID/children" 2>/dev/null | awk '{print $1}')
[[ -n $NG_WORKER ]] || NG_WORKER=$NG_PID
TARGETS=()
[[ $MODE == full ]] && TARGETS+=(--target "safehaven=$SH/@PATH@=$SH_PID")
TARGETS+=(--target "nginx=$NG/@PATH@=$NG_WORKER")
compare() { # scenario wrk-args accept path-without-leading-slash [extra header]
    local t=("${TARGETS[@]//@PATH@/$4}")
    local h=()
    [[ -z ${5:-} ]] || h=(--header "$5")
    py wrk-compare --scenario "$1" --wrk-args "$2" --accept "$3" "${h[@]}" --cpus "$CLIENT_CPUS" \
        --warmup "$WARMUP" --rounds "$ROUNDS" --round-seconds "$ROUND_SECONDS" --outdir "$R" "${t[@]}" \
        --max-other "$MAX_OTHER_CPU" --retries "$RETRIES" --quiet-first --deadline "$QUIET_DEADLINE" \
        || log "wrk reported a failure in $1, see $R/wrk-$1-*.txt"
    [[ -z $SH_PID ]] || alive "$SH_PID" SafeHaven
    alive "$NG_PID" nginx
}
# Rounds disturbed by other work on the machine (more than MAX_OTHER_CPU cores busy
# elsewhere) are retried after waiting for a quiet moment; waiting and retrying may make the
# load phase at most QUIET_BUDGET seconds longer than it is on a quiet machine.
NOMINAL=$(( 7 * (2 * WARMUP + 2 * ROUNDS * ROUND_SECONDS + 2 * ROUNDS) ))  # the load phase on a quiet machine
QUIET_DEADLINE=$(( $(date +%s) + NOMINAL + QUIET_BUDGET ))
compare page-html "$WRK_PAGE_ARGS" "$PAGE_HTML_ACCEPT" pypi/simple/bigproject/
compare page-json "$WRK_PAGE_ARGS" "$PAGE_JSON_ACCEPT" pypi/simple/bigproject/
compare page-json-gz "$WRK_PAGE_ARGS" "$PAGE_JSON_ACCEPT" pypi/simple/bigproject/ "Accept-Encoding: $GZ_ENCODING"
compare page-html-gz "$WRK_PAGE_ARGS" "$PAGE_HTML_ACCEPT" pypi/simple/bigproject/ "Accept-Encoding: $GZ_ENCODING"
compare wheel-50m "$WRK_WHEEL_ARGS" "*/*" "${WHEEL_PATH#/}"
compare cran-packages-gz "$WRK_PAGE_ARGS" "*/*" "${CRAN_PATH#/}"
compare nuget-flat-index "$WRK_PAGE_ARGS" "application/json, */*" "${NUGET_PATH#/}"
alive "$NG_PID" nginx

if [[ -n $SH_PID ]]; then
    check "SafeHaven RSS after the wrk runs: $(awk '/VmRSS/{printf "%.1f MiB", $2/1024}' "/proc/$SH_PID/status")"
    if [[ -z "${BENCH_IN_NETNS:-}" ]] && command -v ss >/dev/null; then
        nl=$(ss -tnpH 2>/dev/null | grep "pid=$SH_PID," | awk '{print $5}' | grep -Ev '^(127\.|\[::1\]|\[::ffff:127\.)' || true)
        check "non-loopback TCP peers of SafeHaven at the end: ${nl:-none}"
    fi
fi

# ---------------------------------------------------------------- report
SH_CMD="SafeHaven__Urls=$SH SafeHaven__DataDirectory=bench/out/safehaven-data SafeHaven__Tier=0 SafeHaven__Mirrors__pypi__Upstream=$UP/simple/ SafeHaven__Mirrors__pypi__IndexTtlSeconds=3600 SafeHaven__Mirrors__pypi__Enabled=true SafeHaven__Mirrors__cran__Upstream=$UP/cran/ SafeHaven__Mirrors__nuget__Upstream=$UP/nuget/v3/index.json taskset -c $SERVER_CPUS ${SAFEHAVEN_CMD:-dotnet appliance/SafeHaven.Appliance/bin/Release/net10.0/safehaven.dll serve}"
[[ $MODE == full ]] || SH_CMD="(not run: --nginx-only)"
{ printf '%s\n' "${CHECKS[@]}"; } >"$R/checks.txt"
python3 - "$R" <<EOF
import json, os, platform, subprocess, sys, datetime
def out(*c):
    try:
        p = subprocess.run(c, capture_output=True, text=True, timeout=20)
        return (p.stdout + p.stderr).strip().splitlines()[0]
    except Exception as e:
        return f"? ({e})"
mem = next(l for l in open("/proc/meminfo") if l.startswith("MemTotal")).split()[1]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
env = {
    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    "command": os.environ["BENCH_CMD_LINE"],
    "nproc": os.cpu_count(), "cpu_model": cpu, "mem_total": f"{int(mem) / 1024 / 1024:.1f} GiB",
    "kernel": platform.release(),
    "dotnet": "dotnet " + out("dotnet", "--version") if "$MODE" == "full" else "dotnet (not used)",
    "nginx": out("nginx", "-v"), "wrk": " ".join(out("wrk", "-v").split()[:2]),
    "curl": " ".join(out("curl", "--version").split()[:2]),
    "git": out("git", "-C", "$REPO", "describe", "--always", "--dirty"),
    "safehaven_cmd": """$SH_CMD""", "network": """$NETWORK""",
    "server_cpus": "$SERVER_CPUS", "client_cpus": "$CLIENT_CPUS",
    "wrk_page_args": "wrk $WRK_PAGE_ARGS", "wrk_wheel_args": "wrk $WRK_WHEEL_ARGS",
    "rounds": "$ROUNDS", "round_seconds": "$ROUND_SECONDS",
    "nginx_sendfile": "$NGINX_SENDFILE", "max_other_cpu": "$MAX_OTHER_CPU", "retries": "$RETRIES", "quiet_budget": "$QUIET_BUDGET",
    "warmup_seconds": "$WARMUP", "upstream_format": "$UPSTREAM_FORMAT", "links": "$LINKS",
}
json.dump(env, open(os.path.join(sys.argv[1], "env.json"), "w"), indent=1)
checks = [l.rstrip("\n") for l in open(os.path.join(sys.argv[1], "checks.txt")) if l.strip()]
json.dump(checks, open(os.path.join(sys.argv[1], "checks.json"), "w"), indent=1)
EOF
if [[ $MODE != full ]]; then RESULTS="$OUT/RESULTS.nginx-only.md"
elif [[ -n "${SAFEHAVEN_CMD:-}" ]]; then RESULTS="$OUT/RESULTS.harness-test.md"  # not the real appliance
else RESULTS="$BENCH_DIR/RESULTS.md"; fi
# The root-index and apt sections are written by bench/root.sh and bench/apt.sh; a full run keeps them.
ROOT_SECTION=""; APT_SECTION=""
[[ -f $RESULTS ]] && ROOT_SECTION=$(sed -n '/<!-- root-index:begin -->/,/<!-- root-index:end -->/p' "$RESULTS")
[[ -f $RESULTS ]] && APT_SECTION=$(sed -n '/<!-- apt:begin -->/,/<!-- apt:end -->/p' "$RESULTS")
py report --results "$R" --out "$RESULTS" --table-out "$R/table.md"
[[ -z $ROOT_SECTION ]] || printf '\n%s\n' "$ROOT_SECTION" >>"$RESULTS"
[[ -z $APT_SECTION ]] || printf '\n%s\n' "$APT_SECTION" >>"$RESULTS"
log "wrote $RESULTS"
