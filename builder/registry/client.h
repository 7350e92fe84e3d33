#ifndef BUILDER_CLIENT_H
#define BUILDER_CLIENT_H

/*
 * The OCI distribution client: the one file besides engine.c that speaks
 * HTTP, here to registries themselves (the /v2/ API).
 *
 * A struct registry is one registry host with its own libcurl handle,
 * credentials and tokens. It is opened from struct registry_settings
 * (filled by config.c) and pinged (GET /v2/) to learn how it wants to be
 * authenticated, as the docker CLI does:
 *
 *  - 200: no authentication;
 *  - 401 with "WWW-Authenticate: Basic": every request carries Basic
 *    credentials;
 *  - 401 with "WWW-Authenticate: Bearer realm=,service=": each request
 *    names its scopes ("repository:acme/app:pull,push"), and a token for
 *    them is fetched from the realm (GET with Basic credentials, or
 *    anonymous; POST grant_type=refresh_token with an identity token) and
 *    kept for the next request with the same scopes.
 *
 * Credentials come from auth_resolve() (auth.h) for the registry's domain.
 * HTTPS always, except plain HTTP for loopback registries (localhost,
 * 127.0.0.0/8, [::1]) and those in INSECURE_REGISTRIES. Docker Hub's
 * domain "docker.io" is reached at registry-1.docker.io.
 *
 * Requests whose body can be sent again are retried on 429, 5xx and
 * transport failures, up to settings->retries times, waiting what
 * Retry-After says (at most 60 s) or 1, 2, 4... s. A low Docker Hub
 * ratelimit-remaining is logged. Nothing secret is ever logged.
 *
 *	struct registry *reg = NULL;
 *	if (registry_open(&reg, "localhost:5000", &cfg->registry, err) < 0)
 *		goto out;
 *	struct registry_request rq = REGISTRY_REQUEST_INIT;
 *	rq.method = "HEAD";
 *	rq.path = "/v2/acme/app/manifests/1";
 *	rq.scope = "repository:acme/app:pull";
 *	if (registry_do(reg, &rq, err) < 0) ...
 *	rq.status, rq.digest ...
 *	registry_close(reg);
 */

#include <stddef.h>

#include "registry/auth.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strlist.h"

struct registry;

struct registry_settings {
	const struct auth_settings *auth; /* for auth_resolve() */
	const struct strlist *insecure; /* INSECURE_REGISTRIES, host[:port] */
	long retries; /* default 3 when negative */
	/* Credentials already resolved for the registry cred_domain (the
	 * push's): used there instead of asking auth again. May be NULL. */
	const struct credential *cred;
	const char *cred_domain;
};

/* Receives response body bytes as they arrive (only for 2xx answers).
 * Returns 0, REGISTRY_PAUSE to have the same bytes offered again later
 * (prepared transfers only: see registry_prepare()), or -1 after filling
 * err to stop the transfer. */
#define REGISTRY_PAUSE 1
typedef int (*registry_data_fn)(const char *data, size_t len, void *ctx,
				struct error *err);

struct registry_request {
	const char *method; /* GET, HEAD, PUT, POST, PATCH, DELETE */
	/* "/v2/..." on this registry, or an absolute URL (a Location) */
	const char *path;
	/* Space-separated token scopes, or NULL */
	const char *scope;
	const char *accept; /* Accept header, or NULL */
	const char *content_type; /* of the body, or NULL */
	const char *content_range; /* "start-end" for a PATCH, or NULL */
	const char *range; /* "bytes=start-end" for a GET, or NULL */
	const char *body; /* in memory, may be NULL with body_len 0 */
	size_t body_len;
	/* The response body: to on_data for a 2xx answer, else (and when
	 * on_data is NULL) into response, capped at response_max (default
	 * 64 KiB); an error body is always kept there. */
	registry_data_fn on_data;
	void *data_ctx;
	size_t response_max;

	/* Results, reset by registry_do() */
	long status; /* the last HTTP status */
	struct buf response;
	char location[2048]; /* Location, resolved against the request URL */
	char digest[160]; /* Docker-Content-Digest */
	char content_type_out[256];
	long long content_length; /* -1 when not given */
};

#define REGISTRY_REQUEST_INIT \
	{                     \
		0             \
	}

/* Releases the results' memory (the response buffer). */
void registry_request_release(struct registry_request *rq);

/* Opens a registry by domain ("localhost:5000", "docker.io", "ghcr.io")
 * and pings it. Errors: EXIT_PUSH, naming the registry and the URL. */
int registry_open(struct registry **out, const char *domain,
		  const struct registry_settings *s, struct error *err);

void registry_close(struct registry *reg);

/* The domain it was opened with (borrowed). */
const char *registry_domain(const struct registry *reg);

/*
 * Sends one request, authenticated and retried as above. Returns 0 when an
 * answer arrived whatever its status (in rq->status; callers decide what a
 * 404 means); -1 on transport failure, exhausted retries, on_data's error,
 * or a 401/403 that authentication could not fix ("unauthorized:
 * <registry's message>; check the credentials for '<domain>' (<source>)").
 */
int registry_do(struct registry *reg, struct registry_request *rq,
		struct error *err);

/*
 * Fails with EXIT_PUSH and the registry's own message (its {"errors":
 * [{"code","message"}]} body) when rq->status is not one of the wanted
 * statuses (0-terminated list); what says what was being done ("put the
 * manifest 'acme/app:1'"). Returns 0 when the status is wanted.
 */
int registry_expect(const struct registry_request *rq, const long *wanted,
		    const char *what, struct error *err);

/* The registry's error text from a body like {"errors":[{"code":"X",
 * "message":"y"}]}: "X: y" (several joined by "; "), else the body's first
 * 200 bytes, else "HTTP <status>". Written into out. Pure. */
void registry_error_text(const char *body, size_t len, long status, char *out,
			 size_t size);

/* 1 when the domain is reached over plain HTTP: loopback or listed. */
int registry_is_insecure(const char *domain, const struct strlist *insecure);

/* Parses Retry-After (delta seconds; HTTP dates count as 0 = default):
 * the seconds to wait, capped at 60, or -1 when absent or malformed. */
long registry_retry_after(const char *value);

/*
 * Lower-level access for the streamed copy (copy.c): prepares reg's handle
 * for rq without performing it, so that two registries' handles can run
 * together in one curl multi handle; registry_finish() collects the
 * results after the transfer. A prepared request is neither retried nor
 * re-authenticated. body_size is the streamed body's size (-1: chunked);
 * read_fn/read_ctx feed it with libcurl's read callback contract.
 */
typedef size_t (*registry_read_fn)(char *dst, size_t size, size_t n, void *ctx);
int registry_prepare(struct registry *reg, struct registry_request *rq,
		     registry_read_fn read_fn, void *read_ctx,
		     long long body_size, struct error *err);
/* The prepared handle, a CURL * (void here: only client.c and copy.c
 * include curl.h). */
void *registry_handle(struct registry *reg);
/* After the transfer ended with curl code rc (a CURLcode). */
int registry_finish(struct registry *reg, struct registry_request *rq, int rc,
		    struct error *err);
/* Asks the prepared transfer to stop: its callbacks return errors. */
void registry_abort(struct registry *reg);

#endif
