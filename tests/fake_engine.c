/*
 * fake-engine: a scripted HTTP/1.1 server on a unix socket that stands in
 * for the Docker engine in fault tests. It does on demand what a real
 * engine will not: a 500 on the third request, an error in the middle of a
 * 200 stream, a stream cut inside a message, one byte at a time, a stall,
 * a reset.
 *
 *   fake-engine SOCKET_PATH SCRIPT_FILE
 *
 * The socket appears (atomically, by rename) once it accepts connections.
 * Every connection is served by its own child process, so a held connection
 * does not block the next one. Requests on a connection are read one after
 * another (keep-alive). SIGTERM or SIGINT stops the server and its children
 * and removes the socket.
 *
 * Each request is logged as one line to SOCKET_PATH.log:
 *
 *   POST /v1.41/build?t=a | Content-Type: application/x-tar | ... => line 7
 *
 * with the request line, a few headers (Content-Type, Content-Length,
 * Transfer-Encoding, Expect, Connection, User-Agent), the credential headers
 * (X-Registry-Auth, X-Registry-Config, Authorization) as "<redacted>", and
 * the script line of the rule that answered ("=> no rule" if none). When a
 * request body is read, a line "  body N bytes" follows.
 *
 * The script: one directive a line; blank lines and lines starting with '#'
 * are ignored. A directive's argument is everything after the first space.
 *
 *   match TEXT     starts a rule for requests whose "METHOD TARGET" contains
 *                  TEXT ("/_ping", "POST /build", "/images/"), with or
 *                  without the target's API version ("/v1.41"). Rules are
 *                  tried in order; the first that matches answers.
 *   once           the rule answers one request only, then is skipped
 *   times N        the rule answers N requests, then is skipped
 *   send TEXT      writes TEXT (escapes below); "reply" is the same
 *   chunk1 TEXT    writes TEXT one byte per write, 1 ms apart, so the client
 *                  sees every split point
 *   chunked TEXT   writes TEXT as one HTTP chunk ("<hex len>\r\nTEXT\r\n")
 *   chunked-end    writes the last HTTP chunk ("0\r\n\r\n")
 *   sleep SECONDS  waits (fractions allowed)
 *   drain          reads the request body to its end (Content-Length or
 *                  chunked), answering "Expect: 100-continue" first
 *   nodrain        never reads the body: the connection closes after the
 *                  rule instead of waiting for the next request
 *   close          ends the connection cleanly (FIN)
 *   reset          ends the connection abortively (SO_LINGER 0). On a unix
 *                  socket the client reads ECONNRESET only if input we have
 *                  not read remains (a body left by "nodrain"); otherwise
 *                  it sees a plain end of stream
 *   hold           keeps the connection open and never answers; whatever
 *                  the client sends is read and dropped
 *
 * A rule with neither drain nor nodrain reads the whole body before its
 * first action, as a real server would; put "drain" after a "send" to answer
 * before the body has ended. After a rule's last action the connection
 * waits for the next request, unless the rule ended it.
 *
 * TEXT escapes: \r \n \t \\ and \xHH (any byte, e.g. the 8-byte header of a
 * multiplexed log frame: \x01\x00\x00\x00\x00\x00\x00\x05). A JSON escape is
 * written with a doubled backslash: {"stream":"Step 1/2\\n"}\r\n.
 *
 * What a rule sends goes out as written, whatever the request: a rule for
 * HEAD must send no body. A request no rule matches gets 404
 * {"message":"fake-engine: no rule for ..."}. Errors in the script are
 * reported with their line; exit status 2.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strcasestr, and built alone with any CFLAGS */
#endif
#include <errno.h>
#include <fcntl.h>
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
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../builder/util/banned.h"

enum op {
	OP_SEND,
	OP_CHUNK1,
	OP_CHUNKED,
	OP_CHUNKED_END,
	OP_SLEEP,
	OP_DRAIN,
	OP_CLOSE,
	OP_RESET,
	OP_HOLD,
};

