/*
 * The transport to the Docker Engine API, and the only file that includes
 * <curl/curl.h>. It resolves DOCKER_HOST and TLS (as config.c read them
 * into struct engine_settings) the way the docker CLI does, negotiates the
 * API version with GET /_ping, streams request bodies (chunked) and
 * responses, and turns transport failures and HTTP errors into messages
 * that name the socket or address and say what to do.
 *
 * Endpoints: /_ping, /version; everything else is built by the callers.
 * Requests go one at a time over the engine's handle (engine_do), except
 * streams (engine_stream_open), which get a handle and connection of their
 * own, driven through a curl multi handle, so that e.g. an attach stays
 * open while the container is started.
 *
 * CURLOPT_VERBOSE is never set: it would print X-Registry-Auth. The
 * --verbose trace is our own and omits secret headers.
 */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <cjson/cJSON.h>

#include "util/buf.h"
#include "engine/engine.h"
#include "util/log.h"
#include "util/signals.h"
#include "util/xmalloc.h"
#include "util/version.h"
#include "util/banned.h"

#define CONNECT_TIMEOUT_S 30L
#define ERROR_BODY_MAX (64u * 1024)
#define JSON_IDLE_TIMEOUT_S 120L
#define JSON_BODY_MAX (16u * 1024 * 1024)

struct engine {
	CURL *curl;
	char *host; /* as configured: "unix:///var/run/docker.sock" */
	char *socket_path; /* unix sockets only */
	char *base_url; /* "http://api.moby.localhost", "https://h:2376/base" */
	int tls;
	int tls_verify;
	char *cert_dir; /* where ca.pem, cert.pem and key.pem were sought */
	char *ca, *cert, *key;
	char api[16]; /* negotiated, "" before the ping */
	int api_forced;
	char engine_api[16]; /* the engine's own, from /_ping */
	int podman; /* /_ping said Libpod-Api-Version */
	char builder_version[16];
	long idle_timeout; /* seconds without a byte; 0: none */
};

/* Per-transfer state shared with the libcurl callbacks. */
struct transfer {
	struct engine *eng;
	CURL *curl; /* the engine's handle, or a stream's own */
	struct engine_request *req;
	struct error *err;
	struct buf error_body; /* the body of a >= 400 response */
	int status_checked;
	int sink_failed; /* on_data or read_body set err */
	int connected; /* the connection was made */
	int interrupted;
	int timed_out;
	int idle; /* nothing moved for idle_timeout seconds */
	int cleanup_late; /* past the cleanup bound after a signal */
	double last_active; /* when a byte last went either way */
	curl_off_t last_dl, last_ul;
	const char *body_pos; /* small in-memory body */
	size_t body_left;
	int headers_done; /* the final response's header block ended */
	double started;
	struct curl_slist *headers;
	struct buf url;
	char why[CURL_ERROR_SIZE];
};

/* A request read while others are made; see engine_stream_open(). */
struct engine_stream {
	CURLM *multi;
	CURL *curl;
	struct transfer t;
	int added; /* curl is in multi */
	int done; /* the transfer ended, with rc */
	CURLcode rc;
	int have_result; /* it ended during engine_stream_open(): result */
	int result;
};

static int parse_api_version(const char *s, int *out)
{
	char *end;
	long major, minor;

	errno = 0;
	major = strtol(s, &end, 10);
	if (errno || end == s || *end != '.' || major < 1 || major > 9)
		return -1;
	s = end + 1;
	minor = strtol(s, &end, 10);
	if (errno || end == s || *end || minor < 0 || minor > 999)
		return -1;
	*out = (int)(major * 1000 + minor);
	return 0;
}

static int file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static char *join_path(const char *dir, const char *name)
{
	struct buf b = BUF_INIT(BUF_TEXT_MAX);

	buf_addf(&b, "%s/%s", dir, name);
	return buf_detach(&b);
}

/* DOCKER_CERT_PATH, else the docker config dir, as the CLI does. */
static char *default_cert_dir(const struct engine_settings *set)
{
	if (set->cert_path)
		return xstrdup(set->cert_path);
	if (set->docker_config)
		return xstrdup(set->docker_config);
	return join_path(set->home ? set->home : "/root", ".docker");
}

static int setup_tls(struct engine *eng, const char *dir, struct error *err)
{
	eng->cert_dir = xstrdup(dir);
	eng->ca = join_path(dir, "ca.pem");
	eng->cert = join_path(dir, "cert.pem");
	eng->key = join_path(dir, "key.pem");
	if (eng->tls_verify && !file_exists(eng->ca))
		return err_set(err, EXIT_USAGE,
			       "TLS is on (DOCKER_TLS_VERIFY) but the CA "
			       "certificate '%s' does not exist; set "
			       "DOCKER_CERT_PATH to the directory holding "
			       "ca.pem, cert.pem and key.pem",
			       eng->ca);
	/* A client certificate is optional, as with the CLI: without one
	 * the engine decides whether to accept us. */
	if (!file_exists(eng->cert) || !file_exists(eng->key)) {
		free(eng->cert);
		free(eng->key);
		eng->cert = eng->key = NULL;
	}
	return 0;
}

/* Parses "tcp://host[:port][/base]" or a bare "host:port". */
static int parse_tcp(struct engine *eng, const char *rest, struct error *err)
{
	const char *slash = strchr(rest, '/');
	size_t hostlen = slash ? (size_t)(slash - rest) : strlen(rest);
	const char *colon = memchr(rest, ':', hostlen);
	const char *bracket = memchr(rest, ']', hostlen);
	struct buf url = BUF_INIT(BUF_PATH_MAX);

	if (!hostlen)
		return err_set(err, EXIT_USAGE,
			       "DOCKER_HOST '%s' has no host name; use "
			       "tcp://HOST:PORT, e.g. tcp://docker:2376",
			       eng->host);
	if (bracket && colon && colon < bracket)
		colon = memchr(bracket, ':',
			       hostlen - (size_t)(bracket - rest));
	buf_addf(&url, "%s://%.*s", eng->tls ? "https" : "http", (int)hostlen,
		 rest);
	if (!colon)
		buf_addstr(&url, ":2375");
	/* A base path prefixes every API path; drop its trailing '/'. */
	if (slash) {
		size_t n = strlen(slash);

		while (n && slash[n - 1] == '/')
			n--;
		buf_add(&url, slash, n);
	}
	eng->base_url = buf_detach(&url);
	return 0;
}

