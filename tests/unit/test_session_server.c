/*
 * Unit tests for the session server (builder/session/session.c) over a
 * socketpair: this file plays the daemon, an HTTP/2 and gRPC client made
 * with nghttp2, and checks what the session answers: health, secrets,
 * unknown methods, a whole DiffCopy, health answered while file data
 * flows, and bytes that are not HTTP/2.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include "fsutil.pb-c.h"
#include "health.pb-c.h"
#include "secrets.pb-c.h"

#include "session/grpc.h"
#include "session/secrets.h"
#include "session/session.h"
#include "util/buf.h"
#include "util/error.h"
#include "unit.h"

static const char *lookup_env(const char *name)
{
	return getenv(name);
}

/* --- the session's side of the socketpair --------------------------------- */

static long sp_recv(void *ctx, void *dst, size_t max, struct error *err)
{
	ssize_t n = recv(*(int *)ctx, dst, max, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return SESSION_IO_AGAIN;
	if (n < 0)
		return err_set(err, EXIT_ENGINE, "recv: %s", strerror(errno));
	return (long)n;
}

static long sp_send(void *ctx, const void *src, size_t len, struct error *err)
{
	ssize_t n = send(*(int *)ctx, src, len, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return SESSION_IO_AGAIN;
	if (n < 0)
		return err_set(err, EXIT_ENGINE, "send: %s", strerror(errno));
	return (long)n;
}

static int sp_fd(void *ctx)
{
	return *(int *)ctx;
}

static int sp_pending(void *ctx)
{
	(void)ctx;
	return 0;
}

/* --- the daemon's side: an nghttp2 client ------------------------------------
 */

#define STREAMS_MAX 16

struct call {
	int32_t id;
	struct buf req; /* framed request messages not yet sent */
	size_t req_pos;
	int req_end; /* END_STREAM after req */
	struct buf resp; /* response bytes (framed) */
	int status; /* grpc-status, -1 before trailers */
	char message[256];
	int closed;
	unsigned long order; /* when it closed */
};

struct client {
	int fd;
	nghttp2_session *h2;
	struct call calls[STREAMS_MAX];
	size_t n;
	unsigned long closes;
};

static struct call *find_call(struct client *c, int32_t id)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->calls[i].id == id)
			return &c->calls[i];
	return NULL;
}

static ssize_t req_read(nghttp2_session *h2, int32_t id, uint8_t *dst,
			size_t max, uint32_t *flags, nghttp2_data_source *src,
			void *ud)
{
	struct call *call = src->ptr;
	size_t avail = call->req.len - call->req_pos;

	(void)h2;
	(void)id;
	(void)ud;
	if (avail) {
		size_t n = avail < max ? avail : max;

		memcpy(dst, call->req.data + call->req_pos, n);
		call->req_pos += n;
		return (ssize_t)n;
	}
	if (call->req_end) {
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		return 0;
	}
	return NGHTTP2_ERR_DEFERRED;
}

static int c_data(nghttp2_session *h2, uint8_t flags, int32_t id,
		  const uint8_t *data, size_t len, void *ud)
{
	struct call *call = find_call(ud, id);

	(void)h2;
	(void)flags;
	if (call)
		buf_add(&call->resp, data, len);
	return 0;
}

static int c_header(nghttp2_session *h2, const nghttp2_frame *frame,
		    const uint8_t *name, size_t namelen, const uint8_t *value,
		    size_t valuelen, uint8_t flags, void *ud)
{
	struct call *call = find_call(ud, frame->hd.stream_id);

	(void)h2;
	(void)flags;
	if (!call)
		return 0;
	if (namelen == 11 && !memcmp(name, "grpc-status", 11))
		call->status = atoi((const char *)value);
	if (namelen == 12 && !memcmp(name, "grpc-message", 12))
		snprintf(call->message, sizeof(call->message), "%.*s",
			 (int)valuelen, value);
	return 0;
}

