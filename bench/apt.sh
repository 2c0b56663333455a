#!/usr/bin/env bash
# The apt mirror at Debian's scale: SafeHaven vs nginx (same bytes) vs apt-cacher-ng (same upstream), one run, loopback only.
#
#   bash bench/apt.sh          (or: bash bench/run.sh --apt-only)
#
# Upstream: this machine's own copy of a full suite's index, the largest
# /var/lib/apt/lists/*_dists_*_main_binary-amd64_Packages* (Debian bookworm main amd64: ~63,000 entries,
# ~48 MiB), plus one real .deb built here by `dpkg-deb --build` (DEB_MIB MiB of random, incompressible bytes)
# whose entry (`apt-ftparchive packages`) is appended. Published as Packages, Packages.xz and Packages.gz with a
# Release from `apt-ftparchive release`, signed (InRelease and Release.gpg) by a key made here by
# `gpg --quick-gen-key` in a throwaway GNUPGHOME, served by nginx on 127.0.0.1. The real pool is absent: only the
# bench's .deb can be downloaded. Skipped with a message (exit 0) when no such Packages list exists.
# Measures: SafeHaven's cold time to verify, filter (Tier 0), re-sign and publish the suite, and its RSS; then
# wrk against three servers in interleaved rounds: SafeHaven (its re-signed Packages.xz, or Packages.gz when it
# publishes no .xz, and the .deb from pool/ after one warming request), nginx serving the bytes SafeHaven served,
# and apt-cacher-ng (warmed once) proxying the same upstream: req/s, MiB/s, p50/p99, ratios.
# Writes bench/out/apt/RESULTS.apt.md and the apt section of bench/RESULTS.md.
#
# Knobs: ROUNDS=3 ROUND_SECONDS=5 WARMUP=3 INDEX_CONNS=8 DEB_CONNS=4 DEB_MIB=4 MAX_OTHER_CPU=0.25 RETRIES=1
# QUIET_BUDGET=45 PUBLISH_TIMEOUT=300 SERVER_CPUS=0 CLIENT_CPUS=1 SKIP_BUILD=0 BENCH_NETNS=1 APT_LIST=<path>
# ACNG_FRESH_INDEX_MAX_AGE=<s> (apt-cacher-ng's FreshIndexMaxAge; unset: its default, 27 s)
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
OUT="$BENCH_DIR/out/apt"

CMD_LINE="bash bench/apt.sh"
for v in ROUNDS ROUND_SECONDS WARMUP INDEX_CONNS DEB_CONNS DEB_MIB MAX_OTHER_CPU RETRIES QUIET_BUDGET PUBLISH_TIMEOUT SERVER_CPUS CLIENT_CPUS SKIP_BUILD BENCH_NETNS APT_LIST ACNG_FRESH_INDEX_MAX_AGE; do
    if [[ -n "${!v+x}" && -z "${BENCH_CMD_LINE:-}" ]]; then CMD_LINE="$v=$(printf %q "${!v}") $CMD_LINE"; fi
done
export BENCH_CMD_LINE="${BENCH_CMD_LINE:-$CMD_LINE}"

