# Sourced by run.sh, root.sh, apt.sh and conda.sh: the loopback-only isolation and environment every benchmark runs in.
# bench_isolate "$@" re-runs the calling script inside a fresh network namespace that has only "lo", so nothing
# started there (dotnet, nginx, python, curl, wrk) can reach anything else; where that is not allowed it warns and
# the caller relies on binding every server to 127.0.0.1. Sets NETWORK to a description for the results, clears
# proxy variables, and defines log, die and py.

bench_isolate() {
    local name
    name=$(basename "$0")
    if [[ "${BENCH_NETNS:-1}" == 1 && -z "${BENCH_IN_NETNS:-}" ]] && command -v unshare >/dev/null && command -v ip >/dev/null; then
        for flags in "--net" "--net --map-root-user"; do
            # shellcheck disable=SC2086
            if unshare $flags true 2>/dev/null; then
                export BENCH_IN_NETNS="unshare $flags"
                # shellcheck disable=SC2086
                exec unshare $flags -- bash "$0" "$@"
            fi
        done
        echo "$name: warning: cannot create a private network namespace; relying on loopback-only configuration" >&2
    fi
    if [[ -n "${BENCH_IN_NETNS:-}" ]]; then
        ip link set lo up
        NETWORK="private network namespace (\`$BENCH_IN_NETNS\`) with only \`lo\`: nothing can leave loopback"
    else
        NETWORK="host network namespace; all servers bound to 127.0.0.1"
    fi
    unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
    export no_proxy=127.0.0.1,localhost,::1 NO_PROXY=127.0.0.1,localhost,::1
    export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
py() { python3 "$BENCH_DIR/benchlib.py" "$@"; }

# Servers a benchmark starts in the background: add each pid to PIDS. On exit (or Ctrl-C) they get TERM, then KILL
# after 5 s; a script may define bench_extra_cleanup for anything else to undo.
bench_track_processes() {
    PIDS=()
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}
bench_cleanup() {
    local rc=$? p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for _ in $(seq 50); do
        local alive=0
        for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [[ $alive == 0 ]] && break
        sleep 0.1
    done
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    if declare -F bench_extra_cleanup >/dev/null; then bench_extra_cleanup; fi
    exit $rc
}
alive() { kill -0 "$1" 2>/dev/null || die "$2 (pid $1) is not running any more; see $OUT/logs/"; }
kib() { awk "/^$1:/{print \$2; found=1} END{if(!found) print 0}" "/proc/$2/status"; }
mib() { awk -v v="$1" 'BEGIN{printf "%.1f", v/1024}'; }

# A static nginx for apt.sh and conda.sh: nginx_conf writes <dir>/nginx.conf, start_nginx starts it on SERVER_CPUS.
USER_LINE=""; [[ $(id -u) == 0 ]] && USER_LINE="user root;"
nginx_conf() { # dir port root extra-server-lines
    cat >"$1/nginx.conf" <<NGINX
$USER_LINE
worker_processes 1;
daemon off;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 1024; }
http {
    access_log ${5:-off};
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 10000000;
    server_tokens off;
    client_body_temp_path $1/tmp/client_body;
    proxy_temp_path $1/tmp/proxy;
    fastcgi_temp_path $1/tmp/fastcgi;
    uwsgi_temp_path $1/tmp/uwsgi;
    scgi_temp_path $1/tmp/scgi;
    types { application/vnd.debian.binary-package deb; application/x-xz xz; application/gzip gz; application/json json; application/zstd zst; }
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$2;
        root $3;
        location = /readyz { default_type text/plain; return 200 "ok\n"; }
        $4
    }
}
NGINX
}
start_nginx() { # dir name -> NGINX_PID
    taskset -c "$SERVER_CPUS" nginx -p "$1" -e "$1/error.log" -c "$1/nginx.conf" >"$OUT/logs/$2.log" 2>&1 &
    NGINX_PID=$!; PIDS+=("$NGINX_PID")
}
