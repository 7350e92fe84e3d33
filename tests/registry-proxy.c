/*
 * registry-proxy: a small HTTP/1.1 reverse proxy on 127.0.0.1 that stands
 * in front of the real test registry and injects faults, so that a push
 * through the real engine meets a 500 on a blob upload or a 401 part-way.
 *
 *   registry-proxy [--port-file FILE] [--log FILE] UPSTREAM RULE...
 *
 *   UPSTREAM            the registry, HOST:PORT (IPv4 address)
 *   --port-file FILE    where the port we listen on is written (by rename,
 *                       once we accept connections); the port is chosen by
 *                       the kernel
 *   --log FILE          one line per request (default: stderr):
 *                         7 PATCH /v2/t1/app/blobs/uploads/... => 500 injected
 *                         8 PUT /v2/t1/app/manifests/1 => HTTP/1.1 201 Created
 *   --fail TEXT STATUS  answer STATUS to requests whose "METHOD TARGET"
 *                       contains TEXT ("PATCH /v2/", "/manifests/")
 *   --times N           the --fail before it answers N requests, then lets
 *                       them through (default: every request)
 *   --after N STATUS    requests after the first N all get STATUS
 *   --with-body         the --fail before it answers only requests that
 *                       carry a body (Content-Length > 0, or chunked)
 *   --corrupt TEXT      forwards requests that contain TEXT but flips one
 *                       bit of the first body byte of a 200 answer (a blob
 *                       altered in transit)
 *   --retry-after SEC   injected 429 and 503 answers carry Retry-After: SEC
 *   --bearer USER:PASS  a fake token server: /v2/ requests need
 *                       "Authorization: Bearer <token>", else 401 with a
 *                       Bearer challenge whose realm is our /token;
 *                       GET /token answers a token for Basic USER:PASS
 *                       (401 otherwise), and POST /token a token for the
 *                       form grant_type=refresh_token&refresh_token=PASS
 *                       (the docker CLI's identity-token flow); requests
 *                       with the token go upstream with the
 *                       --upstream-auth credentials
 *   --upstream-auth USER:PASS   Basic credentials for the registry
 *   --header 'NAME: VALUE'      added to every forwarded answer (e.g.
 *                       Docker Hub's "ratelimit-remaining: 3;w=21600")
 *
 * Rules are tried in order; the first that applies answers. Requests are
 * counted from 1 over all connections. Each connection is served by its
 * own process and carries one request: it goes upstream with
 * "Connection: close", so the answer ends when the registry closes, and
 * the client opens a new connection for its next request. The Host header
 * is passed unchanged, so the registry's Location headers name us.
 *
 * An injected answer has a registry-style JSON body ({"errors":[...]});
 * 401 comes with a Basic challenge. We answer without reading the request
 * body, then read and drop it so that the client sees our answer and not a
 * reset. SIGTERM stops the server; each connection's process follows it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* built alone with any CFLAGS */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../builder/util/banned.h"

#define HEAD_MAX 65536
#define RULES_MAX 16
#define DRAIN_MS 10000
#define HEAD_WAIT_MS 30000

struct rule {
	const char *match; /* NULL: an --after rule */
	long after;
	long limit;        /* 0: unlimited */
	int with_body;     /* only requests with a body */
	int status;
};

static struct rule rules[RULES_MAX];
static int nr_rules;
/* Counters shared by every connection's process. */
static struct shared {
	atomic_long requests;
	atomic_long uses[RULES_MAX];
} *shared;
static FILE *log_file;
static struct sockaddr_in upstream;
static const char *corrupt_match;
static long retry_after = -1;
static const char *bearer_creds; /* USER:PASS the token server wants */
static const char *upstream_creds;
static const char *extra_header;
static unsigned listen_port;
static int write_all(int fd, const char *p, size_t len);
#define PROXY_TOKEN "registry-proxy-token-0123456789"

