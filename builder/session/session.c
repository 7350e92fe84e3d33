/*
 * The BuildKit session: the HTTP/2 server (nghttp2) over the upgraded
 * POST /session connection, gRPC on top, and the dispatch to the services;
 * see session.h for the thread design. The only file that includes
 * <nghttp2/nghttp2.h>.
 *
 * Endpoint: POST /session (no /vX.Y prefix, as the docker CLI sends it).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include "auth.pb-c.h"
#include "health.pb-c.h"
#include "secrets.pb-c.h"
#include "sshforward.pb-c.h"

#include "engine/engine.h"
#include "registry/auth.h"
#include "session/fsend.h"
#include "session/fsync.h"
#include "session/grpc.h"
#include "session/secrets.h"
#include "session/session.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/pballoc.h"
#include "util/strlist.h"
#include "util/xmalloc.h"
#include "util/banned.h"

/* The daemon's own limit on messages it sends is 4 MiB (BuildKit 0.8) to
 * 16 MiB; ours are requests of a few bytes. */
#define MESSAGE_MAX (16u * 1024 * 1024)
/* Output held per stream: refilled below LOW up to HIGH. Small, because
 * what is held is what a file the daemon just asked for waits behind
 * (fsync.c's interleaving decides the order only of what is produced). */
#define OUT_LOW (32u * 1024)
#define OUT_HIGH (64u * 1024)
#define OUT_MAX (OUT_HIGH + 2 * FSYNC_CHUNK + 4096)
#define RECV_CHUNK (64u * 1024)
/* ssh-agent connections served at once. */
#define AGENTS_MAX 16

#define M_HEALTH "/grpc.health.v1.Health/Check"
#define M_DIFFCOPY "/moby.filesync.v1.FileSync/DiffCopy"
#define M_SECRET "/moby.buildkit.secrets.v1.Secrets/GetSecret"
#define M_CREDS "/moby.filesync.v1.Auth/Credentials"
#define M_SSH_CHECK "/moby.sshforward.v1.SSH/CheckAgent"
#define M_SSH_FORWARD "/moby.sshforward.v1.SSH/ForwardAgent"
/* Offered only when the run has an output (--output). */
#define M_FILESEND "/moby.filesync.v1.FileSend/DiffCopy"

static const char *const methods[] = { M_HEALTH, M_DIFFCOPY,  M_SECRET,
				       M_CREDS,	 M_SSH_CHECK, M_SSH_FORWARD };

enum method {
	M_NONE,
	M_HEALTH_CHECK,
	M_DIFF_COPY,
	M_GET_SECRET,
	M_CREDENTIALS,
	M_SSH_CHECK_AGENT,
	M_SSH_FORWARD_AGENT,
	M_FILE_SEND
};

struct stream {
	int32_t id;
	struct stream *next;
	char path[128];
	enum method method;
	struct grpc_reader in;
	struct buf out; /* framed messages not yet taken by nghttp2 */
	size_t out_pos;
	int deferred; /* nghttp2 waits for resume_data */
	int responded; /* response headers submitted */
	int closing; /* after out drains: trailers with status */
	int status;
	char message[512];
	int answered; /* a unary call got its one message */
	struct strlist dir_name, include, exclude, follow;
	int include_enc, exclude_enc, follow_enc;
	struct fsync *fs;
	struct fsend *fo; /* FileSend: the build's output */
	int fo_counted;
	char ssh_id[128]; /* buildkit.ssh.id */
	int agent_fd; /* ForwardAgent: the local agent, or -1 */
};

struct session {
	char id[26];
	const struct session_config *cfg;
	struct engine_conn *conn; /* under io, when from session_start() */
	struct session_io io;
	nghttp2_session *h2;
	struct stream *streams;
	pthread_t thread;
	int thread_started;
	int stop_pipe[2];
	struct error err; /* the thread's first failure */
	int failed;
	int ended; /* the thread left its loop (atomic) */
	unsigned long long bytes_sent;
	unsigned long files_sent;
	int outputs; /* FileSend streams opened */
	int outputs_done; /* ... and completed */
	size_t output_files;
	unsigned long long output_bytes;
};

