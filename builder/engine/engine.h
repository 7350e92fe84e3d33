#ifndef BUILDER_ENGINE_H
#define BUILDER_ENGINE_H

/*
 * The Docker Engine API client: the only part of builder that speaks HTTP.
 *
 * An engine is opened from the settings config.c read from the docker CLI's
 * environment (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH,
 * DOCKER_API_VERSION, and GitLab's DOCKER_TLS_CERTDIR; struct
 * engine_settings), pinged to negotiate the API version, and then used
 * for requests whose bodies and responses are streamed:
 *
 *	struct engine *eng = NULL;
 *	if (engine_open(&eng, &cfg->engine, err) < 0 ||
 *	    engine_ping(eng, err) < 0)
 *		goto out;
 *	struct engine_request req = ENGINE_REQUEST_INIT;
 *	req.method = "POST";
 *	req.path = "/build?t=x";     // without the /vX.Y prefix
 *	req.read_body = context_read; req.read_ctx = ctx;
 *	req.on_data = feed_jstream;   req.data_ctx = &js;
 *	if (engine_do(eng, &req, err) < 0) ...
 *
 * A response with HTTP status >= 400 never reaches on_data: its body's
 * "message" (or the raw body) becomes the error, with code EXIT_ENGINE and
 * req.status set so that callers can accept e.g. a 404 on delete.
 *
 * Transfers check the interrupt flag (see signals.h) about once a second and
 * stop when a signal arrived, unless req.ignore_interrupt is set (cleanup).
 * There is always a connect timeout and never a total timeout: builds,
 * waits and pushes take as long as they take.
 */

#include <stddef.h>

#include "util/error.h"

struct cJSON;
struct engine;

/* Reads up to max bytes of request body into dst. Returns the number of
 * bytes (0 at the end), or -1 after filling err. */
typedef long (*engine_read_fn)(char *dst, size_t max, void *ctx,
			       struct error *err);

/* Receives response bytes as they arrive. Returns 0, or -1 after filling
 * err to abort the transfer with that error. */
typedef int (*engine_data_fn)(const char *data, size_t len, void *ctx,
			      struct error *err);

struct engine_request {
	const char *method; /* GET, POST, DELETE, HEAD */
	const char *path; /* "/containers/create?name=x" */
	const char *content_type; /* of the body; NULL: none */
	const char *body; /* a small body held in memory, or NULL */
	size_t body_len;
	engine_read_fn read_body; /* or a streamed body, sent chunked */
	void *read_ctx;
	/* Extra headers whose values are secret ("X-Registry-Auth: ..."):
	 * sent, never traced. NULL-terminated, or NULL. */
	const char *const *secret_headers;
	engine_data_fn on_data; /* NULL: the response body is discarded */
	void *data_ctx;
	double deadline; /* monotonic seconds; 0: none */
	long idle_timeout; /* seconds without a byte; 0: BUILDER_IDLE_TIMEOUT */
	int ignore_interrupt; /* cleanup requests finish regardless */

	/* Results */
	long status; /* HTTP status, 0 if none was received */
	int timed_out; /* the deadline passed */
	char content_type_out[128];
};

#define ENGINE_REQUEST_INIT \
	{                   \
		0           \
	}

/* The oldest API version builder speaks (Docker 20.10) and the newest. */
#define ENGINE_API_MIN "1.41"
#define ENGINE_API_MAX "1.47"

/* Where the engine is and how to talk to it, as the environment said
 * (config.c fills it; the engine never reads the environment). Each string
 * is the variable's value, NULL when unset or empty; owned by the config. */
struct engine_settings {
	char *host; /* DOCKER_HOST */
	char *tls_verify; /* DOCKER_TLS_VERIFY: any value means verify */
	char *tls; /* DOCKER_TLS */
	char *cert_path; /* DOCKER_CERT_PATH */
	char *docker_config; /* DOCKER_CONFIG */
	char *home; /* HOME */
	char *tls_certdir; /* DOCKER_TLS_CERTDIR (GitLab's docker:dind) */
	char *api_version; /* DOCKER_API_VERSION */
	long idle_timeout; /* BUILDER_IDLE_TIMEOUT, seconds; 0: none */
};

/* Opens the engine the settings name; no request is made yet. Errors (bad
 * DOCKER_HOST, missing socket, unreadable certificates) have code
 * EXIT_ENGINE or EXIT_USAGE and say what to change. */
int engine_open(struct engine **out, const struct engine_settings *set,
		struct error *err);

/* Pings the engine and negotiates the API version: DOCKER_API_VERSION when
 * set, else the lower of the engine's and ENGINE_API_MAX. */
int engine_ping(struct engine *eng, struct error *err);

