/*
 * The YAML reader: libyaml's document loader, turned into our own tree.
 *
 * libyaml (Debian's libyaml-dev, which ships libyaml.a for the static
 * build) parses and keeps aliases as references to the anchored node; the
 * conversion below copies each alias out under a node budget, resolves
 * merge keys, which libyaml leaves to the application, and refuses
 * duplicate keys. libyaml's marks are 0-based; ours are 1-based lines.
 */
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "compose/yamldoc.h"
#include "util/xmalloc.h"
#include "util/banned.h"

struct conv {
	yaml_document_t *doc;
	const char *name;
	size_t nodes;
	struct error *err;
};

static struct ynode *ynode_new(enum ynode_kind kind, unsigned line)
{
	struct ynode *n = xcalloc(1, sizeof(*n));

	n->kind = kind;
	n->line = line;
	return n;
}

void ynode_free(struct ynode *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->n; i++) {
		ynode_free(n->items[i]);
		if (n->keys)
			ynode_free(n->keys[i]);
	}
	free(n->items);
	free(n->keys);
	free(n->value);
	free(n);
}

static void ynode_append(struct ynode *parent, struct ynode *key,
			 struct ynode *value, size_t *alloc)
{
	size_t old = *alloc;

	ALLOC_GROW(parent->items, parent->n + 1, *alloc);
	if (key) {
		/* keys[] grows in step with items[]. */
		size_t a = old;
		ALLOC_GROW(parent->keys, parent->n + 1, a);
	}
	if (key)
		parent->keys[parent->n] = key;
	parent->items[parent->n++] = value;
}

struct ynode *ynode_dup(const struct ynode *n)
{
	struct ynode *c;
	size_t i, alloc = 0;

	if (!n)
		return NULL;
	c = ynode_new(n->kind, n->line);
	c->plain = n->plain;
	c->value = n->value ? xstrdup(n->value) : NULL;
	for (i = 0; i < n->n; i++)
		ynode_append(c, n->keys ? ynode_dup(n->keys[i]) : NULL,
			     ynode_dup(n->items[i]), &alloc);
	if (n->kind == YNODE_MAP && !c->keys)
		c->keys = xcalloc(1, sizeof(*c->keys));
	return c;
}

const struct ynode *ynode_get(const struct ynode *n, const char *key)
{
	size_t i;

	if (!n || n->kind != YNODE_MAP)
		return NULL;
	for (i = 0; i < n->n; i++)
		if (!strcmp(n->keys[i]->value, key))
			return n->items[i];
	return NULL;
}

int ynode_is_null(const struct ynode *n)
{
	if (!n || n->kind != YNODE_SCALAR || !n->plain)
		return 0;
	return !strcmp(n->value, "") || !strcmp(n->value, "~") ||
	       !strcmp(n->value, "null") || !strcmp(n->value, "Null") ||
	       !strcmp(n->value, "NULL");
}

int ynode_bool(const struct ynode *n)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes",
					   "YES",  "on",   "On",   "ON" };
	static const char *const no[] = { "false", "False", "FALSE", "no", "No",
					  "NO",	   "off",   "Off",   "OFF" };
	size_t i;

	if (!n || n->kind != YNODE_SCALAR)
		return -1;
	for (i = 0; i < sizeof(yes) / sizeof(*yes); i++) {
		if (!strcmp(n->value, yes[i]))
			return 1;
		if (!strcmp(n->value, no[i]))
			return 0;
	}
	return -1;
}

static unsigned mark_line(const yaml_mark_t *m)
{
	return (unsigned)m->line + 1;
}

static struct ynode *convert(struct conv *cv, int index, int depth);

static size_t map_find(const struct ynode *map, const char *key)
{
	size_t i;

	for (i = 0; i < map->n; i++)
		if (!strcmp(map->keys[i]->value, key))
			return i;
	return (size_t)-1;
}

/* Adds to map the keys of src it lacks (a merge); src is consumed. */
static int merge_into(struct conv *cv, struct ynode *map, size_t *alloc,
		      struct ynode *src, unsigned line)
{
	size_t i;

	if (src->kind != YNODE_MAP) {
		ynode_free(src);
		return err_set(cv->err, EXIT_USAGE,
			       "'%s' line %u: a merge key '<<' takes a mapping "
			       "or a list of mappings",
			       cv->name, line);
	}
	for (i = 0; i < src->n; i++) {
		if (map_find(map, src->keys[i]->value) != (size_t)-1)
			continue;
		ynode_append(map, src->keys[i], src->items[i], alloc);
		src->keys[i] = NULL;
		src->items[i] = NULL;
	}
	ynode_free(src);
	return 0;
}

static struct ynode *convert_map(struct conv *cv, yaml_node_t *yn, int depth)
{
	struct ynode *map = ynode_new(YNODE_MAP, mark_line(&yn->start_mark));
	yaml_node_pair_t *p;
	size_t alloc = 0;