static int choose_host(struct engine *eng, const struct engine_settings *set,
		       struct error *err)
{
	const char *host = set->host;
	const char *certdir = set->tls_certdir;

	if (host && *host) {
		eng->host = xstrdup(host);
		return 0;
	}
	/* GitLab's docker:cli image: no DOCKER_HOST, no socket, but the dind
	 * service's client certificates are shared at DOCKER_TLS_CERTDIR. */
	if (!file_exists("/var/run/docker.sock") && certdir && *certdir) {
		char *client = join_path(certdir, "client");
		char *ca = join_path(client, "ca.pem");
		int found = file_exists(ca);

		free(ca);
		if (found) {
			eng->host = xstrdup("tcp://docker:2376");
			eng->tls = eng->tls_verify = 1;
			log_info("engine: DOCKER_HOST is unset and there is no "
				 "/var/run/docker.sock, but '%s' holds client "
				 "certificates: using tcp://docker:2376 with "
				 "TLS",
				 client);
			if (setup_tls(eng, client, err) < 0) {
				free(client);
				return -1;
			}
			free(client);
			return 0;
		}
		free(client);
	}
	eng->host = xstrdup("unix:///var/run/docker.sock");
	return 0;
}

int engine_open(struct engine **out, const struct engine_settings *set,
		struct error *err)
{
	struct engine *eng = xcalloc(1, sizeof(*eng));
	const char *verify = set->tls_verify;
	const char *tls = set->tls;
	const char *forced = set->api_version;
	char *dir = NULL;
	int v;

	*out = NULL;
	/* Reference-counted and thread-safe since libcurl 7.84 (Debian 12
	 * has 7.88): no flag of our own. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(eng);
		return err_set(err, EXIT_ENGINE, "cannot initialise libcurl");
	}
	if (choose_host(eng, set, err) < 0)
		goto fail;
	if (!eng->ca && ((verify && *verify) || (tls && *tls))) {
		/* Like the CLI: any non-empty DOCKER_TLS_VERIFY, even "0",
		 * means verify. */
		eng->tls = 1;
		eng->tls_verify = verify && *verify;
		dir = default_cert_dir(set);
		if (setup_tls(eng, dir, err) < 0)
			goto fail;
	}

	if (!strncmp(eng->host, "unix://", 7)) {
		if (!eng->host[7]) {
			err_set(err, EXIT_USAGE,
				"DOCKER_HOST '%s' names no socket; use e.g. "
				"unix:///var/run/docker.sock",
				eng->host);
			goto fail;
		}
		eng->socket_path = xstrdup(eng->host + 7);
		eng->base_url = xstrdup("http://api.moby.localhost");
	} else if (!strncmp(eng->host, "tcp://", 6)) {
		if (parse_tcp(eng, eng->host + 6, err) < 0)
			goto fail;
	} else if (!strstr(eng->host, "://") && strchr(eng->host, ':')) {
		if (parse_tcp(eng, eng->host, err) < 0)
			goto fail;
	} else {
		err_set(err, EXIT_USAGE,
			"DOCKER_HOST '%s' is not supported: builder speaks "
			"unix:///PATH and tcp://HOST:PORT (with TLS through "
			"DOCKER_TLS_VERIFY and DOCKER_CERT_PATH)",
			eng->host);
		goto fail;
	}

	/* config.c checked the range of BUILDER_IDLE_TIMEOUT. */
	eng->idle_timeout = set->idle_timeout;

	if (forced && *forced) {
		if (parse_api_version(forced, &v) < 0) {
			err_set(err, EXIT_USAGE,
				"DOCKER_API_VERSION '%s' is not an API "
				"version; "
				"use MAJOR.MINOR, e.g. 1.41, or unset it",
				forced);
			goto fail;
		}
		snprintf(eng->api, sizeof(eng->api), "%s", forced);
		eng->api_forced = 1;
	}

	eng->curl = curl_easy_init();
	if (!eng->curl) {
		err_set(err, EXIT_ENGINE, "cannot create a libcurl handle");
		goto fail;
	}
	free(dir);
	*out = eng;
	return 0;
fail:
	free(dir);
	engine_close(eng);
	return -1;
}

void engine_close(struct engine *eng)
{
	if (!eng)
		return;
	if (eng->curl)
		curl_easy_cleanup(eng->curl);
	free(eng->host);
	free(eng->socket_path);
	free(eng->base_url);
	free(eng->cert_dir);
	free(eng->ca);
	free(eng->cert);
	free(eng->key);
	free(eng);
}

const char *engine_host(const struct engine *eng)
{
	return eng->host;
}

const char *engine_api_version(const struct engine *eng)
{
	return eng->api;
}

const char *engine_builder_version(const struct engine *eng)
{
	return eng->builder_version;
}

/* --- libcurl callbacks ------------------------------------------------ */

static size_t on_write(char *data, size_t size, size_t nmemb, void *userp)
{
	struct transfer *t = userp;
	size_t len = size * nmemb;

	t->connected = 1;
	if (!t->status_checked) {
		curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE,
				  &t->req->status);
		t->status_checked = 1;
	}
	if (t->req->status >= 400) {
		/* Keep what fits: the message is at the start. */
		size_t room = ERROR_BODY_MAX - t->error_body.len;

		buf_add(&t->error_body, data, len < room ? len : room);
		return len;
	}
	if (t->req->on_data &&
	    t->req->on_data(data, len, t->req->data_ctx, t->err) < 0) {
		t->sink_failed = 1;
		return CURL_WRITEFUNC_ERROR;
	}
	return len;
}

static size_t copy_header_value(const char *line, size_t len, const char *name,
				char *dst, size_t dstlen)
{
	size_t n = strlen(name);
	const char *v;
	size_t vlen;

	if (len <= n || strncasecmp(line, name, n) || line[n] != ':')
		return 0;
	v = line + n + 1;
	vlen = len - n - 1;
	while (vlen && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' ||
			v[vlen - 1] == ' '))
		vlen--;
	if (vlen >= dstlen)
		vlen = dstlen - 1;
	memcpy(dst, v, vlen);
	dst[vlen] = '\0';
	return 1;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *userp)
{
	struct transfer *t = userp;
	size_t len = size * nmemb;

	t->connected = 1;
	/* The blank line that ends a header block; a 1xx block is followed
	 * by the real one. */
	if (len <= 2 && (line[0] == '\r' || line[0] == '\n')) {
		long status = 0;

		curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200) {
			t->headers_done = 1;
			t->req->status = status;
		}
		return len;
	}
	copy_header_value(line, len, "Content-Type", t->req->content_type_out,
			  sizeof(t->req->content_type_out));
	if (!strcmp(t->req->path, "/_ping")) {
		char api[16] = "";

		if (copy_header_value(line, len, "Api-Version", api,
				      sizeof(api))) {
			memcpy(t->eng->engine_api, api, sizeof(api));
			if (!t->eng->api_forced)
				memcpy(t->eng->api, api, sizeof(api));
		}
		/* Podman's Docker-compatible service says what it is only
		 * here; /version names "Podman Engine" in Components. */
		if (copy_header_value(line, len, "Libpod-Api-Version", api,
				      sizeof(api)))
			t->eng->podman = 1;
		copy_header_value(line, len, "Builder-Version",
				  t->eng->builder_version,
				  sizeof(t->eng->builder_version));
	}
	return len;
}

