/* The notifier: a child process that queues and sends notifications every
 * SB_NOTIFY_SCAN_SECONDS (15), so a slow mail server never holds the deliveries of the
 * parent. One child at a time; lib/integrations/notify_send.c does the work. */
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "db/db.h"
#include "integrations/notify_send.h"
#include "worker.h"

void notify_supervise(pid_t *pid, time_t *last)
{
	if (*pid > 0 && waitpid(*pid, NULL, WNOHANG) == *pid)
		*pid = 0;
	long every = config_int("SB_NOTIFY_SCAN_SECONDS", 15, 1, 3600);
	if (*pid != 0 || time(NULL) - *last < every)
		return;
	*last = time(NULL);
	*pid = fork();
	if (*pid == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		db_forget_after_fork();
		notify_run((int)config_int("SB_NOTIFY_BATCH", 50, 1, 1000));
		db_close();
		_exit(0);
	}
	if (*pid < 0)
		*pid = 0;
}

void notify_stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
}
