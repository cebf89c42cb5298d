# The PostgreSQL cluster of a stack under $SB_VAR (sourced after common.sh by
# scripts/stack and scripts/test-deploy; the caller defines log and die).
# pg_cluster_start: creates the cluster once (unix socket only), starts it, and makes
# the switchboard role and database; pg_stop stops it.
pg_cluster_start() {
  [[ -n $PGBIN ]] || die "PostgreSQL server binaries not found (run scripts/install-deps)"
  mkdir -p "$SB_VAR/pg"
  [[ $(id -u) -eq 0 ]] && chown postgres "$SB_VAR/pg"
  if [[ ! -f $PGDATA/PG_VERSION ]]; then
    as_postgres "$PGBIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    # Unix socket only, private to its owner (and root): no TCP listener at all.
    cat >>"$PGDATA/postgresql.conf" <<EOT
listen_addresses = ''
unix_socket_directories = '$PGSOCK'
unix_socket_permissions = 0700
max_connections = 200
fsync = ${SB_PG_FSYNC:-on}
EOT
    log "created the PostgreSQL cluster in $PGDATA"
  fi
  mkdir -p "$PGSOCK"
  [[ $(id -u) -eq 0 ]] && chown postgres "$PGSOCK"
  if ! as_postgres "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
    as_postgres "$PGBIN/pg_ctl" -D "$PGDATA" -l "$SB_VAR/pg/postgres.log" -w -t 30 start >/dev/null ||
      die "PostgreSQL did not start; see $SB_VAR/pg/postgres.log"
  fi
  sb_psql -d postgres -tA -c "SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER'" | grep -q 1 ||
    sb_psql -d postgres -c "CREATE ROLE $DB_USER LOGIN"
  sb_psql -d postgres -tA -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" | grep -q 1 ||
    sb_psql -d postgres -c "CREATE DATABASE $DB_NAME OWNER $DB_USER"
}

pg_stop() {
  [[ -f $PGDATA/PG_VERSION ]] || return 0
  as_postgres "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 || true
}