static void b64(const char *in, char *out, size_t size)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(in), o = 0;

	for (size_t i = 0; i < n && o + 5 < size; i += 3) {
		unsigned v = (unsigned char)in[i] << 16;

		if (i + 1 < n)
			v |= (unsigned char)in[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)in[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	out[o] = '\0';
}

/* The value of header name in head (up to the blank line), into out. */
static int find_header(const char *head, const char *name, char *out,
		       size_t size)
{
	size_t l = strlen(name);
	const char *p = strstr(head, "\r\n");

	while (p && p[2] != '\r') {
		p += 2;
		if (!strncasecmp(p, name, l) && p[l] == ':') {
			const char *v = p + l + 1, *e = strstr(v, "\r\n");
			size_t n;

			while (*v == ' ')
				v++;
			n = e ? (size_t)(e - v) : strlen(v);
			if (n >= size)
				n = size - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return 1;
		}
		p = strstr(p, "\r\n");
	}
	return 0;
}

/* A small complete answer. */
static void answer(int client, int status, const char *extra_headers,
		   const char *body)
{
	char head[2048];
	int hlen = snprintf(head, sizeof(head),
			    "HTTP/1.1 %d %s\r\n"
			    "Content-Type: application/json\r\n"
			    "Docker-Distribution-Api-Version: registry/2.0\r\n"
			    "%s"
			    "Content-Length: %zu\r\n"
			    "Connection: close\r\n\r\n",
			    status, status == 200 ? "OK" : "Unauthorized",
			    extra_headers, strlen(body));

	if (write_all(client, head, (size_t)hlen) == 0)
		write_all(client, body, strlen(body));
	shutdown(client, SHUT_WR);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("registry-proxy: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static long number(const char *s, const char *what, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		die("%s '%s' is not a number from %ld to %ld", what, s, min,
		    max);
	return v;
}

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_line(const char *fmt, ...)
{
	char line[4608];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line: the lines of concurrent connections do not
	 * mix (the file is opened with O_APPEND). */
	if (write(fileno(log_file), line, (size_t)n) < 0)
		return;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static const char *reason(int status)
{
	switch (status) {
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	default: return "Injected";
	}
}

/* The rule that answers request number n, or NULL to forward it. */
static const struct rule *choose(const char *line, long n, int has_body)
{
	for (int i = 0; i < nr_rules; i++) {
		const struct rule *r = &rules[i];

		if (r->with_body && !has_body)
			continue;
		if (!r->match) {
			if (n > r->after)
				return r;
			continue;
		}
		if (!strstr(line, r->match))
			continue;
		if (r->limit && atomic_fetch_add(&shared->uses[i], 1) >= r->limit)
			continue;
		return r;
	}
	return NULL;
}

static void inject(int client, const struct rule *r, const char *line,
		   long n)
{
	char head[512], body[256];
	int blen, hlen;
	struct pollfd p = { .fd = client, .events = POLLIN };
	char sink[16384];

	if (r->status == 401)
		blen = snprintf(body, sizeof(body),
				"{\"errors\":[{\"code\":\"UNAUTHORIZED\","
				"\"message\":\"authentication required\","
				"\"detail\":null}]}\n");
	else
		blen = snprintf(body, sizeof(body),
				"{\"errors\":[{\"code\":\"UNKNOWN\","
				"\"message\":\"registry-proxy: injected %d\","
				"\"detail\":null}]}\n",
				r->status);
	char ra[64] = "";

	if (retry_after >= 0 && (r->status == 429 || r->status == 503))
		snprintf(ra, sizeof(ra), "Retry-After: %ld\r\n", retry_after);
	hlen = snprintf(head, sizeof(head),
			"HTTP/1.1 %d %s\r\n"
			"Content-Type: application/json\r\n"
			"Docker-Distribution-Api-Version: registry/2.0\r\n"
			"%s%s"
			"Content-Length: %d\r\n"
			"Connection: close\r\n\r\n",
			r->status, reason(r->status),
			r->status == 401 ? "WWW-Authenticate: Basic "
					   "realm=\"registry-proxy\"\r\n" : "",
			ra, blen);
	log_line("%ld %s => %d injected", n, line, r->status);
	if (write_all(client, head, (size_t)hlen) < 0 ||
	    write_all(client, body, (size_t)blen) < 0)
		return;
	shutdown(client, SHUT_WR);
	/* Drop what the client still sends, until it closes. */
	while (poll(&p, 1, DRAIN_MS) > 0 && read(client, sink, sizeof(sink)) > 0)
		;
}

/* Copies what is readable on from to to; 0 at the end of from. */
static ssize_t pump(int from, int to, char *buf, size_t size)
{
	ssize_t n = read(from, buf, size);

	if (n < 0 && errno == EINTR)
		return 1;
	if (n <= 0)
		return 0;
	if (write_all(to, buf, (size_t)n) < 0)
		return -1;
	return n;
}

static void forward(int client, const char *head, size_t head_len,
		    const char *rest, size_t rest_len, const char *line,
		    long n)
{
	int corrupt = corrupt_match && strstr(line, corrupt_match);
	int head_done = 0, corrupted = 0, ok200 = 0, first_read = 1;
	unsigned tailbits = 0; /* the last bytes seen, for the blank line */
	int up = socket(AF_INET, SOCK_STREAM, 0);
	char out[HEAD_MAX + 64];
	size_t olen = 0;
	const char *p = head, *end = head + head_len;
	char buf[65536], status[128] = "";
	struct pollfd fds[2];
	int client_open = 1;

	if (up < 0 ||
	    connect(up, (struct sockaddr *)&upstream, sizeof(upstream)) < 0) {
		log_line("%ld %s => upstream down: %s", n, line,
			 strerror(errno));
		return;
	}
	/* The head, minus any Connection header, plus ours. */
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len = eol ? (size_t)(eol - p) + 1 : (size_t)(end - p);

		if (len <= 2) /* the blank line ends the head */
			break;
		if (strncasecmp(p, "Connection:", 11) &&
		    strncasecmp(p, "Keep-Alive:", 11) &&
		    !(bearer_creds && !strncasecmp(p, "Authorization:", 14))) {
			memcpy(out + olen, p, len);
			olen += len;
		}
		p += len;
	}
	if (bearer_creds && upstream_creds) {
		char enc[512];

		b64(upstream_creds, enc, sizeof(enc));
		olen += (size_t)snprintf(out + olen, sizeof(out) - olen,
					 "Authorization: Basic %s\r\n", enc);
	}
	memcpy(out + olen, "Connection: close\r\n\r\n", 21);
	olen += 21;
	if (write_all(up, out, olen) < 0 ||
	    (rest_len && write_all(up, rest, rest_len) < 0))
		goto out;

	fds[0].fd = client;
	fds[1].fd = up;
	for (;;) {
		fds[0].events = client_open ? POLLIN : 0;
		fds[1].events = POLLIN;
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[1].revents) {
			ssize_t got = read(up, buf, sizeof(buf));

			if (got <= 0)
				break; /* the answer is complete */
			if (!status[0]) {
				size_t l = 0;

				while (l < (size_t)got && l < sizeof(status) - 1 &&
				       buf[l] != '\r' && buf[l] != '\n')
					l++;
				memcpy(status, buf, l);
				status[l] = '\0';
				ok200 = strstr(status, " 200") != NULL;
			}
			for (ssize_t k = 0; corrupt && !corrupted && k < got;
			     k++) {
				if (head_done) {
					if (ok200)
						buf[k] ^= 0x01;
					corrupted = 1;
					break;
				}
				tailbits = (tailbits << 8) | (unsigned char)buf[k];
				if (tailbits == 0x0d0a0d0a)
					head_done = 1;
			}
			if (extra_header && first_read) {
				char *eol = memchr(buf, '\n', (size_t)got);
				size_t l = eol ? (size_t)(eol - buf) + 1 : 0;

				if (l && (write_all(client, buf, l) < 0 ||
					  write_all(client, extra_header,
						    strlen(extra_header)) < 0 ||
					  write_all(client, "\r\n", 2) < 0 ||
					  write_all(client, buf + l,
						    (size_t)got - l) < 0))
					break;
				first_read = 0;
				if (l)
					continue;
			}
			first_read = 0;
			if (write_all(client, buf, (size_t)got) < 0)
				break;
		}
		if (client_open && fds[0].revents) {
			ssize_t r = pump(client, up, buf, sizeof(buf));

			if (r < 0)
				break;
			if (r == 0) {
				client_open = 0;
				shutdown(up, SHUT_WR);
			}
		}
	}
	log_line("%ld %s => %s%s", n, line, status[0] ? status : "no answer",
		 corrupted && ok200 ? " corrupted" : "");
out:
	close(up);
}

