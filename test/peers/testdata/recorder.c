/*
 * recorder: the program of the randomized start-up test (random_test.go). It catches every
 * signal it can, and only then clears its signal mask, so that a signal its caller kept blocked
 * waits for the handler instead of killing it. Each signal appends "got N" to the log named by
 * argv[1]; SIGTERM ends it with status 0. It writes "ready" to stdout once it catches them all.
 *
 * It is C, not Go: the Go runtime unblocks SIGHUP, SIGINT and SIGTERM at start-up, before main,
 * so a Go program cannot keep a caller's block on them until its handlers exist.
 */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static int logfd = -1;

static void record(int sig)
{
	char buf[16] = "got ";
	int n = 4;
	if (sig >= 10)
		buf[n++] = '0' + sig / 10;
	buf[n++] = '0' + sig % 10;
	buf[n++] = '\n';
	(void) write(logfd, buf, n);
	if (sig == SIGTERM)
		_exit(0);
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	sigset_t none;
	int sig;

	if (argc != 2)
		return 2;
	logfd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (logfd < 0)
		return 2;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = record;
	sa.sa_flags = SA_RESTART;
	sigfillset(&sa.sa_mask);
	for (sig = 1; sig <= 64; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP || sig == SIGCHLD)
			continue;
		(void) sigaction(sig, &sa, NULL); /* 32 and 33 belong to glibc: EINVAL */
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	(void) write(1, "ready\n", 6);
	for (;;)
		pause();
}
