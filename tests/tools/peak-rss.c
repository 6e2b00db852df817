/* SPDX-License-Identifier: MIT */
/* peak-rss.c - run a command, report its wall time and peak RSS
 *
 *   peak-rss REPORT COMMAND [ARG...]
 *
 * Runs COMMAND (stdin, stdout and stderr are the caller's), waits for it
 * with wait4() and writes one line to the file REPORT:
 *
 *   wall=SECONDS user=SECONDS sys=SECONDS maxrss_kib=KIB status=N
 *
 * maxrss_kib is the child's ru_maxrss (Linux: KiB, the largest resident
 * set of the process and the descendants it waited for).  Exits with the
 * command's status (128+N when killed by signal N, 127 when it could not
 * be started).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double tv_sec(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	FILE *rep;
	pid_t pid;
	int status, rc;

	if (argc < 3) {
		fprintf(stderr, "usage: peak-rss REPORT COMMAND [ARG...]\n");
		return 2;
	}
	rep = fopen(argv[1], "w");
	if (rep == NULL) {
		fprintf(stderr, "peak-rss: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	fflush(NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "peak-rss: fork: %s\n", strerror(errno));
		return 2;
	}
	if (pid == 0) {
		fclose(rep);
		execvp(argv[2], argv + 2);
		fprintf(stderr, "peak-rss: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "peak-rss: wait4: %s\n", strerror(errno));
			return 2;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (WIFEXITED(status))
		rc = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		rc = 128 + WTERMSIG(status);
	else
		rc = 2;
	fprintf(rep, "wall=%.6f user=%.3f sys=%.3f maxrss_kib=%ld status=%d\n",
		(double)(t1.tv_sec - t0.tv_sec) +
			(double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
		tv_sec(ru.ru_utime), tv_sec(ru.ru_stime), ru.ru_maxrss, rc);
	if (fclose(rep) != 0) {
		fprintf(stderr, "peak-rss: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	return rc;
}