static void serve(int client)
{
	char head[HEAD_MAX + 1];
	size_t len = 0;
	char *end = NULL;
	char line[4096];
	const struct rule *r;
	long n;

	while (!end) {
		struct pollfd p = { .fd = client, .events = POLLIN };
		ssize_t got;

		if (len == HEAD_MAX || poll(&p, 1, HEAD_WAIT_MS) <= 0)
			return;
		got = read(client, head + len, HEAD_MAX - len);
		if (got <= 0)
			return;
		/* The engine tries TLS first: a handshake record gets a
		 * close at once, and the engine falls back to plain HTTP. */
		if (!len && head[0] == 0x16)
			return;
		len += (size_t)got;
		head[len] = '\0';
		end = strstr(head, "\r\n\r\n");
	}
	end += 4;
	{
		size_t l = strcspn(head, "\r\n");
		/* "METHOD TARGET", without " HTTP/1.1" */
		const char *sp = memchr(head, ' ', l);
		const char *sp2 = sp ? memchr(sp + 1, ' ', l - (size_t)(sp + 1 - head)) : NULL;

		if (sp2)
			l = (size_t)(sp2 - head);
		if (l >= sizeof(line))
			l = sizeof(line) - 1;
		memcpy(line, head, l);
		line[l] = '\0';
	}
	n = atomic_fetch_add(&shared->requests, 1) + 1;
	if (bearer_creds) {
		char auth[1024] = "", want[600], enc[512];

		find_header(head, "Authorization", auth, sizeof(auth));
		if (!strncmp(line, "POST /token", 11)) {
			/* the form: read to its Content-Length */
			char cl[32] = "", want_form[300];
			long need;
			const char *pass = strchr(bearer_creds, ':');

			find_header(head, "Content-Length", cl, sizeof(cl));
			need = strtol(cl, NULL, 10);
			while (need > 0 && (long)(len - (size_t)(end - head)) < need &&
			       len < HEAD_MAX) {
				ssize_t got = read(client, head + len, HEAD_MAX - len);

				if (got <= 0)
					break;
				len += (size_t)got;
				head[len] = '\0';
			}
			snprintf(want_form, sizeof(want_form), "refresh_token=%s&",
				 pass ? pass + 1 : "");
			if (!strstr(end, "grant_type=refresh_token") ||
			    !strstr(end, want_form)) {
				log_line("%ld %s => 401 refresh token refused", n,
					 line);
				answer(client, 401, "",
				       "{\"errors\":[{\"code\":\"UNAUTHORIZED\","
				       "\"message\":\"bad refresh token\"}]}");
				return;
			}
			log_line("%ld %s => 200 token (refresh_token)", n, line);
			answer(client, 200, "",
			       "{\"access_token\":\"" PROXY_TOKEN "\",\"expires_in\":300}");
			return;
		}
		if (!strncmp(line, "GET /token", 10)) {
			b64(bearer_creds, enc, sizeof(enc));
			snprintf(want, sizeof(want), "Basic %s", enc);
			if (strcmp(auth, want)) {
				log_line("%ld %s => 401 token refused", n, line);
				answer(client, 401, "",
				       "{\"errors\":[{\"code\":\"UNAUTHORIZED\","
				       "\"message\":\"bad credentials\"}]}");
				return;
			}
			log_line("%ld %s => 200 token", n, line);
			answer(client, 200, "",
			       "{\"token\":\"" PROXY_TOKEN "\",\"expires_in\":300}");
			return;
		}
		if (strcmp(auth, "Bearer " PROXY_TOKEN)) {
			char hdr[512];

			snprintf(hdr, sizeof(hdr),
				 "WWW-Authenticate: Bearer realm=\"http://"
				 "127.0.0.1:%u/token\",service=\"registry-"
				 "proxy\"\r\n",
				 listen_port);
			log_line("%ld %s => 401 bearer challenge", n, line);
			answer(client, 401, hdr,
			       "{\"errors\":[{\"code\":\"UNAUTHORIZED\","
			       "\"message\":\"authentication required\"}]}");
			return;
		}
	}
	{
		char cl[32] = "", te[64] = "";

		find_header(head, "Content-Length", cl, sizeof(cl));
		find_header(head, "Transfer-Encoding", te, sizeof(te));
		r = choose(line, n, (cl[0] && strcmp(cl, "0")) || te[0]);
	}
	if (r)
		inject(client, r, line, n);
	else
		forward(client, head, (size_t)(end - head), end,
			len - (size_t)(end - head), line, n);
}