struct action {
	enum op op;
	char *text;
	size_t len;
	double seconds;
};

struct rule {
	char *match;
	long limit; /* 0: unlimited */
	int line;
	int nodrain;
	int has_drain;
	int ended; /* a close, reset or hold was seen: nothing may follow */
	struct action *actions;
	size_t nr, alloc;
};

static struct rule *rules;
static size_t nr_rules, alloc_rules;
/* Use counts live in shared memory: each connection is its own process. */
static atomic_long *uses;
static int log_fd = -1;
static volatile sig_atomic_t stopping;

#define HEAD_MAX 65536
#define LOG_LINE_MAX 8192

struct conn {
	int fd;
	size_t off, len;
	char buf[HEAD_MAX];
};

struct request {
	char line[4096]; /* "METHOD TARGET" */
	char log[LOG_LINE_MAX];
	long long content_length; /* -1: none */
	int chunked;
	int expect_continue;
	int want_close;
	int sent; /* bytes of an answer have gone out */
	int drained;
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("fake-engine: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);

	if (!q)
		die("out of memory");
	return q;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		die("out of memory");
	return p;
}

static void log_line(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static void log_line(const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* One write with O_APPEND: lines from concurrent children never mix. */
	if (write(log_fd, line, n) < 0)
		return;
}

/* --- the script ------------------------------------------------------- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void unescape(const char *src, struct action *a, const char *file,
		     int line)
{
	size_t n = strlen(src), o = 0;
	char *out = xrealloc(NULL, n + 1);

	for (size_t i = 0; i < n; i++) {
		if (src[i] != '\\') {
			out[o++] = src[i];
			continue;
		}
		switch (src[++i]) {
		case 'r': out[o++] = '\r'; break;
		case 'n': out[o++] = '\n'; break;
		case 't': out[o++] = '\t'; break;
		case '\\': out[o++] = '\\'; break;
		case 'x': {
			int hi = i + 1 < n ? hexval(src[i + 1]) : -1;
			int lo = i + 2 < n ? hexval(src[i + 2]) : -1;

			if (hi < 0 || lo < 0)
				die("%s:%d: '\\x' needs two hex digits", file,
				    line);
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
			break;
		}
		default:
			die("%s:%d: unknown escape '\\%c': use \\r \\n \\t "
			    "\\\\ or \\xHH", file, line, src[i] ? src[i] : ' ');
		}
	}
	out[o] = '\0';
	a->text = out;
	a->len = o;
}

static struct action *add_action(struct rule *r, enum op op, const char *file,
				 int line)
{
	struct action *a;

	if (r->ended)
		die("%s:%d: nothing can follow close, reset or hold", file,
		    line);
	if (r->nr == r->alloc) {
		r->alloc = r->alloc ? 2 * r->alloc : 8;
		r->actions = xrealloc(r->actions, r->alloc * sizeof(*a));
	}
	a = &r->actions[r->nr++];
	memset(a, 0, sizeof(*a));
	a->op = op;
	if (op == OP_CLOSE || op == OP_RESET || op == OP_HOLD)
		r->ended = 1;
	return a;
}

static long parse_count(const char *arg, const char *file, int line)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 1 || v > 1000000)
		die("%s:%d: '%s' is not a count from 1 to 1000000", file, line,
		    arg);
	return v;
}

static double parse_seconds(const char *arg, const char *file, int line)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v >= 0 && v <= 3600))
		die("%s:%d: '%s' is not a number of seconds up to 3600", file,
		    line, arg);
	return v;
}

static void load_script(const char *file)
{
	FILE *f = fopen(file, "r");
	struct rule *r = NULL;
	char *text = NULL;
	size_t cap = 0;
	ssize_t n;
	int line = 0;

	if (!f)
		die("cannot open script '%s': %s", file, strerror(errno));
	while ((n = getline(&text, &cap, f)) >= 0) {
		char *word = text, *arg;
		int needs_arg;

		line++;
		while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
			text[--n] = '\0';
		if (!text[strspn(text, " \t")] || text[0] == '#')
			continue;
		arg = strchr(word, ' ');
		if (arg)
			*arg++ = '\0';

		needs_arg = !strcmp(word, "match") || !strcmp(word, "send") ||
			    !strcmp(word, "reply") || !strcmp(word, "chunk1") ||
			    !strcmp(word, "chunked") || !strcmp(word, "sleep") ||
			    !strcmp(word, "times");
		if (needs_arg && (!arg || !*arg))
			die("%s:%d: '%s' needs an argument", file, line, word);
		if (!needs_arg && arg)
			die("%s:%d: '%s' takes no argument", file, line, word);

		if (!strcmp(word, "match")) {
			if (nr_rules == alloc_rules) {
				alloc_rules = alloc_rules ? 2 * alloc_rules : 8;
				rules = xrealloc(rules,
						 alloc_rules * sizeof(*rules));
			}
			r = &rules[nr_rules++];
			memset(r, 0, sizeof(*r));
			r->match = xstrdup(arg);
			r->line = line;
			continue;
		}
		if (!r)
			die("%s:%d: '%s' before the first 'match'", file, line,
			    word);

		if (!strcmp(word, "once")) {
			r->limit = 1;
		} else if (!strcmp(word, "times")) {
			r->limit = parse_count(arg, file, line);
		} else if (!strcmp(word, "send") || !strcmp(word, "reply")) {
			unescape(arg, add_action(r, OP_SEND, file, line), file,
				 line);
		} else if (!strcmp(word, "chunk1")) {
			unescape(arg, add_action(r, OP_CHUNK1, file, line),
				 file, line);
		} else if (!strcmp(word, "chunked")) {
			unescape(arg, add_action(r, OP_CHUNKED, file, line),
				 file, line);
		} else if (!strcmp(word, "chunked-end")) {
			add_action(r, OP_CHUNKED_END, file, line);
		} else if (!strcmp(word, "sleep")) {
			add_action(r, OP_SLEEP, file, line)->seconds =
				parse_seconds(arg, file, line);
		} else if (!strcmp(word, "drain")) {
			if (r->nodrain || r->has_drain)
				die("%s:%d: one 'drain' a rule, and not with "
				    "'nodrain'", file, line);
			add_action(r, OP_DRAIN, file, line);
			r->has_drain = 1;
		} else if (!strcmp(word, "nodrain")) {
			if (r->has_drain)
				die("%s:%d: 'nodrain' in a rule with 'drain'",
				    file, line);
			r->nodrain = 1;
		} else if (!strcmp(word, "close")) {
			add_action(r, OP_CLOSE, file, line);
		} else if (!strcmp(word, "reset")) {
			add_action(r, OP_RESET, file, line);
		} else if (!strcmp(word, "hold")) {
			add_action(r, OP_HOLD, file, line);
		} else {
			die("%s:%d: unknown directive '%s'", file, line, word);
		}
	}
	free(text);
	fclose(f);
	if (!nr_rules)
		die("script '%s' has no 'match' rule", file);

	/* The implicit drain before the first action. */
	for (size_t i = 0; i < nr_rules; i++) {
		r = &rules[i];
		if (r->nodrain || r->has_drain)
			continue;
		r->actions = xrealloc(r->actions,
				      (r->nr + 1) * sizeof(*r->actions));
		memmove(r->actions + 1, r->actions,
			r->nr * sizeof(*r->actions));
		memset(r->actions, 0, sizeof(*r->actions));
		r->actions[0].op = OP_DRAIN;
		r->nr++;
		r->has_drain = 1;
	}
}

/* --- one connection --------------------------------------------------- */

static void conn_gone(const char *what)
{
	log_line("  client went away (%s)", what);
	_exit(0);
}

static void write_all(struct conn *c, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(c->fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			conn_gone(strerror(errno));
		p += w;
		n -= w;
	}
}

/* Reads more into the buffer; 0 at end of stream. */
static size_t conn_fill(struct conn *c)
{
	ssize_t n;

	if (c->off && c->off == c->len)
		c->off = c->len = 0;
	if (c->len == sizeof(c->buf)) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	if (c->len == sizeof(c->buf))
		return 0; /* a line longer than the buffer: treat as the end */
	do
		n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return 0;
	c->len += n;
	return n;
}

/* Copies one CRLF- or LF-terminated line (without it) into out; -1 at EOF. */
static int read_line(struct conn *c, char *out, size_t size)
{
	for (;;) {
		char *nl = memchr(c->buf + c->off, '\n', c->len - c->off);

		if (nl) {
			size_t n = nl - (c->buf + c->off);

			if (n && nl[-1] == '\r')
				n--;
			if (n >= size)
				n = size - 1;
			memcpy(out, c->buf + c->off, n);
			out[n] = '\0';
			c->off = nl + 1 - c->buf;
			return 0;
		}
		if (!conn_fill(c))
			return -1;
	}
}

static int skip_bytes(struct conn *c, unsigned long long n)
{
	while (n) {
		size_t have = c->len - c->off;

		if (!have) {
			if (!conn_fill(c))
				return -1;
			continue;
		}
		if (have > n)
			have = n;
		c->off += have;
		n -= have;
	}
	return 0;
}

static int is_header(const char *line, const char *name, const char **value)
{
	size_t n = strlen(name);

	if (strncasecmp(line, name, n) || line[n] != ':')
		return 0;
	*value = line + n + 1;
	*value += strspn(*value, " \t");
	return 1;
}

static void log_append(struct request *rq, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void log_append(struct request *rq, const char *fmt, ...)
{
	size_t used = strlen(rq->log);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rq->log + used, sizeof(rq->log) - used, fmt, ap);
	va_end(ap);
}

/* Reads a request's line and headers; -1 when the client is done. */
static int read_request(struct conn *c, struct request *rq)
{
	static const char *const shown[] = {
		"Content-Type", "Content-Length", "Transfer-Encoding",
		"Expect", "Connection", "User-Agent",
	};
	static const char *const secret[] = {
		"X-Registry-Auth", "X-Registry-Config", "Authorization",
		"Proxy-Authorization",
	};
	char line[8192], *sp;
	const char *v;

	memset(rq, 0, sizeof(*rq));
	rq->content_length = -1;
	do {
		if (read_line(c, line, sizeof(line)) < 0)
			return -1;
	} while (!*line); /* tolerate stray CRLF between requests */

	/* "METHOD TARGET HTTP/1.1" -> "METHOD TARGET" */
	sp = strrchr(line, ' ');
	if (sp && sp != strchr(line, ' ')) {
		if (!strcasecmp(sp + 1, "HTTP/1.0"))
			rq->want_close = 1;
		*sp = '\0';
	}
	snprintf(rq->line, sizeof(rq->line), "%.4000s", line);
	snprintf(rq->log, sizeof(rq->log), "%.4000s", line);

	for (;;) {
		if (read_line(c, line, sizeof(line)) < 0)
			return -1;
		if (!*line)
			break;
		for (size_t i = 0; i < sizeof(secret) / sizeof(*secret); i++)
			if (is_header(line, secret[i], &v))
				log_append(rq, " | %.*s: <redacted>",
					   (int)strlen(secret[i]), line);
		for (size_t i = 0; i < sizeof(shown) / sizeof(*shown); i++)
			if (is_header(line, shown[i], &v))
				log_append(rq, " | %s", line);
		if (is_header(line, "Content-Length", &v)) {
			char *end;

			errno = 0;
			rq->content_length = strtoll(v, &end, 10);
			if (errno || end == v || rq->content_length < 0)
				rq->content_length = -1;
		} else if (is_header(line, "Transfer-Encoding", &v)) {
			if (strcasestr(v, "chunked"))
				rq->chunked = 1;
		} else if (is_header(line, "Expect", &v)) {
			if (!strcasecmp(v, "100-continue"))
				rq->expect_continue = 1;
		} else if (is_header(line, "Connection", &v)) {
			if (strcasestr(v, "close"))
				rq->want_close = 1;
		}
	}
	return 0;
}

static void drain_body(struct conn *c, struct request *rq)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	unsigned long long total = 0;
	char line[1024];

