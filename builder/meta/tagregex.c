/*
 * A Pike VM with capture groups for tag rules: pattern -> syntax tree ->
 * program of byte-set, split, jump, save and anchor instructions, run
 * over the text with one thread per instruction at most, in priority
 * order, so that the first thread to match is Go's leftmost-first match.
 * Pure; bounded: the pattern, the program and the text have ceilings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "meta/tagregex.h"
#include "util/xmalloc.h"
#include "util/banned.h"

#define COUNT_MAX 100

enum node_type { N_EMPTY, N_SET, N_CAT, N_ALT, N_REP, N_GROUP, N_BOL, N_EOL };

struct node {
	enum node_type type;
	int a, b; /* children */
	int min, max; /* N_REP; max -1 for no limit */
	int greedy;
	int arg; /* N_SET: set index; N_GROUP: group number */
};

enum op { OP_SET, OP_SPLIT, OP_JMP, OP_SAVE, OP_BOL, OP_EOL, OP_MATCH };

struct tagregex_inst {
	enum op op;
	int x, y; /* SPLIT: x first; JMP: x; SET: x the set; SAVE: x slot */
};

struct parser {
	const char *s; /* the rest of the pattern */
	struct node *nodes;
	size_t nn, nalloc;
	unsigned char (*cls)[32];
	size_t ncls, cls_alloc;
	int ngroups;
	const char *why;
	int depth;
};

static int new_node(struct parser *p, enum node_type t, int a, int b)
{
	ALLOC_GROW(p->nodes, p->nn + 1, p->nalloc);
	memset(&p->nodes[p->nn], 0, sizeof(p->nodes[0]));
	p->nodes[p->nn].type = t;
	p->nodes[p->nn].a = a;
	p->nodes[p->nn].b = b;
	return (int)p->nn++;
}

static int new_set(struct parser *p)
{
	ALLOC_GROW(p->cls, p->ncls + 1, p->cls_alloc);
	memset(p->cls[p->ncls], 0, 32);
	return (int)p->ncls++;
}

static void set_add(unsigned char *set, int lo, int hi)
{
	for (int c = lo; c <= hi; c++)
		set[c >> 3] |= (unsigned char)(1u << (c & 7));
}

static void set_invert(unsigned char *set)
{
	for (int i = 0; i < 32; i++)
		set[i] = (unsigned char)~set[i];
}

/* \d \w \s and their negations into set; 0 when c is none of them. */
static int perl_class(unsigned char *set, int c)
{
	unsigned char tmp[32] = { 0 };

	switch (c | 0x20) {
	case 'd':
		set_add(tmp, '0', '9');
		break;
	case 'w':
		set_add(tmp, '0', '9');
		set_add(tmp, 'A', 'Z');
		set_add(tmp, 'a', 'z');
		set_add(tmp, '_', '_');
		break;
	case 's':
		set_add(tmp, '\t', '\n');
		set_add(tmp, '\f', '\r');
		set_add(tmp, ' ', ' ');
		break;
	default:
		return 0;
	}
	if (c >= 'A' && c <= 'Z')
		set_invert(tmp);
	for (int i = 0; i < 32; i++)
		set[i] |= tmp[i];
	return 1;
}