static int c_close(nghttp2_session *h2, int32_t id, uint32_t code, void *ud)
{
	struct client *c = ud;
	struct call *call = find_call(c, id);

	(void)h2;
	(void)code;
	if (call) {
		call->closed = 1;
		call->order = ++c->closes;
	}
	return 0;
}

static void client_init(struct client *c, int fd)
{
	nghttp2_session_callbacks *cb;

	memset(c, 0, sizeof(*c));
	c->fd = fd;
	nghttp2_session_callbacks_new(&cb);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, c_data);
	nghttp2_session_callbacks_set_on_header_callback(cb, c_header);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, c_close);
	nghttp2_session_client_new(&c->h2, cb, c);
	nghttp2_session_callbacks_del(cb);
	nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, NULL, 0);
}

static void client_release(struct client *c)
{
	nghttp2_session_del(c->h2);
	for (size_t i = 0; i < c->n; i++) {
		buf_release(&c->calls[i].req);
		buf_release(&c->calls[i].resp);
	}
}

/* Starts a call; metadata is NULL or "name", "value", ..., NULL. */
static struct call *call_start(struct client *c, const char *path,
			       const char *const *meta)
{
	nghttp2_nv nv[16];
	size_t n = 0;
	nghttp2_data_provider prd;
	struct call *call = &c->calls[c->n++];

#define NV(k, v)                                                           \
	nv[n++] = (nghttp2_nv){ (uint8_t *)(k), (uint8_t *)(v), strlen(k), \
				strlen(v), NGHTTP2_NV_FLAG_NONE }
	NV(":method", "POST");
	NV(":scheme", "http");
	NV(":path", path);
	NV(":authority", "session");
	NV("content-type", "application/grpc");
	NV("te", "trailers");
	for (size_t i = 0; meta && meta[i]; i += 2)
		NV(meta[i], meta[i + 1]);
#undef NV
	call->status = -1;
	buf_init(&call->req, 64u << 20);
	buf_init(&call->resp, 64u << 20);
	prd.source.ptr = call;
	prd.read_callback = req_read;
	call->id = nghttp2_submit_request(c->h2, NULL, nv, n, &prd, NULL);
	return call;
}

static void call_send(struct client *c, struct call *call,
		      const ProtobufCMessage *m, int end)
{
	size_t len = m ? protobuf_c_message_get_packed_size(m) : 0;
	uint8_t h[GRPC_HEADER_LEN], *tmp = malloc(len + 1);

	if (m)
		protobuf_c_message_pack(m, tmp);
	grpc_frame_header(h, (uint32_t)len);
	buf_add(&call->req, h, sizeof(h));
	buf_add(&call->req, tmp, len);
	free(tmp);
	call->req_end = end;
	nghttp2_session_resume_data(c->h2, call->id);
}

/* Moves bytes both ways until done(c, ctx) or the time is up; returns 1
 * when done. */
static int pump(struct client *c, int (*done)(struct client *, void *),
		void *ctx, int ms)
{
	for (int waited = 0; waited < ms;) {
		const uint8_t *out;
		ssize_t n;
		struct pollfd p = { c->fd, POLLIN, 0 };
		uint8_t in[65536];

		while ((n = nghttp2_session_mem_send(c->h2, &out)) > 0) {
			ssize_t off = 0;

			while (off < n) {
				ssize_t w = write(c->fd, out + off,
						  (size_t)(n - off));

				if (w <= 0)
					return 0;
				off += w;
			}
		}
		if (done(c, ctx))
			return 1;
		if (poll(&p, 1, 10) <= 0) {
			waited += 10;
			continue;
		}
		n = read(c->fd, in, sizeof(in));
		if (n <= 0)
			return done(c, ctx);
		if (nghttp2_session_mem_recv(c->h2, in, (size_t)n) < 0)
			return 0;
	}
	return 0;
}

static int closed(struct client *c, void *ctx)
{
	(void)c;
	return ((struct call *)ctx)->closed;
}