static size_t on_read(char *dst, size_t size, size_t nmemb, void *userp)
{
	struct transfer *t = userp;
	size_t max = size * nmemb;
	long n;

	t->connected = 1;
	if (!t->req->ignore_interrupt && signals_pending()) {
		t->interrupted = 1;
		return CURL_READFUNC_ABORT;
	}
	if (!t->req->read_body) {
		size_t take = t->body_left < max ? t->body_left : max;

		memcpy(dst, t->body_pos, take);
		t->body_pos += take;
		t->body_left -= take;
		return take;
	}
	n = t->req->read_body(dst, max, t->req->read_ctx, t->err);
	if (n < 0) {
		t->sink_failed = 1;
		return CURL_READFUNC_ABORT;
	}
	return (size_t)n;
}

/* The request's own idle limit, else BUILDER_IDLE_TIMEOUT's; 0: none. */
static long idle_limit(const struct transfer *t)
{
	return t->req->idle_timeout ? t->req->idle_timeout
				    : t->eng->idle_timeout;
}

/* 1 when the transfer must stop: a signal, the deadline, or the idle
 * limit; the reason is left in t. */
static int must_stop(struct transfer *t, curl_off_t dlnow, curl_off_t ulnow)
{
	double now = now_seconds();

	if (!t->req->ignore_interrupt && signals_pending()) {
		t->interrupted = 1;
		return 1;
	}
	if (t->req->deadline > 0 && now >= t->req->deadline) {
		t->timed_out = 1;
		return 1;
	}
	/* After a signal, cleanup requests share a few seconds in all. */
	if (t->req->ignore_interrupt && signals_pending() &&
	    now >= signals_deadline()) {
		t->cleanup_late = 1;
		return 1;
	}
	/* Our own idle timer rather than CURLOPT_LOW_SPEED_*: libcurl
	 * averages the speed over its last five seconds, so its limit fired
	 * five seconds or more after the engine went quiet. libcurl calls
	 * us at least once a second, data or not. */
	if (dlnow != t->last_dl || ulnow != t->last_ul) {
		t->last_dl = dlnow;
		t->last_ul = ulnow;
		t->last_active = now;
	} else if (idle_limit(t) &&
		   now - t->last_active >= (double)idle_limit(t)) {
		t->idle = 1;
		return 1;
	}
	return 0;
}

static int on_progress(void *userp, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	(void)dltotal, (void)ultotal;
	return must_stop(userp, dlnow, ulnow);
}

/* --- errors ----------------------------------------------------------- */

/* The length of a request path without its query: messages name the
 * endpoint, not the dozen /build parameters. */
static int path_len(const char *path)
{
	return (int)strcspn(path, "?");
}

/* The message of an HTTP error response: {"message": "..."} or the raw
 * body, as the Go client does. */
static void http_error(struct transfer *t)
{
	struct engine_request *req = t->req;
	const char *text = buf_str(&t->error_body);
	cJSON *json = cJSON_ParseWithLength(text, t->error_body.len);
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(json, "message");
	struct buf clean = BUF_INIT(BUF_TEXT_MAX);

	if (cJSON_IsString(msg))
		text = msg->valuestring;
	buf_add(&clean, text, strcspn(text, "\r\n"));
	if (!t->eng->tls && strstr(text, "HTTPS server")) {
		err_set(t->err, EXIT_ENGINE,
			"the engine at '%s' expects TLS: set "
			"DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH to the "
			"directory holding ca.pem, cert.pem and key.pem",
			t->eng->host);
	} else if (req->status == 400 && strstr(text, "client version") &&
		   t->eng->api_forced) {
		err_set(t->err, EXIT_ENGINE,
			"the engine at '%s' refused API version %s (forced by "
			"DOCKER_API_VERSION): %s; unset DOCKER_API_VERSION to "
			"negotiate, or set it to a version the engine supports",
			t->eng->host, t->eng->api, buf_str(&clean));
	} else if (req->status == 400 && strstr(text, "client version")) {
		/* Negotiated, so the engine's minimum is above our maximum
		 * (Docker 25 and later raise the minimum now and then). */
		err_set(t->err, EXIT_ENGINE,
			"the engine at '%s' refused API version %s: %s; "
			"builder speaks API %s to %s: use a newer builder, or "
			"set DOCKER_API_VERSION to a version the engine "
			"supports",
			t->eng->host, t->eng->api, buf_str(&clean),
			ENGINE_API_MIN, ENGINE_API_MAX);
	} else {
		err_set(t->err, EXIT_ENGINE, "%s (HTTP %ld from %s %.*s)",
			clean.len ? buf_str(&clean) : "no message", req->status,
			req->method, path_len(req->path), req->path);
	}
	t->err->retryable = req->status >= 500;
	buf_release(&clean);
	cJSON_Delete(json);
}

/* A missing socket file or nobody listening on it is what a restarting
 * engine looks like (dockerd removes its socket on exit and creates it
 * again), so both are retryable, as a refused tcp connection is; a
 * permission problem is not. */
static int unix_socket_error(struct engine *eng, const char *why,
			     struct error *err)
{
	struct stat st;