static void parse_args(int argc, char **argv, const char **port_file,
		       const char **log_path, const char **up)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (nr_rules == RULES_MAX)
			die("at most %d rules", RULES_MAX);
		if (!strcmp(a, "--port-file") && i + 1 < argc) {
			*port_file = argv[++i];
		} else if (!strcmp(a, "--log") && i + 1 < argc) {
			*log_path = argv[++i];
		} else if (!strcmp(a, "--fail") && i + 2 < argc) {
			rules[nr_rules].match = argv[i + 1];
			rules[nr_rules].status =
				(int)number(argv[i + 2], "status", 100, 599);
			nr_rules++;
			i += 2;
		} else if (!strcmp(a, "--times") && i + 1 < argc) {
			if (!nr_rules || !rules[nr_rules - 1].match)
				die("--times must follow a --fail");
			rules[nr_rules - 1].limit =
				number(argv[++i], "--times", 1, 1000000);
		} else if (!strcmp(a, "--after") && i + 2 < argc) {
			rules[nr_rules].after =
				number(argv[i + 1], "--after", 0, 1000000);
			rules[nr_rules].status =
				(int)number(argv[i + 2], "status", 100, 599);
			nr_rules++;
			i += 2;
		} else if (!strcmp(a, "--header") && i + 1 < argc) {
			extra_header = argv[++i];
		} else if (!strcmp(a, "--with-body")) {
			if (!nr_rules || !rules[nr_rules - 1].match)
				die("--with-body must follow a --fail");
			rules[nr_rules - 1].with_body = 1;
		} else if (!strcmp(a, "--corrupt") && i + 1 < argc) {
			corrupt_match = argv[++i];
		} else if (!strcmp(a, "--retry-after") && i + 1 < argc) {
			retry_after = number(argv[++i], "--retry-after", 0, 3600);
		} else if (!strcmp(a, "--bearer") && i + 1 < argc) {
			bearer_creds = argv[++i];
		} else if (!strcmp(a, "--upstream-auth") && i + 1 < argc) {
			upstream_creds = argv[++i];
		} else if (a[0] != '-' && !*up) {
			*up = a;
		} else {
			die("usage: registry-proxy [--port-file FILE] "
			    "[--log FILE] HOST:PORT [--fail TEXT STATUS "
			    "[--times N]]... [--after N STATUS]");
		}
	}
	if (!*up)
		die("no upstream HOST:PORT given");
}

