#define _GNU_SOURCE /* pthread_timedjoin_np */
/* Work that blocks (PostgreSQL through lib/'s stores, getaddrinfo) runs on one worker
 * thread, never on the event loop: the loop posts a job, the thread runs its work(),
 * queues it back and writes an eventfd; the loop then runs its done(), in the order the
 * jobs were posted. Once started, the thread is the only user of the process's database
 * connection (lib/db keeps one, not thread-safe) until offload_stop has joined it.
 *
 * Shared state: the two lists and `stopping`, under mu, nothing else. A job belongs to
 * the loop until offload_post, to the thread until it is on `finished`, then to the loop
 * again. work() sees only its job: the jobs carry copies, never a session pointer (see
 * struct job in relay.h: done() finds its session again by id). */
#include <libpq-fe.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "db/db.h"
#include "relay.h"

/* At stop, the thread gets JOIN_WAIT_MS to finish the queue; then the query it runs is
 * cancelled and it gets CANCEL_WAIT_MS more (scripts/stack kills the relay 5 s after
 * SIGTERM, 3 s of which the sessions may take to close). */
#define JOIN_WAIT_MS   1000
#define CANCEL_WAIT_MS 500

static pthread_t thread;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct job *todo, **todo_tail = &todo, *finished, **finished_tail = &finished; /* under mu */
static bool stopping;							       /* under mu */
static PGcancel *cancel; /* under mu: for the query of the job running, if any */
static bool started; /* the loop's own */
static int efd = -1;

static void *run(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	for (;;) {
		while (!todo && !stopping)
			pthread_cond_wait(&cv, &mu);
		if (!todo)
			break;
		struct job *j = todo;
		if (!(todo = j->next))
			todo_tail = &todo;
		bool skip = stopping && j->skip_at_stop;
		pthread_mutex_unlock(&mu);
		PGcancel *c = j->work && !skip ? PQgetCancel(db_conn()) : NULL;
		pthread_mutex_lock(&mu);
		cancel = c;
		pthread_mutex_unlock(&mu);
		if (j->work && !skip)
			j->work(j);
		pthread_mutex_lock(&mu);
		cancel = NULL;
		if (c)
			PQfreeCancel(c);
		j->next = NULL;
		*finished_tail = j;
		finished_tail = &j->next;
		uint64_t one = 1;
		if (write(efd, &one, sizeof(one)) < 0) {
			/* the counter cannot overflow here: nothing to do */
		}
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

int offload_start(void)
{
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd < 0 || pthread_create(&thread, NULL, run, NULL))
		return -1;
	started = true;
	return efd;
}

void offload_post(struct job *j)
{
	j->next = NULL;
	if (!started) { /* before the thread or after it: nobody else uses the database */
		if (j->work)
			j->work(j);
		j->done(j);
		return;
	}
	pthread_mutex_lock(&mu);
	*todo_tail = j;
	todo_tail = &j->next;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

void offload_complete(void)
{
	uint64_t n;
	if (efd >= 0 && read(efd, &n, sizeof(n)) < 0) {
		/* EAGAIN: nothing counted since the last read; the list says what is done */
	}
	pthread_mutex_lock(&mu);
	struct job *list = finished;
	finished = NULL;
	finished_tail = &finished;
	pthread_mutex_unlock(&mu);
	while (list) {
		struct job *j = list;
		list = j->next;
		j->done(j); /* frees j; may post more jobs */
	}
}

static bool join_within(long ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += (ms % 1000) * 1000000L;
	until.tv_sec += ms / 1000 + until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	return pthread_timedjoin_np(thread, NULL, &until) == 0;
}

void offload_stop(void)
{
	if (!started)
		return;
	pthread_mutex_lock(&mu);
	stopping = true;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	if (!join_within(JOIN_WAIT_MS)) {
		char err[256];
		pthread_mutex_lock(&mu);
		if (cancel && !PQcancel(cancel, err, sizeof(err)))
			log_msg(LOG_WARN, "could not cancel the relay's query: %s", err);
		pthread_mutex_unlock(&mu);
		if (!join_within(CANCEL_WAIT_MS)) {
			/* Still waiting (a resolver, a database that does not answer the cancel): the
			 * process exits without it; its jobs and the connection stay with it. */
			log_msg(LOG_WARN, "the relay's database work did not finish; exiting without it");
			return;
		}
		log_msg(LOG_WARN, "the relay's database work was cancelled at stop");
	}
	started = false;
	offload_complete(); /* after the join: done() may post again, run at once */
	close(efd);
	efd = -1;
}

bool offload_joined(void)
{
	return !started;
}