void session_random_id(char out[26])
{
	static const char set[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char r[25];
	size_t got = 0;

	while (got < sizeof(r)) {
		ssize_t n = getrandom(r + got, sizeof(r) - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* No entropy source: time and address, still
			 * unique enough for an id. */
			unsigned long long x =
				(unsigned long long)(now_seconds() * 1e9) ^
				(uintptr_t)out;
			for (; got < sizeof(r);
			     got++, x = x * 6364136223846793005ULL + 1)
				r[got] = (unsigned char)(x >> 33);
			break;
		}
		got += (size_t)n;
	}
	for (size_t i = 0; i < sizeof(r); i++)
		out[i] = set[r[i] % (sizeof(set) - 1)];
	out[25] = '\0';
}

static void fail(struct session *s, const struct error *e)
{
	if (!s->failed) {
		s->err = *e;
		s->failed = 1;
	}
}

/* --- streams ---------------------------------------------------------------
 */

static void stream_free(struct stream *st)
{
	if (!st)
		return;
	grpc_reader_release(&st->in);
	buf_release(&st->out);
	strlist_clear(&st->dir_name);
	strlist_clear(&st->include);
	strlist_clear(&st->exclude);
	strlist_clear(&st->follow);
	fsync_free(st->fs);
	fsend_free(st->fo);
	if (st->agent_fd >= 0)
		close(st->agent_fd);
	free(st);
}

static void resume(struct session *s, struct stream *st)
{
	if (st->deferred && st->responded) {
		st->deferred = 0;
		nghttp2_session_resume_data(s->h2, st->id);
	}
}

/* Ends the call with a status after what is queued. message may be
 * NULL; it is sent percent-encoded as grpc-message. */
static void stream_close(struct session *s, struct stream *st, int status,
			 const char *message)
{
	if (st->closing)
		return;
	st->closing = 1;
	st->status = status;
	snprintf(st->message, sizeof(st->message), "%.500s",
		 message ? message : "");
	resume(s, st);
}

/* Ends a call whose request could not be decoded (util/pballoc.h). */
static void refuse_undecodable(struct session *s, struct stream *st,
			       const char *what, const struct pballoc *a)
{
	char why[96];

	snprintf(why, sizeof(why), "%s is %s", what, pballoc_failure(a));
	stream_close(s, st, GRPC_INVALID_ARGUMENT, why);
}

static int add_message(struct stream *st, const ProtobufCMessage *m)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t head[GRPC_HEADER_LEN];
	uint8_t *tmp = xmalloc(len ? len : 1);
	int ret;

	protobuf_c_message_pack(m, tmp);
	grpc_frame_header(head, (uint32_t)len);
	ret = buf_add(&st->out, head, sizeof(head)) < 0 ||
			      buf_add(&st->out, tmp, len) < 0
		      ? -1
		      : 0;
	free(tmp);
	return ret;
}

/* --- services ----------------------------------------------------------------
 */

static int serve_health(struct session *s, struct stream *st)
{
	Grpc__Health__V1__HealthCheckResponse r =
		GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;

	r.status =
		GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
	if (add_message(st, &r.base) < 0)
		stream_close(s, st, GRPC_INTERNAL, "no room for the answer");
	else
		stream_close(s, st, GRPC_OK, NULL);
	return 0;
}

static int serve_secret(struct session *s, struct stream *st,
			const uint8_t *msg, size_t len)
{
	Moby__Buildkit__Secrets__V1__GetSecretRequest *q;
	Moby__Buildkit__Secrets__V1__GetSecretResponse r =
		MOBY__BUILDKIT__SECRETS__V1__GET_SECRET_RESPONSE__INIT;
	const struct secret *sec;
	char why[400];
	struct pballoc a;

	q = moby__buildkit__secrets__v1__get_secret_request__unpack(
		pballoc_init(&a, len), len, msg);
	if (!q) {
		refuse_undecodable(s, st, "GetSecretRequest", &a);
		return 0;
	}
	sec = secrets_find(s->cfg->secrets, q->id ? q->id : "");
	if (!sec) {
		/* The id is the Dockerfile's, not a value: safe to name. */
		snprintf(why, sizeof(why),
			 "secret %.200s not found: give it to builder with "
			 "--secret id=%.40s,src=PATH or SECRETS",
			 q->id ? q->id : "", q->id ? q->id : "");
		log_debug("session: secret '%s' asked for, not given",
			  q->id ? q->id : "");
		stream_close(s, st, GRPC_NOT_FOUND, why);
	} else {
		r.data.data = (uint8_t *)sec->value;
		r.data.len = sec->len;
		log_debug("session: secret '%s' served", sec->id);
		if (add_message(st, &r.base) < 0)
			stream_close(s, st, GRPC_RESOURCE_EXHAUSTED,
				     "the secret is too large");
		else
			stream_close(s, st, GRPC_OK, NULL);
	}
	moby__buildkit__secrets__v1__get_secret_request__free_unpacked(q,
								       &a.base);
	return 0;
}

/* Registry credentials for BuildKit's own pulls, from the same sources as
 * the push (registry/auth.h). Docker Hub is asked for as
 * registry-1.docker.io. Only the source is logged. */
static int serve_credentials(struct session *s, struct stream *st,
			     const uint8_t *msg, size_t len)
{
	Moby__Filesync__V1__CredentialsRequest *q;
	Moby__Filesync__V1__CredentialsResponse r =
		MOBY__FILESYNC__V1__CREDENTIALS_RESPONSE__INIT;
	struct credential cred = CREDENTIAL_INIT;
	struct error e = ERROR_INIT;
	const char *host;
	struct pballoc a;

	q = moby__filesync__v1__credentials_request__unpack(
		pballoc_init(&a, len), len, msg);
	if (!q) {
		refuse_undecodable(s, st, "CredentialsRequest", &a);
		return 0;
	}
	host = q->host && *q->host ? q->host : NULL;
	if (host && !strcmp(host, "registry-1.docker.io"))
		host = NULL;
	/* Without settings (tests) the answer is anonymous. */
	if (s->cfg->auth && auth_resolve(s->cfg->auth, host, &cred, &e) < 0) {
		stream_close(s, st, GRPC_INTERNAL, e.msg);
	} else {
		log_debug("session: credentials for '%s': %s",
			  q->host ? q->host : "", cred.source);
		if (cred.identitytoken) {
			r.secret = cred.identitytoken;
		} else if (cred.username && cred.password) {
			r.username = cred.username;
			r.secret = cred.password;
		}
		if (add_message(st, &r.base) < 0)
			stream_close(s, st, GRPC_INTERNAL,
				     "no room for the answer");
		else
			stream_close(s, st, GRPC_OK, NULL);
	}
	credential_release(&cred);
	moby__filesync__v1__credentials_request__free_unpacked(q, &a.base);
	return 0;
}