/* The trailers came (the stream may stay half open: the client did not
 * end its side). */
static int has_status(struct client *c, void *ctx)
{
	(void)c;
	return ((struct call *)ctx)->status >= 0;
}

/* --- the fixture ------------------------------------------------------------
 */

struct fixture {
	int sv[2];
	struct session *s;
	struct client c;
	struct secrets secrets;
	struct session_config cfg;
	char dir[64];
};

static void fixture_start(struct fixture *f)
{
	struct error err = ERROR_INIT;
	struct session_io io = { sp_recv, sp_send, sp_fd, sp_pending, NULL };

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_session.XXXXXX");
	if (!mkdtemp(f->dir) || socketpair(AF_UNIX, SOCK_STREAM, 0, f->sv) < 0)
		exit(1);
	fcntl(f->sv[0], F_SETFL, O_NONBLOCK);
	setenv("TEST_SESSION_SECRET", "s3cret-value", 1);
	secrets_add(&f->secrets, "id=tok,env=TEST_SESSION_SECRET", lookup_env,
		    &err);
	f->cfg.context_dir = f->dir;
	f->cfg.dockerfile_dir = f->dir;
	f->cfg.secrets = &f->secrets;
	io.ctx = &f->sv[0];
	if (session_start_io(&f->cfg, &io, &f->s, &err) < 0) {
		fprintf(stderr, "session_start_io: %s\n", err.msg);
		exit(1);
	}
	client_init(&f->c, f->sv[1]);
}

static int fixture_finish(struct fixture *f, struct error *err)
{
	char cmd[128];
	int ret;

	client_release(&f->c);
	close(f->sv[1]);
	ret = session_finish(f->s, err);
	session_free(f->s);
	close(f->sv[0]);
	secrets_clear(&f->secrets);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", f->dir);
	return ret;
}

/* The first message of a response, unpacked by the caller's function. */
static const uint8_t *first_message(const struct call *call, size_t *len)
{
	const uint8_t *p = (const uint8_t *)call->resp.data;

	if (call->resp.len < GRPC_HEADER_LEN)
		return NULL;
	*len = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 |
	       p[4];
	if (call->resp.len < GRPC_HEADER_LEN + *len)
		return NULL;
	return p + GRPC_HEADER_LEN;
}

/* --- tests
 * -------------------------------------------------------------------- */

static void test_health(void)
{
	struct fixture f;
	struct error err = ERROR_INIT;
	Grpc__Health__V1__HealthCheckRequest q =
		GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
	struct call *call;
	const uint8_t *m;
	size_t len = 0;

	fixture_start(&f);
	call = call_start(&f.c, "/grpc.health.v1.Health/Check", NULL);
	call_send(&f.c, call, &q.base, 1);
	CHECK(pump(&f.c, closed, call, 5000));
	CHECK(call->status == 0);
	m = first_message(call, &len);
	CHECK(m != NULL);
	if (m) {
		Grpc__Health__V1__HealthCheckResponse *r =
			grpc__health__v1__health_check_response__unpack(NULL,
									len, m);

		CHECK(r && r->status == 1);
		grpc__health__v1__health_check_response__free_unpacked(r, NULL);
	}
	CHECK(fixture_finish(&f, &err) == 0);
}

