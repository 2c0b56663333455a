#!/usr/bin/env bash
# The cost of PostgreSQL over SQLite for the metadata-database work of an index-cache miss (issue 16's benchmark row).
# Runs bench/dbcost (index cache get-miss + put + get-hit; first-seen of 50 files new and known) against
#   - SQLite: the appliance's default DATA/safehaven.db settings (WAL, busy timeout), on this machine's disk;
#   - PostgreSQL: Debian's postgresql started here on 127.0.0.1 with its default durability (fsync on, synchronous_commit on).
# Usage: ITERATIONS=2000 bash bench/dbcost.sh   (needs Debian's postgresql; runs initdb as the postgres user when root)
set -euo pipefail
cd "$(dirname "$0")/.."
iterations="${ITERATIONS:-2000}"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$bin/initdb" ] || { echo "PostgreSQL is not installed (Debian: apt-get install postgresql)" >&2; exit 1; }

work="$(mktemp -d /tmp/safehaven-dbcost-XXXXXX)"
as_pg=()
if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$work"; as_pg=(runuser -u postgres --); fi
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
stop() { (cd / && "${as_pg[@]}" "$bin/pg_ctl" -D "$work/data" -m fast -w stop >/dev/null 2>&1) || true; rm -rf "$work"; }
trap stop EXIT
(cd / && "${as_pg[@]}" "$bin/initdb" -D "$work/data" -U postgres --auth=trust -E UTF8 --no-instructions >/dev/null)
(cd / && "${as_pg[@]}" "$bin/pg_ctl" -D "$work/data" -l "$work/postgres.log" -w -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work" start >/dev/null)
"$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE dbcost" >/dev/null

build="$(dotnet build bench/dbcost -c Release -v q -nologo 2>&1)" || { echo "$build" >&2; exit 1; }
run=(dotnet bench/dbcost/bin/Release/net10.0/DbCost.dll)
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $iterations iterations, $(nproc) CPUs, $("$bin/postgres" --version), git $(git rev-parse --short HEAD)"
{
  "${run[@]}" sqlite "$work/safehaven.db" "$iterations"
  "${run[@]}" postgres "Host=127.0.0.1;Port=$port;Username=postgres;Database=dbcost" "$iterations"
} | tee "$work/results.tsv"
python3 - "$work/results.tsv" <<'PY'
import sys, collections
rows = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    provider, measure, n, total, per = line.rstrip("\n").split("\t")
    rows[measure][provider] = float(per)
print("\n| measure | SQLite µs/op | PostgreSQL µs/op | PostgreSQL/SQLite |\n|---|---:|---:|---:|")
for measure, by in rows.items():
    print(f"| {measure} | {by['sqlite']:.1f} | {by['postgres']:.1f} | {by['postgres'] / by['sqlite']:.2f}× |")
PY
