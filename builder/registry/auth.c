/*
 * Registry credentials: the environment's credential variables (as config.c
 * read them into struct auth_settings: nothing here reads the environment),
 * DOCKER_AUTH_CONFIG, the docker CLI's config.json and its credential
 * helpers, in that order; and the
 * X-Registry-Auth / X-Registry-Config headers built from them. See auth.h.
 *
 * Lookup follows the docker CLI (cli/config/configfile/file.go,
 * credentials/file_store.go, native_store.go). Helpers are run with
 * fork/execvp and pipes, never through a shell, with their output capped and
 * a time limit.
 *
 * Every buffer that may hold a secret is zeroed before it is freed, and is
 * sized up front where it can be, because a buffer grown by realloc leaves
 * copies of its old contents in freed memory.
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "registry/auth.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/log.h"
#include "registry/ref.h"
#include "util/signals.h"
#include "util/xmalloc.h"
#include "util/banned.h"

#define HELPER_OUT_MAX (64 * 1024)
#define PASSWORD_FILE_MAX (64 * 1024)
#define CONFIG_FILE_MAX (4 * 1024 * 1024)
#define HELPER_PREFIX "docker-credential-"

void auth_free_secret(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void credential_copy(struct credential *dst, const struct credential *src)
{
	dst->username = dup_or_null(src->username);
	dst->password = dup_or_null(src->password);
	dst->identitytoken = dup_or_null(src->identitytoken);
	dst->serveraddress = dup_or_null(src->serveraddress);
	memcpy(dst->source, src->source, sizeof(dst->source));
}

void credential_release(struct credential *c)
{
	if (!c)
		return;
	auth_free_secret(c->username);
	auth_free_secret(c->password);
	auth_free_secret(c->identitytoken);
	free(c->serveraddress);
	explicit_bzero(c, sizeof(*c));
}

static int nonempty(const char *s)
{
	return s && *s;
}

int auth_is_anonymous(const struct credential *c)
{
	return !c || (!nonempty(c->username) && !nonempty(c->password) &&
		      !nonempty(c->identitytoken));
}

static void set_source(struct credential *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_source(struct credential *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->source, sizeof(c->source), fmt, ap);
	va_end(ap);
}

/* Drops the secrets of c, keeping serveraddress and source. */
static void clear_secrets(struct credential *c)
{
	auth_free_secret(c->username);
	auth_free_secret(c->password);
	auth_free_secret(c->identitytoken);
	c->username = c->password = c->identitytoken = NULL;
}

/* Zeroes every string value in a cJSON tree, before cJSON_Delete(). */
static void scrub_json(cJSON *item)
{
	for (; item; item = item->next) {
		if (item->valuestring)
			explicit_bzero(item->valuestring,
				       strlen(item->valuestring));
		scrub_json(item->child);
	}
}

static void delete_json(cJSON *item)
{
	scrub_json(item);
	cJSON_Delete(item);
}

/* Frees a buffer that held a secret. */
static void buf_release_secret(struct buf *b)
{
	if (b->data)
		explicit_bzero(b->data, b->alloc);
	buf_release(b);
}

/* Copies s for an error message: first line only, at most 200 bytes,
 * control characters replaced. */
