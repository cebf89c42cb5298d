/* A throwaway PostgreSQL cluster for the unit tests that need a real server (header only:
 * each test is one translation unit). SB_TEST_DATABASE_URL when set, else initdb of the
 * server scripts/install-deps installs under /tmp (unix socket only, fsync off; run as
 * postgres when the test runs as root), removed by pgc_stop. pgc_migrate applies the
 * repository's sql/NNN_*.up.sql in order, so the tests run on the real schema. */
#ifndef SB_UNIT_PG_CLUSTER_H
#define SB_UNIT_PG_CLUSTER_H

#include <glob.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"

static char pgc_dir[64];
static char pgc_bin[512];
static char pgc_conninfo[256];

static inline int pgc_run(const char *cmd)
{
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s%s >>%s/setup.log 2>&1", geteuid() == 0 ? "runuser -u postgres -- " : "", cmd,
		 pgc_dir[0] ? pgc_dir : "/tmp");
	return system(buf);
}

/* The server's bin directory (the newest installed), into pgc_bin. */
static inline int pgc_find_bin(void)
{
	glob_t g;
	if (glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) || g.gl_pathc == 0) {
		fprintf(stderr, "no PostgreSQL server binaries (run scripts/install-deps)\n");
		return -1;
	}
	const char *p = g.gl_pathv[g.gl_pathc - 1];
	snprintf(pgc_bin, sizeof(pgc_bin), "%.*s", (int)(strlen(p) - strlen("/initdb")), p);
	globfree(&g);
	return 0;
}

/* Fills pgc_conninfo with a server to use. Returns 0 or -1. */
static inline int pgc_start(void)
{
	const char *url = getenv("SB_TEST_DATABASE_URL");
	if (url && *url) {
		snprintf(pgc_conninfo, sizeof(pgc_conninfo), "%s", url);
		return pgc_find_bin();
	}
	if (pgc_find_bin())
		return -1;
	strcpy(pgc_dir, "/tmp/sb-unit-pg.XXXXXX");
	if (!mkdtemp(pgc_dir))
		return -1;
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam("postgres");
		if (!pw || chown(pgc_dir, pw->pw_uid, pw->pw_gid))
			return -1;
	}
	char cmd[1536];
	snprintf(cmd, sizeof(cmd), "%s/initdb -D %s/data -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 -N", pgc_bin,
		 pgc_dir);
	if (pgc_run(cmd))
		return -1;
	snprintf(cmd, sizeof(cmd),
		 "%s/pg_ctl -D %s/data -l %s/postgres.log -w -t 60 -o \"-c listen_addresses='' "
		 "-c unix_socket_directories='%s' -c fsync=off\" start",
		 pgc_bin, pgc_dir, pgc_dir, pgc_dir);
	if (pgc_run(cmd))
		return -1;
	snprintf(pgc_conninfo, sizeof(pgc_conninfo), "host=%s dbname=postgres user=postgres", pgc_dir);
	return 0;
}

/* Applies the sql/NNN_*.up.sql files (run from the repository's root, as make unit does). */
static inline int pgc_migrate(void)
{
	glob_t g;
	if (glob("sql/[0-9]*.up.sql", 0, NULL, &g) || g.gl_pathc == 0) {
		fprintf(stderr, "no sql/*.up.sql: run from the repository's root\n");
		return -1;
	}
	int rc = 0;
	char cwd[512], cmd[2048];
	if (!getcwd(cwd, sizeof(cwd)))
		rc = -1;
	for (size_t i = 0; i < g.gl_pathc && !rc; i++) {
		snprintf(cmd, sizeof(cmd), "%s/psql -X -q -v ON_ERROR_STOP=1 -d '%s' -f %s/%s", pgc_bin, pgc_conninfo, cwd,
			 g.gl_pathv[i]);
		if (pgc_run(cmd)) {
			fprintf(stderr, "migration %s failed (see %s/setup.log)\n", g.gl_pathv[i], pgc_dir);
			rc = -1;
		}
	}
	globfree(&g);
	return rc;
}

static inline void pgc_stop(void)
{
	if (!pgc_dir[0])
		return;
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "%s/pg_ctl -D %s/data -m immediate -w stop", pgc_bin, pgc_dir);
	pgc_run(cmd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", pgc_dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", pgc_dir);
	pgc_dir[0] = '\0';
}

/* The start of a test on the real schema: a migrated cluster, lib/db connected to it.
 * Returns 0, or -1 after saying why. */
static inline int pgc_open_schema(void)
{
	if (pgc_start() || pgc_migrate()) {
		fprintf(stderr, "no PostgreSQL for the test (see %s/setup.log)\n", pgc_dir[0] ? pgc_dir : "/tmp");
		return -1;
	}
	db_init(pgc_conninfo);
	return 0;
}

/* Its end: lib/db disconnected, the cluster stopped and removed. */
static inline void pgc_close_schema(void)
{
	db_close();
	pgc_stop();
}

#endif
