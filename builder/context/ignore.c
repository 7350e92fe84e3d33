/*
 * .dockerignore: reading the file, compiling its patterns, matching paths.
 *
 * The docker CLI's chain is ignorefile.ReadAll (lines -> cleaned patterns),
 * patternmatcher.New (validation with Go's filepath.Match), Pattern.compile
 * (a textual rewrite into a Go regular expression, or a plain exact, prefix
 * or suffix comparison) and go-archive's walk. Each step is redone here in
 * the same order, because their quirks compose: a pattern is cleaned twice,
 * the rewrite leaves '[...]' and '\' escapes to Go's regexp syntax, and the
 * walk's rescue of excluded directories is a string prefix test.
 *
 * The regular expression is compiled and run by goregex.c, which parses
 * Go's syntax and never backtracks, so matching costs O(path x pattern) at
 * worst. Like Go, paths and patterns are read as UTF-8 with each invalid
 * byte standing for U+FFFD.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "context/goregex.h"
#include "context/ignore.h"
#include "util/xmalloc.h"
#include "util/banned.h"

#define BOM_RUNE 0xFEFFu

/* A bound on the compiled size of a whole list, so memory stays modest;
 * goregex bounds each pattern (GOREGEX_MAX_SIZE; Go's own limit is about
 * three million instructions). */
#define PROG_TOTAL_MAX (4u << 20)

/* bufio.Scanner's default token limit, which ReadAll does not raise. */
#define LINE_MAX_BYTES (64 * 1024)

enum match_kind { MATCH_EXACT, MATCH_PREFIX, MATCH_SUFFIX, MATCH_REGEXP };

struct pattern {
	char *text; /* the cleaned pattern, '!' removed */
	size_t len;
	int exclusion;
	enum match_kind kind;
	struct goregex re; /* MATCH_REGEXP only */
};

struct ignore {
	struct pattern *v;
	size_t n, alloc;
	int exclusions;
	size_t max_prog, total_prog;
};

/* ---- UTF-8 and whitespace, as Go's unicode/utf8 and strings do it ---- */

static int encode_rune(struct buf *b, uint32_t r)
{
	char s[4];

	if (r < 0x80)
		return buf_addch(b, (char)r);
	if (r < 0x800) {
		s[0] = (char)(0xC0 | (r >> 6));
		s[1] = (char)(0x80 | (r & 0x3F));
		return buf_add(b, s, 2);
	}
	if (r < 0x10000) {
		s[0] = (char)(0xE0 | (r >> 12));
		s[1] = (char)(0x80 | ((r >> 6) & 0x3F));
		s[2] = (char)(0x80 | (r & 0x3F));
		return buf_add(b, s, 3);
	}
	s[0] = (char)(0xF0 | (r >> 18));
	s[1] = (char)(0x80 | ((r >> 12) & 0x3F));
	s[2] = (char)(0x80 | ((r >> 6) & 0x3F));
	s[3] = (char)(0x80 | (r & 0x3F));
	return buf_add(b, s, 4);
}

/* unicode.IsSpace */
static int is_space_rune(uint32_t r)
{
	switch (r) {
	case '\t':
	case '\n':
	case '\v':
	case '\f':
	case '\r':
	case ' ':
	case 0x85:
	case 0xA0:
	case 0x1680:
	case 0x2028:
	case 0x2029:
	case 0x202F:
	case 0x205F:
	case 0x3000:
		return 1;
	}
	return r >= 0x2000 && r <= 0x200A;
}

/* strings.TrimSpace on s[*start, *end). */
static void trim_space(const char *s, size_t *start, size_t *end)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t w;

	while (*start < *end) {
		uint32_t r = goregex_decode_rune(u + *start, *end - *start, &w);

		if (!is_space_rune(r))
			break;
		*start += w;
	}
	while (*end > *start) {
		/* The last rune starts at the nearest non-continuation byte. */
		size_t b = *end - 1, lim = *end >= 4 ? *end - 4 : 0;
		uint32_t r;

		while (b > lim && b > *start && (u[b] & 0xC0) == 0x80)
			b--;
		r = goregex_decode_rune(u + b, *end - b, &w);
		if (b + w != *end || !is_space_rune(r))
			break;
		*end = b;
	}
}

