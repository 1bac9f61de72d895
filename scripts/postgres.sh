# Sourced by scripts/test.sh: a throwaway PostgreSQL for the tests that need one (the catalog and Hangfire on
# PostgreSQL, the web and worker nodes). Exports INGESTLITE_POSTGRES, a connection string to the cluster's
# `postgres` database as its superuser; the tests make and drop their own databases in it.
#
# INGESTLITE_POSTGRES already set: that server is used as it is (nothing is started or stopped).
# Otherwise Debian's PostgreSQL (installed with apt when missing and run as root) gets a new cluster in a
# temporary folder, on a free 127.0.0.1 port, run as the `postgres` user; it is stopped and deleted when the
# script that sourced this one exits, whatever its exit code. Failing to get one fails the run: CI must run
# these tests.

postgres_fail() {
  echo "PostgreSQL for the tests: $*" >&2
  echo "PostgreSQL for the tests is not available: the run fails (set INGESTLITE_POSTGRES to a server to use instead)." >&2
  exit 1
}

postgres_bin() {
  local found
  found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [ -n "$found" ] && [ -x "$found/initdb" ] && echo "$found"
}

postgres_start() {
  if [ -n "${INGESTLITE_POSTGRES:-}" ]; then
    echo "PostgreSQL for the tests: using INGESTLITE_POSTGRES as set."
    return
  fi

  local bin
  bin="$(postgres_bin || true)"
  if [ -z "$bin" ]; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
      echo "Installing Debian's postgresql for the tests..."
      apt-get update -qq || postgres_fail "apt-get update failed"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null || postgres_fail "apt-get install postgresql failed"
      bin="$(postgres_bin || true)"
    fi
    [ -n "$bin" ] || postgres_fail "no /usr/lib/postgresql/*/bin/initdb (install Debian's postgresql, e.g. 'sudo apt-get install postgresql')"
  fi

  # PostgreSQL refuses to run as root: the cluster belongs to the postgres user (Debian's package makes it).
  local run=()
  if [ "$(id -u)" = "0" ]; then
    id postgres >/dev/null 2>&1 || postgres_fail "running as root, and there is no 'postgres' user to run the cluster as"
    run=(runuser -u postgres --)
  fi

  POSTGRES_DIR="$(mktemp -d /tmp/ingestlite-pg.XXXXXX)"
  [ "$(id -u)" = "0" ] && chown postgres "$POSTGRES_DIR"
  chmod 700 "$POSTGRES_DIR"
  "${run[@]}" "$bin/initdb" -D "$POSTGRES_DIR/data" -A trust -U postgres -E UTF8 --no-locale >"$POSTGRES_DIR/initdb.log" 2>&1 \
    || { cat "$POSTGRES_DIR/initdb.log" >&2; postgres_fail "initdb failed"; }

  local port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
    || shuf -i 20000-60000 -n 1)"
  # Throwaway data: durability off (fast), enough connections for several app processes at once.
  "${run[@]}" "$bin/pg_ctl" -D "$POSTGRES_DIR/data" -l "$POSTGRES_DIR/server.log" -w -t 60 start \
    -o "-p $port -k $POSTGRES_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    >/dev/null || { cat "$POSTGRES_DIR/server.log" >&2; postgres_fail "the cluster did not start"; }

  POSTGRES_CTL=("${run[@]}" "$bin/pg_ctl" -D "$POSTGRES_DIR/data")
  trap postgres_stop EXIT
  export INGESTLITE_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
  echo "PostgreSQL for the tests: $("$bin/postgres" --version), a throwaway cluster on 127.0.0.1:$port."
}

postgres_stop() {
  local status=$?
  if [ -n "${POSTGRES_DIR:-}" ]; then
    "${POSTGRES_CTL[@]}" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$POSTGRES_DIR"
  fi
  exit "$status"
}

postgres_start