/* The agent socket of an SSH id ("default" when empty), or NULL. */
static const char *ssh_socket(const struct session *s, const char *id)
{
	const struct strlist *l = s->cfg->ssh;
	size_t n;

	if (!*id)
		id = "default";
	n = strlen(id);
	for (size_t i = 0; l && i < l->n; i++)
		if (!strncmp(l->v[i], id, n) && l->v[i][n] == '=')
			return l->v[i] + n + 1;
	return NULL;
}

static int serve_ssh_check(struct session *s, struct stream *st,
			   const uint8_t *msg, size_t len)
{
	Moby__Sshforward__V1__CheckAgentRequest *q;
	Moby__Sshforward__V1__CheckAgentResponse r =
		MOBY__SSHFORWARD__V1__CHECK_AGENT_RESPONSE__INIT;
	char why[320];
	struct pballoc a;

	q = moby__sshforward__v1__check_agent_request__unpack(
		pballoc_init(&a, len), len, msg);
	if (!q) {
		refuse_undecodable(s, st, "CheckAgentRequest", &a);
		return 0;
	}
	if (!ssh_socket(s, q->id ? q->id : "")) {
		snprintf(why, sizeof(why),
			 "unset ssh forward key %.100s: give it to builder "
			 "with --ssh %.100s=SOCKET or SSH",
			 q->id && *q->id ? q->id : "default",
			 q->id && *q->id ? q->id : "default");
		stream_close(s, st, GRPC_NOT_FOUND, why);
	} else if (add_message(st, &r.base) < 0) {
		stream_close(s, st, GRPC_INTERNAL, "no room for the answer");
	} else {
		stream_close(s, st, GRPC_OK, NULL);
	}
	moby__sshforward__v1__check_agent_request__free_unpacked(q, &a.base);
	return 0;
}

/* ForwardAgent: one connection to the local agent per stream; bytes from
 * the daemon are written to it here, bytes from it are read in the loop
 * (agent_step). */
static void start_ssh_forward(struct session *s, struct stream *st)
{
	const char *path = ssh_socket(s, st->ssh_id);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char why[300];
	int fd;

	if (!path) {
		snprintf(why, sizeof(why), "unset ssh forward key %.100s",
			 st->ssh_id[0] ? st->ssh_id : "default");
		stream_close(s, st, GRPC_NOT_FOUND, why);
		return;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(why, sizeof(why),
			 "cannot reach the ssh agent '%.200s': %s", path,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		stream_close(s, st, GRPC_UNAVAILABLE, why);
		return;
	}
	st->agent_fd = fd;
	log_debug("session: ssh agent '%s' forwarded",
		  st->ssh_id[0] ? st->ssh_id : "default");
}

static void ssh_to_agent(struct session *s, struct stream *st,
			 const uint8_t *msg, size_t len)
{
	Moby__Sshforward__V1__BytesMessage *m;
	size_t off = 0;
	struct pballoc a;

	m = moby__sshforward__v1__bytes_message__unpack(pballoc_init(&a, len),
							len, msg);
	if (!m) {
		refuse_undecodable(s, st, "BytesMessage", &a);
		return;
	}
	/* Agent requests are small and the agent is local: a blocking
	 * write is bounded. */
	while (st->agent_fd >= 0 && off < m->data.len) {
		ssize_t n = send(st->agent_fd, m->data.data + off,
				 m->data.len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(st->agent_fd);
			st->agent_fd = -1;
			stream_close(s, st, GRPC_UNAVAILABLE,
				     "the ssh agent closed the connection");
			break;
		}
		off += (size_t)n;
	}
	moby__sshforward__v1__bytes_message__free_unpacked(m, &a.base);
}

/* The agent has bytes (or closed): pass them on. */
static void agent_step(struct session *s, struct stream *st)
{
	Moby__Sshforward__V1__BytesMessage m =
		MOBY__SSHFORWARD__V1__BYTES_MESSAGE__INIT;
	uint8_t data[16384];
	ssize_t n;

	do
		n = recv(st->agent_fd, data, sizeof(data), MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		close(st->agent_fd);
		st->agent_fd = -1;
		stream_close(s, st, GRPC_OK, NULL);
		return;
	}
	m.data.data = data;
	m.data.len = (size_t)n;
	if (add_message(st, &m.base) < 0)
		stream_close(s, st, GRPC_RESOURCE_EXHAUSTED,
			     "ssh agent data backed up");
	resume(s, st);
}

/* Percent-decodes values sent with "<key>-encoded: 1" (BuildKit 0.12+). */
static void decode_list(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		char *p = l->v[i], *w = p;

		for (; *p; p++) {
			if (*p == '%' && p[1] && p[2]) {
				char hex[3] = { p[1], p[2], 0 };
				char *end;
				long v = strtol(hex, &end, 16);

				if (!*end) {
					*w++ = (char)v;
					p += 2;
					continue;
				}
			} else if (*p == '+') {
				*w++ = ' ';
				continue;
			}
			*w++ = *p;
		}
		*w = '\0';
	}
}

