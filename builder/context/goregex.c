/*
 * goregex: Go's regexp syntax, the subset docker's .dockerignore rewrite
 * produces, compiled into a Thompson automaton and run as a set of states
 * over the text's runes. There is no backtracking: a match costs
 * O(text x program) at worst, whatever the pattern. The parser follows
 * Go's regexp/syntax (parse.go) closely enough to accept and reject what
 * docker's rewrite can produce as Go does, so that a .dockerignore docker
 * refuses is refused here (goregex.h lists the differences elsewhere).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "context/goregex.h"
#include "util/xmalloc.h"
#include "util/banned.h"

#define RUNE_MAX 0x10FFFFu

enum op {
	OP_RUNE, /* one rune, r */
	OP_CLASS, /* a rune in classes[x] */
	OP_ANY_NL, /* any rune but '\n' (Go's '.') */
	OP_ASSERT, /* empty-width assertion r (enum assertion) */
	OP_SPLIT, /* go to x and y */
	OP_JMP, /* go to x */
	OP_MATCH,
};

enum assertion { AS_BEGIN, AS_END, AS_WORD, AS_NOT_WORD };

struct goregex_inst {
	uint8_t op;
	uint32_t r;
	uint32_t x, y;
};

struct goregex_range {
	uint32_t lo, hi;
};

struct goregex_class {
	struct goregex_range *v;
	size_t n;
};

/* ---- UTF-8, as Go's unicode/utf8 reads it ---- */

uint32_t goregex_decode_rune(const unsigned char *s, size_t n, size_t *width)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t need, i;
	uint32_t r;

	*width = 1;
	if (c < 0x80)
		return c;
	if (c < 0xC2 || c > 0xF4)
		return GOREGEX_RUNE_ERROR;
	if (c < 0xE0) {
		need = 1;
		r = c & 0x1F;
	} else if (c < 0xF0) {
		need = 2;
		r = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F; /* no surrogates */
	} else {
		need = 3;
		r = c & 0x07;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	}
	if (n < need + 1)
		return GOREGEX_RUNE_ERROR;
	for (i = 1; i <= need; i++) {
		unsigned char b = s[i];

		if (b < lo || b > hi)
			return GOREGEX_RUNE_ERROR;
		lo = 0x80;
		hi = 0xBF;
		r = (r << 6) | (b & 0x3F);
	}
	*width = need + 1;
	return r;
}

/* ---- parsing: Go regexp syntax (Perl flags) ---- */

struct rx {
	const unsigned char *s;
	size_t n, pos;
	struct goregex *prog;
	struct goregex_range *tmp; /* ranges of the class being parsed */
	size_t ntmp, tmp_alloc;
	const char *why;
};

static uint32_t emit(struct goregex *p, uint8_t op, uint32_t r, uint32_t x,
		     uint32_t y)
{
	ALLOC_GROW(p->inst, p->n + 1, p->alloc);
	p->inst[p->n].op = op;
	p->inst[p->n].r = r;
	p->inst[p->n].x = x;
	p->inst[p->n].y = y;
	return (uint32_t)p->n++;
}

/* Puts an instruction at pc, moving [pc, n) up by one. */
static void insert_at(struct goregex *p, uint32_t pc, uint8_t op, uint32_t x,
		      uint32_t y)
{
	size_t i;

	emit(p, OP_MATCH, 0, 0, 0);
	memmove(p->inst + pc + 1, p->inst + pc,
		(p->n - 1 - pc) * sizeof(*p->inst));
	/* The code after pc is self-contained (the alternatives parsed so
	 * far), so every jump in it targets [pc, n] and moves by one. */
	for (i = pc + 1; i < p->n; i++) {
		if (p->inst[i].op == OP_SPLIT || p->inst[i].op == OP_JMP) {
			p->inst[i].x++;
			if (p->inst[i].op == OP_SPLIT)
				p->inst[i].y++;
		}
	}
	p->inst[pc].op = op;
	p->inst[pc].r = 0;
	p->inst[pc].x = x;
	p->inst[pc].y = y;
}

static int rx_fail(struct rx *rx, const char *why)
{
	if (!rx->why)
		rx->why = why;
	return -1;
}

static uint32_t rx_rune(struct rx *rx)
{
	size_t w;
	uint32_t r = goregex_decode_rune(rx->s + rx->pos, rx->n - rx->pos, &w);

	rx->pos += w;
	return r;
}