/* ---- filepath.Clean (Unix) ---- */

static void clean_path(struct buf *out, const char *p, size_t n)
{
	int rooted = n > 0 && p[0] == '/';
	size_t r = 0, dotdot = 0;

	buf_reset(out);
	if (n == 0) {
		buf_addch(out, '.');
		return;
	}
	if (rooted) {
		buf_addch(out, '/');
		r = dotdot = 1;
	}
	while (r < n) {
		if (p[r] == '/') {
			r++;
		} else if (p[r] == '.' && (r + 1 == n || p[r + 1] == '/')) {
			r++;
		} else if (p[r] == '.' && p[r + 1] == '.' &&
			   (r + 2 == n || p[r + 2] == '/')) {
			r += 2;
			if (out->len > dotdot) {
				out->len--;
				while (out->len > dotdot &&
				       out->data[out->len] != '/')
					out->len--;
				out->data[out->len] = '\0';
			} else if (!rooted) {
				if (out->len > 0)
					buf_addch(out, '/');
				buf_add(out, "..", 2);
				dotdot = out->len;
			}
		} else {
			if ((rooted && out->len != 1) || (!rooted && out->len))
				buf_addch(out, '/');
			for (; r < n && p[r] != '/'; r++)
				buf_addch(out, p[r]);
		}
	}
	if (out->len == 0)
		buf_addch(out, '.');
}

/* ---- filepath.Match's syntax check, which patternmatcher.New runs ---- */

/* getEsc: one (possibly escaped) character of a '[...]' range. */
static const char *match_class_char(const unsigned char *c, size_t n, size_t *i)
{
	size_t w;

	if (*i >= n)
		return "a '[' class has no closing ']'";
	if (c[*i] == '-' || c[*i] == ']')
		return "a '[' class has a '-' or ']' where a character belongs "
		       "(escape it with '\\')";
	if (c[*i] == '\\' && ++*i >= n)
		return "a '[' class has no closing ']'";
	if (goregex_decode_rune(c + *i, n - *i, &w) == GOREGEX_RUNE_ERROR &&
	    w == 1)
		return "a '[' class holds bytes that are not UTF-8";
	*i += w;
	if (*i >= n)
		return "a '[' class has no closing ']'";
	return NULL;
}

/* matchChunk's parse of one chunk; the text matched does not change it. */
static const char *match_check_chunk(const unsigned char *c, size_t n)
{
	const char *why;
	size_t i = 0, nrange;

	while (i < n) {
		if (c[i] == '[') {
			i++;
			if (i < n && c[i] == '^')
				i++;
			for (nrange = 0;; nrange++) {
				if (i < n && c[i] == ']' && nrange > 0) {
					i++;
					break;
				}
				if ((why = match_class_char(c, n, &i)))
					return why;
				if (c[i] == '-') {
					i++;
					if ((why = match_class_char(c, n, &i)))
						return why;
				}
			}
		} else if (c[i] == '\\') {
			if (++i >= n)
				return "it ends with a lone '\\'";
			i++;
		} else {
			i++;
		}
	}
	return NULL;
}

/* The whole pattern: split into chunks at '*' (scanChunk), check each. */
static const char *match_check(const char *pat, size_t n)
{
	const unsigned char *p = (const unsigned char *)pat;
	size_t i = 0;

	while (i < n) {
		size_t start;
		int inrange = 0;
		const char *why;

		while (i < n && p[i] == '*')
			i++;
		for (start = i; i < n; i++) {
			if (p[i] == '\\') {
				if (i + 1 < n)
					i++;
			} else if (p[i] == '[') {
				inrange = 1;
			} else if (p[i] == ']') {
				inrange = 0;
			} else if (p[i] == '*' && !inrange) {
				break;
			}
		}
		if ((why = match_check_chunk(p + start, i - start)))
			return why;
	}
	return NULL;
}

/* ---- Pattern.compile: the rewrite into a regular expression ---- */

struct scan {
	const unsigned char *s;
	size_t n, pos;
};

/* text/scanner's Peek and Next: runes, -1 at the end. */
static int64_t scan_peek(const struct scan *sc, size_t *w)
{
	if (sc->pos >= sc->n) {
		*w = 0;
		return -1;
	}
	return goregex_decode_rune(sc->s + sc->pos, sc->n - sc->pos, w);
}

