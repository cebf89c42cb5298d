/* The prefork master of a responder; see responder.h. It owns the listening socket,
 * keeps N children accepting on it and replaces those that die. SIGHUP re-executes the
 * binary on the same socket, but only after a separate process has loaded the new
 * configuration (`--check-config`): a bad env file leaves the running generation serving.
 * Every child ever started, in this image or the one before a reload, is in one table:
 * a retired child past its grace period is killed, and shutdown waits for all of them. */
#define _GNU_SOURCE
#include "http/responder.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auth/token.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/log.h"
#include "http/prefork.h"
#include "http/serve.h"

#define MAX_WORKERS 64
#define MAX_KIDS    (4 * MAX_WORKERS)

struct kid {
	pid_t pid;
	time_t started;
	time_t deadline; /* 0 while serving; once retired, SIGKILL at this time */
	bool killed;
};

struct master {
	const struct app *app;
	char **envp; /* the environment as started, before the .env file was merged in */
	char **argv;
	char self[PATH_MAX];
	const char *socket_path;
	int listen_fd;
	int workers;
	long retire_grace;
	time_t spawn_after; /* pacing: a child that died at once is not replaced at once */
	bool degraded;	    /* took over a generation but cannot start children (bad config) */
	struct kid kids[MAX_KIDS];
	int nkids;
};

static volatile sig_atomic_t got_term, got_hup, got_chld;

static void on_signal(int sig)
{
	if (sig == SIGTERM || sig == SIGINT)
		got_term = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else if (sig == SIGCHLD)
		got_chld = 1;
}

/* sa_flags = 0 (no SA_RESTART): the wait in ppoll() returns EINTR so the loop sees the flag. */
static void set_handler(int sig, void (*fn)(int))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static void kid_add(struct master *m, pid_t pid, time_t deadline)
{
	if (m->nkids == MAX_KIDS) {
		/* Cannot happen with MAX_WORKERS serving and a bounded grace; say so if it does. */
		log_msg(LOG_ERROR, "child table full: process %d is not tracked", (int)pid);
		return;
	}
	m->kids[m->nkids++] = (struct kid){.pid = pid, .started = time(NULL), .deadline = deadline};
}

static int kid_find(const struct master *m, pid_t pid)
{
	for (int i = 0; i < m->nkids; i++)
		if (m->kids[i].pid == pid)
			return i;
	return -1;
}

static int serving(const struct master *m)
{
	int n = 0;
	for (int i = 0; i < m->nkids; i++)
		n += m->kids[i].deadline == 0;
	return n;
}

/* Starts children until N serve. A fork failure is retried on the next tick. */
static void fill(struct master *m)
{
	if (m->degraded || got_term || time(NULL) < m->spawn_after)
		return;
	while (serving(m) < m->workers) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(serve_child(m->app, m->listen_fd));
		if (pid < 0) {
			log_msg(LOG_ERROR, "fork failed: %s", strerror(errno));
			return;
		}
		kid_add(m, pid, 0);
	}
}

/* Collects every child that exited and says what it was. */
static void reap(struct master *m)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		int i = kid_find(m, pid);
		const char *how = WIFSIGNALED(status) ? "signal" : "status";
		int code = WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status);
		if (i < 0) {
			log_msg(LOG_WARN, "reaped process %d this master did not track (%s %d)", (int)pid, how, code);
			continue;
		}
		struct kid k = m->kids[i];
		m->kids[i] = m->kids[--m->nkids];
		if (k.deadline) {
			log_msg(k.killed ? LOG_WARN : LOG_INFO, "retired worker %d exited (%s %d)", (int)pid, how,
				code);
		} else if (!got_term) {
			log_msg(LOG_WARN, "worker %d exited (%s %d); %s", (int)pid, how, code,
				m->degraded ? "cannot replace it until a reload succeeds" : "replacing it");
			if (time(NULL) - k.started < 1)
				m->spawn_after = time(NULL) + 1;
		}
	}
}

/* A retired child that has not finished within its grace is stuck: kill it. */
static void enforce_deadlines(struct master *m)
{
	time_t now = time(NULL);
	for (int i = 0; i < m->nkids; i++) {
		struct kid *k = &m->kids[i];
		if (!k->deadline || now < k->deadline)
			continue;
		if (!k->killed)
			log_msg(LOG_WARN, "retired worker %d still running %lds after SIGTERM: killing it", (int)k->pid,
				m->retire_grace);
		kill(k->pid, SIGKILL);
		k->killed = true;
	}
}

/* Asks every serving child to finish its request and exit, by the deadline. */
static void retire_serving(struct master *m, long grace)
{
	time_t deadline = time(NULL) + grace;
	for (int i = 0; i < m->nkids; i++) {
		if (m->kids[i].deadline)
			continue;
		m->kids[i].deadline = deadline;
		kill(m->kids[i].pid, SIGTERM);
	}
}