int main(int argc, char **argv)
{
	const char *port_file = NULL, *log_path = NULL, *up = NULL;
	struct sockaddr_in addr;
	socklen_t alen = sizeof(addr);
	struct sigaction sa;
	char host[64];
	const char *colon;
	int fd, one = 1;

	parse_args(argc, argv, &port_file, &log_path, &up);
	colon = strrchr(up, ':');
	if (!colon || (size_t)(colon - up) >= sizeof(host))
		die("upstream '%s' is not HOST:PORT", up);
	memcpy(host, up, (size_t)(colon - up));
	host[colon - up] = '\0';
	memset(&upstream, 0, sizeof(upstream));
	upstream.sin_family = AF_INET;
	upstream.sin_port = htons((uint16_t)number(colon + 1, "port", 1, 65535));
	if (inet_pton(AF_INET, host, &upstream.sin_addr) != 1)
		die("upstream host '%s' is not an IPv4 address", host);

	log_file = stderr;
	if (log_path && !(log_file = fopen(log_path, "a")))
		die("cannot open log '%s': %s", log_path, strerror(errno));
	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	atomic_init(&shared->requests, 0);
	for (int i = 0; i < RULES_MAX; i++)
		atomic_init(&shared->uses[i], 0);

	/* Children are reaped by the kernel. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = SA_NOCLDWAIT;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&addr, &alen) < 0)
		die("cannot listen on 127.0.0.1: %s", strerror(errno));
	listen_port = ntohs(addr.sin_port);
	if (port_file) {
		char tmp[4096];
		FILE *f;

		snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
		f = fopen(tmp, "w");
		if (!f || fprintf(f, "%u\n", ntohs(addr.sin_port)) < 0 ||
		    fclose(f) != 0 || rename(tmp, port_file) < 0)
			die("cannot write '%s': %s", port_file, strerror(errno));
	} else {
		printf("%u\n", ntohs(addr.sin_port));
		fflush(stdout);
	}

	for (;;) {
		int c = accept(fd, NULL, NULL);
		pid_t pid;

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			die("accept: %s", strerror(errno));
		}
		pid = fork();
		if (pid == 0) {
			close(fd);
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			signal(SIGPIPE, SIG_IGN);
			serve(c);
			close(c);
			_exit(0);
		}
		close(c);
	}
}