	if (stat(eng->socket_path, &st) < 0 && errno == ENOENT) {
		err_set(err, EXIT_ENGINE,
			"cannot connect to the docker engine: socket "
			"'%s' does not exist (DOCKER_HOST='%s'); start "
			"dockerd or set DOCKER_HOST, and when builder "
			"runs in a container mount the socket with "
			"-v /var/run/docker.sock:/var/run/docker.sock",
			eng->socket_path, eng->host);
		err->retryable = 1;
		return -1;
	}
	if (access(eng->socket_path, R_OK | W_OK) < 0 && errno == EACCES) {
		struct group *gr = getgrgid(st.st_gid);

		return err_set(err, EXIT_ENGINE,
			       "cannot connect to the docker engine: "
			       "permission denied on socket '%s' (owned by "
			       "group '%s'); run builder as root or as a "
			       "member of that group",
			       eng->socket_path, gr ? gr->gr_name : "unknown");
	}
	err_set(err, EXIT_ENGINE,
		"cannot connect to the docker engine at '%s': %s; is "
		"dockerd running?",
		eng->socket_path, why);
	err->retryable = 1;
	return -1;
}

/* A TLS failure on the engine's side of the handshake: almost always our
 * client certificate, missing or signed by another CA. */
static int client_cert_error(const struct engine *eng, const char *what,
			     const char *why, struct error *err)
{
	if (!eng->cert)
		return err_set(err, EXIT_ENGINE,
			       "TLS: the engine at '%s' %s: %s; likely "
			       "cause: no client certificate was sent "
			       "('%s/cert.pem' or key.pem does not exist) and "
			       "the engine requires one: put the client "
			       "certificate and key there, or point "
			       "DOCKER_CERT_PATH at them",
			       eng->host, what, why,
			       eng->cert_dir ? eng->cert_dir : ".");
	return err_set(err, EXIT_ENGINE,
		       "TLS: the engine at '%s' %s: %s; likely cause: it "
		       "does not trust the client certificate '%s': it must "
		       "be signed by the CA the engine was started with "
		       "(--tlscacert)",
		       eng->host, what, why, eng->cert);
}

static int transport_error(struct transfer *t, CURLcode rc, const char *why,
			   struct error *err)
{
	struct engine *eng = t->eng;
	const char *addr = eng->host;

	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		if (eng->socket_path) {
			long os_errno = 0;

			/* libcurl's text names its dummy host and port 80;
			 * the socket's own errno says more ("Connection
			 * refused": the file is there, nobody listens). */
			curl_easy_getinfo(t->curl, CURLINFO_OS_ERRNO,
					  &os_errno);
			if (os_errno)
				why = strerror((int)os_errno);
			return unix_socket_error(eng, why, err);
		}
		err_set(err, EXIT_ENGINE,
			"cannot connect to the docker engine at '%s': %s; is "
			"the engine running and DOCKER_HOST right?",
			addr, why);
		err->retryable = 1;
		return -1;
	case CURLE_OPERATION_TIMEDOUT:
		/* Only the ping has a total timeout; idle limits are ours
		 * (t->idle). */
		if (t->connected)
			err_set(err, EXIT_ENGINE,
				"the docker engine at '%s' did not answer %s "
				"%.*s within %ld s; it may be stuck: check it "
				"with 'docker info'",
				addr, t->req->method, path_len(t->req->path),
				t->req->path, CONNECT_TIMEOUT_S);
		else
			err_set(err, EXIT_ENGINE,
				"timed out connecting to the docker engine at "
				"'%s': %s; check DOCKER_HOST and the network",
				addr, why);
		err->retryable = 1;
		return -1;
	case CURLE_PEER_FAILED_VERIFICATION:
		if (strstr(why, "subject name") || strstr(why, "match"))
			return err_set(err, EXIT_ENGINE,
				       "TLS: the certificate of the engine at "
				       "'%s' was not accepted: %s; likely "
				       "cause: the host in DOCKER_HOST is not "
				       "in the certificate's subjectAltName: "
				       "use a name or address it lists",
				       addr, why);
		return err_set(err, EXIT_ENGINE,
			       "TLS: the certificate of the engine at '%s' "
			       "was not accepted: %s; likely cause: '%s' is "
			       "not the CA that signed it: set "
			       "DOCKER_CERT_PATH to the directory holding the "
			       "engine's ca.pem",
			       addr, why, eng->ca ? eng->ca : "ca.pem");
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		return err_set(err, EXIT_USAGE,
			       "TLS: cannot use the certificates for '%s': "
			       "%s; check ca.pem, cert.pem and key.pem in "
			       "DOCKER_CERT_PATH",
			       addr, why);
	case CURLE_SSL_CONNECT_ERROR:
		if (strstr(why, "wrong version number") ||
		    strstr(why, "packet length too long"))
			return err_set(err, EXIT_ENGINE,
				       "TLS: the engine at '%s' does not speak "
				       "TLS on that port (%s); unset "
				       "DOCKER_TLS_VERIFY or use the engine's "
				       "TLS port, usually 2376",
				       addr, why);
		return client_cert_error(eng, "handshake failed", why, err);
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		/* With TLS 1.3 the server's verdict on our certificate
		 * arrives as an alert after the handshake, on first read. */
		if (eng->tls && (strstr(why, "alert") || strstr(why, "SSL")))
			return client_cert_error(eng, "closed the connection",
						 why, err);
		err_set(err, EXIT_ENGINE,
			"lost the connection to the docker engine at '%s' "
			"during %s %.*s: %s",
			addr, t->req->method, path_len(t->req->path),
			t->req->path, why);
		err->retryable = 1;
		return -1;
	default:
		return err_set(err, EXIT_ENGINE,
			       "request %s %.*s to the docker engine at '%s' "
			       "failed: %s",
			       t->req->method, path_len(t->req->path),
			       t->req->path, addr, why);
	}
}

/* --- requests --------------------------------------------------------- */

static struct curl_slist *request_headers(const struct engine_request *req)
{
	struct curl_slist *h = NULL;
	struct buf line = BUF_INIT(BUF_TEXT_MAX);

	if (req->content_type) {
		buf_addf(&line, "Content-Type: %s", req->content_type);
		h = curl_slist_append(h, line.data);
	}
	if (req->read_body)
		h = curl_slist_append(h, "Transfer-Encoding: chunked");
	/* No "Expect: 100-continue" round trip before bodies. */
	h = curl_slist_append(h, "Expect:");
	for (const char *const *s = req->secret_headers; s && *s; s++)
		h = curl_slist_append(h, *s);
	buf_release(&line);
	return h;
}

static void set_method(CURL *c, const struct engine_request *req,
		       struct transfer *t)
{
	if (!strcmp(req->method, "GET")) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else if (!strcmp(req->method, "HEAD")) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		if (strcmp(req->method, "POST"))
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
		if (req->read_body) {
			curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
			curl_easy_setopt(c, CURLOPT_READDATA, t);
		} else {
			/* A real Content-Length, 0 when there is no body:
			 * POST /containers/{id}/start rejects chunked. */
			t->body_pos = req->body ? req->body : "";
			t->body_left = req->body ? req->body_len : 0;
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
					 (curl_off_t)t->body_left);
			curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
			curl_easy_setopt(c, CURLOPT_READDATA, t);
		}
	}
}

