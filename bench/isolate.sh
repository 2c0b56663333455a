# Sourced by run.sh and root.sh: the loopback-only isolation and environment every benchmark runs in.
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
