# Helpers sourced by scripts/test.sh and the benchmarks: Debian packages and a private PostgreSQL.

ensure_debian_packages() {
  local missing=()
  ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

pg_bin() { dirname "$(ls -d /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -n 1)"; }

# Starts a throw-away cluster on 127.0.0.1 and exports POSTGRES_URL. Runs as the 'postgres' system user
# when we are root (PostgreSQL refuses to run as root).
start_private_postgres() {
  local bin port dir run_as=()
  bin="$(pg_bin)"
  port="${OBSERVATORY_PG_PORT:-55432}"
  dir="$(mktemp -d /tmp/observatory-pg.XXXXXX)"
  if [ "$(id -u)" = "0" ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$dir"
    run_as=(runuser -u postgres --)
  fi
  "${run_as[@]}" "$bin/initdb" -D "$dir/data" -U observatory --auth=trust -E UTF8 >/dev/null
  "${run_as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
    -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
  "$bin/createdb" -h 127.0.0.1 -p "$port" -U observatory observatory
  export POSTGRES_URL="postgres://observatory@127.0.0.1:$port/observatory"
  export OBSERVATORY_PG_DIR="$dir"
  PG_RUN_AS=("${run_as[@]}")
}

stop_private_postgres() {
  if [ -n "${OBSERVATORY_PG_DIR:-}" ] && [ -d "$OBSERVATORY_PG_DIR/data" ]; then
    "${PG_RUN_AS[@]}" "$(pg_bin)/pg_ctl" -D "$OBSERVATORY_PG_DIR/data" -m fast -w stop >/dev/null || true
    rm -rf "$OBSERVATORY_PG_DIR"
  fi
}