static int64_t scan_next(struct scan *sc)
{
	size_t w;
	int64_t r = scan_peek(sc, &w);

	sc->pos += w;
	return r;
}

static enum match_kind rewrite(const char *pat, size_t n, struct buf *re)
{
	struct scan sc = { (const unsigned char *)pat, n, 0 };
	enum match_kind kind = MATCH_EXACT;
	size_t w;
	int i;

	buf_reset(re);
	buf_addch(re, '^');
	/* text/scanner skips a BOM that is the very first character. */
	if (scan_peek(&sc, &w) == BOM_RUNE)
		sc.pos += w;
	for (i = 0; sc.pos < sc.n; i++) {
		int64_t ch = scan_next(&sc);

		if (ch == '*' && scan_peek(&sc, &w) == '*') {
			scan_next(&sc);
			if (scan_peek(&sc, &w) == '/')
				scan_next(&sc);
			if (sc.pos >= sc.n) {
				if (kind == MATCH_EXACT) {
					kind = MATCH_PREFIX;
				} else {
					buf_addstr(re, ".*");
					kind = MATCH_REGEXP;
				}
			} else {
				buf_addstr(re, "(.*/)?");
				kind = MATCH_REGEXP;
			}
			if (i == 0)
				kind = MATCH_SUFFIX;
		} else if (ch == '*') {
			buf_addstr(re, "[^/]*");
			kind = MATCH_REGEXP;
		} else if (ch == '?') {
			buf_addstr(re, "[^/]");
			kind = MATCH_REGEXP;
		} else if (ch && ch < 0x80 && strchr(".+()$", (int)ch)) {
			/* patternmatcher means to escape ".+()|{}$", but its
			 * 8-byte bitmap holds only characters below 64: '|',
			 * '{' and '}' reach the regexp unescaped. */
			buf_addch(re, '\\');
			buf_addch(re, (char)ch);
		} else if (ch == '\\') {
			buf_addch(re, '\\');
			if (sc.pos < sc.n) {
				encode_rune(re, (uint32_t)scan_next(&sc));
				kind = MATCH_REGEXP;
			}
		} else if (ch == '[' || ch == ']') {
			buf_addch(re, (char)ch);
			kind = MATCH_REGEXP;
		} else {
			encode_rune(re, (uint32_t)ch);
		}
	}
	if (kind == MATCH_REGEXP)
		buf_addch(re, '$');
	return kind;
}

/* ---- patterns ---- */

static int pattern_matches(const struct pattern *pt, struct goregex_sim *s,
			   const char *path, size_t n)
{
	const char *suf;
	size_t len;

	switch (pt->kind) {
	case MATCH_EXACT:
		return n == pt->len && !memcmp(path, pt->text, n);
	case MATCH_PREFIX:
		len = pt->len - 2;
		return n >= len && !memcmp(path, pt->text, len);
	case MATCH_SUFFIX:
		suf = pt->text + 2;
		len = pt->len - 2;
		if (n >= len && !memcmp(path + n - len, suf, len))
			return 1;
		/* "**" "/foo" also matches "foo" itself. */
		return suf[0] == '/' && n == len - 1 &&
		       !memcmp(path, suf + 1, n);
	case MATCH_REGEXP:
		return goregex_match(&pt->re, s, path, n);
	}
	return 0;
}

/* The pattern, or one of the parent directories of path, matches. */
static int pattern_matches_or_parent(const struct pattern *pt,
				     struct goregex_sim *s, const char *path,
				     size_t n)
{
	const char *slash, *p;

	if (pt->kind == MATCH_REGEXP)
		return goregex_match_or_parent(&pt->re, s, path, n);
	if (pattern_matches(pt, s, path, n))
		return 1;
	/* filepath.Dir(path) is "." without a '/': no parents to try. */
	slash = memrchr(path, '/', n);
	if (!slash)
		return 0;
	for (p = path; p <= slash; p++)
		if (*p == '/' &&
		    pattern_matches(pt, s, path, (size_t)(p - path)))
			return 1;
	return 0;
}