static void start_diffcopy(struct session *s, struct stream *st)
{
	struct error e = ERROR_INIT;
	const char *name = st->dir_name.n ? st->dir_name.v[0] : "";
	const char *dir = NULL;
	char why[ERROR_MSG_MAX];

	if (!strcmp(name, "context"))
		dir = s->cfg->context_dir;
	else if (!strcmp(name, "dockerfile"))
		dir = s->cfg->dockerfile_dir;
	if (!dir) {
		snprintf(why, sizeof(why),
			 "builder offers no directory named '%.200s'", name);
		stream_close(s, st, GRPC_NOT_FOUND, why);
		return;
	}
	if (st->include_enc)
		decode_list(&st->include);
	if (st->exclude_enc)
		decode_list(&st->exclude);
	if (st->follow_enc)
		decode_list(&st->follow);
	if (fsync_open(&st->fs, name, dir, &st->include, &st->exclude,
		       &st->follow, &e) < 0) {
		fail(s, &e);
		stream_close(s, st, GRPC_INTERNAL, e.msg);
		return;
	}
	log_debug("session: sending '%s' (%zu entries, %zu include, %zu "
		  "exclude, %zu follow patterns)",
		  name, fsync_entries(st->fs), st->include.n, st->exclude.n,
		  st->follow.n);
}

/* FileSend.DiffCopy: the build's output (--output), written below the
 * configured DEST. One per build. */
static void start_filesend(struct session *s, struct stream *st)
{
	struct error e = ERROR_INIT;

	if (!s->cfg->output_dest || s->outputs) {
		stream_close(s, st, GRPC_FAILED_PRECONDITION,
			     s->cfg->output_dest
				     ? "builder takes one output per build"
				     : "builder was not asked for an output");
		return;
	}
	s->outputs++;
	if (fsend_open(&st->fo, s->cfg->output_tar ? FSEND_TAR : FSEND_LOCAL,
		       s->cfg->output_dest, &e) < 0) {
		fail(s, &e);
		stream_close(s, st, GRPC_INTERNAL, e.msg);
		return;
	}
	log_debug("session: receiving the build's output into '%s'",
		  s->cfg->output_dest);
}

static void filesend_closed(struct session *s, struct stream *st)
{
	if (!st->fo)
		return;
	s->output_files += fsend_files(st->fo);
	s->output_bytes += fsend_bytes(st->fo);
	if (fsend_done(st->fo))
		s->outputs_done++;
}

/* The gRPC reader's context: the stream and its session. */
struct msg_ctx {
	struct session *s;
	struct stream *st;
};

static int dispatch(struct session *s, struct stream *st, const uint8_t *msg,
		    size_t len)
{
	struct error e = ERROR_INIT;

	if (st->closing)
		return 0;
	switch (st->method) {
	case M_HEALTH_CHECK:
		if (st->answered++)
			return 0;
		return serve_health(s, st);
	case M_GET_SECRET:
		if (st->answered++)
			return 0;
		return serve_secret(s, st, msg, len);
	case M_CREDENTIALS:
		if (st->answered++)
			return 0;
		return serve_credentials(s, st, msg, len);
	case M_SSH_CHECK_AGENT:
		if (st->answered++)
			return 0;
		return serve_ssh_check(s, st, msg, len);
	case M_SSH_FORWARD_AGENT:
		ssh_to_agent(s, st, msg, len);
		return 0;
	case M_FILE_SEND:
		if (!st->fo)
			return 0;
		if (fsend_receive(st->fo, msg, len, &e) < 0) {
			fail(s, &e);
			stream_close(s, st, GRPC_INTERNAL, e.msg);
		}
		return 0;
	case M_DIFF_COPY:
		if (!st->fs)
			return 0;
		if (fsync_receive(st->fs, msg, len, &e) < 0) {
			fail(s, &e);
			stream_close(s, st, GRPC_INTERNAL, e.msg);
			return 0;
		}
		return 0;
	default:
		return 0;
	}
}

/* --- nghttp2 callbacks
 * --------------------------------------------------------- */

static struct stream *find(struct session *s, int32_t id)
{
	return nghttp2_session_get_stream_user_data(s->h2, id);
}