static void test_secrets_and_unknown(void)
{
	struct fixture f;
	struct error err = ERROR_INIT;
	Moby__Buildkit__Secrets__V1__GetSecretRequest q =
		MOBY__BUILDKIT__SECRETS__V1__GET_SECRET_REQUEST__INIT;
	struct call *found, *missing, *unknown;
	const uint8_t *m;
	size_t len = 0;

	fixture_start(&f);
	q.id = (char *)"tok";
	found = call_start(&f.c, "/moby.buildkit.secrets.v1.Secrets/GetSecret",
			   NULL);
	call_send(&f.c, found, &q.base, 1);
	q.id = (char *)"nope";
	missing = call_start(
		&f.c, "/moby.buildkit.secrets.v1.Secrets/GetSecret", NULL);
	call_send(&f.c, missing, &q.base, 1);
	unknown = call_start(&f.c, "/moby.filesync.v1.FileSend/DiffCopy", NULL);
	call_send(&f.c, unknown, NULL, 1);
	CHECK(pump(&f.c, closed, found, 5000));
	CHECK(pump(&f.c, closed, missing, 5000));
	CHECK(pump(&f.c, closed, unknown, 5000));
	CHECK(found->status == 0);
	m = first_message(found, &len);
	CHECK(m && len >= 12 && memmem(m, len, "s3cret-value", 12));
	CHECK(missing->status == 5);
	CHECK(strstr(missing->message, "secret nope not found") != NULL);
	CHECK(strstr(missing->message, "s3cret") == NULL);
	CHECK(unknown->status == 12);
	CHECK(fixture_finish(&f, &err) == 0);
}

/* Reads fsutil packets of a DiffCopy response from *pos on. */
struct dc {
	struct call *call;
	size_t pos;
	int stats_end; /* the empty STAT came */
	uint32_t file_id; /* the big file's */
	int file_done; /* its empty DATA came */
	unsigned long long file_bytes;
	int fin;
};

static void dc_scan(struct dc *d)
{
	struct buf *b = &d->call->resp;
	uint32_t n = 0;

	while (d->pos + GRPC_HEADER_LEN <= b->len) {
		const uint8_t *h = (const uint8_t *)b->data + d->pos;
		size_t len = (size_t)h[1] << 24 | (size_t)h[2] << 16 |
			     (size_t)h[3] << 8 | h[4];
		Fsutil__Types__Packet *p;

		if (d->pos + GRPC_HEADER_LEN + len > b->len)
			break;
		p = fsutil__types__packet__unpack(NULL, len,
						  h + GRPC_HEADER_LEN);
		d->pos += GRPC_HEADER_LEN + len;
		if (!p)
			continue;
		if (p->type ==
		    FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_STAT) {
			if (!p->stat)
				d->stats_end = 1;
			else if (!strcmp(p->stat->path, "big"))
				d->file_id = n;
			n++;
		} else if (p->type ==
			   FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_DATA) {
			if (p->id == d->file_id && !p->data.len)
				d->file_done = 1;
			d->file_bytes += p->data.len;
		} else if (p->type ==
			   FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_FIN) {
			d->fin = 1;
		}
		fsutil__types__packet__free_unpacked(p, NULL);
	}
}

static int dc_stats(struct client *c, void *ctx)
{
	struct dc *d = ctx;

	(void)c;
	dc_scan(d);
	return d->stats_end;
}

static int dc_some_data(struct client *c, void *ctx)
{
	struct dc *d = ctx;

	(void)c;
	dc_scan(d);
	return d->file_bytes > 0 || d->file_done;
}

static int dc_file_done(struct client *c, void *ctx)
{
	struct dc *d = ctx;

	(void)c;
	dc_scan(d);
	return d->file_done;
}