# The largest full index this machine's apt has (file names hold the mirror's host: never printed or written).
if [[ -n "${APT_LIST:-}" ]]; then LIST=$APT_LIST
else LIST=$(ls -S /var/lib/apt/lists/*_dists_*_main_binary-amd64_Packages* 2>/dev/null | head -1 || true); fi
if [[ -z $LIST || ! -f $LIST ]]; then
    echo "apt.sh: SKIPPED: no *_dists_*_main_binary-amd64_Packages* list under /var/lib/apt/lists/ (run apt-get update once, or set APT_LIST)" >&2
    exit 0
fi
LIST_BASE=$(basename "$LIST")
SUITE=$(sed -n 's/.*_dists_\(.*\)_main_binary-amd64_Packages.*/\1/p' <<<"$LIST_BASE" | tr _ /)
[[ -n $SUITE ]] || SUITE=bench

ROUNDS=${ROUNDS:-3}
ROUND_SECONDS=${ROUND_SECONDS:-5}
WARMUP=${WARMUP:-3}
INDEX_CONNS=${INDEX_CONNS:-8}
DEB_CONNS=${DEB_CONNS:-4}
DEB_MIB=${DEB_MIB:-4}
MAX_OTHER_CPU=${MAX_OTHER_CPU:-0.25}
RETRIES=${RETRIES:-1}
QUIET_BUDGET=${QUIET_BUDGET:-45}
PUBLISH_TIMEOUT=${PUBLISH_TIMEOUT:-300}
SKIP_BUILD=${SKIP_BUILD:-0}
SERVER_CPUS=${SERVER_CPUS:-0}
if [[ $(nproc) -ge 2 ]]; then CLIENT_CPUS=${CLIENT_CPUS:-1}; else CLIENT_CPUS=${CLIENT_CPUS:-0}; fi

# Loopback-only isolation, as in run.sh.
source "$BENCH_DIR/isolate.sh"
bench_isolate "$@"
for c in python3 curl wrk nginx taskset dotnet gpg gpgv apt-ftparchive dpkg-deb xz gzip lz4 sha256sum apt-cacher-ng; do
    command -v "$c" >/dev/null || die "missing '$c' (Debian: apt-get install -y nginx-light wrk curl gpg gpgv apt-utils dpkg-dev xz-utils lz4 apt-cacher-ng)"
done

bench_track_processes
bench_extra_cleanup() { [[ -z "${GNUPGHOME:-}" ]] || gpgconf --kill all >/dev/null 2>&1 || true; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b-a}'; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

mkdir -p "$OUT"/{cache,logs}
rm -rf "$OUT/results" "$OUT/safehaven-data" "$OUT/upstream" "$OUT/nginx" "$OUT/acng" "$OUT/gnupg" "$OUT"/logs/*
mkdir -p "$OUT/results" "$OUT/upstream" "$OUT/nginx/root" "$OUT/nginx/tmp" "$OUT/upnginx/tmp" "$OUT/acng"/{conf,cache,log}
R="$OUT/results"
CHECKS=()
check() { CHECKS+=("$1"); log "check: $1"; }

# apt-cacher-ng 3.7.4 (with c-ares 1.18) cannot resolve "127.0.0.1:<port>" for a port above 32767 ("Error resolving
# address for binding: Success"), neither to listen on nor to connect to: every port is taken from 20000-32767.
ports=$(python3 - <<'PY'
import random, socket
got = []
while len(got) < 4:
    p = random.randint(20000, 32767)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    if p not in got:
        got.append(p)
print(*got)
PY
)
read -r UP_PORT SH_PORT NG_PORT AC_PORT <<<"$ports"
UP="http://127.0.0.1:$UP_PORT"; SH="http://127.0.0.1:$SH_PORT"; NG="http://127.0.0.1:$NG_PORT"; AC="http://127.0.0.1:$AC_PORT"
log "suite '$SUITE'; ports: upstream $UP_PORT, safehaven $SH_PORT, nginx $NG_PORT, apt-cacher-ng $AC_PORT"

# ------------------------------------------------------------------ upstream archive
# Packages (+ .xz, .gz) and the .deb are kept in bench/out/apt/cache while the source list is unchanged
# (xz of ~48 MiB takes a while); Release, the key and the signatures are made fresh in every run.
BIN="dists/$SUITE/main/binary-amd64"
DEB_NAME=safehaven-bench-payload
DEB_REL="pool/main/s/$DEB_NAME/${DEB_NAME}_1.0_amd64.deb"
STAMP="$(stat -c '%s %Y' "$LIST") deb=${DEB_MIB}MiB v1"
C="$OUT/cache"
if [[ ! -f $C/stamp || $(cat "$C/stamp") != "$STAMP" ]]; then
    log "upstream: decompressing the suite's Packages list, building the .deb, compressing (xz -6, gzip -9)"
    rm -rf "${C:?}"/*
    mkdir -p "$C/$(dirname "$DEB_REL")" "$C/$BIN" "$C/debtree/DEBIAN" "$C/debtree/usr/share/$DEB_NAME"
    case "$LIST" in
        *.lz4) lz4 -dc "$LIST" ;;
        *.xz) xz -dc "$LIST" ;;
        *.gz) gzip -dc "$LIST" ;;
        *) cat "$LIST" ;;
    esac >"$C/$BIN/Packages.orig"
    head -c $((DEB_MIB * 1024 * 1024)) /dev/urandom >"$C/debtree/usr/share/$DEB_NAME/payload.bin"
    printf 'Package: %s\nVersion: 1.0\nArchitecture: amd64\nMaintainer: SafeHaven Bench <bench@example.invalid>\nPriority: optional\nSection: misc\nDescription: SafeHaven benchmark payload (%s MiB of random bytes)\n' \
        "$DEB_NAME" "$DEB_MIB" >"$C/debtree/DEBIAN/control"
    dpkg-deb --root-owner-group -Zgzip --build "$C/debtree" "$C/$DEB_REL" >/dev/null
    rm -rf "$C/debtree"
    # The real index, then the bench .deb's entry as apt-ftparchive writes it, one blank line between paragraphs.
    (cd "$C" && apt-ftparchive packages "$(dirname "$DEB_REL")" 2>/dev/null) >"$C/deb.entry"
    python3 - "$C/$BIN/Packages.orig" "$C/deb.entry" "$C/$BIN/Packages" <<'PY'
import shutil, sys
with open(sys.argv[3], "wb") as out:
    with open(sys.argv[1], "rb") as f:
        shutil.copyfileobj(f, out)
        f.seek(-2, 2)
        tail = f.read()
    out.write(b"" if tail == b"\n\n" else b"\n" if tail.endswith(b"\n") else b"\n\n")
    out.write(open(sys.argv[2], "rb").read().strip(b"\n") + b"\n")
PY
    rm -f "$C/deb.entry"
    rm -f "$C/$BIN/Packages.orig"
    xz -6 -T1 -kc "$C/$BIN/Packages" >"$C/$BIN/Packages.xz"
    gzip -9nc "$C/$BIN/Packages" >"$C/$BIN/Packages.gz"
    echo "$STAMP" >"$C/stamp"
fi
cp -a "$C/dists" "$C/pool" "$OUT/upstream/"
ENTRIES=$(grep -c '^Package: ' "$OUT/upstream/$BIN/Packages")
grep -q "^Package: $DEB_NAME\$" "$OUT/upstream/$BIN/Packages" || die "the bench .deb's entry is missing from Packages"
DEB_SHA=$(sha "$OUT/upstream/$DEB_REL"); DEB_SIZE=$(stat -c %s "$OUT/upstream/$DEB_REL")
check "upstream: suite '$SUITE' main/binary-amd64 from this machine's apt lists: $ENTRIES entries (1 of them the bench .deb); Packages $(mib $(( $(stat -c %s "$OUT/upstream/$BIN/Packages") / 1024 ))) MiB, Packages.xz $(mib $(( $(stat -c %s "$OUT/upstream/$BIN/Packages.xz") / 1024 ))) MiB, Packages.gz $(mib $(( $(stat -c %s "$OUT/upstream/$BIN/Packages.gz") / 1024 ))) MiB; $DEB_REL $DEB_SIZE B (dpkg-deb --build, ${DEB_MIB} MiB random payload)"

export GNUPGHOME="$OUT/gnupg"
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key "SafeHaven Bench Upstream <bench@example.invalid>" ed25519 sign never 2>"$OUT/logs/gpg.log"
gpg --batch --quiet --yes --output "$OUT/upstream-keyring.gpg" --export 2>>"$OUT/logs/gpg.log"
apt-ftparchive -o APT::FTPArchive::Release::Origin=SafeHavenBench -o APT::FTPArchive::Release::Label=SafeHavenBench \
    -o "APT::FTPArchive::Release::Suite=$SUITE" -o "APT::FTPArchive::Release::Codename=$SUITE" \
    -o APT::FTPArchive::Release::Architectures=amd64 -o APT::FTPArchive::Release::Components=main \
    release "$OUT/upstream/dists/$SUITE" >"$OUT/Release.tmp"
mv "$OUT/Release.tmp" "$OUT/upstream/dists/$SUITE/Release"
gpg --batch --quiet --yes --digest-algo SHA256 --clearsign --output "$OUT/upstream/dists/$SUITE/InRelease" "$OUT/upstream/dists/$SUITE/Release" 2>>"$OUT/logs/gpg.log"
gpg --batch --quiet --yes --digest-algo SHA256 --detach-sign --armor --output "$OUT/upstream/dists/$SUITE/Release.gpg" "$OUT/upstream/dists/$SUITE/Release" 2>>"$OUT/logs/gpg.log"
check "upstream: Release by apt-ftparchive, InRelease + Release.gpg signed by an Ed25519 key made for this run (gpg --quick-gen-key)"

nginx_conf "$OUT/upnginx" "$UP_PORT" "$OUT/upstream" "" "$OUT/logs/upstream-access.log"
start_nginx "$OUT/upnginx" upstream-nginx
UP_PID=$NGINX_PID
py wait-http "$UP/readyz" --timeout 20 >/dev/null || die "upstream nginx did not start; see $OUT/upnginx/error.log"
upstream_gets() { grep -c "\"GET /$1 " "$OUT/logs/upstream-access.log" || true; }

# ------------------------------------------------------------------ SafeHaven: cold publish
SH_DLL="$REPO/appliance/SafeHaven.Appliance/bin/Release/net10.0/safehaven.dll"
if [[ $SKIP_BUILD != 1 ]]; then
    log "building the appliance (Release, --no-restore)"
    dotnet build "$REPO/appliance/SafeHaven.Appliance/SafeHaven.Appliance.csproj" -c Release --no-restore \
        --disable-build-servers -nologo -v:q >"$OUT/logs/build.log" 2>&1 || { tail -20 "$OUT/logs/build.log" >&2; die "build failed"; }
fi
[[ -f $SH_DLL ]] || die "$SH_DLL not found"
SH_ENV=(SafeHaven__Urls="$SH" SafeHaven__DataDirectory="$OUT/safehaven-data" SafeHaven__Tier=0
        SafeHaven__Mirrors__pypi__Enabled=false SafeHaven__Mirrors__apt__IndexTtlSeconds=3600
        SafeHaven__Mirrors__apt__Repositories__bench__Upstream="$UP/"
        SafeHaven__Mirrors__apt__Repositories__bench__Suites__0="$SUITE"
        SafeHaven__Mirrors__apt__Repositories__bench__UpstreamKeyring="$OUT/upstream-keyring.gpg")
log "starting SafeHaven on CPU $SERVER_CPUS"
T0=$(now)
env "${SH_ENV[@]}" taskset -c "$SERVER_CPUS" dotnet "$SH_DLL" serve >"$OUT/logs/safehaven.log" 2>&1 &
SH_PID=$!; PIDS+=("$SH_PID")
# Poll at 0.2 s: the first time /readyz answers 200, and the first time the suite's InRelease does.
READY_S=""; PUBLISH_S=""
deadline=$(( $(date +%s) + PUBLISH_TIMEOUT ))
while [[ $(date +%s) -lt $deadline ]]; do
    alive "$SH_PID" SafeHaven
    if [[ -z $READY_S ]] && [[ $(curl -sS -o /dev/null -w '%{http_code}' "$SH/readyz" 2>/dev/null) == 200 ]]; then READY_S=$(secs "$T0" "$(now)"); fi
    if [[ $(curl -sS -o /dev/null -w '%{http_code}' "$SH/apt/bench/dists/$SUITE/InRelease" 2>/dev/null) == 200 ]]; then PUBLISH_S=$(secs "$T0" "$(now)"); break; fi
    sleep 0.2
done
[[ -n $PUBLISH_S ]] || { tail -30 "$OUT/logs/safehaven.log" >&2; die "SafeHaven did not publish dists/$SUITE/InRelease within ${PUBLISH_TIMEOUT} s"; }
[[ -n $READY_S ]] || READY_S=$PUBLISH_S
sleep 1
PUBLISH_HWM=$(kib VmHWM "$SH_PID"); PUBLISH_RSS=$(kib VmRSS "$SH_PID")
check "SafeHaven cold start to published suite (read the upstream InRelease, verify its signature, fetch and hash-check the index, parse $ENTRIES entries, filter at Tier 0, write Packages/.gz/.xz, re-sign): ${PUBLISH_S} s after the process started (/readyz 200 after ${READY_S} s); RSS peak (VmHWM) $(mib "$PUBLISH_HWM") MiB, after $(mib "$PUBLISH_RSS") MiB"
check "upstream GETs during the first refresh: $(grep -v -c '"GET /readyz ' "$OUT/logs/upstream-access.log" || true) ($(grep -o '"GET [^ ]*' "$OUT/logs/upstream-access.log" | sed 's/"GET //' | grep -v '^/readyz$' | sort | uniq -c | awk '{printf "%s%s x%s", (NR>1?", ":""), $2, $1}'))"

# The appliance's signature, checked by gpgv against the key it serves.
curl -sS -o "$R/safehaven-key.asc" "$SH/apt/safehaven-archive-key.asc"
gpg --batch --quiet --yes --dearmor -o "$R/safehaven-key.gpg" "$R/safehaven-key.asc" 2>>"$OUT/logs/gpg.log"
curl -sS -o "$R/InRelease" "$SH/apt/bench/dists/$SUITE/InRelease"
if gpgv --keyring "$R/safehaven-key.gpg" "$R/InRelease" >"$OUT/logs/gpgv.log" 2>&1; then check "SafeHaven's InRelease verifies with gpgv against /apt/safehaven-archive-key.asc"
else check "SafeHaven's InRelease does NOT verify against /apt/safehaven-archive-key.asc (see $OUT/logs/gpgv.log)"; fi

# Its index: Packages.xz if it publishes one, else Packages.gz.
INDEX_EXT=""
for ext in xz gz; do
    st=$(curl -sS -o "$R/sh-Packages.$ext" -w '%{http_code}' "$SH/apt/bench/$BIN/Packages.$ext")
    if [[ $st == 200 ]]; then INDEX_EXT=$ext; break; fi
    check "SafeHaven $BIN/Packages.$ext: status $st"
    rm -f "$R/sh-Packages.$ext"
done
[[ -n $INDEX_EXT ]] || die "SafeHaven publishes neither Packages.xz nor Packages.gz for $SUITE"
INDEX_PATH="$BIN/Packages.$INDEX_EXT"
case $INDEX_EXT in xz) unz=(xz -dc) ;; gz) unz=(gzip -dc) ;; esac
SH_ENTRIES=$("${unz[@]}" "$R/sh-Packages.$INDEX_EXT" | grep -c '^Package: ' || true)
SH_INDEX_CT=$(curl -sS -o /dev/null -w '%{content_type}' "$SH/apt/bench/$INDEX_PATH")
grep -q " $(sha "$R/sh-Packages.$INDEX_EXT") .*main/binary-amd64/Packages.$INDEX_EXT\$" "$R/InRelease" \
    && IN_RELEASE="its SHA-256 is the one SafeHaven's signed InRelease lists" || IN_RELEASE="its SHA-256 is NOT in SafeHaven's InRelease"
check "SafeHaven $INDEX_PATH: $(stat -c %s "$R/sh-Packages.$INDEX_EXT") B ($SH_INDEX_CT), $SH_ENTRIES entries (upstream $ENTRIES); $IN_RELEASE"
[[ $INDEX_EXT == xz ]] || check "SafeHaven publishes no Packages.xz (only Packages and Packages.gz): the index rows compare Packages.gz on all three servers"

# The .deb: the first request reads it through (fetch, SHA-256 against its Packages entry, store), the second comes from the store.
t=$(now)
out=$(curl -sS -o "$R/sh.deb" -w '%{http_code} %{content_type}' "$SH/apt/bench/$DEB_REL")
DEB_COLD_S=$(secs "$t" "$(now)")
read -r st SH_DEB_CT <<<"$out"
[[ $st == 200 && $(sha "$R/sh.deb") == "$DEB_SHA" ]] || die "SafeHaven /apt/bench/$DEB_REL: '$out', sha256 $(sha "$R/sh.deb" 2>/dev/null) (want $DEB_SHA)"
curl -sS -o "$R/sh2.deb" "$SH/apt/bench/$DEB_REL"
cmp -s "$R/sh.deb" "$R/sh2.deb" || die "SafeHaven's second answer for the .deb differs from the first"
check "SafeHaven $DEB_REL: 200 ($SH_DEB_CT), sha256 = the upstream file's; first (read-through) request ${DEB_COLD_S} s; upstream GETs of it after two requests: $(upstream_gets "$DEB_REL")"

# ------------------------------------------------------------------ nginx with SafeHaven's bytes
mkdir -p "$OUT/nginx/root/apt/bench/$BIN" "$OUT/nginx/root/apt/bench/$(dirname "$DEB_REL")"
cp "$R/sh-Packages.$INDEX_EXT" "$OUT/nginx/root/apt/bench/$INDEX_PATH"
cp "$R/sh.deb" "$OUT/nginx/root/apt/bench/$DEB_REL"
rm -f "$R/sh.deb" "$R/sh2.deb"
nginx_conf "$OUT/nginx" "$NG_PORT" "$OUT/nginx/root" \
    "location = /apt/bench/$INDEX_PATH { default_type \"$SH_INDEX_CT\"; types { } } location = /apt/bench/$DEB_REL { default_type \"$SH_DEB_CT\"; types { } }"
start_nginx "$OUT/nginx" nginx
NG_PID=$NGINX_PID
py wait-http "$NG/readyz" --timeout 20 >/dev/null || die "nginx did not start; see $OUT/nginx/error.log"

# ------------------------------------------------------------------ apt-cacher-ng on the same upstream
# Its own configuration directory (nothing from /etc), cache and logs under bench/out; the upstream reached
# through a Remap rule (the way a local archive is usually put behind it): /bench/... -> http://127.0.0.1:UP_PORT/...
cat >"$OUT/acng/conf/acng.conf" <<ACNG
CacheDir: $OUT/acng/cache
LogDir: $OUT/acng/log
SupportDir: /usr/lib/apt-cacher-ng
Port: $AC_PORT
BindAddress: 127.0.0.1
SocketPath: $OUT/acng/socket
ForeGround: 1
Remap-bench: /bench ; $UP/
${ACNG_FRESH_INDEX_MAX_AGE:+FreshIndexMaxAge: $ACNG_FRESH_INDEX_MAX_AGE}
ACNG
taskset -c "$SERVER_CPUS" apt-cacher-ng -c "$OUT/acng/conf" >"$OUT/logs/apt-cacher-ng.log" 2>&1 &
AC_PID=$!; PIDS+=("$AC_PID")
for _ in $(seq 100); do
    alive "$AC_PID" apt-cacher-ng
    [[ $(curl -sS -o /dev/null -w '%{http_code}' "$AC/" 2>/dev/null) != 000 ]] && break
    sleep 0.2
done
[[ $(curl -sS -o /dev/null -w '%{http_code}' "$AC/" 2>/dev/null) != 000 ]] || { tail -20 "$OUT/logs/apt-cacher-ng.log" >&2; die "apt-cacher-ng did not start"; }
AC_VERSION=$(dpkg-query -W -f '${Version}' apt-cacher-ng 2>/dev/null || echo '?')
for what in "$INDEX_PATH" "$DEB_REL"; do
    out=$(curl -sS -o "$R/ac-body" -w '%{http_code} %{content_type}' "$AC/bench/$what")
    read -r st ct <<<"$out"
    if [[ $st == 200 ]] && cmp -s "$R/ac-body" "$OUT/upstream/$what"; then check "apt-cacher-ng /bench/$what (warming, read-through): 200 ($ct), body identical to the upstream's ($(stat -c %s "$R/ac-body") B)"
    else die "apt-cacher-ng /bench/$what: '$out', body $(sha "$R/ac-body" 2>/dev/null | cut -c1-12)… differs from the upstream's; see $OUT/acng/log"; fi
    rm -f "$R/ac-body"
done
AC_INDEX_CT=$(curl -sS -o /dev/null -w '%{content_type}' "$AC/bench/$INDEX_PATH")

# ------------------------------------------------------------------ same bytes where they should be
same() { # label url-a url-b name-a name-b
    local a b
    a=$(curl -sS -o "$R/cmp-a" -w '%{http_code} %{content_type}' "$2"); b=$(curl -sS -o "$R/cmp-b" -w '%{http_code} %{content_type}' "$3")
    if cmp -s "$R/cmp-a" "$R/cmp-b" && [[ ${a%% *} == 200 && ${b%% *} == 200 ]]; then check "$1: $4 and $5 send identical bodies ($(stat -c %s "$R/cmp-a") B, sha256 $(sha "$R/cmp-a" | cut -c1-12)…); $4 '$a', $5 '$b'"
    else check "$1: DIFFERENT: $4 '$a' $(sha "$R/cmp-a" | cut -c1-12)…, $5 '$b' $(sha "$R/cmp-b" | cut -c1-12)…"; fi
    rm -f "$R/cmp-a" "$R/cmp-b"
}
same "index" "$SH/apt/bench/$INDEX_PATH" "$NG/apt/bench/$INDEX_PATH" SafeHaven nginx
same "index" "$AC/bench/$INDEX_PATH" "$UP/$INDEX_PATH" apt-cacher-ng upstream
same "deb" "$SH/apt/bench/$DEB_REL" "$NG/apt/bench/$DEB_REL" SafeHaven nginx
same "deb" "$AC/bench/$DEB_REL" "$UP/$DEB_REL" apt-cacher-ng upstream
same "deb" "$SH/apt/bench/$DEB_REL" "$AC/bench/$DEB_REL" SafeHaven apt-cacher-ng
SH_INDEX_BYTES=$(curl -sS "$SH/apt/bench/$INDEX_PATH" | wc -c); AC_INDEX_BYTES=$(stat -c %s "$OUT/upstream/$INDEX_PATH")
[[ $SH_INDEX_BYTES == "$AC_INDEX_BYTES" ]] || check "index bodies differ in size between SafeHaven ($SH_INDEX_BYTES B, its own re-compression of the filtered index) and apt-cacher-ng ($AC_INDEX_BYTES B, the upstream's file): compare MiB/s as well as req/s"

# ------------------------------------------------------------------ wrk, three servers, interleaved rounds
NG_WORKER=$(cat "/proc/$NG_PID/task/$NG_PID/children" 2>/dev/null | awk '{print $1}'); [[ -n $NG_WORKER ]] || NG_WORKER=$NG_PID
UP_BEFORE=$(wc -l <"$OUT/logs/upstream-access.log")
AC_ERR_BEFORE=$(cat "$OUT/acng/log/apt-cacher.err" 2>/dev/null | wc -l)
NOMINAL=$(( 2 * (3 * WARMUP + 3 * ROUNDS * ROUND_SECONDS + 3 * ROUNDS) ))
QUIET_DEADLINE=$(( $(date +%s) + NOMINAL + QUIET_BUDGET ))
compare() { # scenario conns sh-path ac-path
    py wrk-compare --scenario "$1" --wrk-args "-t1 -c$2 --latency --timeout 30s" --accept "*/*" --cpus "$CLIENT_CPUS" \
        --warmup "$WARMUP" --rounds "$ROUNDS" --round-seconds "$ROUND_SECONDS" --outdir "$R" \
        --target "safehaven=$SH/$3=$SH_PID" --target "nginx=$NG/$3=$NG_WORKER" --target "apt-cacher-ng=$AC/$4=$AC_PID" \
        --max-other "$MAX_OTHER_CPU" --retries "$RETRIES" --quiet-first --deadline "$QUIET_DEADLINE" \
        || log "wrk reported a failure in $1, see $R/wrk-$1-*.txt"
    alive "$SH_PID" SafeHaven; alive "$NG_PID" nginx; alive "$AC_PID" apt-cacher-ng
}
echo 5 >"/proc/$SH_PID/clear_refs" 2>/dev/null || true
compare apt-index "$INDEX_CONNS" "apt/bench/$INDEX_PATH" "bench/$INDEX_PATH"
compare apt-deb "$DEB_CONNS" "apt/bench/$DEB_REL" "bench/$DEB_REL"
LOAD_HWM=$(kib VmHWM "$SH_PID"); END_RSS=$(kib VmRSS "$SH_PID")
DURING=$(tail -n +"$((UP_BEFORE + 1))" "$OUT/logs/upstream-access.log" | awk '$6 == "\"GET" {print $7, $9, $10}' | sort | uniq -c \
    | awk '{printf "%s%s x%s (status %s, %s B)", (NR>1?"; ":""), $2, $1, $3, $4}')