static int on_begin_headers(nghttp2_session *h2, const nghttp2_frame *frame,
			    void *ud)
{
	struct session *s = ud;
	struct stream *st;

	if (frame->hd.type != NGHTTP2_HEADERS ||
	    frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	st = xcalloc(1, sizeof(*st));
	st->id = frame->hd.stream_id;
	st->agent_fd = -1;
	buf_init(&st->out, OUT_MAX);
	st->next = s->streams;
	s->streams = st;
	nghttp2_session_set_stream_user_data(h2, st->id, st);
	return 0;
}

static int on_header(nghttp2_session *h2, const nghttp2_frame *frame,
		     const uint8_t *name, size_t namelen, const uint8_t *value,
		     size_t valuelen, uint8_t flags, void *ud)
{
	struct session *s = ud;
	struct stream *st = find(s, frame->hd.stream_id);
	char *v;

	(void)h2;
	(void)flags;
	if (!st || frame->hd.type != NGHTTP2_HEADERS ||
	    frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
#define IS(lit) (namelen == sizeof(lit) - 1 && !memcmp(name, lit, namelen))
	if (IS(":path")) {
		snprintf(st->path, sizeof(st->path), "%.*s",
			 (int)(valuelen < 127 ? valuelen : 127), value);
		return 0;
	}
	if (IS("buildkit.ssh.id")) {
		snprintf(st->ssh_id, sizeof(st->ssh_id), "%.*s",
			 (int)(valuelen < 127 ? valuelen : 127), value);
		return 0;
	}
	if (IS("include-patterns-encoded"))
		st->include_enc = valuelen == 1 && value[0] == '1';
	else if (IS("exclude-patterns-encoded"))
		st->exclude_enc = valuelen == 1 && value[0] == '1';
	else if (IS("followpaths-encoded"))
		st->follow_enc = valuelen == 1 && value[0] == '1';
	if (!IS("dir-name") && !IS("include-patterns") &&
	    !IS("exclude-patterns") && !IS("followpaths"))
		return 0;
	v = xstrndup((const char *)value, valuelen);
	if (IS("dir-name"))
		strlist_push(&st->dir_name, v);
	else if (IS("include-patterns"))
		strlist_push(&st->include, v);
	else if (IS("exclude-patterns"))
		strlist_push(&st->exclude, v);
	else
		strlist_push(&st->follow, v);
#undef IS
	free(v);
	return 0;
}

static ssize_t read_out(nghttp2_session *h2, int32_t id, uint8_t *dst,
			size_t max, uint32_t *flags, nghttp2_data_source *src,
			void *ud)
{
	struct stream *st = src->ptr;
	size_t avail = st->out.len - st->out_pos;

	(void)ud;
	if (avail) {
		size_t n = avail < max ? avail : max;

		memcpy(dst, st->out.data + st->out_pos, n);
		st->out_pos += n;
		if (st->out_pos == st->out.len) {
			buf_reset(&st->out);
			st->out_pos = 0;
		}
		return (ssize_t)n;
	}
	if (st->closing) {
		struct buf msg = BUF_INIT(BUF_TEXT_MAX);
		char code[16];
		nghttp2_nv tr[2];
		size_t n = 1;

		snprintf(code, sizeof(code), "%d", st->status);
		tr[0] = (nghttp2_nv){ (uint8_t *)"grpc-status", (uint8_t *)code,
				      11, strlen(code), NGHTTP2_NV_FLAG_NONE };
		if (st->message[0]) {
			grpc_add_message(&msg, st->message);
			tr[1] = (nghttp2_nv){ (uint8_t *)"grpc-message",
					      (uint8_t *)msg.data, 12, msg.len,
					      NGHTTP2_NV_FLAG_NONE };
			n = 2;
		}
		*flags |=
			NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
		nghttp2_submit_trailer(h2, id, tr, n);
		buf_release(&msg);
		return 0;
	}
	st->deferred = 1;
	return NGHTTP2_ERR_DEFERRED;
}

static void respond(struct session *s, struct stream *st)
{
	nghttp2_nv hdrs[] = {
		{ (uint8_t *)":status", (uint8_t *)"200", 7, 3,
		  NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)"content-type", (uint8_t *)"application/grpc", 12,
		  16, NGHTTP2_NV_FLAG_NONE },
	};
	nghttp2_data_provider prd;

	prd.source.ptr = st;
	prd.read_callback = read_out;
	if (nghttp2_submit_response(s->h2, st->id, hdrs, 2, &prd) == 0)
		st->responded = 1;
}

static int on_grpc(const uint8_t *msg, size_t len, void *ctx,
		   struct error *err);

static int on_frame_recv(nghttp2_session *h2, const nghttp2_frame *frame,
			 void *ud)
{
	struct session *s = ud;
	struct stream *st = find(s, frame->hd.stream_id);
	struct error e = ERROR_INIT;

	(void)h2;
	if (!st)
		return 0;
	if (frame->hd.type == NGHTTP2_HEADERS &&
	    frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
		struct msg_ctx *mc = xcalloc(1, sizeof(*mc));

		mc->s = s;
		mc->st = st;
		grpc_reader_init(&st->in, MESSAGE_MAX, on_grpc, mc);
		if (!strcmp(st->path, M_HEALTH))
			st->method = M_HEALTH_CHECK;
		else if (!strcmp(st->path, M_SECRET))
			st->method = M_GET_SECRET;
		else if (!strcmp(st->path, M_DIFFCOPY))
			st->method = M_DIFF_COPY;
		else if (!strcmp(st->path, M_CREDS))
			st->method = M_CREDENTIALS;
		else if (!strcmp(st->path, M_SSH_CHECK))
			st->method = M_SSH_CHECK_AGENT;
		else if (!strcmp(st->path, M_SSH_FORWARD))
			st->method = M_SSH_FORWARD_AGENT;
		else if (!strcmp(st->path, M_FILESEND) && s->cfg->output_dest)
			st->method = M_FILE_SEND;
		respond(s, st);
		if (st->method == M_NONE) {
			char why[200];

			snprintf(why, sizeof(why),
				 "builder does not serve %.120s", st->path);
			log_debug("session: %s: unimplemented", st->path);
			stream_close(s, st, GRPC_UNIMPLEMENTED, why);
		} else if (st->method == M_DIFF_COPY) {
			start_diffcopy(s, st);
		} else if (st->method == M_SSH_FORWARD_AGENT) {
			start_ssh_forward(s, st);
		} else if (st->method == M_FILE_SEND) {
			start_filesend(s, st);
		}
	}
	if ((frame->hd.type == NGHTTP2_HEADERS ||
	     frame->hd.type == NGHTTP2_DATA) &&
	    (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) && st->in.fn) {
		if (grpc_reader_finish(&st->in, &e) < 0) {
			fail(s, &e);
			stream_close(s, st, GRPC_INVALID_ARGUMENT, e.msg);
		} else if ((st->method == M_HEALTH_CHECK ||
			    st->method == M_GET_SECRET ||
			    st->method == M_CREDENTIALS ||
			    st->method == M_SSH_CHECK_AGENT) &&
			   !st->answered) {
			stream_close(s, st, GRPC_INVALID_ARGUMENT,
				     "no request message");
		} else if (st->method == M_FILE_SEND && st->fo &&
			   !st->closing) {
			if (fsend_end(st->fo, &e) < 0) {
				fail(s, &e);
				stream_close(s, st, GRPC_INTERNAL, e.msg);
			} else {
				stream_close(s, st, GRPC_OK, NULL);
			}
		} else if (st->method == M_SSH_FORWARD_AGENT) {
			if (st->agent_fd >= 0) {
				close(st->agent_fd);
				st->agent_fd = -1;
			}
			stream_close(s, st, GRPC_OK, NULL);
		}
	}
	return 0;
}

static int on_grpc(const uint8_t *msg, size_t len, void *ctx, struct error *err)
{
	struct msg_ctx *mc = ctx;

	(void)err;
	return dispatch(mc->s, mc->st, msg, len);
}

static int on_data_chunk(nghttp2_session *h2, uint8_t flags, int32_t id,
			 const uint8_t *data, size_t len, void *ud)
{
	struct session *s = ud;
	struct stream *st = find(s, id);
	struct error e = ERROR_INIT;

	(void)h2;
	(void)flags;
	if (!st || !st->in.fn || st->in.failed)
		return 0;
	if (grpc_reader_feed(&st->in, data, len, &e) < 0) {
		fail(s, &e);
		stream_close(s, st, GRPC_INVALID_ARGUMENT, e.msg);
	}
	return 0;
}

static int on_stream_close(nghttp2_session *h2, int32_t id, uint32_t code,
			   void *ud)
{
	struct session *s = ud;
	struct stream **pp;

	(void)h2;
	(void)code;
	for (pp = &s->streams; *pp; pp = &(*pp)->next) {
		if ((*pp)->id == id) {
			struct stream *st = *pp;

			*pp = st->next;
			if (st->fs) {
				s->bytes_sent += fsync_bytes_sent(st->fs);
				s->files_sent += fsync_files_sent(st->fs);
			}
			filesend_closed(s, st);
			st->fo_counted = 1;
			free(st->in.ctx);
			stream_free(st);
			break;
		}
	}
	return 0;
}

/* --- the loop --------------------------------------------------------------
 */

/* Fills every DiffCopy stream's output a step; 1 when any has more to
 * add right away. */
static int produce(struct session *s)
{
	int more = 0;

	for (struct stream *st = s->streams; st; st = st->next) {
		struct error e = ERROR_INIT;

		if (st->fo && !st->closing) {
			if (fsend_produce(st->fo, &st->out, &e) < 0) {
				fail(s, &e);
				stream_close(s, st, GRPC_INTERNAL, e.msg);
				continue;
			}
			if (st->out.len > st->out_pos)
				resume(s, st);
			if (fsend_done(st->fo))
				stream_close(s, st, GRPC_OK, NULL);
			continue;
		}
		if (!st->fs || st->closing)
			continue;
		if (st->out.len - st->out_pos < OUT_LOW &&
		    fsync_pending(st->fs)) {
			if (st->out_pos) {
				/* Compact: drop what nghttp2 took. */
				size_t left = st->out.len - st->out_pos;

				memmove(st->out.data,
					st->out.data + st->out_pos, left);
				st->out.len = left;
				st->out.data[left] = '\0';
				st->out_pos = 0;
			}
			if (fsync_produce(st->fs, &st->out, OUT_HIGH, &e) < 0) {
				fail(s, &e);
				stream_close(s, st, GRPC_INTERNAL, e.msg);
				continue;
			}
			resume(s, st);
		}
		if (fsync_done(st->fs))
			stream_close(s, st, GRPC_OK, NULL);
		else if (fsync_pending(st->fs) &&
			 st->out.len - st->out_pos < OUT_LOW)
			more = 1;
	}
	return more;
}

/* The daemon closed the connection: any FileSync or FileSend stream not
 * finished is the session's failure, named. */
static void dropped(struct session *s)
{
	struct error e = ERROR_INIT;

	for (struct stream *st = s->streams; st; st = st->next) {
		const char *name = st->dir_name.n ? st->dir_name.v[0] : "";

		if (st->closing)
			continue;
		if (st->fs && !fsync_done(st->fs)) {
			err_set(&e, EXIT_ENGINE,
				"session: the engine closed the session while "
				"'%.200s' was being sent (%zu of its files "
				"sent); the engine's log says why",
				name, fsync_files_sent(st->fs));
			fail(s, &e);
			return;
		}
		if (st->fo && !fsend_done(st->fo)) {
			err_set(&e, EXIT_ENGINE,
				"session: the engine closed the session while "
				"the build's output was being received (%zu "
				"files written)",
				fsend_files(st->fo));
			fail(s, &e);
			return;
		}
	}
}

static void *session_main(void *arg)
{
	struct session *s = arg;
	const uint8_t *pending = NULL;
	ssize_t pending_len = 0;
	uint8_t *rbuf = xmalloc(RECV_CHUNK);
	struct error e = ERROR_INIT;

	for (;;) {
		struct pollfd p[2 + AGENTS_MAX];
		struct stream *agents[AGENTS_MAX];
		size_t na = 0;
		int timeout = 1000, more;
		long n;

		more = produce(s);
		/* Write what nghttp2 has, until the socket is full. */
		for (;;) {
			if (!pending_len) {
				pending_len = nghttp2_session_mem_send(
					s->h2, &pending);
				if (pending_len < 0) {
					err_set(&e, EXIT_ENGINE,
						"session: HTTP/2 error: %s",
						nghttp2_strerror(
							(int)pending_len));
					fail(s, &e);
					goto out;
				}
				if (!pending_len)
					break;
			}
			n = s->io.send(s->io.ctx, pending, (size_t)pending_len,
				       &e);
			if (n == SESSION_IO_AGAIN)
				break;
			if (n < 0) {
				dropped(s); /* names the transfer, if any */
				fail(s, &e);
				goto out;
			}
			pending += n;
			pending_len -= n;
		}
		if (!nghttp2_session_want_read(s->h2) &&
		    !nghttp2_session_want_write(s->h2) && !pending_len)
			break;
		if (more || s->io.pending(s->io.ctx))
			timeout = 0;
		p[0] = (struct pollfd){
			s->io.fd(s->io.ctx),
			(short)(POLLIN | (pending_len ? POLLOUT : 0)), 0
		};
		p[1] = (struct pollfd){ s->stop_pipe[0], POLLIN, 0 };
		for (struct stream *st = s->streams; st && na < AGENTS_MAX;
		     st = st->next) {
			if (st->agent_fd < 0 || st->closing ||
			    st->out.len - st->out_pos >= OUT_LOW)
				continue;
			agents[na] = st;
			p[2 + na] = (struct pollfd){ st->agent_fd, POLLIN, 0 };
			na++;
		}
		if (poll(p, (nfds_t)(2 + na), timeout) < 0 && errno != EINTR) {
			err_set(&e, EXIT_ENGINE, "session: poll: %s",
				strerror(errno));
			fail(s, &e);
			goto out;
		}
		if (p[1].revents)
			break;
		for (size_t i = 0; i < na; i++)
			if (p[2 + i].revents)
				agent_step(s, agents[i]);
		/* Read until nothing is left: TLS may hold bytes the socket
		 * no longer shows. */
		for (;;) {
			ssize_t used;

			n = s->io.recv(s->io.ctx, rbuf, RECV_CHUNK, &e);
			if (n == SESSION_IO_AGAIN)
				break;
			if (n < 0) {
				dropped(s);
				fail(s, &e);
				goto out;
			}
			if (n == 0) {
				/* The daemon closed the session: a failure
				 * when a transfer was still under way. */
				dropped(s);
				goto out;
			}
			used = nghttp2_session_mem_recv(s->h2, rbuf, (size_t)n);
			if (used < 0) {
				err_set(&e, EXIT_ENGINE,
					"session: the engine sent bad HTTP/2: "
					"%s",
					nghttp2_strerror((int)used));
				fail(s, &e);
				goto out;
			}
		}
	}
out:
	free(rbuf);
	__atomic_store_n(&s->ended, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* --- start and finish
 * ---------------------------------------------------------- */

_Static_assert(SESSION_IO_AGAIN == ENGINE_CONN_AGAIN,
	       "engine_conn's AGAIN passes through unchanged");

static long conn_recv(void *ctx, void *dst, size_t max, struct error *err)
{
	return engine_conn_recv(ctx, dst, max, err);
}

static long conn_send(void *ctx, const void *src, size_t len, struct error *err)
{
	return engine_conn_send(ctx, src, len, err);
}

static int conn_fd(void *ctx)
{
	return engine_conn_fd(ctx);
}

static int conn_pending(void *ctx)
{
	return engine_conn_pending(ctx);
}

/* Sets up HTTP/2 over s->io and starts the thread. */
static int serve(struct session *s, struct error *err)
{
	nghttp2_session_callbacks *cb = NULL;
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 1000 },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1u << 20 },
	};
	sigset_t block, old;
	int ret = -1, rc;

	if (pipe2(s->stop_pipe, O_CLOEXEC) < 0) {
		err_set(err, EXIT_ENGINE, "session: pipe: %s", strerror(errno));
		goto out;
	}
	if (nghttp2_session_callbacks_new(&cb)) {
		err_set(err, EXIT_ENGINE, "session: out of memory");
		goto out;
	}
	nghttp2_session_callbacks_set_on_begin_headers_callback(
		cb, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
		cb, on_data_chunk);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb,
							       on_stream_close);
	if (nghttp2_session_server_new(&s->h2, cb, s) ||
	    nghttp2_submit_settings(s->h2, NGHTTP2_FLAG_NONE, iv,
				    sizeof(iv) / sizeof(*iv))) {
		err_set(err, EXIT_ENGINE, "session: cannot set up HTTP/2");
		goto out;
	}
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	rc = pthread_create(&s->thread, NULL, session_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		err_set(err, EXIT_ENGINE, "session: cannot start a thread: %s",
			strerror(rc));
		goto out;
	}
	s->thread_started = 1;
	ret = 0;