	if (rq->drained)
		return;
	rq->drained = 1;
	if (!rq->chunked && rq->content_length <= 0)
		return;
	if (rq->expect_continue && !rq->sent)
		write_all(c, cont, sizeof(cont) - 1);
	if (!rq->chunked) {
		if (skip_bytes(c, rq->content_length) < 0)
			conn_gone("end of stream inside the body");
		total = rq->content_length;
	} else {
		for (;;) {
			unsigned long long n;
			char *end;

			if (read_line(c, line, sizeof(line)) < 0)
				conn_gone("end of stream inside a chunk");
			errno = 0;
			n = strtoull(line, &end, 16);
			if (errno || end == line)
				conn_gone("bad chunk size");
			if (!n)
				break;
			if (skip_bytes(c, n) < 0 ||
			    read_line(c, line, sizeof(line)) < 0)
				conn_gone("end of stream inside a chunk");
			total += n;
		}
		do /* trailers, up to the empty line */
			if (read_line(c, line, sizeof(line)) < 0)
				conn_gone("end of stream in the trailers");
		while (*line);
	}
	log_line("  body %llu bytes", total);
}

/* Reads and drops whatever arrives until the client closes. */
static void discard_until_eof(struct conn *c, int timeout_ms)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };

	for (;;) {
		if (timeout_ms >= 0 && poll(&p, 1, timeout_ms) <= 0)
			return;
		c->off = c->len = 0;
		if (!conn_fill(c))
			return;
	}
}

