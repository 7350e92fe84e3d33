/*
 * A container's output as builder shows it; see logs.h. Calls
 * GET /containers/{id}/logs.
 */
#include <stdio.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/logs.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/banned.h"

/* A longer log line is cut into pieces of this size. */
#define LOG_LINE_MAX 4096u

int logs_to_terminal(enum demux_stream stream, const char *data, size_t len,
		     void *ctx, struct error *err)
{
	FILE *f = stream == DEMUX_STDERR ? stderr : stdout;

	(void)ctx, (void)err;
	if (fwrite(data, 1, len, f) == len)
		fflush(f);
	return 0;
}

struct prefixed {
	const char *name;
	struct buf line;
};

static void prefixed_flush(struct prefixed *p)
{
	if (!p->line.len)
		return;
	fprintf(stderr, "    [%s] %s\n", p->name, p->line.data);
	buf_reset(&p->line);
}

static int to_prefixed(enum demux_stream stream, const char *data, size_t len,
		       void *ctx, struct error *err)
{
	struct prefixed *p = ctx;

	(void)stream, (void)err;
	while (len) {
		const char *nl = memchr(data, '\n', len);
		size_t take = nl ? (size_t)(nl - data) : len;
		size_t room = LOG_LINE_MAX - p->line.len;

		if (take > room)
			take = room;
		buf_add(&p->line, data, take);
		data += take;
		len -= take;
		if (len && *data == '\n') {
			data++, len--;
			if (!p->line.len)
				buf_addch(&p->line, ' ');
			prefixed_flush(p);
		} else if (p->line.len >= LOG_LINE_MAX) {
			prefixed_flush(p);
		}
	}
	return 0;
}

void logs_print_tail(struct engine *eng, const char *id, const char *name,
		     const char *image, int tail)
{
	struct engine_request req = ENGINE_REQUEST_INIT;
	struct prefixed p = { name, BUF_INIT(LOG_LINE_MAX + 1) };
	struct error err = ERROR_INIT;
	struct buf path = BUF_INIT(BUF_PATH_MAX);
	struct demux d;

	if (!id)
		return;
	demux_init(&d, to_prefixed, &p);
	buf_addf(&path, "/containers/%s/logs?stdout=1&stderr=1&tail=%d", id,
		 tail);
	req.method = "GET";
	req.path = path.data;
	req.on_data = demux_sink;
	req.data_ctx = &d;
	/* We are usually here because something failed; a pending signal
	 * should not hide why. */
	req.ignore_interrupt = 1;
	fflush(stdout);
	fprintf(stderr, "    --- last %d log lines of service '%s' (%s) ---\n",
		tail, name, image);
	if (engine_do(eng, &req, &err) < 0 || demux_finish(&d, &err) < 0)
		log_warn("cannot read the log of service '%s': %s", name,
			 err.msg);
	prefixed_flush(&p);
	fflush(stderr);
	demux_release(&d);
	buf_release(&p.line);
	buf_release(&path);
}
