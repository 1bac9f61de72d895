#!/usr/bin/env bash
# Runs every test. Finds (or installs) the two browsers the browser tests run in first, Chromium and
# Firefox, so a fresh machine needs nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."

find_chromium() {
  if [ -n "${INGESTLITE_BROWSER:-}" ] && [ -x "${INGESTLITE_BROWSER}" ]; then echo "$INGESTLITE_BROWSER"; return; fi
  for candidate in /usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome /usr/bin/google-chrome-stable; do
    if [ -x "$candidate" ]; then echo "$candidate"; return; fi
  done
}

# A stock Firefox (Debian's firefox-esr): Playwright drives it over WebDriver BiDi.
find_firefox() {
  if [ -n "${INGESTLITE_FIREFOX:-}" ] && [ -x "${INGESTLITE_FIREFOX}" ]; then echo "$INGESTLITE_FIREFOX"; return; fi
  for candidate in /usr/bin/firefox-esr /usr/bin/firefox; do
    if [ -x "$candidate" ]; then echo "$candidate"; return; fi
  done
}

missing=()
[ -n "$(find_chromium)" ] || missing+=(chromium)
[ -n "$(find_firefox)" ] || missing+=(firefox-esr)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's ${missing[*]} for the browser tests..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    # The browser tests then fail, each saying which browser is missing and how to get it.
    echo "Missing browser(s) for the browser tests: ${missing[*]}. Install them (e.g. 'sudo apt-get install ${missing[*]}')," \
      "or set INGESTLITE_BROWSER (Chromium) / INGESTLITE_FIREFOX (Firefox)." >&2
  fi
fi

chromium="$(find_chromium || true)"
if [ -n "$chromium" ]; then
  export INGESTLITE_BROWSER="$chromium"
fi
firefox="$(find_firefox || true)"
if [ -n "$firefox" ]; then
  export INGESTLITE_FIREFOX="$firefox"
fi

# The compat tests run upstream's workflow script (test_ingestion_v2.py): a python3 that can import requests.
python_ok() { [ -n "$1" ] && "$1" -c 'import requests' >/dev/null 2>&1; }
if python_ok "${INGESTLITE_PYTHON:-}"; then
  :
elif python_ok python3; then
  export INGESTLITE_PYTHON="$(command -v python3)"
elif [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's python3 and python3-requests for the compat tests..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-requests >/dev/null
  export INGESTLITE_PYTHON=/usr/bin/python3
else
  # The workflow-script test then fails, saying what is missing and how to get it.
  echo "No python3 that can 'import requests' for the compat tests. Install them (e.g. 'sudo apt-get install python3 python3-requests')," \
    "or set INGESTLITE_PYTHON to a Python 3 that has requests." >&2
fi

# PostgreSQL: a throwaway cluster for the tests of the PostgreSQL storage (stopped when this script exits).
source scripts/postgres.sh

# The benchmark is not run here, but it must keep compiling.
dotnet build Bench/IngestLite.Bench.csproj -c Release -nologo -v quiet

log="$(mktemp)"
set +e
# Full names in the log: a browser test's name shows its browser, e.g. IngestPageTests(firefox).Test_name.
dotnet test Tests/IngestLite.Tests.csproj -c Release --logger "console;verbosity=normal" "$@" -- NUnit.DisplayName=FullName 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
passed=$(grep -oP '^\s*Passed:\s+\K[0-9]+' "$log" | tail -n 1 || true)
failed=$(grep -oP '^\s*Failed:\s+\K[0-9]+' "$log" | tail -n 1 || true)
rm -f "$log"
echo "${passed:-0} passed, ${failed:-0} failed"
exit "$status"
