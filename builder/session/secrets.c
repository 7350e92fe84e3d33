/*
 * Build secrets: spec parsing and reading the values; see secrets.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "session/secrets.h"
#include "util/buf.h"
#include "util/xmalloc.h"
#include "util/banned.h"

static void wipe(void *p, size_t len)
{
	volatile unsigned char *v = p;

	while (len--)
		*v++ = 0;
}

/* The file's bytes, read once into memory of their size (util/buf.h). */
static int read_file(const char *path, const char *id, char **out, size_t *len,
		     struct error *err)
{
	struct buf b = BUF_INIT(SECRET_MAX);

	if (buf_read_file(&b, path, SECRET_MAX) < 0) {
		int saved = errno;

		wipe(b.data, b.alloc);
		buf_release(&b);
		if (saved == EFBIG)
			return err_set(err, EXIT_USAGE,
				       "the secret '%s' at '%s' is larger "
				       "than %u bytes",
				       id, path, SECRET_MAX);
		return err_set(err, EXIT_USAGE,
			       "cannot read the secret '%s' from '%s': %s", id,
			       path, strerror(saved));
	}
	*len = b.len;
	*out = buf_detach(&b);
	return 0;
}

int secrets_add(struct secrets *s, const char *spec, secrets_lookup_fn lookup,
		struct error *err)
{
	char *copy = xstrdup(spec), *save = NULL, *tok;
	char *id = NULL, *src = NULL, *env = NULL, *type = NULL;
	char *value = NULL;
	size_t len = 0, i;
	int ret = -1;

	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		while (*tok == ' ')
			tok++;
		if (!eq) {
			err_set(err, EXIT_USAGE,
				"the secret '%s' has a field '%s' without "
				"'='; use id=ID,src=PATH or id=ID,env=VAR",
				spec, tok);
			goto out;
		}
		*eq = '\0';
		if (!strcmp(tok, "id"))
			id = eq + 1;
		else if (!strcmp(tok, "src") || !strcmp(tok, "source"))
			src = eq + 1;
		else if (!strcmp(tok, "env"))
			env = eq + 1;
		else if (!strcmp(tok, "type"))
			type = eq + 1;
		else {
			err_set(err, EXIT_USAGE,
				"the secret '%s' has an unknown field '%s'; "
				"use id=ID,src=PATH or id=ID,env=VAR",
				spec, tok);
			goto out;
		}
	}
	if (type && strcmp(type, "file") && strcmp(type, "env")) {
		err_set(err, EXIT_USAGE,
			"the secret '%s' has type '%s'; use type=file or "
			"type=env",
			spec, type);
		goto out;
	}
	if (!id || !*id) {
		err_set(err, EXIT_USAGE,
			"the secret '%s' has no id; use id=ID,src=PATH or "
			"id=ID,env=VAR",
			spec);
		goto out;
	}
	if (src && env) {
		err_set(err, EXIT_USAGE,
			"the secret '%s' names both a file and a variable; "
			"give one",
			id);
		goto out;
	}
	if (src && type && !strcmp(type, "env")) {
		env = src;
		src = NULL;
	}
	if (!src && !env)
		env = id;
	if (src) {
		if (read_file(src, id, &value, &len, err) < 0)
			goto out;
	} else {
		const char *v = lookup(env);

		if (!v) {
			err_set(err, EXIT_USAGE,
				"the secret '%s' comes from the environment "
				"variable '%s', which is not set",
				id, env);
			goto out;
		}
		len = strlen(v);
		if (len > SECRET_MAX) {
			err_set(err, EXIT_USAGE,
				"the secret '%s' in '%s' is over %u bytes", id,
				env, SECRET_MAX);
			goto out;
		}
		value = xmalloc(len + 1);
		memcpy(value, v, len + 1);
	}
	for (i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].id, id))
			break;
	if (i == s->n) {
		ALLOC_GROW(s->v, s->n + 1, s->alloc);
		s->v[s->n].id = xstrdup(id);
		s->n++;
	} else {
		wipe(s->v[i].value, s->v[i].len);
		free(s->v[i].value);
	}
	s->v[i].value = value;
	s->v[i].len = len;
	value = NULL;
	ret = 0;
out:
	wipe(copy, strlen(spec));
	free(copy);
	return ret;
}

int secrets_add_lines(struct secrets *s, const char *text,
		      secrets_lookup_fn lookup, struct error *err)
{
	const char *p = text;

	while (p && *p) {
		size_t n = strcspn(p, "\n");
		char *line = xstrndup(p, n);
		char *t = line;
		size_t l;
		int r = 0;

		while (*t == ' ' || *t == '\t')
			t++;
		l = strlen(t);
		while (l && (t[l - 1] == ' ' || t[l - 1] == '\t' ||
			     t[l - 1] == '\r'))
			t[--l] = '\0';
		if (*t && *t != '#')
			r = secrets_add(s, t, lookup, err);
		free(line);
		if (r < 0)
			return err_wrap(err, "SECRETS");
		p += n;
		if (*p)
			p++;
	}
	return 0;
}

const struct secret *secrets_find(const struct secrets *s, const char *id)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (!strcmp(s->v[i].id, id))
			return &s->v[i];
	return NULL;
}

void secrets_clear(struct secrets *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].id);
		wipe(s->v[i].value, s->v[i].len);
		free(s->v[i].value);
	}
	free(s->v);
	s->v = NULL;
	s->n = s->alloc = 0;
}