static int is_alnum(uint32_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

static int unhex(uint32_t c)
{
	if (c >= '0' && c <= '9')
		return (int)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (int)(c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (int)(c - 'A' + 10);
	return -1;
}

static int is_octal(const struct rx *rx)
{
	return rx->pos < rx->n && rx->s[rx->pos] >= '0' &&
	       rx->s[rx->pos] <= '7';
}

/* parseEscape: pos is at '\'; a single-rune escape. */
static int rx_escape(struct rx *rx, uint32_t *out)
{
	uint32_t c, r;
	int i, x, y;

	rx->pos++;
	if (rx->pos >= rx->n)
		return rx_fail(rx, "it ends with a lone '\\'");
	c = rx_rune(rx);
	if (c < 0x80 && !is_alnum(c)) {
		*out = c;
		return 0;
	}
	switch (c) {
	case '1':
	case '2':
	case '3':
	case '4':
	case '5':
	case '6':
	case '7':
		if (!is_octal(rx))
			break; /* a backreference, which Go lacks */
		/* fall through */
	case '0':
		for (r = c - '0', i = 1; i < 3 && is_octal(rx); i++)
			r = r * 8 + (uint32_t)(rx->s[rx->pos++] - '0');
		*out = r;
		return 0;
	case 'x':
		if (rx->pos >= rx->n)
			break;
		c = rx_rune(rx);
		if (c == '{') {
			int nhex = 0;

			for (r = 0;; nhex++) {
				if (rx->pos >= rx->n)
					return rx_fail(
						rx,
						"it has a bad '\\x' escape");
				c = rx_rune(rx);
				if (c == '}')
					break;
				if (unhex(c) < 0)
					return rx_fail(
						rx,
						"it has a bad '\\x' escape");
				r = r * 16 + (uint32_t)unhex(c);
				if (r > RUNE_MAX)
					return rx_fail(
						rx,
						"it has a bad '\\x' escape");
			}
			if (!nhex)
				break;
			*out = r;
			return 0;
		}
		x = unhex(c);
		y = rx->pos < rx->n ? unhex(rx_rune(rx)) : -1;
		if (x < 0 || y < 0)
			break;
		*out = (uint32_t)(x * 16 + y);
		return 0;
	case 'a':
		*out = '\a';
		return 0;
	case 'f':
		*out = '\f';
		return 0;
	case 'n':
		*out = '\n';
		return 0;
	case 'r':
		*out = '\r';
		return 0;
	case 't':
		*out = '\t';
		return 0;
	case 'v':
		*out = '\v';
		return 0;
	}
	return rx_fail(rx, "it has an escape docker's regexp rejects "
			   "(a '\\' before a letter or digit means something "
			   "else there; drop the '\\')");
}

static void add_range(struct rx *rx, uint32_t lo, uint32_t hi)
{
	ALLOC_GROW(rx->tmp, rx->ntmp + 1, rx->tmp_alloc);
	rx->tmp[rx->ntmp].lo = lo;
	rx->tmp[rx->ntmp].hi = hi;
	rx->ntmp++;
}

static int range_cmp(const void *a, const void *b)
{
	const struct goregex_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sorts and merges rx->tmp[from..]; with negate, complements it. */
static void normalize_ranges(struct rx *rx, size_t from, int negate)
{
	struct goregex_range *v = rx->tmp + from;
	size_t n = rx->ntmp - from, i, m = 0;

	qsort(v, n, sizeof(*v), range_cmp);
	for (i = 0; i < n; i++) {
		if (m && v[i].lo <= v[m - 1].hi + 1) {
			if (v[i].hi > v[m - 1].hi)
				v[m - 1].hi = v[i].hi;
		} else {
			v[m++] = v[i];
		}
	}
	rx->ntmp = from + m;
	if (negate) {
		uint32_t next = 0;
		struct goregex_range *old = xmalloc((m ? m : 1) * sizeof(*old));

		memcpy(old, v, m * sizeof(*old));
		rx->ntmp = from;
		for (i = 0; i < m; i++) {
			if (old[i].lo > next)
				add_range(rx, next, old[i].lo - 1);
			next = old[i].hi + 1;
		}
		if (next <= RUNE_MAX)
			add_range(rx, next, RUNE_MAX);
		free(old);
	}
}

/* A named group ("\d", "[:alpha:]"), ASCII like Go's, maybe negated. */
static void add_group(struct rx *rx, const char *spec, int negate)
{
	size_t from = rx->ntmp;

	for (; spec[0]; spec += 2)
		add_range(rx, (unsigned char)spec[0], (unsigned char)spec[1]);
	if (negate)
		normalize_ranges(rx, from, 1);
}

static const char *perl_group(uint32_t c)
{
	switch (c | 0x20) {
	case 'd':
		return "09";
	case 's':
		return "\t\n\f\r  ";
	case 'w':
		return "09AZ__az";
	}
	return NULL;
}

static const struct {
	const char *name, *spec;
} posix_groups[] = {
	{ "alnum", "09AZaz" },
	{ "alpha", "AZaz" },
	{ "ascii", "\001\177" },
	{ "blank", "\t\t  " },
	{ "cntrl", "\001\037\177\177" },
	{ "digit", "09" },
	{ "graph", "!~" },
	{ "lower", "az" },
	{ "print", " ~" },
	{ "punct", "!/:@[`{~" },
	{ "space", "\t\r  " },
	{ "upper", "AZ" },
	{ "word", "09AZ__az" },
	{ "xdigit", "09AFaf" },
};

/* The specs cannot hold NUL; "ascii" and "cntrl" start at 0. */
static void add_posix(struct rx *rx, size_t g, int negate)
{
	size_t from = rx->ntmp;

	if (!strcmp(posix_groups[g].name, "ascii") ||
	    !strcmp(posix_groups[g].name, "cntrl"))
		add_range(rx, 0, 0);
	add_group(rx, posix_groups[g].spec, 0);
	if (negate)
		normalize_ranges(rx, from, 1);
}

/* "[:name:]" at pos (Go searches the rest of the regexp for ":]"). */
static int rx_named_class(struct rx *rx, int *found)
{
	const unsigned char *s = rx->s + rx->pos;
	size_t rest = rx->n - rx->pos, i, len, g;
	int negate = 0;

	*found = 0;
	for (i = 2; i + 1 < rest; i++)
		if (s[i] == ':' && s[i + 1] == ']')
			break;
	if (i + 1 >= rest)
		return 0;
	len = i - 2;
	s += 2;
	if (len && s[0] == '^') {
		negate = 1;
		s++;
		len--;
	}
	for (g = 0; g < sizeof(posix_groups) / sizeof(*posix_groups); g++) {
		if (strlen(posix_groups[g].name) == len &&
		    !memcmp(posix_groups[g].name, s, len)) {
			add_posix(rx, g, negate);
			rx->pos += i + 2;
			*found = 1;
			return 0;
		}
	}
	return rx_fail(rx, "it has an unknown '[:name:]' class");
}

static int rx_class_char(struct rx *rx, uint32_t *r)
{
	if (rx->pos >= rx->n)
		return rx_fail(rx, "a '[' class has no closing ']'");
	if (rx->s[rx->pos] == '\\')
		return rx_escape(rx, r);
	*r = rx_rune(rx);
	return 0;
}

static int is_unicode_class(const struct rx *rx)
{
	return rx->n - rx->pos >= 2 && rx->s[rx->pos] == '\\' &&
	       (rx->s[rx->pos + 1] == 'p' || rx->s[rx->pos + 1] == 'P');
}

static const char *unicode_class_why =
	"it uses a Unicode class ('\\p'), which builder does not support";

/* parseClass: pos is at '['; emits one OP_CLASS. */
static int rx_class(struct rx *rx)
{
	struct goregex *p = rx->prog;
	struct goregex_class *cls;
	int negate = 0, first = 1;

	rx->pos++;
	rx->ntmp = 0;
	if (rx->pos < rx->n && rx->s[rx->pos] == '^') {
		negate = 1;
		rx->pos++;
	}
	while (rx->pos >= rx->n || rx->s[rx->pos] != ']' || first) {
		uint32_t lo, hi;
		const char *g;
		int found;

		first = 0;
		if (rx->n - rx->pos > 2 && rx->s[rx->pos] == '[' &&
		    rx->s[rx->pos + 1] == ':') {
			if (rx_named_class(rx, &found) < 0)
				return -1;
			if (found)
				continue;
		}
		if (is_unicode_class(rx))
			return rx_fail(rx, unicode_class_why);
		if (rx->n - rx->pos >= 2 && rx->s[rx->pos] == '\\' &&
		    (g = perl_group(rx->s[rx->pos + 1]))) {
			add_group(rx, g, rx->s[rx->pos + 1] < 'a');
			rx->pos += 2;
			continue;
		}
		if (rx_class_char(rx, &lo) < 0)
			return -1;
		hi = lo;
		if (rx->n - rx->pos >= 2 && rx->s[rx->pos] == '-' &&
		    rx->s[rx->pos + 1] != ']') {
			rx->pos++;
			if (rx_class_char(rx, &hi) < 0)
				return -1;
			if (hi < lo)
				return rx_fail(rx, "a '[' class has a range "
						   "running backwards");
		}
		add_range(rx, lo, hi);
	}
	rx->pos++;
	normalize_ranges(rx, 0, negate);

	ALLOC_GROW(p->cls, p->ncls + 1, p->cls_alloc);
	cls = &p->cls[p->ncls];
	cls->n = rx->ntmp;
	cls->v = xmalloc((rx->ntmp ? rx->ntmp : 1) * sizeof(*cls->v));
	memcpy(cls->v, rx->tmp, rx->ntmp * sizeof(*cls->v));
	emit(p, OP_CLASS, 0, (uint32_t)p->ncls++, 0);
	return 0;
}

/* A "\d"-style group outside brackets is a class of its own. */
static void rx_group_atom(struct rx *rx, const char *g, int negate)
{
	struct goregex *p = rx->prog;
	struct goregex_class *cls;

	rx->ntmp = 0;
	add_group(rx, g, 0);
	normalize_ranges(rx, 0, negate);
	ALLOC_GROW(p->cls, p->ncls + 1, p->cls_alloc);
	cls = &p->cls[p->ncls];
	cls->n = rx->ntmp;
	cls->v = xmalloc((rx->ntmp ? rx->ntmp : 1) * sizeof(*cls->v));
	memcpy(cls->v, rx->tmp, rx->ntmp * sizeof(*cls->v));
	emit(p, OP_CLASS, 0, (uint32_t)p->ncls++, 0);
}

/* Instructions [a, p->n) are one atom: self-contained, jumping only inside
 * [a, p->n]. Replaces them with min to max copies (max -1: no limit). */
static int repeat_atom(struct rx *rx, uint32_t a, int min, int max)
{
	struct goregex *p = rx->prog;
	size_t len = p->n - a, i, copies;
	struct goregex_inst *code;
	int k;

	copies = (size_t)(max < 0 ? min + 1 : max);
	if (copies && len > (GOREGEX_MAX_SIZE - a) / (copies + 1))
		return rx_fail(rx, "it is too large once compiled");
	code = xmalloc((len ? len : 1) * sizeof(*code));
	memcpy(code, p->inst + a, len * sizeof(*code));
	p->n = a;
	for (k = 0; k < min || (max < 0 ? k == min : k < max); k++) {
		size_t at, split = 0;
		int optional = k >= min;

		if (optional)
			split = emit(p, OP_SPLIT, 0, (uint32_t)p->n + 1, 0);
		at = p->n;
		for (i = 0; i < len; i++) {
			struct goregex_inst in = code[i];

			if (in.op == OP_SPLIT || in.op == OP_JMP) {
				in.x = in.x - a + (uint32_t)at;
				in.y = in.op == OP_SPLIT
					       ? in.y - a + (uint32_t)at
					       : 0;
			}
			ALLOC_GROW(p->inst, p->n + 1, p->alloc);
			p->inst[p->n++] = in;
		}
		if (optional && max < 0)
			emit(p, OP_JMP, 0, (uint32_t)split, 0);
		if (optional)
			p->inst[split].y = (uint32_t)p->n;
	}
	free(code);
	return 0;
}

static int is_digit(const struct rx *rx, size_t at)
{
	return at < rx->n && rx->s[at] >= '0' && rx->s[at] <= '9';
}

/* parseInt: -2 when absent or with a leading zero, -1 when too big. */
static int rx_int(struct rx *rx, size_t *at)
{
	int v = 0;

	if (!is_digit(rx, *at) || (rx->s[*at] == '0' && is_digit(rx, *at + 1)))
		return -2;
	for (; is_digit(rx, *at); (*at)++)
		if (v >= 0)
			v = v >= 100000000 ? -1 : v * 10 + (rx->s[*at] - '0');
	return v;
}

/* parseRepeat: "{n}", "{n,}" or "{n,m}" at pos; 0 when it is not one
 * (then '{' is a literal), else 1 with pos moved past it. */
static int rx_counts(struct rx *rx, int *min, int *max)
{
	size_t at = rx->pos + 1;

	if ((*min = rx_int(rx, &at)) == -2 || at >= rx->n)
		return 0;
	if (rx->s[at] != ',') {
		*max = *min;
	} else {
		at++;
		if (at >= rx->n)
			return 0;
		if (rx->s[at] == '}') {
			*max = -1;
		} else if ((*max = rx_int(rx, &at)) == -2) {
			return 0;
		} else if (*max == -1) {
			*min = -1;
		}
	}
	if (at >= rx->n || rx->s[at] != '}')
		return 0;
	rx->pos = at + 1;
	return 1;
}

static int rx_alt(struct rx *rx, int depth);

/* A concatenation, up to '|', ')' or the end. */
static int rx_seq(struct rx *rx, int depth)
{
	struct goregex *p = rx->prog;
	int64_t atom = -1; /* first pc of the last atom, -1: none */
	int last_repeat = 0; /* the previous token was a repetition */

	while (rx->pos < rx->n) {
		unsigned char c = rx->s[rx->pos];
		int64_t start = (int64_t)p->n;
		int repeat = 0, min, max;
		uint32_t r;
		const char *g;

		switch (c) {
		case '(':
			if (rx->n - rx->pos > 1 && rx->s[rx->pos + 1] == '?')
				return rx_fail(rx, "it has unsupported "
						   "regexp flags");
			rx->pos++;
			if (rx_alt(rx, depth + 1) < 0)
				return -1;
			if (rx->pos >= rx->n || rx->s[rx->pos] != ')')
				return rx_fail(rx, "it has an unclosed '('");
			rx->pos++;
			atom = start;
			break;
		case '|':
		case ')':
			return 0;
		case '*':
		case '?':
		case '+':
		case '{':
			if (c == '{') {
				if (!rx_counts(rx, &min, &max)) {
					rx->pos++;
					emit(p, OP_RUNE, '{', 0, 0);
					atom = start;
					break;
				}
				if (min < 0 || min > 1000 || max > 1000 ||
				    (max >= 0 && min > max))
					return rx_fail(rx, "it has a bad "
							   "'{n,m}' count");
			} else {
				rx->pos++;
				min = c == '+';
				max = c == '?' ? 1 : -1;
			}
			/* A trailing '?' only makes it non-greedy. */
			if (rx->pos < rx->n && rx->s[rx->pos] == '?')
				rx->pos++;
			if (last_repeat)
				return rx_fail(rx, "it repeats a repetition");
			if (atom < 0)
				return rx_fail(rx, "a repetition has "
						   "nothing to repeat");
			if (repeat_atom(rx, (uint32_t)atom, min, max) < 0)
				return -1;
			repeat = 1;
			break;
		case '^':
			rx->pos++;
			emit(p, OP_ASSERT, AS_BEGIN, 0, 0);
			atom = start;
			break;
		case '$':
			rx->pos++;
			emit(p, OP_ASSERT, AS_END, 0, 0);
			atom = start;
			break;
		case '.':
			rx->pos++;
			emit(p, OP_ANY_NL, 0, 0, 0);
			atom = start;
			break;
		case '[':
			if (rx_class(rx) < 0)
				return -1;
			atom = start;
			break;
		case '\\':
			if (rx->n - rx->pos >= 2) {
				unsigned char e = rx->s[rx->pos + 1];

				if (e == 'A' || e == 'z' || e == 'b' ||
				    e == 'B') {
					rx->pos += 2;
					emit(p, OP_ASSERT,
					     e == 'A'	? AS_BEGIN
					     : e == 'z' ? AS_END
					     : e == 'b' ? AS_WORD
							: AS_NOT_WORD,
					     0, 0);
					atom = start;
					break;
				}
				if (e == 'C')
					return rx_fail(rx,
						       "it has the escape "
						       "'\\C', which docker's "
						       "regexp rejects");
				if (e == 'Q') {
					/* Literal up to "\E" or the end,
					 * even the final '$'. */
					rx->pos += 2;
					while (rx->pos < rx->n &&
					       !(rx->s[rx->pos] == '\\' &&
						 rx->pos + 1 < rx->n &&
						 rx->s[rx->pos + 1] == 'E')) {
						start = (int64_t)p->n;
						emit(p, OP_RUNE, rx_rune(rx), 0,
						     0);
						atom = start;
					}
					if (rx->pos < rx->n)
						rx->pos += 2;
					break;
				}
				if (is_unicode_class(rx))
					return rx_fail(rx, unicode_class_why);
				if ((g = perl_group(e))) {
					rx->pos += 2;
					rx_group_atom(rx, g, e < 'a');
					atom = start;
					break;
				}
			}
			if (rx_escape(rx, &r) < 0)
				return -1;
			emit(p, OP_RUNE, r, 0, 0);
			atom = start;
			break;
		default:
			emit(p, OP_RUNE, rx_rune(rx), 0, 0);
			atom = start;
			break;
		}
		if (p->n > GOREGEX_MAX_SIZE)
			return rx_fail(rx, "it is too large once compiled");
		last_repeat = repeat;
	}
	return 0;
}

/*
 * Alternatives, up to ')' or the end. Docker's rewrite lets the pattern's
 * '|' through (see rewrite() in ignore.c), so "a*|b" is "^[^/]*" or "b$".
 * Each '|' wraps what came before: SPLIT(before, next); before; JMP end;
 * next.
 */
static int rx_alt(struct rx *rx, int depth)
{
	struct goregex *p = rx->prog;
	uint32_t start = (uint32_t)p->n;

	if (depth > 1000)
		return rx_fail(rx, "it nests too deeply");
	if (rx_seq(rx, depth) < 0)
		return -1;
	while (rx->pos < rx->n && rx->s[rx->pos] == '|') {
		uint32_t jmp;

		rx->pos++;
		insert_at(p, start, OP_SPLIT, start + 1, 0);
		jmp = emit(p, OP_JMP, 0, 0, 0);
		p->inst[start].y = (uint32_t)p->n;
		if (rx_seq(rx, depth) < 0)
			return -1;
		p->inst[jmp].x = (uint32_t)p->n;
	}
	return 0;
}

void goregex_release(struct goregex *re)
{
	size_t i;

	for (i = 0; i < re->ncls; i++)
		free(re->cls[i].v);
	free(re->cls);
	free(re->inst);
	memset(re, 0, sizeof(*re));
}

int goregex_compile(struct goregex *re, const char *pattern, size_t len,
		    const char **why)
{
	struct rx rx = {
		(const unsigned char *)pattern, len, 0, re, NULL, 0, 0, NULL
	};

	memset(re, 0, sizeof(*re));
	if (rx_alt(&rx, 0) < 0 || rx.pos != rx.n) {
		free(rx.tmp);
		goregex_release(re);
		*why = rx.why ? rx.why : "it has an unopened ')'";
		return -1;
	}
	free(rx.tmp);
	emit(re, OP_MATCH, 0, 0, 0);
	re->anchored = re->inst[0].op == OP_ASSERT && re->inst[0].r == AS_BEGIN;
	return 0;
}

size_t goregex_size(const struct goregex *re)
{
	return re->n;
}

/* ---- matching ---- */

void goregex_sim_init(struct goregex_sim *s, size_t size)
{
	s->cap = size ? size : 1;
	s->cur = xmalloc(s->cap * sizeof(uint32_t));
	s->seeds = xmalloc(s->cap * sizeof(uint32_t));
	s->alt = xmalloc(s->cap * sizeof(uint32_t));
	s->stack = xmalloc(s->cap * sizeof(uint32_t));
	s->mark = xcalloc(s->cap, sizeof(uint32_t));
	s->gen = 0;
}

void goregex_sim_release(struct goregex_sim *s)
{
	free(s->cur);
	free(s->seeds);
	free(s->alt);
	free(s->stack);
	free(s->mark);
}

static int is_word(int64_t r)
{
	return r >= 0 && (is_alnum((uint32_t)r) || r == '_');
}

/*
 * Follows the empty transitions from pc at a position between the runes
 * prev and next (-1 past either end), appending to out[] the states that
 * consume a rune or match. States already marked this generation are
 * skipped, which is what keeps the whole run polynomial.
 */
static void sim_add(struct goregex_sim *s, const struct goregex *p,
		    uint32_t *out, size_t *nout, uint32_t pc, int64_t prev,
		    int64_t next)
{
	size_t sp = 0;

	if (s->mark[pc] == s->gen)
		return;
	s->mark[pc] = s->gen;
	s->stack[sp++] = pc;
	while (sp) {
		const struct goregex_inst *in = &p->inst[s->stack[--sp]];
		uint32_t to[2];
		int nto = 0, i, ok;

		switch (in->op) {
		case OP_JMP:
			to[nto++] = in->x;
			break;
		case OP_SPLIT:
			to[nto++] = in->x;
			to[nto++] = in->y;
			break;
		case OP_ASSERT:
			switch (in->r) {
			case AS_BEGIN:
				ok = prev < 0;
				break;
			case AS_END:
				ok = next < 0;
				break;
			case AS_WORD:
				ok = is_word(prev) != is_word(next);
				break;
			default:
				ok = is_word(prev) == is_word(next);
				break;
			}
			if (ok)
				to[nto++] = (uint32_t)(in - p->inst) + 1;
			break;
		default:
			out[(*nout)++] = (uint32_t)(in - p->inst);
			break;
		}
		for (i = 0; i < nto; i++) {
			if (s->mark[to[i]] != s->gen) {
				s->mark[to[i]] = s->gen;
				s->stack[sp++] = to[i];
			}
		}
	}
}

static int class_has(const struct goregex_class *c, uint32_t r)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r < c->v[mid].lo)
			hi = mid;
		else if (r > c->v[mid].hi)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

static void sim_newgen(struct goregex_sim *s)
{
	if (++s->gen == 0) {
		memset(s->mark, 0, s->cap * sizeof(uint32_t));
		s->gen = 1;
	}
}

/* The closure of the seeds (and of the start, when start) into out[];
 * 1 when it reaches OP_MATCH. */
static int sim_closure(struct goregex_sim *s, const struct goregex *p,
		       uint32_t *out, size_t *nout, size_t nseeds, int start,
		       int64_t prev, int64_t next)
{
	size_t k;

	*nout = 0;
	sim_newgen(s);
	for (k = 0; k < nseeds; k++)
		sim_add(s, p, out, nout, s->seeds[k], prev, next);
	if (start)
		sim_add(s, p, out, nout, 0, prev, next);
	for (k = 0; k < *nout; k++)
		if (p->inst[out[k]].op == OP_MATCH)
			return 1;
	return 0;
}

/*
 * regexp.MatchString: is there a match anywhere in text? With parents, also
 * whether text cut just before any of its '/' matches, in the same single
 * pass: a cut only changes what the assertions see at the cut itself, so
 * there the states are expanded a second time as if the text ended.
 */
static int prog_match(const struct goregex *p, struct goregex_sim *s,
		      const char *text, size_t n, int parents)
{
	const unsigned char *t = (const unsigned char *)text;
	int64_t prev = -1, next;
	size_t i = 0, w = 0, k, ncur, nalt, nseeds = 0;

	for (;;) {
		int start = i == 0 || !p->anchored;

		next = -1;
		if (i < n)
			next = goregex_decode_rune(t + i, n - i, &w);
		if (parents && next == '/' &&
		    sim_closure(s, p, s->alt, &nalt, nseeds, start, prev, -1))
			return 1;
		if (sim_closure(s, p, s->cur, &ncur, nseeds, start, prev, next))
			return 1;
		if (i >= n || (!ncur && p->anchored))
			return 0;
		nseeds = 0;
		for (k = 0; k < ncur; k++) {
			const struct goregex_inst *in = &p->inst[s->cur[k]];
			int ok;

			switch (in->op) {
			case OP_RUNE:
				ok = in->r == (uint32_t)next;
				break;
			case OP_CLASS:
				ok = class_has(&p->cls[in->x], (uint32_t)next);
				break;
			case OP_ANY_NL:
				ok = next != '\n';
				break;
			default:
				ok = 0;
				break;
			}
			if (ok)
				s->seeds[nseeds++] = s->cur[k] + 1;
		}
		i += w;
		prev = next;
	}
}

int goregex_match(const struct goregex *re, struct goregex_sim *s,
		  const char *text, size_t len)
{
	return prog_match(re, s, text, len, 0);
}

int goregex_match_or_parent(const struct goregex *re, struct goregex_sim *s,
			    const char *text, size_t len)
{
	return prog_match(re, s, text, len, 1);
}