static void test_diffcopy_with_health_in_between(void)
{
	struct fixture f;
	struct error err = ERROR_INIT;
	static const char *const meta[] = { "dir-name", "context", NULL };
	Fsutil__Types__Packet req = FSUTIL__TYPES__PACKET__INIT;
	Grpc__Health__V1__HealthCheckRequest hq =
		GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
	struct dc d = { 0 };
	struct call *health;
	char path[128];
	FILE *out;

	fixture_start(&f);
	snprintf(path, sizeof(path), "%s/big", f.dir);
	out = fopen(path, "w");
	{
		static char block[1024];

		memset(block, 'b', sizeof(block));
		for (int i = 0; out && i < 16 * 1024; i++)
			if (fwrite(block, sizeof(block), 1, out) != 1)
				break;
	}
	if (out)
		fclose(out);
	snprintf(path, sizeof(path), "%s/small", f.dir);
	out = fopen(path, "w");
	if (out) {
		fputs("small\n", out);
		fclose(out);
	}
	d.call = call_start(&f.c, "/moby.filesync.v1.FileSync/DiffCopy", meta);
	d.file_id = UINT32_MAX;
	CHECK(pump(&f.c, dc_stats, &d, 5000));
	CHECK(d.file_id == 0);
	req.type = FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_REQ;
	req.id = d.file_id;
	call_send(&f.c, d.call, &req.base, 0);
	CHECK(pump(&f.c, dc_some_data, &d, 5000));
	/* 16 MiB are on their way: a health check now is answered before
	 * they are all through. */
	health = call_start(&f.c, "/grpc.health.v1.Health/Check", NULL);
	call_send(&f.c, health, &hq.base, 1);
	CHECK(pump(&f.c, closed, health, 5000));
	CHECK(health->status == 0);
	dc_scan(&d);
	CHECK(!d.file_done);
	CHECK(pump(&f.c, dc_file_done, &d, 10000));
	CHECK(d.file_bytes == 16u * 1024 * 1024);
	req.type = FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_FIN;
	req.id = 0;
	call_send(&f.c, d.call, &req.base, 1);
	CHECK(pump(&f.c, closed, d.call, 5000));
	dc_scan(&d);
	CHECK(d.fin);
	CHECK(d.call->status == 0);
	CHECK(fixture_finish(&f, &err) == 0);
}

static void test_bad_request_id(void)
{
	struct fixture f;
	struct error err = ERROR_INIT;
	static const char *const meta[] = { "dir-name", "context", NULL };
	Fsutil__Types__Packet req = FSUTIL__TYPES__PACKET__INIT;
	struct dc d = { 0 };

	fixture_start(&f);
	d.call = call_start(&f.c, "/moby.filesync.v1.FileSync/DiffCopy", meta);
	CHECK(pump(&f.c, dc_stats, &d, 5000));
	req.type = FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_REQ;
	req.id = 77;
	call_send(&f.c, d.call, &req.base, 0);
	CHECK(pump(&f.c, has_status, d.call, 5000));
	CHECK(d.call->status == 13);
	CHECK(strstr(d.call->message, "file ID 77") != NULL);
	CHECK(fixture_finish(&f, &err) < 0);
	CHECK(strstr(err.msg, "file ID 77") != NULL);
}

static void test_not_http2(void)
{
	struct fixture f;
	struct error err = ERROR_INIT;
	static const char junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

	fixture_start(&f);
	CHECK(write(f.sv[1], junk, sizeof(junk) - 1) ==
	      (ssize_t)sizeof(junk) - 1);
	usleep(200 * 1000);
	CHECK(fixture_finish(&f, &err) < 0);
	CHECK(strstr(err.msg, "bad HTTP/2") != NULL);
}

/* A 16 MiB file "big" in the fixture's directory. */
static void write_big(struct fixture *f)
{
	static char block[1024];
	char path[128];
	FILE *out;

	snprintf(path, sizeof(path), "%s/big", f->dir);
	out = fopen(path, "w");
	memset(block, 'b', sizeof(block));
	for (int i = 0; out && i < 16 * 1024; i++)
		if (fwrite(block, sizeof(block), 1, out) != 1)
			break;
	if (out)
		fclose(out);
}

/* The daemon drops the session in the middle of a file: the session ends
 * with an error naming what was being sent, and frees everything. */
