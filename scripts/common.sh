# Shared settings of the stack scripts (sourced, not run). Every path derives from
# SB_VAR, so a throwaway test stack is just another SB_VAR with other ports.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SB_VAR=${SB_VAR:-$ROOT/var}
SB_HTTP_PORT=${SB_HTTP_PORT:-8080}
SB_HTTPS_PORT=${SB_HTTPS_PORT:-8443}
SB_BUILD=${SB_BUILD:-$ROOT/build}
SB_ENV_FILE=$SB_VAR/switchboard.env
export SB_ENV_FILE
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
PGDATA=$SB_VAR/pg/data
PGSOCK=$SB_VAR/pg/run
PGPORT_LOCAL=5432 # only names the socket file (.s.PGSQL.5432): TCP is off
DB_NAME=switchboard
DB_USER=switchboard
DATABASE_URL="postgresql:///$DB_NAME?host=$PGSOCK&user=$DB_USER"
export DATABASE_URL

# Endpoint groups: every responder built from cgi-bin/.
sb_groups() { (cd "$ROOT/cgi-bin" && ls -d */ 2>/dev/null | tr -d /); }

as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Runs psql against our cluster as the superuser.
sb_psql() { as_postgres "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGSOCK" -U postgres "$@"; }

pid_alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }
