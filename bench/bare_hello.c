/* The ceiling for `make bench`: the least a libfcgi responder can do (accept, answer a
 * constant JSON body) behind the same nginx, prefork like ours. */
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s SOCKET WORKERS\n", argv[0]);
		return 2;
	}
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	unlink(argv[1]);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(argv[1], 0666) || listen(fd, 1024)) {
		perror("listen");
		return 1;
	}
	int workers = atoi(argv[2]);
	for (int i = 0; i < workers; i++) {
		if (fork() == 0) {
			FCGX_Init();
			FCGX_Request r;
			FCGX_InitRequest(&r, fd, 0);
			static const char body[] = "{\"success\":true,\"data\":{\"hello\":\"world\"}}";
			char head[160];
			/* libfcgi's FCGX_FPrintF knows no %zu: format with snprintf. */
			int n = snprintf(
				head, sizeof(head),
				"Status: 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
				sizeof(body) - 1);
			while (FCGX_Accept_r(&r) >= 0) {
				FCGX_PutStr(head, n, r.out);
				FCGX_PutStr(body, (int)sizeof(body) - 1, r.out);
				FCGX_Finish_r(&r);
			}
			_exit(0);
		}
	}
	while (wait(NULL) > 0)
		;
	return 0;
}
