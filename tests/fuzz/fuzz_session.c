/*
 * libFuzzer target for the session server (builder/session/session.c):
 * the input is what the daemon sends after the 101, HTTP/2 and gRPC and
 * all, fed through struct session_io in pieces whose size the first byte
 * picks; what the session answers is discarded. Whatever the bytes, the
 * session ends (at the end of the input) without a crash, a leak or a
 * sanitizer report, and any failure it reports is EXIT_ENGINE or
 * EXIT_BUILD. The directory it serves as "context" holds two small files;
 * one secret is offered.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session/secrets.h"
#include "session/session.h"
#include "util/error.h"

static const char *lookup_env(const char *name)
{
	return getenv(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *data;
	size_t size, pos, chunk;
	int fd; /* always readable: the loop never sleeps */
};

static long in_recv(void *ctx, void *dst, size_t max, struct error *err)
{
	struct input *in = ctx;
	size_t n = in->size - in->pos;

	(void)err;
	if (n > in->chunk)
		n = in->chunk;
	if (n > max)
		n = max;
	memcpy(dst, in->data + in->pos, n);
	__atomic_store_n(&in->pos, in->pos + n, __ATOMIC_RELEASE);
	return (long)n; /* 0 at the end: the daemon closed */
}

static long in_send(void *ctx, const void *src, size_t len, struct error *err)
{
	(void)ctx;
	(void)src;
	(void)err;
	return (long)len;
}

static int in_fd(void *ctx)
{
	return ((struct input *)ctx)->fd;
}

static int in_pending(void *ctx)
{
	(void)ctx;
	return 1;
}

static char dir[64];
static int ready_fd = -1;

/* The directory goes when the process ends (replay, libFuzzer's exit). */
static void remove_dir(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/Dockerfile", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/a.txt", dir);
	unlink(path);
	rmdir(dir);
}

static void setup(void)
{
	char path[128];
	FILE *f;
	int p[2];

	snprintf(dir, sizeof(dir), "/tmp/fuzz_session.XXXXXX");
	if (!mkdtemp(dir) || pipe(p) < 0 || write(p[1], "x", 1) != 1)
		abort();
	ready_fd = p[0];
	atexit(remove_dir);
	snprintf(path, sizeof(path), "%s/Dockerfile", dir);
	f = fopen(path, "w");
	if (!f)
		abort();
	fputs("FROM scratch\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/a.txt", dir);
	f = fopen(path, "w");
	if (!f)
		abort();
	fputs("hello\n", f);
	fclose(f);
	setenv("FUZZ_SESSION_SECRET", "value", 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct secrets secrets = SECRETS_INIT;
	struct session_config cfg = { 0 };
	struct input in = { 0 };
	struct session_io io = { in_recv, in_send, in_fd, in_pending, &in };
	struct session *s = NULL;
	struct error err = ERROR_INIT;

	if (ready_fd < 0) {
		setup();
		if (secrets_add(&secrets, "id=tok,env=FUZZ_SESSION_SECRET",
				lookup_env, &err) < 0)
			abort();
	}
	if (!size)
		return 0;
	in.chunk = (size_t)data[0] % 64 + 1;
	in.data = data + 1;
	in.size = size - 1;
	in.fd = ready_fd;
	cfg.context_dir = dir;
	cfg.dockerfile_dir = dir;
	cfg.secrets = &secrets;
	if (session_start_io(&cfg, &io, &s, &err) < 0)
		abort();
	/* Let the thread read everything: it stops at the end of input. */
	while (__atomic_load_n(&in.pos, __ATOMIC_ACQUIRE) < in.size &&
	       session_running(s))
		usleep(100);
	if (session_finish(s, &err) < 0 && err.code != EXIT_ENGINE &&
	    err.code != EXIT_BUILD)
		abort();
	session_free(s);
	return 0;
}