/* A cleanup request after a signal, past the bound (signals.h). */
static int cleanup_late(const struct engine *eng,
			const struct engine_request *req, struct error *err)
{
	return err_set(err, EXIT_ENGINE,
		       "%s %.*s: gave up, the cleanup after a signal is "
		       "bounded to %d s and the engine at '%s' did not answer "
		       "in time",
		       req->method, path_len(req->path), req->path,
		       SIGNAL_CLEANUP_S, eng->host);
}

/* Prepares handle c for req; t holds what the callbacks share. Fails only
 * when a signal is pending. Pair with transfer_end(). */
static int transfer_begin(struct transfer *t, struct engine *eng, CURL *c,
			  struct engine_request *req, struct error *err)
{
	memset(t, 0, sizeof(*t));
	t->eng = eng;
	t->curl = c;
	t->req = req;
	t->err = err;
	t->started = now_seconds();
	buf_init(&t->error_body, ERROR_BODY_MAX);
	buf_init(&t->url, BUF_TEXT_MAX); /* a build query: all build args */
	req->status = 0;
	req->timed_out = 0;
	req->content_type_out[0] = '\0';

	if (!req->ignore_interrupt && signals_pending())
		return signals_error(err);
	if (signals_pending() && t->started >= signals_deadline())
		return cleanup_late(eng, req, err);
	buf_addstr(&t->url, eng->base_url);
	if (eng->api[0] && strcmp(req->path, "/_ping"))
		buf_addf(&t->url, "/v%s", eng->api);
	buf_addstr(&t->url, req->path);

	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, t->url.data);
	if (eng->socket_path)
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, eng->socket_path);
	if (eng->tls) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER,
				 eng->tls_verify ? 1L : 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST,
				 eng->tls_verify ? 2L : 0L);
		if (eng->ca)
			curl_easy_setopt(c, CURLOPT_CAINFO, eng->ca);
		if (eng->cert) {
			curl_easy_setopt(c, CURLOPT_SSLCERT, eng->cert);
			curl_easy_setopt(c, CURLOPT_SSLKEY, eng->key);
		}
	}
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, t->why);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	/* No total timeout: builds, waits and pushes take what they take.
	 * The ping is the exception, so that a hung engine is reported. An
	 * idle limit (on_progress) only when the user asks for one: a quiet
	 * RUN step or a long test produces no bytes for minutes. */
	if (!strcmp(req->path, "/_ping"))
		curl_easy_setopt(c, CURLOPT_TIMEOUT, CONNECT_TIMEOUT_S);
	t->last_active = t->started;
	curl_easy_setopt(c, CURLOPT_USERAGENT, builder_user_agent);
	curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 128L * 1024);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, t);
	set_method(c, req, t);
	t->headers = request_headers(req);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, t->headers);

	/* The query is left out: build args may hold tokens. */
	log_debug("%s %.*s", req->method,
		  (int)(t->url.len - strlen(req->path) +
			(size_t)path_len(req->path)),
		  t->url.data);
	return 0;
}

/* The verdict on a transfer that ended with rc. */
static int transfer_result(struct transfer *t, CURLcode rc)
{
	struct engine_request *req = t->req;
	struct error *err = t->err;
	curl_off_t connect_time = 0;

	/* Zero on a unix socket: the callbacks said so already. */
	curl_easy_getinfo(t->curl, CURLINFO_CONNECT_TIME_T, &connect_time);
	if (connect_time > 0)
		t->connected = 1;
	if (!req->status)
		curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE,
				  &req->status);
	log_debug("%s %.*s -> %ld in %.3fs", req->method, path_len(req->path),
		  req->path, req->status, now_seconds() - t->started);

	if (t->sink_failed)
		return -1;
	if (t->interrupted)
		return signals_error(err);
	if (t->cleanup_late)
		return cleanup_late(t->eng, req, err);
	if (t->timed_out) {
		req->timed_out = 1;
		return err_set(err, EXIT_ENGINE, "%s %.*s: deadline reached",
			       req->method, path_len(req->path), req->path);
	}
	if (t->idle) {
		/* Name BUILDER_IDLE_TIMEOUT only when it set the limit. */
		int by_env = t->eng->idle_timeout &&
			     idle_limit(t) == t->eng->idle_timeout;

		err_set(err, EXIT_ENGINE,
			"the docker engine at '%s' sent nothing for %ld s "
			"during %s %.*s%s; it may be stuck: check it with "
			"'docker info'%s",
			t->eng->host, idle_limit(t), req->method,
			path_len(req->path), req->path,
			by_env ? " (BUILDER_IDLE_TIMEOUT)" : "",
			by_env ? ", or raise BUILDER_IDLE_TIMEOUT" : "");
		err->retryable = 1;
		return -1;
	}
	if (rc != CURLE_OK)
		return transport_error(
			t, rc, t->why[0] ? t->why : curl_easy_strerror(rc),
			err);
	if (req->status >= 400) {
		http_error(t);
		return -1;
	}
	return 0;
}

static void transfer_end(struct transfer *t)
{
	/* The handle may outlive t: it must not keep pointers into it (why,
	 * headers, t itself). */
	if (t->curl) {
		curl_easy_setopt(t->curl, CURLOPT_ERRORBUFFER, NULL);
		curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, NULL);
	}
	curl_slist_free_all(t->headers);
	t->headers = NULL;
	buf_release(&t->url);
	buf_release(&t->error_body);
}

int engine_do(struct engine *eng, struct engine_request *req, struct error *err)
{
	struct transfer t;
	int ret = -1;

	if (transfer_begin(&t, eng, eng->curl, req, err) == 0)
		ret = transfer_result(&t, curl_easy_perform(eng->curl));
	transfer_end(&t);
	return ret;
}

/* --- streams: a second connection -------------------------------------- */

/* Moves the stream's transfer on until it ends or, with until_headers,
 * until a successful response's headers have arrived. libcurl calls
 * on_progress as it goes; must_stop() is also asked here, a second
 * apart at most, so that a silent connection cannot hold us. */
