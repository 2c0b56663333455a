#!/usr/bin/env bash
# Runs every SafeHaven test. On a fresh Debian machine with the .NET SDK, it first installs the real peers the
# end-to-end tests drive (nginx as the static upstream, tinyproxy as an egress proxy, Debian's pip/setuptools/wheel to build fixture wheels).
# Inspection tests build hostile archives with zstd, xz, bzip2, lz4, cpio, tar, dpkg-deb and git; apt tests build repositories with apt-ftparchive (apt-utils), sign them with gpg (gnupg) and drive apt-get, which checks signatures with gpgv.
# Web tests drive Debian's chromium through Playwright (which cannot download a browser here).
# Conda tests build real .conda and .tar.bz2 packages with cph (conda-package-handling).
# Store tests run against a real PostgreSQL (postgresql): tests/Shared/PostgresServer.cs starts one on a loopback port.
# OpenPGP tests make upstream keys and signatures with gpg and judge the appliance's signatures with gpgv and sqv.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(gnupg gpgv sqv nginx-light tinyproxy zstd xz-utils bzip2 lz4 cpio git dpkg apt-utils r-base-core python3-pip python3-setuptools python3-wheel python3-pip-whl python3-setuptools-whl python3-wheel-whl chromium conda-package-handling postgresql)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v npm >/dev/null || missing+=(npm)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "Installing test prerequisites: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v python3 >/dev/null || { echo "python3 is required (Debian: python3)" >&2; exit 1; }

# Airlock storage tests run a real s3rver (npm) on loopback: install the exact versions tests/tools/s3rver pins.
npm ci --prefix tests/tools/s3rver --no-audit --no-fund --loglevel=error >/dev/null
# Conda tests solve with rattler (npm, WebAssembly in Node) and check version ordering against it.
npm ci --prefix tests/tools/rattler --no-audit --no-fund --loglevel=error >/dev/null
# Web tests sign in through a real OpenID Connect provider (oidc-provider) and check pages with axe-core, in Debian's chromium.
npm ci --prefix tests/tools/oidc --no-audit --no-fund --loglevel=error >/dev/null

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test SafeHaven.sln "$@" 2>&1 | tee "$log" || status=$?

# One plain closing line over all test assemblies: "N passed, N failed, N skipped".
summary=$(grep -E '^(Passed|Failed)!' "$log" | sed -E 's/.*Failed: *([0-9]+), Passed: *([0-9]+), Skipped: *([0-9]+).*/\1 \2 \3/' \
  | awk '{f+=$1; p+=$2; s+=$3} END {printf "%d passed, %d failed, %d skipped", p, f, s}')
echo "${summary:-0 passed, 0 failed, 0 skipped}"
exit "$status"