/* The reload outcome, for scripts/stack restart: "<socket>.reload" holds "ok" or
 * "failed: why". Written whole (rename) so a reader never sees half a line. */
static void reload_status(const struct master *m, const char *text)
{
	char path[PATH_MAX], tmp[PATH_MAX + 16];
	if (snprintf(path, sizeof(path), "%s.reload", m->socket_path) >= (int)sizeof(path))
		return;
	snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "%s\n", text);
	if (fclose(f) == 0 && rename(tmp, path) == 0)
		return;
	unlink(tmp);
}

/* "pid:deadline,..." of every tracked child, for the next image (SB_RETIRE_PIDS). */
static void handover_list(struct master *m, char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = '\0';
	for (int i = 0; i < m->nkids && n + 32 < cap; i++)
		n += (size_t)snprintf(buf + n, cap - n, "%s%d:%lld", n ? "," : "", (int)m->kids[i].pid,
				      (long long)m->kids[i].deadline);
}

/* Takes over the children of the image before the reload. With a good configuration
 * the serving ones retire (ours serve already); with a bad one they stay the serving
 * generation. Children that were already retiring keep their deadline. */
static void adopt_inherited(struct master *m, bool keep_serving)
{
	const char *list = getenv("SB_RETIRE_PIDS");
	if (!list)
		return;
	char *copy = strdup(list), *save = NULL;
	for (char *p = copy ? strtok_r(copy, ",", &save) : NULL; p; p = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(p, ':');
		pid_t pid = (pid_t)atoi(p);
		time_t deadline = colon ? (time_t)atoll(colon + 1) : 0;
		if (pid <= 1)
			continue;
		if (!deadline && !keep_serving) {
			deadline = time(NULL) + m->retire_grace;
			kill(pid, SIGTERM);
		}
		kid_add(m, pid, deadline);
	}
	free(copy);
	unsetenv("SB_RETIRE_PIDS");
}

/* Re-executes the binary with the original environment (so the new image reads the
 * .env file afresh), the listening socket and the table of children. Returns only on
 * failure. */
static void reexec(struct master *m)
{
	char fdvar[40], pidvar[MAX_KIDS * 32 + 20];
	snprintf(fdvar, sizeof(fdvar), "SB_INHERIT_FD=%d", m->listen_fd);
	memcpy(pidvar, "SB_RETIRE_PIDS=", 16);
	handover_list(m, pidvar + 15, sizeof(pidvar) - 15);
	size_t n = 0;
	while (m->envp[n])
		n++;
	char **env = calloc(n + 3, sizeof(*env));
	if (!env)
		return;
	memcpy(env, m->envp, n * sizeof(*env));
	env[n] = fdvar;
	env[n + 1] = pidvar;
	int flags = fcntl(m->listen_fd, F_GETFD);
	fcntl(m->listen_fd, F_SETFD, flags & ~FD_CLOEXEC); /* the socket must survive exec */
	log_msg(LOG_INFO, "reloading: re-executing %s", m->self);
	execve(m->self, m->argv, env);
	log_msg(LOG_ERROR, "re-exec failed (%s): keeping the running code", strerror(errno));
	free(env);
	fcntl(m->listen_fd, F_SETFD, flags | FD_CLOEXEC);
}

/* SIGHUP: check, then re-exec; on a bad configuration keep everything as it is. */
static void reload(struct master *m)
{
	char why[512];
	if (prefork_check_config(m->self, m->envp, why, sizeof(why))) {
		log_msg(LOG_ERROR, "reload refused, the running generation keeps serving: %s", why);
		char status[600];
		snprintf(status, sizeof(status), "failed: %s", why);
		reload_status(m, status);
		return;
	}
	reexec(m);
	reload_status(m, "failed: re-exec failed; the running generation keeps serving");
}

/* Shutdown: every child finishes its request; what is left after the grace is killed;
 * returns once every tracked child is reaped. */
static void shutdown_children(struct master *m)
{
	long grace = config_int("SB_SHUTDOWN_GRACE_SECONDS", 10, 1, 300);
	retire_serving(m, grace);
	for (int i = 0; i < m->nkids; i++) {
		kill(m->kids[i].pid, SIGTERM);
		if (m->kids[i].deadline > time(NULL) + grace)
			m->kids[i].deadline = time(NULL) + grace;
	}
	time_t give_up = time(NULL) + grace + 5;
	while (m->nkids > 0 && time(NULL) < give_up) {
		reap(m);
		enforce_deadlines(m);
		if (m->nkids)
			poll(NULL, 0, 20);
	}
	if (m->nkids)
		log_msg(LOG_ERROR, "%d children did not exit even after SIGKILL", m->nkids);
}