static int stream_drive(struct engine_stream *s, int until_headers,
			struct error *err)
{
	while (!s->done) {
		curl_off_t dl = 0, ul = 0;
		CURLMcode mc;
		CURLMsg *msg;
		int running = 0, queued;

		mc = curl_multi_perform(s->multi, &running);
		while ((msg = curl_multi_info_read(s->multi, &queued)))
			if (msg->msg == CURLMSG_DONE) {
				s->done = 1;
				s->rc = msg->data.result;
			}
		if (s->done)
			break;
		if (mc == CURLM_OK && until_headers && s->t.headers_done &&
		    s->t.req->status < 400)
			return 0;
		curl_easy_getinfo(s->curl, CURLINFO_SIZE_DOWNLOAD_T, &dl);
		curl_easy_getinfo(s->curl, CURLINFO_SIZE_UPLOAD_T, &ul);
		if (mc == CURLM_OK && !must_stop(&s->t, dl, ul))
			mc = curl_multi_poll(s->multi, NULL, 0, 1000, NULL);
		if (mc != CURLM_OK || s->t.interrupted || s->t.timed_out ||
		    s->t.idle) {
			if (mc != CURLM_OK)
				return err_set(err, EXIT_ENGINE,
					       "libcurl failed during %s %.*s: "
					       "%s",
					       s->t.req->method,
					       path_len(s->t.req->path),
					       s->t.req->path,
					       curl_multi_strerror(mc));
			s->done = 1;
			s->rc = CURLE_ABORTED_BY_CALLBACK;
		}
	}
	if (s->added) {
		curl_multi_remove_handle(s->multi, s->curl);
		s->added = 0;
	}
	return 0;
}

int engine_stream_open(struct engine *eng, struct engine_request *req,
		       struct engine_stream **out, struct error *err)
{
	struct engine_stream *s = xcalloc(1, sizeof(*s));

	*out = s;
	s->multi = curl_multi_init();
	s->curl = curl_easy_init();
	if (!s->multi || !s->curl)
		return err_set(err, EXIT_ENGINE,
			       "cannot create a libcurl handle for %s %.*s",
			       req->method, path_len(req->path), req->path);
	if (transfer_begin(&s->t, eng, s->curl, req, err) < 0)
		return -1;
	if (curl_multi_add_handle(s->multi, s->curl) != CURLM_OK)
		return err_set(err, EXIT_ENGINE,
			       "cannot start %s %.*s with libcurl", req->method,
			       path_len(req->path), req->path);
	s->added = 1;
	if (stream_drive(s, 1, err) < 0)
		return -1;
	/* Ended already: an error, or a response complete in one go. */
	if (s->done) {
		s->have_result = 1;
		s->result = transfer_result(&s->t, s->rc);
		return s->result;
	}
	return 0;
}

int engine_stream_finish(struct engine_stream *s, struct error *err)
{
	if (s->have_result)
		return s->result;
	s->t.err = err;
	if (stream_drive(s, 0, err) < 0)
		return -1;
	return transfer_result(&s->t, s->rc);
}

void engine_stream_close(struct engine_stream *s)
{
	if (!s)
		return;
	if (s->added)
		curl_multi_remove_handle(s->multi, s->curl);
	transfer_end(&s->t);
	if (s->curl)
		curl_easy_cleanup(s->curl);
	if (s->multi)
		curl_multi_cleanup(s->multi);
	free(s);
}

int engine_ping(struct engine *eng, struct error *err)
{
	struct engine_request req = ENGINE_REQUEST_INIT;
	int have, min, max;

	req.method = "GET";
	req.path = "/_ping";
	if (engine_do(eng, &req, err) < 0)
		return err_wrap(err, "cannot reach the docker engine");
	if (!eng->api[0])
		/* Engines that predate the header: assume our maximum. */
		snprintf(eng->api, sizeof(eng->api), "%s", ENGINE_API_MAX);
	if (parse_api_version(eng->api, &have) < 0)
		return err_set(err, EXIT_ENGINE,
			       "the engine at '%s' reported API version '%s', "
			       "which builder cannot read",
			       eng->host, eng->api);
	parse_api_version(ENGINE_API_MIN, &min);
	parse_api_version(ENGINE_API_MAX, &max);
	if (eng->api_forced) {
		int engine_max;

		log_info("engine: API version %s forced by DOCKER_API_VERSION "
			 "(the engine reports %s)",
			 eng->api,
			 eng->engine_api[0] ? eng->engine_api : "none");
		/* Sent anyway, as the docker CLI does: the engine's own
		 * refusal names its range. */
		if (have < min)
			log_warn(
				"DOCKER_API_VERSION %s is older than builder's "
				"minimum %s: some requests may fail",
				eng->api, ENGINE_API_MIN);
		else if (!parse_api_version(eng->engine_api, &engine_max) &&
			 have > engine_max)
			log_warn("DOCKER_API_VERSION %s is newer than the "
				 "engine's API %s: the engine will likely "
				 "refuse "
				 "it",
				 eng->api, eng->engine_api);
		return 0;
	}
	if (have < min)
		return err_set(
			err, EXIT_ENGINE,
			"the engine at '%s' speaks Docker API %s at "
			"most; builder needs %s (Docker 20.10) or newer: "
			"upgrade the engine",
			eng->host, eng->api, ENGINE_API_MIN);
	if (have > max)
		snprintf(eng->api, sizeof(eng->api), "%s", ENGINE_API_MAX);
	return 0;
}

static int collect(const char *data, size_t len, void *ctx, struct error *err)
{
	if (buf_add(ctx, data, len) < 0)
		return err_set(err, EXIT_ENGINE,
			       "the engine's response is larger than %u bytes",
			       JSON_BODY_MAX);
	return 0;
}

static int json_exchange(struct engine *eng, const char *method,
			 const char *path, const cJSON *body, cJSON **out,
			 long *status, int cleanup, struct error *err)
{
	struct engine_request req = ENGINE_REQUEST_INIT;
	struct buf resp = BUF_INIT(BUF_TEXT_MAX);
	char *text = NULL;
	int ret = -1;

	if (out)
		*out = NULL;
	buf_init(&resp, JSON_BODY_MAX);
	req.method = method;
	req.path = path;
	req.ignore_interrupt = cleanup;
	/* Short exchanges (create, start, inspect, tag...) answer in
	 * seconds: a silent engine here is a stuck one. */
	req.idle_timeout =
		eng->idle_timeout ? eng->idle_timeout : JSON_IDLE_TIMEOUT_S;
	if (body) {
		text = cJSON_PrintUnformatted(body);
		req.body = text;
		req.body_len = strlen(text);
		req.content_type = "application/json";
	}
	req.on_data = collect;
	req.data_ctx = &resp;
	ret = engine_do(eng, &req, err);
	if (status)
		*status = req.status;
	if (ret == 0 && out && resp.len) {
		*out = cJSON_ParseWithLength(resp.data, resp.len);
		if (!*out)
			ret = err_set(err, EXIT_ENGINE,
				      "the engine's answer to %s %s is not "
				      "JSON",
				      method, path);
	}
	cJSON_free(text);
	buf_release(&resp);
	return ret;
}

