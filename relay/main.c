/* The relay's process: settings, the listening unix socket, the epoll loop with a
 * one-second timer and the stop signals. SIGTERM (and SIGINT) close every session with
 * WebSocket close code 1012 (service restart: reconnect) and exit once they are gone.
 * Database work and DNS run on offload.c's thread; the loop only watches its eventfd. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/crypto.h"
#include "core/log.h"
#include "db/db.h"
#include "relay.h"

struct relay_conf relay_conf;
static int epfd = -1;

long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int loop_watch(int fd, struct ep *e, uint32_t events, uint32_t *registered)
{
	if (*registered == events + 1)
		return 0; /* unchanged (registered holds events + 1, 0 meaning not added) */
	struct epoll_event ev = {.events = events, .data.ptr = e};
	int op = *registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(epfd, op, fd, &ev))
		return -1;
	*registered = events + 1;
	return 0;
}

void loop_forget(int fd)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
}

static int listen_unix(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 1024)) {
		close(fd);
		return -1;
	}
	/* nginx's group only, as the responders' sockets; any user when it cannot be set. */
	struct group *g = getgrnam(config_str("SB_SOCKET_GROUP", "www-data"));
	if (g && chown(path, (uid_t)-1, g->gr_gid) == 0)
		chmod(path, 0660);
	else
		chmod(path, 0666);
	return fd;
}

static void read_conf(int argc, char **argv)
{
	relay_conf.socket_path = config_str("SB_RELAY_SOCKET", "/run/switchboard/relay.sock");
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--socket"))
			relay_conf.socket_path = argv[++i];
	relay_conf.relay_id = config_str("SB_RELAY_ID", "relay");
	relay_conf.ca_file = config_str("SB_MQTT_CA_FILE", NULL);
	relay_conf.max_packet = config_int("SB_RELAY_MAX_PACKET", 256 * 1024, 1024, 16 * 1024 * 1024);
	relay_conf.sessions_per_user = config_int("SB_RELAY_SESSIONS_PER_USER", 10, 1, 100000);
	relay_conf.connect_timeout_ms = config_int("SB_MQTT_TEST_TIMEOUT_MS", 5000, 500, 15000);
	relay_conf.msgs_per_second = config_int("SB_RELAY_MESSAGES_PER_SECOND", 200, 1, 1000000);
	relay_conf.bytes_per_second = config_int("SB_RELAY_BYTES_PER_SECOND", 1024 * 1024, 1024, 1024L * 1024 * 1024);
}

static int make_fds(int *sfd, int *tfd)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	*sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	*tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	struct itimerspec it = {.it_interval = {0, 250 * 1000000}, .it_value = {0, 250 * 1000000}};
	return *sfd < 0 || *tfd < 0 || timerfd_settime(*tfd, 0, &it, NULL) ? -1 : 0;
}

/* Runs until a stop signal, then until the sessions are gone (3 s at most). */
static void run(int lfd, int sfd, int tfd, int jfd)
{
	static struct ep listen_ep = {EP_LISTEN, NULL}, timer_ep = {EP_TIMER, NULL}, signal_ep = {EP_SIGNAL, NULL},
			 jobs_ep = {EP_JOBS, NULL};
	uint32_t r1 = 0, r2 = 0, r3 = 0, r4 = 0;
	loop_watch(jfd, &jobs_ep, EPOLLIN, &r4);
	loop_watch(lfd, &listen_ep, EPOLLIN, &r1);
	loop_watch(tfd, &timer_ep, EPOLLIN, &r2);
	loop_watch(sfd, &signal_ep, EPOLLIN, &r3);
	long long stop_at = 0;
	struct epoll_event evs[256];
	while (!stop_at || (sessions_count() && now_ms() < stop_at)) {
		int n = epoll_wait(epfd, evs, 256, 1000);
		for (int i = 0; i < n; i++) {
			struct ep *e = evs[i].data.ptr;
			uint64_t ticks;
			struct signalfd_siginfo si;
			switch (e->kind) {
			case EP_LISTEN:
				if (!stop_at)
					session_accept(lfd);
				break;
			case EP_TIMER:
				while (read(tfd, &ticks, sizeof(ticks)) > 0)
					;
				sessions_tick();
				break;
			case EP_SIGNAL:
				while (read(sfd, &si, sizeof(si)) > 0)
					;
				if (!stop_at) {
					log_msg(LOG_INFO, "stopping: closing %u sessions (1012 service restart)",
						sessions_count());
					stop_at = now_ms() + 3000;
					loop_forget(lfd);
					sessions_close_all(1012, "service restart: reconnect");
				}
				break;
			case EP_JOBS:
				offload_complete();
				break;
			case EP_CLIENT:
				if (!e->s->destroyed)
					session_client_event(e->s, evs[i].events);
				break;
			case EP_BROKER:
				if (!e->s->destroyed)
					session_broker_event(e->s, evs[i].events);
				break;
			}
		}
		sessions_reap();
	}
}

int main(int argc, char **argv)
{
	log_init("relay");
	if (config_load() || crypto_keys_load() || broker_tls_init())
		return 1;
	read_conf(argc, argv);
	db_init(config_str("DATABASE_URL", "postgresql:///switchboard"));
	int sfd, tfd;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	int lfd = listen_unix(relay_conf.socket_path);
	if (epfd < 0 || lfd < 0 || make_fds(&sfd, &tfd)) {
		log_msg(LOG_ERROR, "cannot listen on %s: %s", relay_conf.socket_path, strerror(errno));
		return 1;
	}
	store_clear(); /* closes the rows a previous run left open */
	int jfd = offload_start(); /* from here on only its thread uses the database */
	if (jfd < 0) {
		log_msg(LOG_ERROR, "cannot start the worker thread");
		return 1;
	}
	log_msg(LOG_INFO, "listening on %s", relay_conf.socket_path);
	run(lfd, sfd, tfd, jfd);
	sessions_close_all(1012, "service restart: reconnect");
	sessions_destroy_all(); /* their rows' closes are posted as jobs */
	offload_stop();		/* runs what is queued, joins the thread */
	sessions_reap();
	unlink(relay_conf.socket_path);
	if (!offload_joined())
		return 1; /* the thread still holds the database connection */
	store_clear();
	db_close();
	log_msg(LOG_INFO, "stopped");
	return 0;
}