/* The last steps of patternmatcher.New for one pattern; NULL or why not. */
static const char *pattern_add(struct ignore *ig, const char *raw, size_t n)
{
	struct buf clean = BUF_INIT(BUF_TEXT_MAX), re = BUF_INIT(BUF_TEXT_MAX);
	struct pattern pt;
	const char *why = NULL, *p;
	size_t start = 0, end = n, len, size;

	memset(&pt, 0, sizeof(pt));
	trim_space(raw, &start, &end);
	if (start == end)
		return NULL;
	clean_path(&clean, raw + start, end - start);
	p = clean.data;
	len = clean.len;
	if (p[0] == '!') {
		if (len == 1) {
			why = "an exception needs a path after the '!'";
			goto out;
		}
		pt.exclusion = 1;
		p++;
		len--;
	}
	if ((why = match_check(p, len)))
		goto out;
	pt.kind = rewrite(p, len, &re);
	if (pt.kind == MATCH_REGEXP &&
	    goregex_compile(&pt.re, re.data, re.len, &why) < 0)
		goto out;
	size = goregex_size(&pt.re);
	if (size > PROG_TOTAL_MAX - ig->total_prog) {
		goregex_release(&pt.re);
		why = "the patterns are too large once compiled";
		goto out;
	}
	ig->total_prog += size;
	pt.text = xstrndup(p, len);
	pt.len = len;
	ALLOC_GROW(ig->v, ig->n + 1, ig->alloc);
	ig->v[ig->n++] = pt;
	if (pt.exclusion)
		ig->exclusions = 1;
	if (size > ig->max_prog)
		ig->max_prog = size;
out:
	buf_release(&clean);
	buf_release(&re);
	return why;
}

/* ---- the public functions ---- */

static void pattern_release(struct pattern *pt)
{
	free(pt->text);
	goregex_release(&pt->re);
}

void ignore_free(struct ignore *ig)
{
	size_t i;

	if (!ig)
		return;
	for (i = 0; i < ig->n; i++)
		pattern_release(&ig->v[i]);
	free(ig->v);
	free(ig);
}

/* One line as ignorefile.ReadAll leaves it, then handed to New. */
static const char *parse_line(struct ignore *ig, const char *line, size_t n)
{
	struct buf clean = BUF_INIT(BUF_TEXT_MAX), pat = BUF_INIT(BUF_TEXT_MAX);
	size_t start = 0, end = n;
	const char *why;
	int invert;

	if (n && line[0] == '#')
		return NULL;
	trim_space(line, &start, &end);
	if (start == end)
		return NULL;
	invert = line[start] == '!';
	if (invert) {
		start++;
		trim_space(line, &start, &end);
		buf_addch(&pat, '!');
	}
	if (start < end) {
		clean_path(&clean, line + start, end - start);
		if (clean.len > 1 && clean.data[0] == '/')
			buf_add(&pat, clean.data + 1, clean.len - 1);
		else
			buf_add(&pat, clean.data, clean.len);
	}
	why = pattern_add(ig, pat.data, pat.len);
	buf_release(&clean);
	buf_release(&pat);
	return why;
}

int ignore_parse(struct ignore **out, const char *text, size_t len,
		 const char *source_name, struct error *err)
{
	struct ignore *ig = xcalloc(1, sizeof(*ig));
	size_t pos = 0;
	unsigned lineno = 0;

	*out = NULL;
	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		const char *why;

		lineno++;
		if (n >= LINE_MAX_BYTES) {
			ignore_free(ig);
			return err_set(err, EXIT_USAGE,
				       "line %u of '%s' is 64 KiB or longer, "
				       "which docker cannot read either; "
				       "shorten it",
				       lineno, source_name);
		}
		pos += n + (nl ? 1 : 0);
		if (n && line[n - 1] == '\r')
			n--;
		if (lineno == 1 && n >= 3 && !memcmp(line, "\xEF\xBB\xBF", 3)) {
			line += 3;
			n -= 3;
		}
		if ((why = parse_line(ig, line, n))) {
			size_t s = 0, e = n;

			trim_space(line, &s, &e);
			ignore_free(ig);
			return err_set(err, EXIT_USAGE,
				       "invalid pattern '%.*s' on line %u of "
				       "'%s': %s; fix or remove the line",
				       (int)(e - s > 200 ? 200 : e - s),
				       line + s, lineno, source_name, why);
		}
	}
	*out = ig;
	return 0;
}