static void test_dropped_mid_transfer(void)
{
	struct fixture f;
	struct error err = ERROR_INIT;
	static const char *const meta[] = { "dir-name", "context", NULL };
	Fsutil__Types__Packet req = FSUTIL__TYPES__PACKET__INIT;
	struct dc d = { 0 };

	fixture_start(&f);
	write_big(&f);
	d.call = call_start(&f.c, "/moby.filesync.v1.FileSync/DiffCopy", meta);
	d.file_id = UINT32_MAX;
	CHECK(pump(&f.c, dc_stats, &d, 5000));
	req.type = FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_REQ;
	req.id = d.file_id;
	call_send(&f.c, d.call, &req.base, 0);
	CHECK(pump(&f.c, dc_some_data, &d, 5000));
	shutdown(f.sv[1], SHUT_RDWR);
	for (int i = 0; i < 500 && session_running(f.s); i++)
		usleep(10 * 1000);
	CHECK(!session_running(f.s));
	CHECK(fixture_finish(&f, &err) < 0);
	CHECK(err.code == EXIT_ENGINE);
	CHECK(strstr(err.msg, "closed the session while 'context' was being "
			      "sent") != NULL);
}

/* The daemon stops reading for a while in the middle of 16 MiB: the
 * session waits (its output stays bounded, nothing fails), then the file
 * arrives whole and health is answered. */
static void test_slow_reader(void)
{
	struct fixture f;
	struct error err = ERROR_INIT;
	static const char *const meta[] = { "dir-name", "context", NULL };
	Fsutil__Types__Packet req = FSUTIL__TYPES__PACKET__INIT;
	Grpc__Health__V1__HealthCheckRequest hq =
		GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
	struct dc d = { 0 };
	struct call *health;

	fixture_start(&f);
	write_big(&f);
	d.call = call_start(&f.c, "/moby.filesync.v1.FileSync/DiffCopy", meta);
	d.file_id = UINT32_MAX;
	CHECK(pump(&f.c, dc_stats, &d, 5000));
	req.type = FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_REQ;
	req.id = d.file_id;
	call_send(&f.c, d.call, &req.base, 0);
	CHECK(pump(&f.c, dc_some_data, &d, 5000));
	sleep(2); /* reads nothing: the socket and the window fill up */
	CHECK(session_running(f.s));
	health = call_start(&f.c, "/grpc.health.v1.Health/Check", NULL);
	call_send(&f.c, health, &hq.base, 1);
	CHECK(pump(&f.c, closed, health, 5000));
	CHECK(health->status == 0);
	CHECK(pump(&f.c, dc_file_done, &d, 20000));
	CHECK(d.file_bytes == 16u * 1024 * 1024);
	req.type = FSUTIL__TYPES__PACKET__PACKET_TYPE__PACKET_FIN;
	req.id = 0;
	call_send(&f.c, d.call, &req.base, 1);
	CHECK(pump(&f.c, closed, d.call, 5000));
	CHECK(d.call->status == 0);
	CHECK(fixture_finish(&f, &err) == 0);
}

/* A message longer than the session takes (16 MiB): the call fails with
 * a clear status and the session says why. */
static void test_oversized_message(void)
{
	struct fixture f;
	struct error err = ERROR_INIT;
	static const char *const meta[] = { "dir-name", "context", NULL };
	struct call *call;
	static const uint8_t head[] = { 0, 0x04, 0, 0, 0 }; /* 64 MiB */

	fixture_start(&f);
	call = call_start(&f.c, "/moby.filesync.v1.FileSync/DiffCopy", meta);
	buf_add(&call->req, head, sizeof(head));
	buf_add(&call->req, "xxxx", 4);
	nghttp2_session_resume_data(f.c.h2, call->id);
	CHECK(pump(&f.c, has_status, call, 5000));
	CHECK(call->status == 3);
	CHECK(fixture_finish(&f, &err) < 0);
	CHECK(strstr(err.msg, "67108864") != NULL);
}

int main(void)
{
	RUN(test_health);
	RUN(test_secrets_and_unknown);
	RUN(test_diffcopy_with_health_in_between);
	RUN(test_bad_request_id);
	RUN(test_not_http2);
	RUN(test_dropped_mid_transfer);
	RUN(test_slow_reader);
	RUN(test_oversized_message);
	return unit_summary();
}
