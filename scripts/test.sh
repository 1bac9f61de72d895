#!/usr/bin/env bash
# Runs every test. Finds (or installs) a Chromium for the browser tests first, so a fresh machine needs nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."

find_browser() {
  if [ -n "${INGESTLITE_BROWSER:-}" ] && [ -x "${INGESTLITE_BROWSER}" ]; then echo "$INGESTLITE_BROWSER"; return; fi
  for candidate in /usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome /usr/bin/google-chrome-stable; do
    if [ -x "$candidate" ]; then echo "$candidate"; return; fi
  done
}

if [ -z "$(find_browser)" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "No Chromium found: installing Debian's chromium for the browser tests..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "No Chromium found. Install one (e.g. 'sudo apt-get install chromium') or set INGESTLITE_BROWSER." >&2
  fi
fi

browser="$(find_browser || true)"
if [ -n "$browser" ]; then
  export INGESTLITE_BROWSER="$browser"
fi

# The benchmark is not run here, but it must keep compiling.
dotnet build Bench/IngestLite.Bench.csproj -c Release -nologo -v quiet

log="$(mktemp)"
set +e
dotnet test Tests/IngestLite.Tests.csproj -c Release --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
passed=$(grep -oP '^\s*Passed:\s+\K[0-9]+' "$log" | tail -n 1 || true)
failed=$(grep -oP '^\s*Failed:\s+\K[0-9]+' "$log" | tail -n 1 || true)
rm -f "$log"
echo "${passed:-0} passed, ${failed:-0} failed"
exit "$status"