int engine_json(struct engine *eng, const char *method, const char *path,
		const cJSON *body, cJSON **out, long *status, struct error *err)
{
	return json_exchange(eng, method, path, body, out, status, 0, err);
}

int engine_json_cleanup(struct engine *eng, const char *method,
			const char *path, long *status, struct error *err)
{
	return json_exchange(eng, method, path, NULL, NULL, status, 1, err);
}

int engine_json_uninterrupted(struct engine *eng, const char *method,
			      const char *path, const cJSON *body, cJSON **out,
			      long *status, struct error *err)
{
	return json_exchange(eng, method, path, body, out, status, 1, err);
}

static void copy_json_string(const cJSON *obj, const char *key, char *dst,
			     size_t len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	snprintf(dst, len, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

int engine_version(struct engine *eng, char *version, size_t vlen,
		   char *platform, size_t plen, struct error *err)
{
	cJSON *v = NULL;
	char os[32], arch[32];

	if (engine_json(eng, "GET", "/version", NULL, &v, NULL, err) < 0)
		return -1;
	copy_json_string(v, "Version", version, vlen);
	/* Podman answers with its own release ("4.3.1"): say whose it is,
	 * since it behaves differently (see README, "Podman"). */
	if (eng->podman) {
		size_t n = strlen(version);

		snprintf(version + n, vlen - n, " (Podman)");
	}
	copy_json_string(v, "Os", os, sizeof(os));
	copy_json_string(v, "Arch", arch, sizeof(arch));
	snprintf(platform, plen, "%s/%s", os, arch);
	cJSON_Delete(v);
	return 0;
}

/* --- upgraded connections (POST /session) --------------------------------
 *
 * libcurl connects (unix socket, tcp, TLS: the same options as engine_do)
 * with CURLOPT_CONNECT_ONLY; we then write the HTTP/1.1 upgrade request and
 * read the 101 ourselves with curl_easy_send/curl_easy_recv, so that the
 * bytes after the response head stay ours and TLS stays libcurl's. */

#define UPGRADE_HEAD_MAX (16u * 1024)
#define UPGRADE_TIMEOUT_S 30

struct engine_conn {
	CURL *curl;
	curl_socket_t fd;
	char *host; /* for messages */
	struct buf early; /* bytes that came with the 101, handed out first */
	size_t early_pos;
};

/* Waits until fd is ready for events, or the deadline; 1 ready, 0 not. */
static int wait_fd(curl_socket_t fd, short events, double deadline)
{
	struct pollfd p = { fd, events, 0 };
	double left = deadline - now_seconds();

	if (left <= 0)
		return 0;
	return poll(&p, 1, (int)(left * 1000) + 1) > 0;
}

static int conn_write_all(struct engine_conn *c, const char *data, size_t len,
			  double deadline, struct error *err)
{
	while (len) {
		size_t sent = 0;
		CURLcode rc = curl_easy_send(c->curl, data, len, &sent);

		if (rc == CURLE_AGAIN) {
			if (!wait_fd(c->fd, POLLOUT, deadline))
				return err_set(err, EXIT_ENGINE,
					       "the docker engine at '%s' took "
					       "no request data for %d s",
					       c->host, UPGRADE_TIMEOUT_S);
			continue;
		}
		if (rc != CURLE_OK)
			return err_set(err, EXIT_ENGINE,
				       "cannot send to the docker engine at "
				       "'%s': %s",
				       c->host, curl_easy_strerror(rc));
		data += sent;
		len -= sent;
	}
	return 0;
}

/* The message of a refused upgrade: {"message": ...} or the first line of
 * the body, when one came with the head. */
static void upgrade_refused(struct engine_conn *c, const char *path,
			    long status, const char *body, size_t len,
			    struct error *err)
{
	cJSON *json = cJSON_ParseWithLength(body, len);
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(json, "message");
	const char *text = cJSON_IsString(msg) ? msg->valuestring : body;

	err_set(err, EXIT_ENGINE,
		"the docker engine at '%s' refused POST %s (HTTP %ld: %.*s); "
		"it may not offer BuildKit sessions: BUILDER=classic builds "
		"without one",
		c->host, path, status,
		(int)strcspn(text, "\r\n") > 200 ? 200
						 : (int)strcspn(text, "\r\n"),
		text);
	cJSON_Delete(json);
}

int engine_upgrade(struct engine *eng, const char *path, const char *proto,
		   const char *const *headers, struct engine_conn **out,
		   struct error *err)
{
	struct engine_conn *c = xcalloc(1, sizeof(*c));
	struct buf req = BUF_INIT(BUF_TEXT_MAX), head = BUF_INIT(BUF_TEXT_MAX);
	char why[CURL_ERROR_SIZE] = "";
	double deadline = now_seconds() + UPGRADE_TIMEOUT_S;
	const char *host_start, *end;
	size_t head_end = 0;
	long status = 0;
	CURLcode rc;
	int ret = -1;

	*out = NULL;
	c->fd = CURL_SOCKET_BAD;
	c->host = xstrdup(eng->host);
	buf_init(&c->early, UPGRADE_HEAD_MAX);
	buf_init(&head, UPGRADE_HEAD_MAX);
	c->curl = curl_easy_init();
	if (!c->curl) {
		err_set(err, EXIT_ENGINE, "cannot create a libcurl handle");
		goto out;
	}
	curl_easy_setopt(c->curl, CURLOPT_URL, eng->base_url);
	if (eng->socket_path)
		curl_easy_setopt(c->curl, CURLOPT_UNIX_SOCKET_PATH,
				 eng->socket_path);
	if (eng->tls) {
		curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYPEER,
				 eng->tls_verify ? 1L : 0L);
		curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYHOST,
				 eng->tls_verify ? 2L : 0L);
		if (eng->ca)
			curl_easy_setopt(c->curl, CURLOPT_CAINFO, eng->ca);
		if (eng->cert) {
			curl_easy_setopt(c->curl, CURLOPT_SSLCERT, eng->cert);
			curl_easy_setopt(c->curl, CURLOPT_SSLKEY, eng->key);
		}
	}
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, why);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	curl_easy_setopt(c->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c->curl, CURLOPT_CONNECT_ONLY, 1L);
	rc = curl_easy_perform(c->curl);
	if (rc != CURLE_OK) {
		err_set(err, EXIT_ENGINE,
			"cannot connect to the docker engine at '%s' for POST "
			"%s: %s; is the engine running and DOCKER_HOST right?",
			eng->host, path, why[0] ? why : curl_easy_strerror(rc));
		goto out;
	}
	if (curl_easy_getinfo(c->curl, CURLINFO_ACTIVESOCKET, &c->fd) !=
		    CURLE_OK ||
	    c->fd == CURL_SOCKET_BAD) {
		err_set(err, EXIT_ENGINE,
			"libcurl gave no socket for the connection to '%s'",
			eng->host);
		goto out;
	}

	/* Host: what the URL names ("api.moby.localhost" on a socket). */
	host_start = strstr(eng->base_url, "://");
	host_start = host_start ? host_start + 3 : eng->base_url;
	end = strchr(host_start, '/');
	buf_addf(&req,
		 "POST %s HTTP/1.1\r\nHost: %.*s\r\nUser-Agent: %s\r\n"
		 "Content-Length: 0\r\nConnection: Upgrade\r\nUpgrade: %s\r\n",
		 path, end ? (int)(end - host_start) : (int)strlen(host_start),
		 host_start, builder_user_agent, proto);
	for (size_t i = 0; headers && headers[i]; i++)
		buf_addf(&req, "%s\r\n", headers[i]);
	if (buf_addstr(&req, "\r\n") < 0) {
		err_set(err, EXIT_ENGINE,
			"the request for POST %s is too "
			"large",
			path);
		goto out;
	}
	log_debug("POST %s (upgrade to %s)", path, proto);
	if (conn_write_all(c, req.data, req.len, deadline, err) < 0)
		goto out;

	/* The response head, up to the blank line; what follows it belongs
	 * to the upgraded protocol (the daemon may send its first bytes in
	 * the same segment). */
	for (;;) {
		char chunk[4096];
		size_t got = 0;
		char *blank;

		rc = curl_easy_recv(c->curl, chunk, sizeof(chunk), &got);
		if (rc == CURLE_AGAIN) {
			if (!wait_fd(c->fd, POLLIN, deadline)) {
				err_set(err, EXIT_ENGINE,
					"the docker engine at '%s' did not "
					"answer POST %s within %d s",
					eng->host, path, UPGRADE_TIMEOUT_S);
				goto out;
			}
			continue;
		}
		if (rc != CURLE_OK || !got) {
			err_set(err, EXIT_ENGINE,
				"the docker engine at '%s' closed the "
				"connection during POST %s%s%s",
				eng->host, path, rc != CURLE_OK ? ": " : "",
				rc != CURLE_OK ? curl_easy_strerror(rc) : "");
			goto out;
		}
		if (buf_add(&head, chunk, got) < 0) {
			err_set(err, EXIT_ENGINE,
				"the docker engine at '%s' answered POST %s "
				"with a response head over %u bytes",
				eng->host, path, UPGRADE_HEAD_MAX);
			goto out;
		}
		blank = strstr(head.data, "\r\n\r\n");
		if (blank) {
			head_end = (size_t)(blank - head.data) + 4;
			break;
		}
	}
	if (strncmp(head.data, "HTTP/1.", 7) || head.len < 12) {
		err_set(err, EXIT_ENGINE,
			"the docker engine at '%s' answered POST %s with no "
			"HTTP status line",
			eng->host, path);
		goto out;
	}
	status = strtol(head.data + 9, NULL, 10);
	if (status != 101) {
		/* Give a body that is on its way a moment to arrive, for its
		 * message. */
		while (head.len - head_end < 512 &&
		       wait_fd(c->fd, POLLIN, now_seconds() + 0.5)) {
			char chunk[1024];
			size_t got = 0;

			rc = curl_easy_recv(c->curl, chunk, sizeof(chunk),
					    &got);
			if (rc == CURLE_AGAIN)
				continue;
			if (rc != CURLE_OK || !got ||
			    buf_add(&head, chunk, got) < 0)
				break;
		}
		upgrade_refused(c, path, status, head.data + head_end,
				head.len - head_end, err);
		goto out;
	}
	buf_add(&c->early, head.data + head_end, head.len - head_end);
	log_debug("POST %s -> 101", path);
	ret = 0;