check "upstream GETs during the wrk runs (apt-cacher-ng revalidates an index older than its FreshIndexMaxAge, ${ACNG_FRESH_INDEX_MAX_AGE:-27} s; SafeHaven serves its published copy, its next scheduled refresh is IndexTtlSeconds=3600 s away): ${DURING:-none}"
AC_ERRS=$(tail -n +"$((AC_ERR_BEFORE + 1))" "$OUT/acng/log/apt-cacher.err" 2>/dev/null | grep -c . || true)
check "apt-cacher-ng error log lines during the wrk runs: $AC_ERRS$( [[ $AC_ERRS == 0 ]] || printf '; e.g. %s' "$(tail -n +"$((AC_ERR_BEFORE + 1))" "$OUT/acng/log/apt-cacher.err" | grep -v '^$' | head -2 | cut -d'|' -f2- | sed "s#$OUT/##g" | tr '\n' ' ' | cut -c1-300)")"
check "SafeHaven peak RSS (VmHWM) under load $(mib "$LOAD_HWM") MiB, at the end $(mib "$END_RSS") MiB; apt-cacher-ng RSS at the end $(mib "$(kib VmRSS "$AC_PID")") MiB; nginx worker $(mib "$(kib VmRSS "$NG_WORKER")") MiB"

# ------------------------------------------------------------------ report
printf '%s\n' "${CHECKS[@]}" >"$R/checks.txt"
OTHER=$(ps -eo pid,pcpu,etimes,args --sort=-pcpu | awk 'NR>1 && $2>5 {print $0}' | grep -v -e ' wrk ' -e 'ps -eo' -e ' head -8$' | head -8 | cut -c1-140 || true)
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
export R SUITE ENTRIES SH_ENTRIES INDEX_EXT INDEX_PATH DEB_REL DEB_SIZE DEB_MIB PUBLISH_S READY_S PUBLISH_HWM PUBLISH_RSS LOAD_HWM END_RSS \
    DEB_COLD_S SH_INDEX_BYTES AC_INDEX_BYTES AC_VERSION NETWORK SERVER_CPUS CLIENT_CPUS ROUNDS ROUND_SECONDS WARMUP INDEX_CONNS DEB_CONNS \
    MAX_OTHER_CPU OTHER LOADAVG ACNG_FRESH_INDEX_MAX_AGE
python3 "$BENCH_DIR/apt_report.py" --results "$R" --out "$OUT/RESULTS.apt.md" --update "$BENCH_DIR/RESULTS.md"
log "wrote $OUT/RESULTS.apt.md and the apt section of bench/RESULTS.md"