out:
	nghttp2_session_callbacks_del(cb);
	return ret;
}

static struct session *session_new(const struct session_config *cfg)
{
	struct session *s = xcalloc(1, sizeof(*s));

	s->cfg = cfg;
	s->stop_pipe[0] = s->stop_pipe[1] = -1;
	session_random_id(s->id);
	return s;
}

int session_start_io(const struct session_config *cfg,
		     const struct session_io *io, struct session **out,
		     struct error *err)
{
	struct session *s = session_new(cfg);

	*out = NULL;
	s->io = *io;
	if (serve(s, err) < 0) {
		s->io.ctx = NULL; /* the caller's */
		session_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

int session_start(struct engine *eng, const struct session_config *cfg,
		  struct session **out, struct error *err)
{
	struct session *s = session_new(cfg);
	struct strlist headers = STRLIST_INIT;
	struct buf line = BUF_INIT(BUF_TEXT_MAX);
	const char **hv = NULL;
	int ret = -1;

	*out = NULL;
	buf_addf(&line, "X-Docker-Expose-Session-Uuid: %s", s->id);
	strlist_push(&headers, line.data);
	buf_reset(&line);
	buf_addf(&line, "X-Docker-Expose-Session-Name: %s",
		 cfg->name ? cfg->name : "builder");
	strlist_push(&headers, line.data);
	buf_reset(&line);
	buf_addf(&line, "X-Docker-Expose-Session-Sharedkey: %s",
		 cfg->shared_key ? cfg->shared_key : "");
	strlist_push(&headers, line.data);
	for (size_t i = 0; i < sizeof(methods) / sizeof(*methods); i++) {
		buf_reset(&line);
		buf_addf(&line, "X-Docker-Expose-Session-Grpc-Method: %s",
			 methods[i]);
		strlist_push(&headers, line.data);
	}
	if (cfg->output_dest) {
		buf_reset(&line);
		buf_addf(&line, "X-Docker-Expose-Session-Grpc-Method: %s",
			 M_FILESEND);
		strlist_push(&headers, line.data);
	}
	hv = xcalloc(headers.n + 1, sizeof(*hv));
	for (size_t i = 0; i < headers.n; i++)
		hv[i] = headers.v[i];

	if (engine_upgrade(eng, "/session", "h2c", hv, &s->conn, err) < 0)
		goto out;
	s->io = (struct session_io){ conn_recv, conn_send, conn_fd,
				     conn_pending, s->conn };
	if (serve(s, err) < 0)
		goto out;
	log_debug("session %s open", s->id);
	ret = 0;
out:
	strlist_clear(&headers);
	buf_release(&line);
	free(hv);
	if (ret < 0)
		session_free(s);
	else
		*out = s;
	return ret;
}

int session_running(const struct session *s)
{
	return s->thread_started &&
	       !__atomic_load_n(&s->ended, __ATOMIC_ACQUIRE);
}

const char *session_id(const struct session *s)
{
	return s->id;
}

int session_finish(struct session *s, struct error *err)
{
	if (!s)
		return 0;
	if (s->thread_started) {
		ssize_t w;

		do
			w = write(s->stop_pipe[1], "x", 1);
		while (w < 0 && errno == EINTR);
		pthread_join(s->thread, NULL);
		s->thread_started = 0;
		for (struct stream *st = s->streams; st; st = st->next) {
			if (st->fs) {
				s->bytes_sent += fsync_bytes_sent(st->fs);
				s->files_sent += fsync_files_sent(st->fs);
			}
			if (!st->fo_counted)
				filesend_closed(s, st);
			st->fo_counted = 1;
		}
	}
	if (s->cfg->output_dest && !s->failed && s->outputs_done != 1) {
		err_set(&s->err, EXIT_BUILD,
			"build output: the engine did not send the build's "
			"output for '%s'%s",
			s->cfg->output_dest, s->outputs ? " completely" : "");
		s->failed = 1;
	}
	if (s->failed) {
		*err = s->err;
		s->failed = 0;
		return -1;
	}
	return 0;
}

unsigned long long session_bytes_sent(const struct session *s)
{
	return s->bytes_sent;
}

unsigned long session_files_sent(const struct session *s)
{
	return s->files_sent;
}

size_t session_output_files(const struct session *s)
{
	return s->output_files;
}

unsigned long long session_output_bytes(const struct session *s)
{
	return s->output_bytes;
}

void session_free(struct session *s)
{
	struct error ignored = ERROR_INIT;

	if (!s)
		return;
	session_finish(s, &ignored);
	while (s->streams) {
		struct stream *st = s->streams;

		s->streams = st->next;
		free(st->in.ctx);
		stream_free(st);
	}
	if (s->h2)
		nghttp2_session_del(s->h2);
	engine_conn_close(s->conn);
	if (s->stop_pipe[0] >= 0)
		close(s->stop_pipe[0]);
	if (s->stop_pipe[1] >= 0)
		close(s->stop_pipe[1]);
	free(s);
}
