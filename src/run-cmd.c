/* run-cmd.c - run a system tool without a shell, capture what it says */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run-cmd.h"
#include "i18n.h"

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

int run_cmd(char *const argv[], struct run_output *output,
	    struct m2d_error *err)
{
	struct sink out = { NULL, 0, 0 }, errs = { NULL, 0, 0 };
	int po[2], pe[2], status;
	pid_t pid;
	struct pollfd fds[2];

	memset(output, 0, sizeof(*output));
	if (pipe2(po, O_CLOEXEC) < 0)
		return m2d_error_sys(err, "pipe", argv[0]);
	if (pipe2(pe, O_CLOEXEC) < 0) {
		close(po[0]);
		close(po[1]);
		return m2d_error_sys(err, "pipe", argv[0]);
	}
	pid = fork();
	if (pid < 0) {
		m2d_error_sys(err, "fork", argv[0]);
		close(po[0]);
		close(po[1]);
		close(pe[0]);
		close(pe[1]);
		return -1;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		dup2(po[1], STDOUT_FILENO);
		dup2(pe[1], STDERR_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	fds[0].fd = po[0];
	fds[1].fd = pe[0];
	fds[0].events = fds[1].events = POLLIN;
	while (fds[0].fd >= 0 || fds[1].fd >= 0) {
		int i;

		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < 2; i++) {
			if (fds[i].fd >= 0 && fds[i].revents != 0 &&
			    !sink_read(fds[i].fd, i == 0 ? &out : &errs)) {
				close(fds[i].fd);
				fds[i].fd = -1;
			}
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	output->out = out.data != NULL ? out.data : strdup("");
	output->err = errs.data != NULL ? errs.data : strdup("");
	output->status = WIFEXITED(status) ? WEXITSTATUS(status) :
		128 + WTERMSIG(status);
	if (output->status == 127 && output->err[0] == '\0') {
		run_output_free(output);
		errno = ENOENT;
		return m2d_error_sys(err, "execvp", argv[0]);
	}
	return 0;
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
	argv = malloc((n + 2) * sizeof(*argv) + strlen(cmdline) + 1);
	if (argv == NULL)
		return NULL;
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
