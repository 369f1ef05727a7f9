#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the load harness and the back-pressure
# tests: its own data directory, port and log file, so the statement log can be
# switched on, or the server killed, without touching the machine's main
# cluster. Default settings except logging.
#   pgcluster.sh start DIR PORT   creates the cluster if DIR has none, starts it
#                                 (the log is DIR/postgres.log)
#   pgcluster.sh stop DIR         a fast shutdown
#   pgcluster.sh kill DIR         an immediate shutdown: the database is gone
#                                 at once, as in a crash
set -euo pipefail
cmd="$1"; dir="$2"
bindir="$(pg_config --bindir 2>/dev/null || true)"
if [ ! -x "$bindir/initdb" ]; then
    bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
fi
# initdb and postgres refuse to run as root: run them as the postgres user then.
as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "$cmd" in
start)
    port="$3"
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
    if [ -f "$dir/data/PG_VERSION" ]; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null
        exit 0
    fi
    as_owner "$bindir/initdb" -D "$dir/data" -U postgres -A trust --no-sync >/dev/null
    {
        echo "port = $port"
        echo "listen_addresses = '127.0.0.1'"
        echo "unix_socket_directories = '$dir'"
        echo "max_connections = 200"
        echo "log_line_prefix = '%m [%p] '"
        echo "log_destination = 'stderr'"
    } | as_owner tee -a "$dir/data/postgresql.conf" >/dev/null
    as_owner touch "$dir/postgres.log"
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null
    ;;
stop)
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
kill)
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    ;;
*)
    echo "usage: pgcluster.sh start DIR PORT | stop DIR | kill DIR" >&2
    exit 64
    ;;
esac