/* Runs one request; see above. */
int engine_do(struct engine *eng, struct engine_request *req,
	      struct error *err);

/*
 * A request whose response is read while other requests are made, on a
 * connection of its own. The test stage needs it: POST
 * /containers/{id}/attach must be in place before POST .../start, and its
 * output is read until the container ends.
 *
 *	struct engine_stream *s = NULL;
 *	if (engine_stream_open(eng, &req, &s, err) < 0 ||  // headers arrived
 *	    engine_do(eng, &start, err) < 0 ||             // meanwhile
 *	    engine_stream_finish(s, err) < 0)              // body to its end
 *		...
 *	engine_stream_close(s);
 *
 * engine_stream_open() returns once the response's headers have arrived
 * (bytes of the body that came with them may already have reached
 * req->on_data); an HTTP error is read to its end and reported there, as
 * by engine_do(). Until engine_stream_finish() nothing more is read: the
 * engine's writes wait in the socket. engine_stream_finish() reads the rest
 * into req->on_data, with req's deadline, idle limit and interrupt rules,
 * which may be changed between the two calls; req->timed_out and
 * req->status are set as by engine_do(). req must outlive the stream.
 * *out is set even on failure: always call engine_stream_close(), which
 * accepts NULL and ends the transfer where it is.
 */
struct engine_stream;

int engine_stream_open(struct engine *eng, struct engine_request *req,
		       struct engine_stream **out, struct error *err);
int engine_stream_finish(struct engine_stream *s, struct error *err);
void engine_stream_close(struct engine_stream *s);

/* A small JSON exchange: sends body (may be NULL) as application/json and
 * parses the response into *out (owned by the caller; NULL for an empty
 * body; out may be NULL to discard). The response is capped at 16 MiB.
 * *status (may be NULL) receives the HTTP status, also on failure. */
int engine_json(struct engine *eng, const char *method, const char *path,
		const struct cJSON *body, struct cJSON **out, long *status,
		struct error *err);

/* Same, for cleanup: ignores the interrupt flag. */
int engine_json_cleanup(struct engine *eng, const char *method,
			const char *path, long *status, struct error *err);
/* engine_json() that a signal arriving during the request does not cut
 * short (it is bounded by the cleanup deadline, signals.h): for creates,
 * whose object would exist without our knowing its ID. */
int engine_json_uninterrupted(struct engine *eng, const char *method,
			      const char *path, const struct cJSON *body,
			      struct cJSON **out, long *status,
			      struct error *err);

/* What the engine said about itself; valid after engine_ping(). */
const char *engine_host(const struct engine *eng); /* "unix:///..." */
const char *engine_api_version(const struct engine *eng); /* "1.41" */
const char *engine_builder_version(const struct engine *eng); /* "1", "2", "" */

/* Fills version and os from GET /version (the engine's release, "20.10.24",
 * and e.g. "linux/amd64"). */
int engine_version(struct engine *eng, char *version, size_t vlen,
		   char *platform, size_t plen, struct error *err);

void engine_close(struct engine *eng);

/*
 * Upgraded connections: POST path with "Connection: Upgrade" and
 * "Upgrade: proto" on a new connection of its own (same transport and TLS
 * as every request), for the BuildKit session ("/session", "h2c"). Paths
 * have no /vX.Y prefix. headers are extra "Name: value" lines
 * (NULL-terminated, may be NULL), each sent as its own line. On 101 *out
 * is the raw connection, which then belongs to the upgraded protocol; any
 * other answer is an EXIT_ENGINE error quoting the engine's message.
 *
 * The connection is non-blocking: poll engine_conn_fd() and call
 * engine_conn_recv()/engine_conn_send(), which return the byte count,
 * ENGINE_CONN_AGAIN when nothing can move now, or -1 with err set; recv
 * returns 0 when the engine closed the connection. Bytes that came with the
 * 101 are returned first: check engine_conn_pending() before waiting in
 * poll(), and with TLS keep calling recv until ENGINE_CONN_AGAIN (TLS may
 * hold decrypted bytes the socket no longer shows). A connection is used
 * by one thread at a time, and never by engine_do.
 */
struct engine_conn;

#define ENGINE_CONN_AGAIN (-2)

int engine_upgrade(struct engine *eng, const char *path, const char *proto,
		   const char *const *headers, struct engine_conn **out,
		   struct error *err);
int engine_conn_fd(const struct engine_conn *c);
long engine_conn_recv(struct engine_conn *c, void *dst, size_t max,
		      struct error *err);
long engine_conn_send(struct engine_conn *c, const void *src, size_t len,
		      struct error *err);
int engine_conn_pending(const struct engine_conn *c);
/* Closes the connection; NULL is fine. */
void engine_conn_close(struct engine_conn *c);

#endif