/* A single-byte escape after '\': the byte, or -1 with p->why set. */
static int escape_byte(struct parser *p, int c)
{
	switch (c) {
	case 't':
		return '\t';
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case 'f':
		return '\f';
	case 'v':
		return '\v';
	case 'a':
		return '\a';
	case '\0':
		p->why = "ends with a lone '\\'";
		return -1;
	}
	if (c < 0x80 && !((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
			  (c >= 'a' && c <= 'z') || c == '_'))
		return c;
	p->why = "has an escape that is not supported here (use \\d, \\w, "
		 "\\s, \\t, \\n, \\r or '\\' before punctuation)";
	return -1;
}

static int parse_class(struct parser *p)
{
	int idx = new_set(p), negate = 0, first = 1;

	p->s++; /* '[' */
	if (*p->s == '^') {
		negate = 1;
		p->s++;
	}
	for (;; first = 0) {
		int lo, hi;

		if (!*p->s) {
			p->why = "has an unclosed '['";
			return -1;
		}
		if (*p->s == ']' && !first)
			break;
		if (p->s[0] == '[' && p->s[1] == ':') {
			p->why = "has a '[:class:]', which is not supported "
				 "(use ranges such as a-z)";
			return -1;
		}
		if (*p->s == '\\') {
			if (perl_class(p->cls[idx], (unsigned char)p->s[1])) {
				p->s += 2;
				continue;
			}
			lo = escape_byte(p, (unsigned char)p->s[1]);
			if (lo < 0)
				return -1;
			p->s += 2;
		} else {
			lo = (unsigned char)*p->s++;
		}
		hi = lo;
		if (p->s[0] == '-' && p->s[1] && p->s[1] != ']') {
			p->s++;
			if (*p->s == '\\') {
				hi = escape_byte(p, (unsigned char)p->s[1]);
				if (hi < 0)
					return -1;
				p->s += 2;
			} else {
				hi = (unsigned char)*p->s++;
			}
			if (hi < lo) {
				p->why = "has a range that runs backwards";
				return -1;
			}
		}
		set_add(p->cls[idx], lo, hi);
	}
	p->s++; /* ']' */
	if (negate)
		set_invert(p->cls[idx]);
	int n = new_node(p, N_SET, 0, 0);

	p->nodes[n].arg = idx;
	return n;
}

static int set_node(struct parser *p, int lo, int hi)
{
	int idx = new_set(p), n;

	set_add(p->cls[idx], lo, hi);
	n = new_node(p, N_SET, 0, 0);
	p->nodes[n].arg = idx;
	return n;
}

static int parse_alt(struct parser *p);

static int parse_atom(struct parser *p)
{
	int c = (unsigned char)*p->s, n;

	switch (c) {
	case '(': {
		int group = -1;

		if (++p->depth > 100) {
			p->why = "nests '(' too deeply";
			return -1;
		}
		p->s++;
		if (p->s[0] == '?' && p->s[1] == ':') {
			p->s += 2;
		} else if (p->s[0] == '?') {
			p->why = "has a '(?' group, which is not supported "
				 "(only '(?:')";
			return -1;
		} else {
			if (p->ngroups >= TAGREGEX_GROUPS) {
				p->why = "has more than 9 groups";
				return -1;
			}
			group = ++p->ngroups;
		}
		n = parse_alt(p);
		if (n < 0)
			return -1;
		if (*p->s != ')') {
			p->why = "has an unclosed '('";
			return -1;
		}
		p->s++;
		p->depth--;
		if (group < 0)
			return n;
		n = new_node(p, N_GROUP, n, 0);
		p->nodes[n].arg = group;
		return n;
	}
	case '[':
		return parse_class(p);
	case '.': {
		int idx = new_set(p);

		set_add(p->cls[idx], 0, 255);
		p->cls[idx]['\n' >> 3] &= (unsigned char)~(1u << ('\n' & 7));
		p->s++;
		n = new_node(p, N_SET, 0, 0);
		p->nodes[n].arg = idx;
		return n;
	}
	case '^':
		p->s++;
		return new_node(p, N_BOL, 0, 0);
	case '$':
		p->s++;
		return new_node(p, N_EOL, 0, 0);
	case '*':
	case '+':
	case '?':
		p->why = "has a repetition with nothing to repeat";
		return -1;
	case '\\': {
		int idx;

		c = (unsigned char)p->s[1];
		if (c == 'A' || c == 'z') {
			p->s += 2;
			return new_node(p, c == 'A' ? N_BOL : N_EOL, 0, 0);
		}
		idx = new_set(p);
		if (perl_class(p->cls[idx], c)) {
			p->s += 2;
			n = new_node(p, N_SET, 0, 0);
			p->nodes[n].arg = idx;
			return n;
		}
		p->ncls--;
		c = escape_byte(p, c);
		if (c < 0)
			return -1;
		p->s += 2;
		return set_node(p, c, c);
	}
	default:
		p->s++;
		return set_node(p, c, c);
	}
}

/* Parses "{n}", "{n,}" or "{n,m}" at p->s; 0 when it is not a count (a
 * literal '{' as in Go), 1 when it is, -1 on a bad count. */
static int parse_count(struct parser *p, int *min, int *max)
{
	const char *s = p->s + 1;
	long lo = 0, hi;
	int digits = 0;

	for (; *s >= '0' && *s <= '9'; s++, digits++)
		if ((lo = lo * 10 + (*s - '0')) > 100000)
			lo = 100000;
	if (!digits)
		return 0;
	hi = lo;
	if (*s == ',') {
		s++;
		if (*s == '}') {
			hi = -1;
		} else {
			hi = 0;
			digits = 0;
			for (; *s >= '0' && *s <= '9'; s++, digits++)
				if ((hi = hi * 10 + (*s - '0')) > 100000)
					hi = 100000;
			if (!digits)
				return 0;
		}
	}
	if (*s != '}')
		return 0;
	if (lo > COUNT_MAX || hi > COUNT_MAX || (hi >= 0 && hi < lo)) {
		p->why = "has a count above 100 or one that runs backwards";
		return -1;
	}
	*min = (int)lo;
	*max = (int)hi;
	p->s = s + 1;
	return 1;
}

static int parse_repeat(struct parser *p)
{
	int n = parse_atom(p), repeated = 0;

	if (n < 0)
		return -1;
	for (;;) {
		int min, max, r;

		if (*p->s == '*') {
			min = 0, max = -1, p->s++;
		} else if (*p->s == '+') {
			min = 1, max = -1, p->s++;
		} else if (*p->s == '?') {
			min = 0, max = 1, p->s++;
		} else if (*p->s == '{') {
			r = parse_count(p, &min, &max);
			if (r < 0)
				return -1;
			if (r == 0)
				return n;
		} else {
			return n;
		}
		if (repeated) {
			p->why = "has a repetition of a repetition ('a**')";
			return -1;
		}
		repeated = 1;
		n = new_node(p, N_REP, n, 0);
		p->nodes[n].min = min;
		p->nodes[n].max = max;
		p->nodes[n].greedy = 1;
		if (*p->s == '?') {
			p->nodes[n].greedy = 0;
			p->s++;
		}
	}
}

static int parse_cat(struct parser *p)
{
	int n = new_node(p, N_EMPTY, 0, 0);

	while (*p->s && *p->s != '|' && *p->s != ')') {
		int a = parse_repeat(p);

		if (a < 0)
			return -1;
		n = new_node(p, N_CAT, n, a);
	}
	return n;
}

static int parse_alt(struct parser *p)
{
	int n = parse_cat(p);

	while (n >= 0 && *p->s == '|') {
		int b;

		p->s++;
		b = parse_cat(p);
		if (b < 0)
			return -1;
		n = new_node(p, N_ALT, n, b);
	}
	return n;
}

struct emitter {
	const struct parser *p;
	struct tagregex_inst *inst;
	size_t n, alloc;
	int full;
};

static int emit(struct emitter *e, enum op op, int x, int y)
{
	if (e->n >= TAGREGEX_PROG_MAX) {
		e->full = 1;
		return 0;
	}
	ALLOC_GROW(e->inst, e->n + 1, e->alloc);
	e->inst[e->n].op = op;
	e->inst[e->n].x = x;
	e->inst[e->n].y = y;
	return (int)e->n++;
}

static void patch(struct emitter *e, int at, int x, int y)
{
	if (!e->full) {
		e->inst[at].x = x;
		e->inst[at].y = y;
	}
}

static void gen(struct emitter *e, int ni)
{
	const struct node *nd = &e->p->nodes[ni];
	int l1, l2;

	if (e->full)
		return;
	switch (nd->type) {
	case N_EMPTY:
		break;
	case N_SET:
		emit(e, OP_SET, nd->arg, 0);
		break;
	case N_BOL:
		emit(e, OP_BOL, 0, 0);
		break;
	case N_EOL:
		emit(e, OP_EOL, 0, 0);
		break;
	case N_CAT:
		gen(e, nd->a);
		gen(e, nd->b);
		break;
	case N_GROUP:
		emit(e, OP_SAVE, 2 * nd->arg, 0);
		gen(e, nd->a);
		emit(e, OP_SAVE, 2 * nd->arg + 1, 0);
		break;
	case N_ALT:
		l1 = emit(e, OP_SPLIT, 0, 0);
		gen(e, nd->a);
		l2 = emit(e, OP_JMP, 0, 0);
		patch(e, l1, l1 + 1, (int)e->n);
		gen(e, nd->b);
		patch(e, l2, (int)e->n, 0);
		break;
	case N_REP: {
		int opt = nd->max < 0 ? 1 : nd->max - nd->min;
		int *outs = NULL;

		for (int i = 0; i < nd->min && !e->full; i++)
			gen(e, nd->a);
		if (nd->max < 0) {
			l1 = emit(e, OP_SPLIT, 0, 0);
			gen(e, nd->a);
			emit(e, OP_JMP, l1, 0);
			if (nd->greedy)
				patch(e, l1, l1 + 1, (int)e->n);
			else
				patch(e, l1, (int)e->n, l1 + 1);
			break;
		}
		outs = xcalloc((size_t)opt + 1, sizeof(int));
		for (int i = 0; i < opt && !e->full; i++) {
			outs[i] = emit(e, OP_SPLIT, 0, 0);
			gen(e, nd->a);
		}
		for (int i = 0; i < opt && !e->full; i++)
			if (nd->greedy)
				patch(e, outs[i], outs[i] + 1, (int)e->n);
			else
				patch(e, outs[i], (int)e->n, outs[i] + 1);
		free(outs);
		break;
	}
	}
}

int tagregex_compile(struct tagregex *re, const char *pattern, const char **why)
{
	struct parser p = { 0 };
	struct emitter e = { 0 };
	int root;

	memset(re, 0, sizeof(*re));
	if (strlen(pattern) > TAGREGEX_PATTERN_MAX) {
		*why = "is longer than 1024 bytes";
		return -1;
	}
	p.s = pattern;
	root = parse_alt(&p);
	if (root >= 0 && *p.s == ')') {
		p.why = "has an unmatched ')'";
		root = -1;
	}
	if (root < 0) {
		*why = p.why ? p.why : "cannot be parsed";
		goto fail;
	}
	e.p = &p;
	emit(&e, OP_SAVE, 0, 0);
	gen(&e, root);
	emit(&e, OP_SAVE, 1, 0);
	emit(&e, OP_MATCH, 0, 0);
	if (e.full) {
		*why = "makes a program too large: use fewer or smaller "
		       "counts";
		goto fail;
	}
	free(p.nodes);
	re->inst = e.inst;
	re->n = e.n;
	re->cls = p.cls;
	re->ncls = p.ncls;
	re->ngroups = p.ngroups;
	return 0;
fail:
	free(p.nodes);
	free(p.cls);
	free(e.inst);
	return -1;
}

struct thread_list {
	int *pc;
	size_t *caps; /* TAGREGEX_SLOTS per thread */
	size_t n;
};

struct vm {
	const struct tagregex *re;
	const unsigned char *text;
	size_t len;
	uint32_t *mark;
	uint32_t gen;
};

static void add_thread(struct vm *vm, struct thread_list *l, int pc,
		       size_t *caps, size_t pos)
{
	const struct tagregex_inst *in;
	size_t old;

	if (vm->mark[pc] == vm->gen)
		return;
	vm->mark[pc] = vm->gen;
	in = &vm->re->inst[pc];
	switch (in->op) {
	case OP_JMP:
		add_thread(vm, l, in->x, caps, pos);
		return;
	case OP_SPLIT:
		add_thread(vm, l, in->x, caps, pos);
		add_thread(vm, l, in->y, caps, pos);
		return;
	case OP_SAVE:
		old = caps[in->x];
		caps[in->x] = pos;
		add_thread(vm, l, pc + 1, caps, pos);
		caps[in->x] = old;
		return;
	case OP_BOL:
		if (pos == 0)
			add_thread(vm, l, pc + 1, caps, pos);
		return;
	case OP_EOL:
		if (pos == vm->len)
			add_thread(vm, l, pc + 1, caps, pos);
		return;
	case OP_SET:
	case OP_MATCH:
		l->pc[l->n] = pc;
		memcpy(&l->caps[l->n * TAGREGEX_SLOTS], caps,
		       sizeof(size_t) * TAGREGEX_SLOTS);
		l->n++;
		return;
	}
}

int tagregex_match(const struct tagregex *re, const char *text, size_t len,
		   size_t m[TAGREGEX_SLOTS])
{
	struct thread_list lists[2], *cl = &lists[0], *nl = &lists[1], *tmp;
	struct vm vm = { re, (const unsigned char *)text, len, NULL, 1 };
	size_t init[TAGREGEX_SLOTS];
	int matched = 0;

	if (len > TAGREGEX_TEXT_MAX)
		return -1;
	if (!re->n)
		return 0;
	for (int i = 0; i < TAGREGEX_SLOTS; i++)
		init[i] = m[i] = SIZE_MAX;
	for (int i = 0; i < 2; i++) {
		lists[i].pc = xcalloc(re->n, sizeof(int));
		lists[i].caps = xcalloc(re->n * TAGREGEX_SLOTS, sizeof(size_t));
		lists[i].n = 0;
	}
	vm.mark = xcalloc(re->n, sizeof(uint32_t));
	for (size_t pos = 0;; pos++) {
		if (!matched)
			add_thread(&vm, cl, 0, init, pos);
		if (!cl->n && matched)
			break;
		vm.gen++;
		nl->n = 0;
		for (size_t t = 0; t < cl->n; t++) {
			const struct tagregex_inst *in = &re->inst[cl->pc[t]];
			size_t *caps = &cl->caps[t * TAGREGEX_SLOTS];

			if (in->op == OP_MATCH) {
				matched = 1;
				memcpy(m, caps,
				       sizeof(size_t) * TAGREGEX_SLOTS);
				break; /* lower-priority threads lose */
			}
			if (pos < len && (re->cls[in->x][vm.text[pos] >> 3] >>
					  (vm.text[pos] & 7)) &
						 1)
				add_thread(&vm, nl, cl->pc[t] + 1, caps,
					   pos + 1);
		}
		tmp = cl;
		cl = nl;
		nl = tmp;
		if (pos >= len)
			break;
	}
	for (int i = 0; i < 2; i++) {
		free(lists[i].pc);
		free(lists[i].caps);
	}
	free(vm.mark);
	return matched;
}

void tagregex_release(struct tagregex *re)
{
	if (!re)
		return;
	free(re->inst);
	free(re->cls);
	memset(re, 0, sizeof(*re));
}