int ignore_load(struct ignore **out, const char *path, struct error *err)
{
	struct buf b = BUF_INIT(IGNORE_FILE_MAX);
	int ret = -1;

	*out = NULL;
	if (buf_read_file(&b, path, IGNORE_FILE_MAX) < 0) {
		if (errno == ENOENT)
			ret = ignore_parse(out, "", 0, path, err);
		else if (errno == EFBIG)
			err_set(err, EXIT_USAGE,
				"'%s' is larger than %u MiB; shorten it", path,
				IGNORE_FILE_MAX >> 20);
		else
			err_set(err, EXIT_USAGE, "cannot read '%s': %s", path,
				strerror(errno));
		goto out;
	}
	ret = ignore_parse(out, b.data ? b.data : "", b.len, path, err);
out:
	buf_release(&b);
	return ret;
}

void ignore_add_exception(struct ignore *ig, const char *pattern)
{
	struct buf pat = BUF_INIT(BUF_TEXT_MAX);
	struct pattern pt;

	if (!ig)
		return;
	buf_addch(&pat, '!');
	buf_addstr(&pat, pattern);
	if (pattern_add(ig, pat.data, pat.len) && pattern[0]) {
		/* Docker would fail the build; sending the file is kinder. */
		memset(&pt, 0, sizeof(pt));
		pt.text = xstrdup(pattern);
		pt.len = strlen(pattern);
		pt.exclusion = 1;
		pt.kind = MATCH_EXACT;
		ALLOC_GROW(ig->v, ig->n + 1, ig->alloc);
		ig->v[ig->n++] = pt;
		ig->exclusions = 1;
	}
	buf_release(&pat);
}

static int is_root(const char *relpath)
{
	return !relpath[0] || !strcmp(relpath, ".");
}

int ignore_excluded(const struct ignore *ig, const char *relpath)
{
	struct goregex_sim s;
	size_t i, n;
	int matched = 0;

	if (!ig || !ig->n || is_root(relpath))
		return 0;
	n = strlen(relpath);
	goregex_sim_init(&s, ig->max_prog);
	for (i = 0; i < ig->n; i++) {
		const struct pattern *pt = &ig->v[i];

		if (pt->exclusion != matched)
			continue;
		if (pattern_matches_or_parent(pt, &s, relpath, n))
			matched = !pt->exclusion;
	}
	goregex_sim_release(&s);
	return matched;
}

int ignore_excluded_walk(const struct ignore *ig, const char *relpath,
			 const unsigned char *parent_hits, unsigned char *hits)
{
	struct goregex_sim s;
	size_t i, n;
	int matched = 0;

	if (!ig || !ig->n)
		return 0;
	if (hits)
		memset(hits, 0, ig->n);
	if (is_root(relpath))
		return 0;
	n = strlen(relpath);
	goregex_sim_init(&s, ig->max_prog);
	for (i = 0; i < ig->n; i++) {
		const struct pattern *pt = &ig->v[i];
		int m = parent_hits ? parent_hits[i] : 0;

		if (!m) {
			if (pt->exclusion != matched)
				continue;
			/* Without the parent's results, try the parents. */
			m = parent_hits ? pattern_matches(pt, &s, relpath, n)
					: pattern_matches_or_parent(pt, &s,
								    relpath, n);
		}
		if (hits)
			hits[i] = (unsigned char)m;
		if (m)
			matched = !pt->exclusion;
	}
	goregex_sim_release(&s);
	return matched;
}

int ignore_walk_excluded_dir(const struct ignore *ig, const char *reldir)
{
	size_t i, n;

	if (!ig || !ig->exclusions)
		return 0;
	n = strlen(reldir);
	for (i = 0; i < ig->n; i++) {
		const struct pattern *pt = &ig->v[i];

		/* (pattern + "/") starts with (reldir + "/") */
		if (pt->exclusion && pt->len >= n &&
		    !memcmp(pt->text, reldir, n) &&
		    (pt->len == n || pt->text[n] == '/'))
			return 1;
	}
	return 0;
}

int ignore_has_exceptions(const struct ignore *ig)
{
	return ig && ig->exclusions;
}

size_t ignore_count(const struct ignore *ig)
{
	return ig ? ig->n : 0;
}
