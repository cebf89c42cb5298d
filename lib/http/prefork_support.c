/* Operating-system chores of the prefork master; see prefork.h. */
#define _GNU_SOURCE
#include "http/prefork.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"

#define CHECK_TIMEOUT_MS 15000

/* Only nginx's group may talk FastCGI to us: a local user reaching the socket directly
 * could forge REMOTE_ADDR and step around nginx's limits. SB_SOCKET_GROUP names the
 * group (www-data); when it cannot be set (not root, no such group) the socket stays
 * open to all local users, with a warning. */
static int socket_permissions(const char *path)
{
	struct group *g = getgrnam(config_str("SB_SOCKET_GROUP", "www-data"));
	if (g && chown(path, (uid_t)-1, g->gr_gid) == 0)
		return chmod(path, 0660);
	log_msg(LOG_WARN, "socket %s: group %s not set; any local user may connect", path,
		config_str("SB_SOCKET_GROUP", "www-data"));
	return chmod(path, 0666);
}

/* Binds path atomically: a new socket file is renamed over the old one, so clients
 * never find the path missing. Returns the fd or -1. */
int prefork_listen_unix(const char *path)
{
	struct sockaddr_un sa;
	char tmp[sizeof(sa.sun_path)];
	memset(&sa, 0, sizeof(sa));
	if (snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid()) >= (int)sizeof(tmp)) {
		fprintf(stderr, "socket path too long: %s\n", path);
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, tmp, strlen(tmp) + 1);
	unlink(tmp);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || socket_permissions(tmp) || listen(fd, 1024) ||
	    rename(tmp, path)) {
		fprintf(stderr, "cannot listen on %s: %s\n", path, strerror(errno));
		unlink(tmp);
		close(fd);
		return -1;
	}
	return fd;
}

/* A copy of environ without our own hand-over variables. */
char **prefork_environment_snapshot(void)
{
	extern char **environ;
	size_t n = 0;
	while (environ[n])
		n++;
	char **copy = calloc(n + 1, sizeof(*copy));
	size_t k = 0;
	for (size_t i = 0; copy && i < n; i++)
		if (strncmp(environ[i], "SB_INHERIT_FD=", 14) && strncmp(environ[i], "SB_RETIRE_PIDS=", 15))
			copy[k++] = strdup(environ[i]);
	return copy;
}

void prefork_unlink_if_ours(int fd, const char *path)
{
	struct stat st_path, st_fd;
	if (!stat(path, &st_path) && !fstat(fd, &st_fd) && st_path.st_ino == st_fd.st_ino &&
	    st_path.st_dev == st_fd.st_dev)
		unlink(path);
}

/* The check process: stderr into the pipe, default signals, nothing else inherited. */
static void exec_check(const char *self, char **envp, int out)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	dup2(out, STDERR_FILENO);
	char *args[] = {(char *)self, "--check-config", NULL};
	execve(self, args, envp);
	fprintf(stderr, "cannot run %s: %s\n", self, strerror(errno));
	_exit(127);
}

/* Reads what the check printed until it closes the pipe or the deadline passes; lines
 * are joined with "; ". Returns 0, or -1 on timeout. */
static int read_check_output(int fd, char *why, size_t cap)
{
	size_t n = 0;
	why[0] = '\0';
	for (int waited = 0; waited < CHECK_TIMEOUT_MS; waited += 100) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 100) <= 0)
			continue;
		char buf[256];
		ssize_t got = read(fd, buf, sizeof(buf));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return 0;
		for (ssize_t i = 0; i < got && n + 3 < cap; i++) {
			if (buf[i] != '\n')
				why[n++] = buf[i];
			else if (i + 1 < got || n)
				n += (size_t)snprintf(why + n, cap - n, "; ");
		}
		why[n] = '\0';
	}
	return -1;
}

int prefork_check_config(const char *self, char **envp, char *why, size_t cap)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC)) {
		snprintf(why, cap, "cannot check the configuration: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0)
		exec_check(self, envp, pfd[1]);
	close(pfd[1]);
	int timed_out = pid > 0 ? read_check_output(pfd[0], why, cap) : -1;
	close(pfd[0]);
	if (pid < 0) {
		snprintf(why, cap, "cannot check the configuration: %s", strerror(errno));
		return -1;
	}
	if (timed_out)
		kill(pid, SIGKILL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	size_t n = strlen(why);
	while (n && (why[n - 1] == ' ' || why[n - 1] == ';'))
		why[--n] = '\0';
	if (!timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (!n)
		snprintf(why, cap, "%s --check-config %s", self, timed_out ? "timed out" : "failed");
	return -1;
}