static void sleep_for(double seconds)
{
	struct timespec ts;

	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void end_clean(struct conn *c)
{
	/*
	 * A close() with unread input sends a reset, not a FIN: shut our
	 * side, then read until the client has seen the end and closed.
	 */
	shutdown(c->fd, SHUT_WR);
	discard_until_eof(c, 2000);
	close(c->fd);
	_exit(0);
}

static void run_action(struct conn *c, struct request *rq,
		       const struct action *a)
{
	char head[32];
	int n;

	switch (a->op) {
	case OP_SEND:
		write_all(c, a->text, a->len);
		rq->sent = 1;
		break;
	case OP_CHUNK1:
		for (size_t i = 0; i < a->len; i++) {
			write_all(c, a->text + i, 1);
			sleep_for(0.001);
		}
		rq->sent = 1;
		break;
	case OP_CHUNKED:
		n = snprintf(head, sizeof(head), "%zx\r\n", a->len);
		write_all(c, head, n);
		write_all(c, a->text, a->len);
		write_all(c, "\r\n", 2);
		rq->sent = 1;
		break;
	case OP_CHUNKED_END:
		write_all(c, "0\r\n\r\n", 5);
		rq->sent = 1;
		break;
	case OP_SLEEP:
		sleep_for(a->seconds);
		break;
	case OP_DRAIN:
		drain_body(c, rq);
		break;
	case OP_CLOSE:
		end_clean(c);
		break;
	case OP_RESET: {
		struct linger l = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		close(c->fd);
		_exit(0);
	}
	case OP_HOLD:
		discard_until_eof(c, -1);
		_exit(0);
	}
}

/* "POST /v1.41/build" -> "POST /build": rules need not name the version. */
static void strip_version(const char *line, char *out, size_t size)
{
	const char *sp = strchr(line, ' '), *p;

	snprintf(out, size, "%s", line);
	if (!sp || sp[1] != '/' || sp[2] != 'v')
		return;
	p = sp + 3 + strspn(sp + 3, "0123456789");
	if (p == sp + 3 || *p != '.')
		return;
	p += 1 + strspn(p + 1, "0123456789");
	if (*p != '/')
		return;
	snprintf(out, size, "%.*s%s", (int)(sp + 1 - line), line, p);
}

static const struct rule *find_rule(const char *line)
{
	char bare[4096];

	strip_version(line, bare, sizeof(bare));
	for (size_t i = 0; i < nr_rules; i++) {
		if (!strstr(line, rules[i].match) &&
		    !strstr(bare, rules[i].match))
			continue;
		if (rules[i].limit &&
		    atomic_fetch_add(&uses[i], 1) >= rules[i].limit)
			continue;
		return &rules[i];
	}
	return NULL;
}

static void serve(int fd)
{
	static struct conn c;
	struct request rq;

	c.fd = fd;
	while (read_request(&c, &rq) == 0) {
		const struct rule *r = find_rule(rq.line);

		if (!r) {
			char body[4200], head[256];
			int bn, hn;

			log_line("%s => no rule", rq.log);
			drain_body(&c, &rq);
			bn = snprintf(body, sizeof(body),
				      "{\"message\":\"fake-engine: no rule "
				      "for %.4000s\"}\n", rq.line);
			if (bn >= (int)sizeof(body))
				bn = sizeof(body) - 1;
			hn = snprintf(head, sizeof(head),
				      "HTTP/1.1 404 Not Found\r\n"
				      "Content-Type: application/json\r\n"
				      "Content-Length: %d\r\n\r\n", bn);
			write_all(&c, head, hn);
			write_all(&c, body, bn);
		} else {
			log_line("%s => line %d", rq.log, r->line);
			for (size_t i = 0; i < r->nr; i++)
				run_action(&c, &rq, &r->actions[i]);
			if (r->nodrain)
				end_clean(&c);
		}
		if (rq.want_close)
			end_clean(&c);
	}
	close(fd);
}

/* --- the server ------------------------------------------------------- */

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

static void set_sun_path(struct sockaddr_un *sa, const char *path,
			 const char *suffix)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if ((size_t)snprintf(sa->sun_path, sizeof(sa->sun_path), "%s%s", path,
			     suffix) >= sizeof(sa->sun_path))
		die("socket path '%s' is too long: use a shorter directory",
		    path);
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa, tmp;
	struct sigaction act;
	char log_path[4200];
	pid_t parent = getpid();
	int lfd;

	if (argc != 3) {
		fputs("usage: fake-engine SOCKET_PATH SCRIPT_FILE\n", stderr);
		return 2;
	}
	load_script(argv[2]);

	uses = mmap(NULL, nr_rules * sizeof(*uses), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (uses == MAP_FAILED)
		die("cannot map shared memory: %s", strerror(errno));
	for (size_t i = 0; i < nr_rules; i++)
		atomic_init(&uses[i], 0);

	snprintf(log_path, sizeof(log_path), "%s.log", argv[1]);
	log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	if (log_fd < 0)
		die("cannot open '%s': %s", log_path, strerror(errno));

	memset(&act, 0, sizeof(act));
	act.sa_handler = on_stop; /* no SA_RESTART: accept() must return */
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_IGN); /* children are reaped by the kernel */

	/* Listen on a temporary name, then rename: no refused connections. */
	set_sun_path(&sa, argv[1], "");
	set_sun_path(&tmp, argv[1], ".tmp");
	unlink(tmp.sun_path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&tmp, sizeof(tmp)) < 0 ||
	    listen(lfd, 64) < 0 || rename(tmp.sun_path, sa.sun_path) < 0)
		die("cannot listen on '%s': %s", argv[1], strerror(errno));

	while (!stopping) {
		int fd = accept(lfd, NULL, NULL);
		pid_t pid;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			die("accept on '%s' failed: %s", argv[1],
			    strerror(errno));
		}
		pid = fork();
		if (pid < 0) {
			close(fd);
			continue;
		}
		if (pid == 0) {
			close(lfd);
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			/* A child must not outlive the server. */
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			if (getppid() != parent)
				_exit(0);
			serve(fd);
			_exit(0);
		}
		close(fd);
	}
	unlink(sa.sun_path);
	return 0;
}