static void signals_block(sigset_t *old, sigset_t *wait)
{
	sigset_t block;
	sigemptyset(&block);
	int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGCHLD};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigaddset(&block, sigs[i]);
		set_handler(sigs[i], on_signal);
	}
	sigprocmask(SIG_BLOCK, &block, old);
	signal(SIGPIPE, SIG_IGN);
	*wait = *old;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigdelset(wait, sigs[i]);
}

static int master_loop(struct master *m, bool inherited)
{
	sigset_t old, wait;
	signals_block(&old, &wait);
	fill(m);
	/* New children are accepting: the previous generation may go. */
	adopt_inherited(m, m->degraded);
	if (inherited)
		reload_status(m, m->degraded ? "failed: the new configuration did not load; the previous generation "
					       "keeps serving (see the group's log)"
					     : "ok");
	log_msg(m->degraded ? LOG_ERROR : LOG_INFO, "serving %s with %d workers%s", m->socket_path, serving(m),
		m->degraded ? " of the previous generation; fix the configuration and reload" : "");
	while (!got_term) {
		if (got_hup) {
			got_hup = 0;
			reload(m);
		}
		got_chld = 0;
		reap(m);
		fill(m);
		enforce_deadlines(m);
		if (!got_term && !got_hup && !got_chld)
			ppoll(NULL, 0, &(struct timespec){.tv_sec = 1}, &wait);
	}
	shutdown_children(m);
	sigprocmask(SIG_SETMASK, &old, NULL);
	prefork_unlink_if_ours(m->listen_fd, m->socket_path);
	log_msg(LOG_INFO, "stopped");
	return 0;
}

/* Loads and checks what every child needs. In the --check-config process also what a
 * child loads after fork (child_init: providers file and the like). */
static int config_valid(const struct app *app, bool check_mode)
{
	if (config_load() || crypto_keys_load() || token_init())
		return -1;
	if (check_mode && app->child_init && app->child_init())
		return -1;
	return 0;
}

static int usage(const char *argv0)
{
	fprintf(stderr, "usage: %s --socket PATH [--workers N] | --check-config\n", argv0);
	return 2;
}

static int parse_args(struct master *m, int argc, char **argv, bool *check)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--socket") && i + 1 < argc)
			m->socket_path = argv[++i];
		else if (!strcmp(argv[i], "--workers") && i + 1 < argc)
			m->workers = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--check-config"))
			*check = true;
		else
			return -1;
	}
	return *check || m->socket_path ? 0 : -1;
}

int responder_main(int argc, char **argv, const struct app *app)
{
	static struct master m;
	bool check = false;
	m.app = app;
	m.argv = argv;
	/* Blocks of 1 MiB and more are mapped for each use and unmapped at free. glibc would
	 * otherwise raise its mmap threshold after the first such free and keep the next
	 * ones in the heap: argon2's 19 MiB work area stayed resident in every worker that
	 * had hashed a password once (PSS 20 MiB instead of under 1). */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	if (parse_args(&m, argc, argv, &check))
		return usage(argv[0]);
	log_init(app->name);
	if (check)
		return config_valid(app, true) ? 1 : 0;
	m.envp = prefork_environment_snapshot();
	if (!m.envp)
		return 1;
	const char *inherit = getenv("SB_INHERIT_FD");
	/* Fail fast on a configuration a child would refuse, before taking the socket; after
	 * a reload, keep the generation we inherit instead of orphaning it. */
	if (config_valid(app, false)) {
		if (!inherit)
			return 1;
		m.degraded = true;
	}
	m.workers = m.workers > 0 ? m.workers : (int)config_int("SB_WORKERS", 4, 1, MAX_WORKERS);
	m.workers = m.workers > MAX_WORKERS ? MAX_WORKERS : m.workers;
	m.retire_grace = config_int("SB_RETIRE_GRACE_SECONDS", 30, 1, 600);
	/* The path, not /proc/self/exe: a reload must run the binary installed there now. */
	if (!realpath(argv[0], m.self) && !realpath("/proc/self/exe", m.self))
		snprintf(m.self, sizeof(m.self), "%s", argv[0]);
	if (inherit) {
		m.listen_fd = atoi(inherit);
		unsetenv("SB_INHERIT_FD");
		fcntl(m.listen_fd, F_SETFD, FD_CLOEXEC);
	} else if ((m.listen_fd = prefork_listen_unix(m.socket_path)) < 0) {
		return 1;
	}
	/* Children wait in epoll_pwait() and must never block in accept(): see serve.c. */
	fcntl(m.listen_fd, F_SETFL, fcntl(m.listen_fd, F_GETFL) | O_NONBLOCK);
	return master_loop(&m, inherit != NULL);
}