static void quote_line(char *dst, size_t size, const char *s)
{
	size_t n = 0;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	for (; *s && *s != '\n' && *s != '\r' && n + 4 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if (n == 200) {
			memcpy(dst + n, "...", 3);
			n += 3;
			break;
		}
		dst[n++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	dst[n] = '\0';
}

/* --- 1. the environment ------------------------------------------------- */

/* A user/password pair of variables: their names for messages, and where
 * config.c put their values in struct auth_settings. A name is NULL when
 * the pair has no such variable. */
struct env_pair {
	const char *user[2]; /* the second is an alias of the first */
	size_t user_at[2];
	const char *pass;
	size_t pass_at;
	const char *pass_file;
	size_t pass_file_at;
};

#define AT(field) offsetof(struct auth_settings, field)

static const struct env_pair env_pairs[] = {
	{ { "REGISTRY_USER", NULL },
	  { AT(registry_user), 0 },
	  "REGISTRY_PASSWORD",
	  AT(registry_password),
	  "REGISTRY_PASSWORD_FILE",
	  AT(registry_password_file) },
	{ { "DOCKER_USER", NULL },
	  { AT(docker_user), 0 },
	  "DOCKER_PASS",
	  AT(docker_pass),
	  NULL,
	  0 },
	{ { "DOCKERHUB_USER", "DOCKERHUB_USERNAME" },
	  { AT(dockerhub_user), AT(dockerhub_username) },
	  "DOCKERHUB_PASS",
	  AT(dockerhub_pass),
	  NULL,
	  0 },
};

/* The value of the variable name stored at offset at of s; NULL when it
 * is unset, empty, or name is NULL (no such variable). */
static const char *setting(const struct auth_settings *s, const char *name,
			   size_t at)
{
	const char *v;

	if (!name)
		return NULL;
	v = *(const char *const *)(const void *)((const char *)s + at);
	return nonempty(v) ? v : NULL;
}

static int read_password_file(const char *path, const char *var, char **out,
			      struct error *err)
{
	struct buf b = BUF_INIT(BUF_TEXT_MAX);
	int ret = -1;

	*out = NULL;
	/* A FIFO or /dev/stdin gets its whole ceiling up front: the buffer
	 * never reallocates, so no copy of the password is left behind. */
	if (buf_read_file(&b, path, PASSWORD_FILE_MAX) < 0) {
		if (errno == EINTR && signals_pending())
			signals_error(err);
		else if (errno == EFBIG)
			err_set(err, EXIT_USAGE,
				"cannot read %s '%s': larger "
				"than %d KiB; point it at a file holding only "
				"the password",
				var, path, PASSWORD_FILE_MAX / 1024);
		else
			err_set(err, EXIT_USAGE, "cannot read %s '%s': %s", var,
				path, strerror(errno));
		goto out;
	}
	while (b.len &&
	       (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
		b.data[--b.len] = '\0';
	if (!b.len) {
		err_set(err, EXIT_USAGE,
			"%s '%s' is empty: write the password "
			"into it",
			var, path);
		goto out;
	}
	if (memchr(b.data, '\0', b.len)) {
		err_set(err, EXIT_USAGE,
			"%s '%s' holds a NUL byte: write only "
			"the password into it",
			var, path);
		goto out;
	}
	*out = xstrdup(b.data);
	ret = 0;
out:
	buf_release_secret(&b);
	return ret;
}

/* Returns 1 when a pair is set (out filled), 0 when none is, -1 on error. */
static int from_env(const struct auth_settings *s, struct credential *out,
		    struct error *err)
{
	size_t i;

	for (i = 0; i < sizeof(env_pairs) / sizeof(env_pairs[0]); i++) {
		const struct env_pair *p = &env_pairs[i];
		const char *u0 = setting(s, p->user[0], p->user_at[0]);
		const char *u1 = setting(s, p->user[1], p->user_at[1]);
		const char *user_var = u0 ? p->user[0] : u1 ? p->user[1] : NULL;
		const char *user = u0 ? u0 : u1;
		const char *pass = setting(s, p->pass, p->pass_at);
		const char *file = setting(s, p->pass_file, p->pass_file_at);
		char users[64];

		if (p->user[1])
			snprintf(users, sizeof(users), "%s (or %s)", p->user[0],
				 p->user[1]);
		else
			snprintf(users, sizeof(users), "%s", p->user[0]);
		if (!user_var && !pass && !file)
			continue;
		if (!user_var)
			return err_set(err, EXIT_USAGE,
				       "%s is set but %s is "
				       "not: set %s too, or unset %s",
				       pass ? p->pass : p->pass_file, users,
				       p->user[0],
				       pass ? p->pass : p->pass_file);
		if (!pass && !file) {
			if (p->pass_file)
				return err_set(err, EXIT_USAGE,
					       "%s is set but "
					       "neither %s nor %s is: set one "
					       "of them, or unset %s",
					       user_var, p->pass, p->pass_file,
					       user_var);
			return err_set(err, EXIT_USAGE,
				       "%s is set but %s is "
				       "not: set %s too, or unset %s",
				       user_var, p->pass, p->pass, user_var);
		}
		if (pass && file)
			return err_set(err, EXIT_USAGE,
				       "both %s and %s are "
				       "set: unset one of them",
				       p->pass, p->pass_file);
		if (file) {
			if (read_password_file(file, p->pass_file,
					       &out->password, err) < 0)
				return -1;
		} else {
			out->password = xstrdup(pass);
		}
		out->username = xstrdup(user);
		set_source(out, "%s/%s", user_var,
			   file ? p->pass_file : p->pass);
		return 1;
	}
	return 0;
}

/* --- credential helpers ------------------------------------------------- */

int auth_parse_helper_output(const char *out, size_t len,
			     struct credential *cred, struct error *err)
{
	cJSON *root = NULL;
	const cJSON *user, *secret, *url;
	int ret = -1;

	root = cJSON_ParseWithLength(out, len);
	if (!root || !cJSON_IsObject(root)) {
		err_set(err, EXIT_USAGE,
			"credential helper output is not a "
			"JSON object");
		goto out;
	}
	user = cJSON_GetObjectItemCaseSensitive(root, "Username");
	secret = cJSON_GetObjectItemCaseSensitive(root, "Secret");
	url = cJSON_GetObjectItemCaseSensitive(root, "ServerURL");
	if ((user && !cJSON_IsString(user) && !cJSON_IsNull(user)) ||
	    (secret && !cJSON_IsString(secret) && !cJSON_IsNull(secret)) ||
	    (url && !cJSON_IsString(url) && !cJSON_IsNull(url))) {
		err_set(err, EXIT_USAGE,
			"credential helper output has a "
			"'ServerURL', 'Username' or 'Secret' that is not a "
			"string");
		goto out;
	}
	if (!cJSON_IsString(user) || !*user->valuestring) {
		if (cJSON_IsString(secret) && *secret->valuestring) {
			err_set(err, EXIT_USAGE,
				"credential helper returned a "
				"'Secret' without a 'Username'");
			goto out;
		}
		ret = 0; /* nothing stored */
		goto out;
	}
	if (!cJSON_IsString(secret) || !*secret->valuestring) {
		err_set(err, EXIT_USAGE,
			"credential helper returned a "
			"'Username' without a 'Secret'");
		goto out;
	}
	clear_secrets(cred);
	if (!strcmp(user->valuestring, "<token>")) {
		cred->identitytoken = xstrdup(secret->valuestring);
	} else {
		cred->username = xstrdup(user->valuestring);
		cred->password = xstrdup(secret->valuestring);
	}
	ret = 0;
out:
	delete_json(root);
	return ret;
}

/* Writes key to fd without dying of SIGPIPE when the helper did not read
 * its stdin (unit tests, or a caller that kept SIGPIPE's default). */
static void write_key(int fd, const char *key)
{
	sigset_t set, old;
	size_t len = strlen(key), done = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &set, &old);
	while (done < len) {
		ssize_t n = write(fd, key + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno == EPIPE) {
				struct timespec zero = { 0, 0 };

				sigtimedwait(&set, NULL, &zero);
			}
			break;
		}
		done += (size_t)n;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* Reads what fd has straight into out's reserved room (no copy on the
 * stack, no reallocation). Returns the number of bytes read, 0 at end of
 * file, or -1 with errno set: EFBIG when out is full and more came. */
static ssize_t read_answer(int fd, struct buf *out)
{
	size_t room = out->max - out->len;
	char probe = 0;
	ssize_t n;

	if (!room) {
		n = read(fd, &probe, 1);
		explicit_bzero(&probe, sizeof(probe));
		if (n > 0) {
			errno = EFBIG;
			return -1;
		}
		return n;
	}
	n = read(fd, out->data + out->len, room);
	if (n > 0) {
		out->len += (size_t)n;
		out->data[out->len] = '\0';
	}
	return n;
}

static void read_error(const struct buf *prog, const char *what,
		       struct error *err)
{
	if (errno == EFBIG)
		err_set(err, EXIT_USAGE,
			"credential helper '%s' (%s) printed more than %d KiB",
			prog->data, what, HELPER_OUT_MAX / 1024);
	else
		err_set(err, EXIT_USAGE,
			"cannot read from credential helper '%s': %s",
			prog->data, strerror(errno));
}

/*
 * Runs `docker-credential-<name> get` with key on stdin. Returns 1 with the
 * credentials in out, 0 when the helper has none or is not installed, -1 on
 * error. what says where the helper was named ("credsStore in '...'").
 */
static int run_helper(const char *name, const char *key, const char *what,
		      double helper_timeout, struct credential *out,
		      struct error *err)
{
	struct buf prog = BUF_INIT(BUF_TEXT_MAX),
		   output = BUF_INIT(BUF_TEXT_MAX);
	int in[2] = { -1, -1 }, res[2] = { -1, -1 }, ex[2] = { -1, -1 };
	pid_t pid = -1;
	int status = 0, exec_errno = 0, ret = -1;
	char line[256];
	double deadline;
	ssize_t n;

	if (!*name || strchr(name, '/')) {
		quote_line(line, sizeof(line), name);
		err_set(err, EXIT_USAGE,
			"invalid credential helper name '%s' "
			"(%s): it must be the part after '" HELPER_PREFIX "'",
			line, what);
		goto out;
	}
	buf_addf(&prog, HELPER_PREFIX "%s", name);
	buf_init(&output, HELPER_OUT_MAX);
	buf_reserve(&output, HELPER_OUT_MAX);
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(res, O_CLOEXEC) < 0 ||
	    pipe2(ex, O_CLOEXEC) < 0) {
		err_set(err, EXIT_USAGE,
			"cannot run credential helper '%s': "
			"pipe: %s",
			prog.data, strerror(errno));
		goto out;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		err_set(err, EXIT_USAGE,
			"cannot run credential helper '%s': "
			"fork: %s",
			prog.data, strerror(errno));
		goto out;
	}
	if (pid == 0) {
		char *argv[] = { prog.data, (char *)"get", NULL };
		int e, devnull;

		/* Only async-signal-safe calls from here on. The helper's
		 * stderr goes nowhere: whatever a helper prints may hold the
		 * secret, and none of it is shown. */
		signal(SIGPIPE, SIG_DFL);
		setpgid(0, 0);
		devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (devnull < 0 || dup2(in[0], 0) < 0 || dup2(res[1], 1) < 0 ||
		    dup2(devnull, 2) < 0)
			_exit(126);
		execvp(prog.data, argv);
		e = errno;
		if (write(ex[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	/* The helper leads a process group of its own (set on both sides of
	 * fork(), whichever runs first), so that a timeout or a signal kills
	 * whatever it started along with it. */
	setpgid(pid, pid);
	close(in[0]);
	close(res[1]);
	close(ex[1]);
	in[0] = res[1] = ex[1] = -1;

	/* EOF on the exec pipe means execvp succeeded (close-on-exec). */
	do {
		n = read(ex[0], &exec_errno, sizeof(exec_errno));
	} while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(exec_errno)) {
		waitpid(pid, NULL, 0);
		pid = -1;
		if (exec_errno == ENOENT) {
			log_warn("credential helper '%s' (%s) is not in PATH; "
				 "trying the next source",
				 prog.data, what);
			ret = 0;
			goto out;
		}
		err_set(err, EXIT_USAGE,
			"cannot run credential helper '%s' "
			"(%s): %s",
			prog.data, what, strerror(exec_errno));
		goto out;
	}

	write_key(in[1], key);
	close(in[1]);
	in[1] = -1;

	/* The answer is complete when the helper has exited, not at end of
	 * file: a child it left behind may hold stdout open long after. So
	 * the loop watches both, and once the helper is gone takes only what
	 * it had already written. */
	deadline = now_seconds() + helper_timeout;
	for (;;) {
		struct pollfd pfd = { res[0], POLLIN, 0 };
		double left;
		pid_t w;
		int r;

		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			err_set(err, EXIT_USAGE,
				"cannot wait for credential helper '%s': %s",
				prog.data, strerror(errno));
			pid = -1;
			goto out;
		}
		if (signals_pending()) {
			signals_error(err);
			goto out;
		}
		left = deadline - now_seconds();
		if (left <= 0)
			goto timeout;
		/* a short wait: the helper's exit is noticed by waitpid() */
		r = poll(&pfd, res[0] >= 0 ? 1 : 0,
			 left < 0.02 ? (int)(left * 1000) + 1 : 20);
		if (r < 0 && errno == EINTR)
			continue; /* signals are looked at above */
		if (r < 0) {
			err_set(err, EXIT_USAGE,
				"cannot read from credential helper '%s': "
				"poll: %s",
				prog.data, strerror(errno));
			goto out;
		}
		if (r == 0)
			continue;
		n = read_answer(res[0], &output);
		if (n == 0) { /* closed; the helper may still be finishing */
			close(res[0]);
			res[0] = -1;
		} else if (n < 0 && errno != EINTR) {
			read_error(&prog, what, err);
			goto out;
		}
	}
	pid = -1;
	/* what the helper wrote before it exited is in the pipe already */
	while (res[0] >= 0) {
		struct pollfd pfd = { res[0], POLLIN, 0 };
		int r = poll(&pfd, 1, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n = read_answer(res[0], &output);
		if (n == 0)
			break;
		if (n < 0 && errno != EINTR) {
			read_error(&prog, what, err);
			goto out;
		}
	}

	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		if (auth_parse_helper_output(output.data, output.len, out,
					     err) < 0) {
			err_wrap(err, "credential helper '%s' (%s)", prog.data,
				 what);
			goto out;
		}
		ret = auth_is_anonymous(out) ? 0 : 1;
		if (ret)
			set_source(out, "credential helper '%s'", prog.data);
		goto out;
	}
	/* A failing helper prints its error message on stdout. */
	if (strstr(output.data, "credentials not found")) {
		log_debug("credential helper '%s' has no credentials for '%s'",
			  prog.data, key);
		ret = 0;
		goto out;
	}
	/* Never quote it: a helper that fails may still have printed its
	 * answer, secret included. */
	if (WIFEXITED(status))
		err_set(err, EXIT_USAGE,
			"credential helper '%s' (%s) failed for '%s' with "
			"exit code %d; what it printed (%zu bytes) is not "
			"shown, as it may hold a secret: run "
			"'printf %%s %s | %s get' to see it",
			prog.data, what, key, WEXITSTATUS(status), output.len,
			key, prog.data);
	else
		err_set(err, EXIT_USAGE,
			"credential helper '%s' (%s) was "
			"killed by signal %d",
			prog.data, what,
			WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	goto out;

timeout:
	err_set(err, EXIT_USAGE,
		"credential helper '%s' (%s) did not answer "
		"within %.0f s: check that it can run without a prompt",
		prog.data, what, helper_timeout);
out:
	if (pid > 0) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (in[0] >= 0)
		close(in[0]);
	if (in[1] >= 0)
		close(in[1]);
	if (res[0] >= 0)
		close(res[0]);
	if (res[1] >= 0)
		close(res[1]);
	if (ex[0] >= 0)
		close(ex[0]);
	if (ex[1] >= 0)
		close(ex[1]);
	buf_release_secret(&output);
	buf_release(&prog);
	return ret;
}

/* --- config.json -------------------------------------------------------- */

static const char *const hub_keys[] = {
	REF_HUB_AUTH_KEY,
	"docker.io",
	"index.docker.io",
	"registry-1.docker.io",
};

static int is_hub_key(const char *key)
{
	return !strcmp(key, REF_HUB_AUTH_KEY);
}

/* ConvertToHostname: strips a scheme and anything from the first '/'.
 * Returns the length of the host part of s; *host points at it. */
static size_t hostname_of(const char *s, const char **host)
{
	const char *slash;

	if (!strncmp(s, "http://", 7))
		s += 7;
	else if (!strncmp(s, "https://", 8))
		s += 8;
	slash = strchr(s, '/');
	*host = s;
	return slash ? (size_t)(slash - s) : strlen(s);
}

static int same_host(const char *a, const char *b)
{
	const char *ha, *hb;
	size_t la = hostname_of(a, &ha), lb = hostname_of(b, &hb);

	return la == lb && !strncasecmp(ha, hb, la);
}

/* Reads an optional string field of obj: *val is NULL when absent or null. */
static int get_string(const cJSON *obj, const char *field, const char **val,
		      const char *entry, const char *origin, struct error *err)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, field);

	*val = NULL;
	if (!item || cJSON_IsNull(item))
		return 0;
	if (!cJSON_IsString(item)) {
		char e[256];

		quote_line(e, sizeof(e), entry);
		return err_set(err, EXIT_USAGE,
			       "'%s' of '%s' in %s is not a "
			       "string",
			       field, e, origin);
	}
	*val = item->valuestring;
	return 0;
}

/* Decodes the `auth` field: base64 of "user:password". */
static int decode_auth(const char *auth, const char *entry, const char *origin,
		       struct credential *out, struct error *err)
{
	char *raw = NULL, *colon, e[256];
	size_t len, start = 0, end;
	int ret = -1;

	quote_line(e, sizeof(e), entry);
	if (base64_decode(auth, strlen(auth), &raw, &len) < 0) {
		err_set(err, EXIT_USAGE,
			"'auth' of '%s' in %s is not valid "
			"base64: log in again (docker login %s) or fix the "
			"entry",
			e, origin, e);
		goto out;
	}
	colon = memchr(raw, ':', len);
	if (!colon || colon == raw ||
	    memchr(raw, '\0', (size_t)(colon - raw))) {
		err_set(err, EXIT_USAGE,
			"'auth' of '%s' in %s is not "
			"base64 of 'user:password': log in again (docker login "
			"%s) or fix the entry",
			e, origin, e);
		goto out;
	}
	/* decodeAuth trims NULs around the password */
	start = (size_t)(colon - raw) + 1;
	end = len;
	while (start < end && raw[start] == '\0')
		start++;
	while (end > start && raw[end - 1] == '\0')
		end--;
	if (memchr(raw + start, '\0', end - start)) {
		err_set(err, EXIT_USAGE,
			"'auth' of '%s' in %s has a password "
			"with a NUL byte: log in again (docker login %s)",
			e, origin, e);
		goto out;
	}
	clear_secrets(out);
	out->username = xstrndup(raw, (size_t)(colon - raw));
	out->password = xstrndup(raw + start, end - start);
	ret = 0;
out:
	if (raw) {
		explicit_bzero(raw, len);
		free(raw);
	}
	return ret;
}

/* Reads one `auths` entry. Returns 1 when it holds credentials, 0 when it
 * is empty (as with a credsStore), -1 on error. */
static int from_auths_entry(const cJSON *entry, const char *entry_key,
			    const char *origin, struct credential *out,
			    struct error *err)
{
	const char *auth, *user, *pass, *token;
	char e[256];

	if (!cJSON_IsObject(entry)) {
		quote_line(e, sizeof(e), entry_key);
		return err_set(err, EXIT_USAGE,
			       "'auths' entry '%s' in %s is "
			       "not a JSON object",
			       e, origin);
	}
	if (get_string(entry, "auth", &auth, entry_key, origin, err) < 0 ||
	    get_string(entry, "username", &user, entry_key, origin, err) < 0 ||
	    get_string(entry, "password", &pass, entry_key, origin, err) < 0 ||
	    get_string(entry, "identitytoken", &token, entry_key, origin, err) <
		    0)
		return -1;
	clear_secrets(out);
	if (nonempty(auth)) {
		if (decode_auth(auth, entry_key, origin, out, err) < 0)
			return -1;
	} else if (nonempty(user)) {
		out->username = xstrdup(user);
		out->password = xstrdup(pass ? pass : "");
	}
	if (nonempty(token))
		out->identitytoken = xstrdup(token);
	if (auth_is_anonymous(out)) {
		clear_secrets(out);
		return 0;
	}
	return 1;
}

static int from_auths(const cJSON *root, const char *key, const char *origin,
		      const char *label, struct credential *out,
		      struct error *err)
{
	const cJSON *auths = cJSON_GetObjectItemCaseSensitive(root, "auths");
	const char *const *wanted = &key;
	size_t nwanted = 1, i;
	const cJSON *entry;
	int r;

	if (!auths || cJSON_IsNull(auths))
		return 0;
	if (!cJSON_IsObject(auths))
		return err_set(err, EXIT_USAGE,
			       "'auths' in %s is not a JSON "
			       "object",
			       origin);
	if (is_hub_key(key)) {
		wanted = hub_keys;
		nwanted = sizeof(hub_keys) / sizeof(hub_keys[0]);
	}
	/* the exact key first ... */
	for (i = 0; i < nwanted; i++) {
		entry = cJSON_GetObjectItemCaseSensitive(auths, wanted[i]);
		if (!entry)
			continue;
		r = from_auths_entry(entry, wanted[i], origin, out, err);
		if (r) {
			if (r > 0)
				set_source(out, "%s auths '%.60s'", label,
					   wanted[i]);
			return r;
		}
	}
	/* ... then keys written as URLs, compared by host */
	cJSON_ArrayForEach(entry, auths)
	{
		for (i = 0; i < nwanted; i++) {
			if (!entry->string ||
			    !same_host(entry->string, wanted[i]))
				continue;
			r = from_auths_entry(entry, entry->string, origin, out,
					     err);
			if (r) {
				if (r > 0)
					set_source(out, "%s auths '%.60s'",
						   label, entry->string);
				return r;
			}
			break;
		}
	}
	return 0;
}

/* credHelpers[key], else credsStore. */
static int from_helpers(const cJSON *root, const char *key, const char *origin,
			double timeout, struct credential *out,
			struct error *err)
{
	const cJSON *helpers =
		cJSON_GetObjectItemCaseSensitive(root, "credHelpers");
	const char *store = NULL;
	char what[512];
	if (helpers && !cJSON_IsNull(helpers)) {
		const cJSON *h;
		size_t i, n = 1;
		const char *const *wanted = &key;

		if (!cJSON_IsObject(helpers))
			return err_set(err, EXIT_USAGE,
				       "'credHelpers' in %s "
				       "is not a JSON object",
				       origin);
		if (is_hub_key(key)) {
			wanted = hub_keys;
			n = sizeof(hub_keys) / sizeof(hub_keys[0]);
		}
		for (i = 0; i < n; i++) {
			h = cJSON_GetObjectItemCaseSensitive(helpers,
							     wanted[i]);
			if (!h || cJSON_IsNull(h))
				continue;
			if (!cJSON_IsString(h))
				return err_set(err, EXIT_USAGE,
					       "'credHelpers' "
					       "entry '%.60s' in %s is not a "
					       "string",
					       wanted[i], origin);
			if (!*h->valuestring)
				continue;
			snprintf(what, sizeof(what), "credHelpers in %s",
				 origin);
			/* as in the CLI, a registry's own helper is the only
			 * store asked for it */
			return run_helper(h->valuestring, key, what, timeout,
					  out, err);
		}
	}
	if (get_string(root, "credsStore", &store, "credsStore", origin, err) <
	    0)
		return -1;
	if (nonempty(store)) {
		snprintf(what, sizeof(what), "credsStore in %s", origin);
		return run_helper(store, key, what, timeout, out, err);
	}
	return 0;
}

/*
 * Looks key up in config text. origin names the text in messages ("'path'"
 * or "DOCKER_AUTH_CONFIG"), label in the source ("config.json"). Helpers
 * run with helper_timeout seconds; 0 means they are not run. Returns 1 when
 * found, 0 when not, -1 on error.
 */
static int from_config(const char *text, size_t len, const char *key,
		       const char *origin, const char *label,
		       double helper_timeout, struct credential *out,
		       struct error *err)
{
	cJSON *root = NULL;
	int r = -1;

	root = cJSON_ParseWithLength(text, len);
	if (!root) {
		const char *where = cJSON_GetErrorPtr();

		if (where && where >= text && where <= text + len)
			err_set(err, EXIT_USAGE,
				"%s is not valid JSON (near "
				"byte %zu): fix it",
				origin, (size_t)(where - text));
		else
			err_set(err, EXIT_USAGE, "%s is not valid JSON: fix it",
				origin);
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		err_set(err, EXIT_USAGE, "%s is not a JSON object: fix it",
			origin);
		goto out;
	}
	if (helper_timeout > 0) {
		r = from_helpers(root, key, origin, helper_timeout, out, err);
		if (r)
			goto out;
	}
	r = from_auths(root, key, origin, label, out, err);
out:
	delete_json(root);
	return r;
}

static void set_anonymous(struct credential *out, const char *key)
{
	clear_secrets(out);
	set_source(out, "none (anonymous)");
	free(out->serveraddress);
	out->serveraddress = xstrdup(key);
}

int auth_from_config_text(const char *json, const char *key, int run_helpers,
			  struct credential *out, struct error *err)
{
	int r;

	key = ref_auth_key(key);
	memset(out, 0, sizeof(*out));
	r = from_config(json, strlen(json), key, "config.json", "config.json",
			run_helpers ? AUTH_HELPER_TIMEOUT : 0, out, err);
	if (r < 0) {
		credential_release(out);
		return -1;
	}
	if (r == 0)
		set_anonymous(out, key);
	else
		out->serveraddress = xstrdup(key);
	return 0;
}

/* $DOCKER_CONFIG/config.json or $HOME/.docker/config.json; 0 when neither
 * variable is set. */
static int config_path(const struct auth_settings *s, struct buf *path)
{
	const char *dir = nonempty(s->docker_config) ? s->docker_config : NULL;
	const char *home = nonempty(s->home) ? s->home : NULL;

	if (dir)
		buf_addf(path, "%s/config.json", dir);
	else if (home)
		buf_addf(path, "%s/.docker/config.json", home);
	else
		return 0;
	return 1;
}

static int from_config_file(const struct auth_settings *s, const char *key,
			    struct credential *out, struct error *err)
{
	struct buf path = BUF_INIT(BUF_PATH_MAX), text = BUF_INIT(BUF_TEXT_MAX),
		   origin = BUF_INIT(BUF_TEXT_MAX);
	int r = 0;

	if (!config_path(s, &path))
		goto out;
	if (buf_read_file(&text, path.data, CONFIG_FILE_MAX) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			goto out; /* no config is fine */
		if (errno == EINTR && signals_pending())
			r = signals_error(err);
		else if (errno == EFBIG)
			r = err_set(err, EXIT_USAGE,
				    "docker config '%s' is "
				    "larger than %d MiB",
				    path.data, CONFIG_FILE_MAX / 1024 / 1024);
		else
			r = err_set(err, EXIT_USAGE,
				    "cannot read docker config "
				    "'%s': %s",
				    path.data, strerror(errno));
		goto out;
	}
	buf_addf(&origin, "'%s'", path.data);
	r = from_config(text.data, text.len, key, origin.data, "config.json",
			s->helper_timeout > 0 ? s->helper_timeout
					      : AUTH_HELPER_TIMEOUT,
			out, err);
out:
	buf_release_secret(&text);
	buf_release(&path);
	buf_release(&origin);
	return r;
}

int auth_resolve(const struct auth_settings *s, const char *domain,
		 struct credential *out, struct error *err)
{
	const char *key = ref_auth_key(domain), *env_config;
	int r;

	memset(out, 0, sizeof(*out));
	/* Never send the job's registry password to another registry (a
	 * base image's or a service's). */
	if (!s->registry || !strcmp(ref_auth_key(s->registry), key)) {
		r = from_env(s, out, err);
		if (r)
			goto out;
	}
	env_config =
		nonempty(s->docker_auth_config) ? s->docker_auth_config : NULL;
	if (env_config) {
		r = from_config(env_config, strlen(env_config), key,
				"DOCKER_AUTH_CONFIG", "DOCKER_AUTH_CONFIG", 0,
				out, err);
		if (r)
			goto out;
	}
	r = from_config_file(s, key, out, err);
out:
	if (r < 0) {
		credential_release(out);
		return -1;
	}
	if (r == 0) {
		set_anonymous(out, key);
	} else {
		free(out->serveraddress);
		out->serveraddress = xstrdup(key);
	}
	log_debug("credentials for '%s': %s", key, out->source);
	return 0;
}

/* --- headers ------------------------------------------------------------ */

/* An upper bound on cJSON's unformatted output for item, so that it can be
 * printed into one allocation (no realloc copies of secrets). */
static size_t json_bound(const cJSON *item)
{
	size_t n = 0;

	for (; item; item = item->next) {
		if (item->string)
			n += 6 * strlen(item->string) + 3; /* "key": */
		if (item->valuestring)
			n += 6 * strlen(item->valuestring) + 2;
		else if (!item->child)
			n += 32; /* number, bool, null */
		n += 2 + json_bound(item->child) + 1; /* {} or [], comma */
	}
	return n;
}

/* Prints json as base64url and frees it, secrets zeroed. */
static char *encode_json(cJSON *json)
{
	size_t size = json_bound(json) + 64;
	char *text = xmalloc(size), *enc;

	/* cJSON reports out of memory as NULL items; fail closed */
	if (!json || !cJSON_PrintPreallocated(json, text, (int)size, 0)) {
		explicit_bzero(text, size);
		free(text);
		delete_json(json);
		return xstrdup("e30=");
	}
	enc = base64url_encode(text, strlen(text));
	explicit_bzero(text, size);
	free(text);
	delete_json(json);
	return enc;
}

static cJSON *auth_object(const struct credential *c)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	if (nonempty(c->identitytoken)) {
		cJSON_AddStringToObject(o, "identitytoken", c->identitytoken);
	} else {
		cJSON_AddStringToObject(o, "username",
					c->username ? c->username : "");
		cJSON_AddStringToObject(o, "password",
					c->password ? c->password : "");
	}
	if (c->serveraddress)
		cJSON_AddStringToObject(o, "serveraddress", c->serveraddress);
	return o;
}

char *auth_header(const struct credential *c)
{
	if (auth_is_anonymous(c))
		return xstrdup("e30=");
	return encode_json(auth_object(c));
}

char *auth_registry_config(const struct credential *const *creds, size_t n)
{
	cJSON *root = cJSON_CreateObject();
	size_t i;

	for (i = 0; root && i < n; i++) {
		const struct credential *c = creds[i];
		const char *key;

		if (auth_is_anonymous(c))
			continue;
		key = ref_auth_key(c->serveraddress);
		if (cJSON_GetObjectItemCaseSensitive(root, key))
			continue;
		cJSON_AddItemToObject(root, key, auth_object(c));
	}
	if (!root || !root->child) {
		cJSON_Delete(root);
		return xstrdup("e30=");
	}
	return encode_json(root);
}

/* "NAME: VALUE" in one exact allocation; value is wiped and freed. */
static char *header_line(const char *name, char *value)
{
	size_t len = strlen(name) + 2 + strlen(value) + 1;
	char *line = xmalloc(len);

	snprintf(line, len, "%s: %s", name, value);
	auth_free_secret(value);
	return line;
}

char *auth_header_line(const struct credential *c)
{
	return header_line("X-Registry-Auth", auth_header(c));
}

char *auth_registry_config_line(const struct credential *const *creds, size_t n)
{
	return header_line("X-Registry-Config", auth_registry_config(creds, n));
}