out:
	if (c->curl)
		curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, NULL);
	buf_release(&req);
	buf_release(&head);
	if (ret < 0)
		engine_conn_close(c);
	else
		*out = c;
	return ret;
}

int engine_conn_fd(const struct engine_conn *c)
{
	return (int)c->fd;
}

long engine_conn_recv(struct engine_conn *c, void *dst, size_t max,
		      struct error *err)
{
	size_t got = 0;
	CURLcode rc;

	if (c->early_pos < c->early.len) {
		size_t n = c->early.len - c->early_pos;

		if (n > max)
			n = max;
		memcpy(dst, c->early.data + c->early_pos, n);
		c->early_pos += n;
		return (long)n;
	}
	rc = curl_easy_recv(c->curl, dst, max, &got);
	if (rc == CURLE_AGAIN)
		return ENGINE_CONN_AGAIN;
	if (rc != CURLE_OK)
		return err_set(err, EXIT_ENGINE,
			       "cannot read from the docker engine at '%s': %s",
			       c->host, curl_easy_strerror(rc));
	return (long)got;
}

long engine_conn_send(struct engine_conn *c, const void *src, size_t len,
		      struct error *err)
{
	size_t sent = 0;
	CURLcode rc = curl_easy_send(c->curl, src, len, &sent);

	if (rc == CURLE_AGAIN)
		return ENGINE_CONN_AGAIN;
	if (rc != CURLE_OK)
		return err_set(err, EXIT_ENGINE,
			       "cannot send to the docker engine at '%s': %s",
			       c->host, curl_easy_strerror(rc));
	return (long)sent;
}

int engine_conn_pending(const struct engine_conn *c)
{
	return c->early_pos < c->early.len;
}

void engine_conn_close(struct engine_conn *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	buf_release(&c->early);
	free(c->host);
	free(c);
}