	map->keys = xcalloc(1, sizeof(*map->keys));
	/* Explicit keys first, so that they win over merged ones wherever
	 * the merge key stands. */
	for (p = yn->data.mapping.pairs.start; p < yn->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = yaml_document_get_node(cv->doc, p->key);
		struct ynode *key, *value;
		size_t dup;

		if (!kn)
			goto bad;
		if (kn->type != YAML_SCALAR_NODE) {
			err_set(cv->err, EXIT_USAGE,
				"'%s' line %u: a mapping key must be a plain "
				"value, not a list or mapping",
				cv->name, mark_line(&kn->start_mark));
			goto bad;
		}
		if (kn->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    kn->data.scalar.length == 2 &&
		    !memcmp(kn->data.scalar.value, "<<", 2))
			continue;
		key = convert(cv, p->key, depth + 1);
		if (!key)
			goto bad;
		dup = map_find(map, key->value);
		if (dup != (size_t)-1) {
			err_set(cv->err, EXIT_USAGE,
				"'%s' line %u: key '%s' is defined twice "
				"(first on line %u)",
				cv->name, key->line, key->value,
				map->keys[dup]->line);
			ynode_free(key);
			goto bad;
		}
		value = convert(cv, p->value, depth + 1);
		if (!value) {
			ynode_free(key);
			goto bad;
		}
		ynode_append(map, key, value, &alloc);
	}
	for (p = yn->data.mapping.pairs.start; p < yn->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = yaml_document_get_node(cv->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(cv->doc, p->value);
		unsigned line;

		if (kn->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
		    kn->data.scalar.length != 2 ||
		    memcmp(kn->data.scalar.value, "<<", 2))
			continue;
		line = mark_line(&kn->start_mark);
		if (vn && vn->type == YAML_SEQUENCE_NODE) {
			yaml_node_item_t *it;

			for (it = vn->data.sequence.items.start;
			     it < vn->data.sequence.items.top; it++) {
				struct ynode *src = convert(cv, *it, depth + 1);

				if (!src ||
				    merge_into(cv, map, &alloc, src, line) < 0)
					goto bad;
			}
		} else {
			struct ynode *src = convert(cv, p->value, depth + 1);

			if (!src || merge_into(cv, map, &alloc, src, line) < 0)
				goto bad;
		}
	}
	return map;
bad:
	ynode_free(map);
	return NULL;
}

static struct ynode *convert(struct conv *cv, int index, int depth)
{
	yaml_node_t *yn = yaml_document_get_node(cv->doc, index);
	struct ynode *n = NULL;

	if (!yn) {
		err_set(cv->err, EXIT_USAGE, "'%s': a node is missing",
			cv->name);
		return NULL;
	}
	if (depth > YAMLDOC_MAX_DEPTH) {
		err_set(cv->err, EXIT_USAGE,
			"'%s' line %u: nested more than %d levels deep (or an "
			"alias refers to its own anchor)",
			cv->name, mark_line(&yn->start_mark),
			YAMLDOC_MAX_DEPTH);
		return NULL;
	}
	if (++cv->nodes > YAMLDOC_MAX_NODES) {
		err_set(cv->err, EXIT_USAGE,
			"'%s' line %u: more than %d values once aliases are "
			"expanded",
			cv->name, mark_line(&yn->start_mark),
			YAMLDOC_MAX_NODES);
		return NULL;
	}
	switch (yn->type) {
	case YAML_SCALAR_NODE:
		if (memchr(yn->data.scalar.value, '\0',
			   yn->data.scalar.length)) {
			err_set(cv->err, EXIT_USAGE,
				"'%s' line %u: a value holds a NUL character",
				cv->name, mark_line(&yn->start_mark));
			return NULL;
		}
		n = ynode_new(YNODE_SCALAR, mark_line(&yn->start_mark));
		n->plain = yn->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		n->value = xstrndup((const char *)yn->data.scalar.value,
				    yn->data.scalar.length);
		return n;
	case YAML_SEQUENCE_NODE: {
		yaml_node_item_t *it;
		size_t alloc = 0;

		n = ynode_new(YNODE_SEQ, mark_line(&yn->start_mark));
		for (it = yn->data.sequence.items.start;
		     it < yn->data.sequence.items.top; it++) {
			struct ynode *item = convert(cv, *it, depth + 1);

			if (!item) {
				ynode_free(n);
				return NULL;
			}
			ynode_append(n, NULL, item, &alloc);
		}
		return n;
	}
	case YAML_MAPPING_NODE:
		return convert_map(cv, yn, depth);
	case YAML_NO_NODE:
		break;
	}
	err_set(cv->err, EXIT_USAGE, "'%s' line %u: an empty node", cv->name,
		mark_line(&yn->start_mark));
	return NULL;
}

int yamldoc_parse(struct ynode **out, const char *text, size_t len,
		  const char *name, struct error *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	int have_parser = 0, have_doc = 0, ret = -1;
	struct conv cv = { NULL, name, 0, err };

	*out = NULL;
	if (len > YAMLDOC_MAX_BYTES)
		return err_set(err, EXIT_USAGE,
			       "'%s' is larger than %u bytes: not a compose "
			       "file",
			       name, YAMLDOC_MAX_BYTES);
	if (!yaml_parser_initialize(&parser))
		return err_set(err, EXIT_ENGINE,
			       "cannot start the YAML parser: out of memory");
	have_parser = 1;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		const yaml_mark_t *m =
			parser.problem_mark.line || parser.problem_mark.column
				? &parser.problem_mark
				: &parser.context_mark;

		err_set(err, EXIT_USAGE, "'%s' line %u: YAML error: %s%s%s",
			name, mark_line(m),
			parser.problem ? parser.problem : "cannot parse",
			parser.context ? " " : "",
			parser.context ? parser.context : "");
		goto out;
	}
	have_doc = 1;
	cv.doc = &doc;
	if (!yaml_document_get_root_node(&doc)) {
		*out = ynode_new(YNODE_SCALAR, 1);
		(*out)->plain = 1;
		(*out)->value = xstrdup("");
		ret = 0;
		goto out;
	}
	*out = convert(&cv, 1, 0);
	ret = *out ? 0 : -1;
out:
	if (have_doc)
		yaml_document_delete(&doc);
	if (have_parser)
		yaml_parser_delete(&parser);
	return ret;
}
