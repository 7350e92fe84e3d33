/*
 * Demultiplexing of container output frames; see demux.h. The format is
 * moby's api/pkg/stdcopy: [type, 0, 0, 0, size_be32] then the payload.
 * The three padding bytes are always zero there; we insist on it because
 * a raw (Tty=true) stream fed to us by mistake would otherwise be read as
 * frames of random sizes.
 */
#include <string.h>

#include "engine/demux.h"
#include "util/banned.h"

enum { TYPE_STDIN = 0, TYPE_STDOUT = 1, TYPE_STDERR = 2, TYPE_SYSERR = 3 };

void demux_init(struct demux *d, demux_fn on_data, void *ctx)
{
	memset(d, 0, sizeof(*d));
	buf_init(&d->syserr, DEMUX_SYSERR_MAX + 1);
	d->on_data = on_data;
	d->ctx = ctx;
}

void demux_release(struct demux *d)
{
	buf_release(&d->syserr);
}

static int fail(struct demux *d)
{
	d->failed = 1;
	return -1;
}

/* The systemerr frame is complete: report its text, one line of it. */
static int syserr_done(struct demux *d, struct error *err)
{
	const char *text = buf_str(&d->syserr);
	int n = (int)strcspn(text, "\r\n");

	if (!n) {
		text = "no message";
		n = (int)strlen(text);
	}
	return err_set(err, EXIT_ENGINE,
		       "the engine reported an error while streaming the "
		       "container's output: %.*s",
		       n, text);
}

static int start_frame(struct demux *d, struct error *err)
{
	const unsigned char *h = d->header;

	if (h[0] > TYPE_SYSERR || h[1] || h[2] || h[3])
		return err_set(err, EXIT_ENGINE,
			       "the container's output is not a multiplexed "
			       "stream (frame header %02x %02x %02x %02x); "
			       "was the container created with a TTY?",
			       h[0], h[1], h[2], h[3]);
	d->type = h[0];
	d->left = (size_t)h[4] << 24 | (size_t)h[5] << 16 | (size_t)h[6] << 8 |
		  (size_t)h[7];
	d->header_len = 0;
	buf_reset(&d->syserr);
	return 0;
}

static int end_frame(struct demux *d, struct error *err)
{
	d->frames++;
	if (d->type == TYPE_SYSERR)
		return syserr_done(d, err);
	return 0;
}

int demux_feed(struct demux *d, const char *data, size_t len, struct error *err)
{
	if (d->failed)
		return err_set(err, EXIT_ENGINE,
			       "the container's output stream already failed");
	while (len) {
		size_t take;

		if (!d->left) {
			take = sizeof(d->header) - d->header_len;
			if (take > len)
				take = len;
			memcpy(d->header + d->header_len, data, take);
			d->header_len += take;
			data += take;
			len -= take;
			if (d->header_len < sizeof(d->header))
				break;
			if (start_frame(d, err) < 0)
				return fail(d);
			if (!d->left && end_frame(d, err) < 0)
				return fail(d);
			continue;
		}
		take = d->left < len ? d->left : len;
		if (d->type == TYPE_SYSERR) {
			size_t room = DEMUX_SYSERR_MAX - d->syserr.len;

			buf_add(&d->syserr, data, take < room ? take : room);
		} else if (d->on_data &&
			   d->on_data(d->type == TYPE_STDERR ? DEMUX_STDERR
							     : DEMUX_STDOUT,
				      data, take, d->ctx, err) < 0) {
			return fail(d);
		}
		data += take;
		len -= take;
		d->left -= take;
		if (!d->left && end_frame(d, err) < 0)
			return fail(d);
	}
	return 0;
}

int demux_finish(struct demux *d, struct error *err)
{
	if (d->failed)
		return -1;
	if (d->header_len || d->left) {
		err_set(err, EXIT_ENGINE,
			"the container's output ended in the middle of a "
			"frame; the connection was cut or the engine stopped");
		return fail(d);
	}
	return 0;
}

int demux_sink(const char *data, size_t len, void *ctx, struct error *err)
{
	return demux_feed(ctx, data, len, err);
}
