/* SPDX-License-Identifier: MIT */
/* run-cmd.c - run a system tool without a shell, capture what it says */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run-cmd.h"
#include "i18n.h"
#include "xalloc.h"

struct sink {
	char *data;
	size_t len, size;
};

static int sink_read(int fd, struct sink *s)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n <= 0)
		return n < 0 && errno == EINTR ? 1 : 0;
	if (s->len + (size_t)n + 1 > s->size) {
		size_t size = (s->len + (size_t)n + 1) * 2;
		char *d = realloc(s->data, size);

		if (d == NULL)
			return 0;
		s->data = d;
		s->size = size;
	}
	memcpy(s->data + s->len, buf, (size_t)n);
	s->len += (size_t)n;
	s->data[s->len] = '\0';
	return 1;
}

static void close_pipe(int fds[2])
{
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
}

/*
 * Writes what is left of the input to FD (non-blocking): 1 more to come,
 * 0 all written or the command stopped reading (EPIPE: its exit status
 * tells the rest).  SIGPIPE is blocked in this thread around the write,
 * and one it raised is taken back (the library must not change the
 * program's signal handling; as imap-client.c's tls_write).
 */
static int feed(int fd, const char **input, size_t *left)
{
	sigset_t pipe_set, old, pending;
	bool was_pending;
	ssize_t n;
	int e;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	n = write(fd, *input, *left);
	e = errno;
	if (!was_pending) {
		struct timespec zero = { 0, 0 };

		sigpending(&pending);
		if (sigismember(&pending, SIGPIPE))
			sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (n < 0)
		return e == EINTR || e == EAGAIN ? 1 : 0;
	*input += n;
	*left -= (size_t)n;
	return *left > 0;
}

/* Seconds a command may stay silent before it is stopped (0: forever). */
static unsigned silence_limit = RUN_CMD_SILENCE_DEFAULT;

void run_cmd_set_silence_limit(unsigned secs)
{
	silence_limit = secs;
}

/* Milliseconds left of the silence allowed since LAST (CLOCK_MONOTONIC),
 * for poll(); -1 without a limit. */
static int silence_left(const struct timespec *last)
{
	struct timespec now;
	long long ms;

	if (silence_limit == 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)silence_limit * 1000 -
		((now.tv_sec - last->tv_sec) * 1000LL +
		 (now.tv_nsec - last->tv_nsec) / 1000000);
	return ms > 0 ? (int)(ms > 60000 ? 60000 : ms) : 0;
}

int run_cmd_input(char *const argv[], const char *input, size_t len,
		  struct run_output *output, struct m2d_error *err)
{
	struct timespec last;
	bool silenced = false;
	struct sink out = { NULL, 0, 0 }, errs = { NULL, 0, 0 };
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, pi[2] = { -1, -1 };
	int status;
	pid_t pid;
	struct pollfd fds[3];

	memset(output, 0, sizeof(*output));
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0 ||
	    (input != NULL && pipe2(pi, O_CLOEXEC) < 0)) {
		m2d_error_sys(err, "pipe", argv[0]);
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		m2d_error_sys(err, "fork", argv[0]);
		goto fail;
	}
	if (pid == 0) {
		int in = input != NULL ? pi[0] : open("/dev/null", O_RDONLY);

		if (in >= 0)
			dup2(in, STDIN_FILENO);
		dup2(po[1], STDOUT_FILENO);
		dup2(pe[1], STDERR_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	if (pi[0] >= 0) {
		close(pi[0]);
		fcntl(pi[1], F_SETFL, fcntl(pi[1], F_GETFL) | O_NONBLOCK);
	}
	fds[0].fd = po[0];
	fds[1].fd = pe[0];
	fds[2].fd = pi[1];
	fds[0].events = fds[1].events = POLLIN;
	fds[2].events = POLLOUT;
	if (fds[2].fd >= 0 && len == 0) {
		close(fds[2].fd);	/* nothing to say: end of input */
		fds[2].fd = -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &last);
	while (fds[0].fd >= 0 || fds[1].fd >= 0 || fds[2].fd >= 0) {
		int i, left = silence_left(&last), n;

		if (left == 0) {
			/* a command that hangs (doveadm on a FIFO a user
			 * planted in a maildir) must not hang us */
			kill(pid, SIGKILL);
			silenced = true;
			break;
		}
		n = poll(fds, 3, left);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < 2; i++) {
			if (fds[i].fd >= 0 && fds[i].revents != 0) {
				clock_gettime(CLOCK_MONOTONIC, &last);
				if (!sink_read(fds[i].fd,
					       i == 0 ? &out : &errs)) {
					close(fds[i].fd);
					fds[i].fd = -1;
				}
			}
		}
		if (fds[2].fd >= 0 && fds[2].revents != 0 &&
		    !feed(fds[2].fd, &input, &len)) {
			close(fds[2].fd);
			fds[2].fd = -1;
		}
	}
	for (int i = 0; i < 3; i++)
		if (fds[i].fd >= 0)
			close(fds[i].fd);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	output->out = out.data != NULL ? out.data : strdup("");
	output->err = errs.data != NULL ? errs.data : strdup("");
	output->status = WIFEXITED(status) ? WEXITSTATUS(status) :
		128 + WTERMSIG(status);
	if (silenced) {
		run_output_free(output);
		m2d_error_set(err, M2D_ERR_SYS, argv[0],
			      _("printed nothing for %u s and was stopped "
				"(a file it waits on may be a FIFO or on a "
				"hung file system; see command_timeout)"),
			      silence_limit);
		return -1;
	}
	if (output->status == 127 && output->err[0] == '\0') {
		run_output_free(output);
		errno = ENOENT;
		return m2d_error_sys(err, "execvp", argv[0]);
	}
	return 0;
fail:
	close_pipe(po);
	close_pipe(pe);
	close_pipe(pi);
	return -1;
}

int run_cmd(char *const argv[], struct run_output *output,
	    struct m2d_error *err)
{
	return run_cmd_input(argv, NULL, 0, output, err);
}

void run_output_free(struct run_output *output)
{
	free(output->out);
	free(output->err);
	output->out = output->err = NULL;
}

char **run_cmd_argv(const char *cmdline, const char *const *extra)
{
	size_t n = 0, i, k = 0;
	const char *p;
	char **argv, *copy, *tok, *save = NULL;

	for (p = cmdline; *p != '\0'; p++)
		n += *p == ' ';
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		n++;
	/* the strings live in the same allocation, after the pointers */
	argv = xmalloc((n + 2) * sizeof(*argv) + strlen(cmdline) + 1);

	copy = (char *)(argv + n + 2);
	strcpy(copy, cmdline);
	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	     tok = strtok_r(NULL, " ", &save))
		argv[k++] = tok;
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		argv[k++] = (char *)extra[i];
	argv[k] = NULL;
	return argv;
}
