/*
 * Running one Docker Hub hook: fork, exec its interpreter found on the
 * hook's own PATH, wait; see hooks_run() in hooks.h. The environment is the
 * caller's envp: nothing here reads builder's own.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "compose/hooks.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/signals.h"
#include "util/xmalloc.h"
#include "util/banned.h"

#define HOOK_HEAD_MAX 1024
#define HOOK_KILL_AFTER_S 10

/* The interpreter's full path on envp's PATH (default "/usr/bin:/bin"),
 * or NULL. */
static char *find_on_path(const char *prog, char *const envp[])
{
	const char *path = "/usr/local/bin:/usr/bin:/bin";
	struct strlist dirs = STRLIST_INIT;
	char *found = NULL;
	size_t i;

	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0 ? xstrdup(prog) : NULL;
	for (; envp && *envp; envp++)
		if (!strncmp(*envp, "PATH=", 5))
			path = *envp + 5;
	strlist_split(&dirs, path, ":");
	for (i = 0; i < dirs.n && !found; i++) {
		struct buf p = BUF_INIT(BUF_TEXT_MAX);
		struct stat st;

		buf_addf(&p, "%s/%s", dirs.v[i], prog);
		if (stat(buf_str(&p), &st) == 0 && S_ISREG(st.st_mode) &&
		    access(buf_str(&p), X_OK) == 0)
			found = buf_detach(&p);
		buf_release(&p);
	}
	strlist_clear(&dirs);
	return found;
}

static int read_head(const char *path, char *head, size_t max, size_t *len,
		     struct error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return err_set(err, EXIT_USAGE, "cannot open hook '%s': %s",
			       path, strerror(errno));
	n = read(fd, head, max);
	close(fd);
	if (n < 0)
		return err_set(err, EXIT_USAGE, "cannot read hook '%s': %s",
			       path, strerror(errno));
	*len = (size_t)n;
	return 0;
}

/* Stops the hook's process group after a signal to builder. */
static void stop_hook(pid_t pid)
{
	double deadline = now_seconds() + HOOK_KILL_AFTER_S;
	int status;

	kill(-pid, SIGTERM);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now_seconds() >= deadline) {
			kill(-pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			return;
		}
		nanosleep(&(struct timespec){ 0, 100L * 1000 * 1000 }, NULL);
	}
}

int hooks_check(const char *dir, const struct strlist *found,
		char *const envp[], struct error *err)
{
	struct strlist argv = STRLIST_INIT;
	char head[HOOK_HEAD_MAX], *prog = NULL;
	size_t len = 0;
	int ret = 0;

	for (size_t i = 0; i < found->n && ret == 0; i++) {
		struct buf path = BUF_INIT(BUF_PATH_MAX);

		buf_addf(&path, "%s/hooks/%s", dir, found->v[i]);
		strlist_clear(&argv);
		if (read_head(buf_str(&path), head, sizeof(head), &len, err) <
			    0 ||
		    hooks_interpreter(head, len, &argv, err) < 0) {
			ret = err_wrap(err, "hook '%s'", found->v[i]);
		} else if (!(prog = find_on_path(argv.v[0], envp))) {
			ret = err_set(
				err, EXIT_USAGE,
				"hook '%s' needs '%s', which is not on the "
				"PATH: in the builder image (FROM scratch, "
				"no shell) use the builder-shell image, "
				"install '%s', or set HOOKS=false",
				found->v[i], argv.v[0], argv.v[0]);
		}
		free(prog);
		prog = NULL;
		buf_release(&path);
	}
	strlist_clear(&argv);
	return ret;
}

int hooks_run(const char *dir, enum hook h, char *const envp[],
	      struct error *err)
{
	const char *name = hook_names[h];
	struct strlist argv = STRLIST_INIT;
	struct buf path = BUF_INIT(BUF_PATH_MAX), rel = BUF_INIT(BUF_PATH_MAX);
	char head[HOOK_HEAD_MAX], *prog = NULL, **args = NULL;
	size_t len = 0, i;
	int status = 0, ret = -1;
	pid_t pid;

	buf_addf(&path, "%s/hooks/%s", dir, name);
	buf_addf(&rel, "hooks/%s", name);
	if (read_head(buf_str(&path), head, sizeof(head), &len, err) < 0)
		goto out;
	if (hooks_interpreter(head, len, &argv, err) < 0) {
		err_wrap(err, "hook '%s'", name);
		goto out;
	}
	prog = find_on_path(argv.v[0], envp);
	if (!prog) {
		err_set(err, EXIT_USAGE,
			"hook '%s' needs '%s', which is not on the PATH: "
			"install it, or run builder-shell, which has sh",
			name, argv.v[0]);
		goto out;
	}
	strlist_push(&argv, buf_str(&rel));
	args = xcalloc(argv.n + 1, sizeof(*args));
	for (i = 0; i < argv.n; i++)
		args[i] = argv.v[i];
	log_info("hook '%s': %s %s", name, argv.v[0], buf_str(&rel));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		err_set(err, EXIT_BUILD, "cannot start hook '%s': %s", name,
			strerror(errno));
		goto out;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		setpgid(0, 0);
		if (null >= 0) {
			dup2(null, 0);
			close(null);
		}
		if (chdir(dir) < 0)
			_exit(126);
		execve(prog, args, envp);
		_exit(127);
	}
	setpgid(pid, pid);
	for (;;) {
		/* The handlers do not restart waitpid(): a signal ends the
		 * wait with EINTR, or came before it. */
		if (signals_pending()) {
			stop_hook(pid);
			signals_error(err);
			err_wrap(err, "hook '%s'", name);
			goto out;
		}
		if (waitpid(pid, &status, 0) == pid)
			break;
		if (errno != EINTR) {
			err_set(err, EXIT_BUILD,
				"cannot wait for hook '%s': %s", name,
				strerror(errno));
			goto out;
		}
	}
	if (WIFSIGNALED(status)) {
		err_set(err, hook_exit_code(h),
			"hook '%s' was killed by signal %d", name,
			WTERMSIG(status));
		goto out;
	}
	if (WEXITSTATUS(status)) {
		err_set(err, hook_exit_code(h), "hook '%s' failed (exit %d)",
			name, WEXITSTATUS(status));
		goto out;
	}
	ret = 0;
out:
	free(args);
	free(prog);
	strlist_clear(&argv);
	buf_release(&path);
	buf_release(&rel);
	return ret;
}
