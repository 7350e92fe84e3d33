/*
 * Compose variable interpolation (see interp.h): a small recursive scanner,
 * because defaults nest ("${A:-${B}}") and are evaluated only when used,
 * so that an unused "${X:?...}" inside a default never fails.
 */
#include <stdlib.h>
#include <string.h>

#include "compose/interp.h"
#include "util/buf.h"
#include "util/banned.h"

/* A value can grow by lookups; a compose value larger than this is not a
 * compose value. */
#define INTERP_MAX (1024u * 1024)

struct scan {
	const char *s;
	size_t pos;
	compose_lookup_fn lookup;
	void *ctx;
	struct strlist *unset;
	struct error *err;
};

static int is_name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

static int too_long(struct scan *sc)
{
	return err_set(sc->err, EXIT_USAGE,
		       "the interpolated value is longer than %u bytes",
		       INTERP_MAX);
}

static int invalid(struct scan *sc)
{
	return err_set(sc->err, EXIT_USAGE,
		       "invalid interpolation format in \"%s\": write '$$' "
		       "for a literal '$'",
		       sc->s);
}

static int expand(struct scan *sc, int nested, int eval, struct buf *out);

/* Reads name at sc->pos into *name (a slice of sc->s). */
static size_t read_name(struct scan *sc)
{
	size_t start = sc->pos;

	if (!is_name_start(sc->s[sc->pos]))
		return 0;
	while (is_name_char(sc->s[sc->pos]))
		sc->pos++;
	return sc->pos - start;
}

static void note_unset(struct scan *sc, const char *name)
{
	if (sc->unset && !strlist_has(sc->unset, name))
		strlist_push(sc->unset, name);
}

/* ${...}, with sc->pos just after "${". */
static int braced(struct scan *sc, int eval, struct buf *out)
{
	size_t start = sc->pos, len = read_name(sc);
	char name[256];
	const char *val = NULL;
	char op[3] = { 0 };
	struct buf word = BUF_INIT(BUF_TEXT_MAX);
	int use_word = 0, ret = -1;

	if (!len || len >= sizeof(name))
		return invalid(sc);
	memcpy(name, sc->s + start, len);
	name[len] = '\0';
	if (sc->s[sc->pos] == '}') {
		sc->pos++;
		if (!eval)
			return 0;
		val = sc->lookup(name, sc->ctx);
		if (!val)
			note_unset(sc, name);
		if (val && buf_addstr(out, val) < 0)
			return too_long(sc);
		return 0;
	}
	if (sc->s[sc->pos] == ':')
		op[0] = sc->s[sc->pos++];
	if (sc->s[sc->pos] != '-' && sc->s[sc->pos] != '?' &&
	    sc->s[sc->pos] != '+')
		return invalid(sc);
	op[op[0] ? 1 : 0] = sc->s[sc->pos++];

	if (eval)
		val = sc->lookup(name, sc->ctx);
	/* Which branch applies decides whether the word is evaluated. */
	{
		int colon = op[0] == ':';
		char kind = op[colon];
		int set = val != NULL, empty = !val || !val[0];
		int missing = colon ? empty : !set;

		if (kind == '+')
			use_word = !missing;
		else
			use_word = missing;
		buf_init(&word, INTERP_MAX);
		if (expand(sc, 1, eval && use_word, &word) < 0)
			goto out;
		if (!eval) {
			ret = 0;
			goto out;
		}
		if (kind == '?' && missing) {
			err_set(sc->err, EXIT_USAGE,
				"required variable '%s' is missing a value%s%s",
				name, word.len ? ": " : "", buf_str(&word));
			goto out;
		}
		if (use_word && kind != '?') {
			if (buf_addstr(out, buf_str(&word)) < 0) {
				too_long(sc);
				goto out;
			}
		} else if (kind == '+') {
			/* set-but-unwanted: nothing */
		} else if (val && buf_addstr(out, val) < 0) {
			too_long(sc);
			goto out;
		}
	}
	ret = 0;
out:
	buf_release(&word);
	return ret;
}

/* Expands until the end of the string, or, when nested, until the '}'
 * closing the current "${" (consumed). */
static int expand(struct scan *sc, int nested, int eval, struct buf *out)
{
	for (;;) {
		char c = sc->s[sc->pos];

		if (c == '\0') {
			if (nested)
				return err_set(
					sc->err, EXIT_USAGE,
					"invalid interpolation format in "
					"\"%s\": '${' is not closed",
					sc->s);
			return 0;
		}
		if (nested && c == '}') {
			sc->pos++;
			return 0;
		}
		if (c != '$') {
			if (eval && buf_addch(out, c) < 0)
				return too_long(sc);
			sc->pos++;
			continue;
		}
		sc->pos++;
		c = sc->s[sc->pos];
		if (c == '$') {
			sc->pos++;
			if (eval && buf_addch(out, '$') < 0)
				return too_long(sc);
		} else if (c == '{') {
			sc->pos++;
			if (braced(sc, eval, out) < 0)
				return -1;
		} else if (is_name_start(c)) {
			size_t start = sc->pos, len = read_name(sc);
			char name[256];
			const char *val;

			if (len >= sizeof(name))
				return invalid(sc);
			if (!eval)
				continue;
			memcpy(name, sc->s + start, len);
			name[len] = '\0';
			val = sc->lookup(name, sc->ctx);
			if (!val)
				note_unset(sc, name);
			else if (buf_addstr(out, val) < 0)
				return too_long(sc);
		} else {
			return invalid(sc);
		}
	}
}

int interp_string(const char *in, compose_lookup_fn lookup, void *ctx,
		  char **out, struct strlist *unset, struct error *err)
{
	struct scan sc = { in, 0, lookup, ctx, unset, err };
	struct buf b = BUF_INIT(BUF_TEXT_MAX);

	*out = NULL;
	buf_init(&b, INTERP_MAX);
	if (!strchr(in, '$')) {
		if (buf_addstr(&b, in) < 0) {
			buf_release(&b);
			return too_long(&sc);
		}
	} else if (expand(&sc, 0, 1, &b) < 0) {
		buf_release(&b);
		return -1;
	}
	*out = buf_detach(&b);
	return 0;
}
