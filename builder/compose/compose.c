/*
 * The compose model: a YAML tree (yamldoc.c), interpolated (interp.c), read
 * key by key into struct compose_file, with every unknown key refused by
 * name and line. Reads the compose file and its env_files; never the
 * environment (variables come through the lookup function).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compose/compose.h"
#include "compose/yamldoc.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/xmalloc.h"
#include "util/banned.h"

#define COMPOSE_FILE_MAX (4u * 1024 * 1024)
#define ENV_FILE_MAX (1024u * 1024)

struct loader {
	const struct compose_options *opt;
	struct compose_file *cf;
	const char *name; /* the file, for messages */
	struct error *err;
};

/* The error of the file, at a line. It replaces an error already set: the
 * callers that meet one (an interpolation, an env_file) fold its text into
 * fmt, so that the message says where. */
__attribute__((format(printf, 3, 4))) static int
fail(struct loader *ld, unsigned line, const char *fmt, ...)
{
	char msg[ERROR_MSG_MAX / 2];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err_clear(ld->err);
	return err_set(ld->err, EXIT_USAGE, "'%s' line %u: %s", ld->name, line,
		       msg);
}

__attribute__((format(printf, 3, 4))) static void
warn(struct loader *ld, unsigned line, const char *fmt, ...)
{
	struct buf b = BUF_INIT(BUF_TEXT_MAX);
	va_list ap;

	buf_addf(&b, "'%s' line %u: ", ld->name, line);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	if (!ld->opt->quiet)
		log_warn("%s", buf_str(&b));
	strlist_push(&ld->cf->warnings, buf_str(&b));
	buf_release(&b);
}

/* --- paths ------------------------------------------------------------- */

/* A lexically clean absolute path: no "//", ".", ".." or trailing '/'. */
static char *clean_path(const char *path)
{
	size_t len = strlen(path), out = 0, i = 0;
	char *res = xmalloc(len + 2);

	res[out++] = '/';
	while (i < len) {
		size_t start, n;

		while (i < len && path[i] == '/')
			i++;
		start = i;
		while (i < len && path[i] != '/')
			i++;
		n = i - start;
		if (n == 0 || (n == 1 && path[start] == '.'))
			continue;
		if (n == 2 && path[start] == '.' && path[start + 1] == '.') {
			while (out > 1 && res[out - 1] != '/')
				out--;
			if (out > 1)
				out--;
			continue;
		}
		if (out > 1)
			res[out++] = '/';
		memcpy(res + out, path + start, n);
		out += n;
	}
	res[out] = '\0';
	return res;
}

/* dir + rel, cleaned; rel may be absolute. */
static char *join_path(const char *dir, const char *rel)
{
	struct buf b = BUF_INIT(BUF_TEXT_MAX);
	char *res;

	if (rel[0] != '/')
		buf_addf(&b, "%s/", dir);
	buf_addstr(&b, rel);
	res = clean_path(buf_str(&b));
	buf_release(&b);
	return res;
}

/* The part of path below dir ("." for dir itself), or NULL when path is
 * not inside dir; both clean and absolute. */
static const char *path_below(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (!strcmp(dir, "/"))
		return path[1] ? path + 1 : ".";
	if (strncmp(path, dir, n))
		return NULL;
	if (path[n] == '\0')
		return ".";
	return path[n] == '/' ? path + n + 1 : NULL;
}

/* --- scalars and simple shapes ------------------------------------------ */

static const char *kind_name(const struct ynode *n)
{
	return n->kind == YNODE_MAP   ? "a mapping"
	       : n->kind == YNODE_SEQ ? "a list"
				      : "a value";
}

static int want_scalar(struct loader *ld, const struct ynode *n,
		       const char *key, const char **out)
{
	if (n->kind != YNODE_SCALAR)
		return fail(ld, n->line, "'%s' must be a string, not %s", key,
			    kind_name(n));
	*out = n->value;
	return 0;
}

static int want_string(struct loader *ld, const struct ynode *n,
		       const char *key, char **out)
{
	const char *s = NULL;

	if (want_scalar(ld, n, key, &s) < 0)
		return -1;
	free(*out);
	*out = ynode_is_null(n) ? NULL : xstrdup(s);
	return 0;
}

/* A string (split into words when split is set, else one item) or a list
 * of strings. */
static int want_words(struct loader *ld, const struct ynode *n, const char *key,
		      int split, struct strlist *out)
{
	size_t i;

	strlist_clear(out);
	if (n->kind == YNODE_SCALAR) {
		if (ynode_is_null(n))
			return 0;
		if (!split) {
			strlist_push(out, n->value);
			return 0;
		}
		if (compose_split_words(n->value, out, ld->err) < 0)
			return fail(ld, n->line, "'%s': %s", key, ld->err->msg);
		return 0;
	}
	if (n->kind != YNODE_SEQ)
		return fail(ld, n->line,
			    "'%s' must be a string or a list of strings", key);
	for (i = 0; i < n->n; i++) {
		if (n->items[i]->kind != YNODE_SCALAR)
			return fail(ld, n->items[i]->line,
				    "'%s' must be a list of strings, not of %s",
				    key, kind_name(n->items[i]));
		strlist_push(out, n->items[i]->value);
	}
	return 0;
}

/* Sets KEY=VALUE in list, replacing an item with the same key. */
static void env_set(struct strlist *l, const char *key, size_t klen,
		    const char *value)
{
	struct buf b = BUF_INIT(BUF_TEXT_MAX);
	size_t i;

	buf_add(&b, key, klen);
	buf_addch(&b, '=');
	buf_addstr(&b, value);
	for (i = 0; i < l->n; i++) {
		if (!strncmp(l->v[i], key, klen) && l->v[i][klen] == '=') {
			free(l->v[i]);
			l->v[i] = buf_detach(&b);
			return;
		}
	}
	strlist_push(l, buf_str(&b));
	buf_release(&b);
}

enum pairs_kind {
	PAIRS_ENV, /* K=V; bare K or K: null looked up, dropped when unset */
	PAIRS_LABELS, /* k=v; bare k or k: null is "k=" */
	PAIRS_HOSTS, /* host:ip; map host: ip */
};

static int want_pairs(struct loader *ld, const struct ynode *n, const char *key,
		      enum pairs_kind kind, struct strlist *out)
{
	const char sep = kind == PAIRS_HOSTS ? ':' : '=';
	size_t i;

	if (n->kind == YNODE_MAP) {
		for (i = 0; i < n->n; i++) {
			const struct ynode *v = n->items[i];
			const char *k = n->keys[i]->value, *val;

			if (v->kind != YNODE_SCALAR)
				return fail(ld, v->line,
					    "'%s.%s' must be a string, not %s",
					    key, k, kind_name(v));
			val = v->value;
			if (ynode_is_null(v)) {
				if (kind == PAIRS_HOSTS)
					return fail(ld, v->line,
						    "'%s.%s' needs an address",
						    key, k);
				if (kind == PAIRS_ENV) {
					val = ld->opt->lookup(
						k, ld->opt->lookup_ctx);
					if (!val)
						continue;
				} else {
					val = "";
				}
			}
			if (kind == PAIRS_HOSTS) {
				struct buf b = BUF_INIT(BUF_TEXT_MAX);

				buf_addf(&b, "%s:%s", k, val);
				strlist_push(out, buf_str(&b));
				buf_release(&b);
			} else {
				env_set(out, k, strlen(k), val);
			}
		}
		return 0;
	}
	if (n->kind != YNODE_SEQ)
		return fail(ld, n->line, "'%s' must be a list or a mapping",
			    key);
	for (i = 0; i < n->n; i++) {
		const struct ynode *it = n->items[i];
		const char *s = NULL, *eq;

		if (it->kind != YNODE_SCALAR)
			return fail(ld, it->line,
				    "'%s' must be a list of strings, not of %s",
				    key, kind_name(it));
		s = it->value;
		if (kind == PAIRS_HOSTS) {
			/* compose accepts "host:ip" and "host=ip" */
			eq = strpbrk(s, ":=");
			if (!eq || eq == s || !eq[1])
				return fail(ld, it->line,
					    "'%s': '%s' is not HOST:ADDRESS",
					    key, s);
			{
				struct buf b = BUF_INIT(BUF_TEXT_MAX);

				buf_add(&b, s, (size_t)(eq - s));
				buf_addf(&b, ":%s", eq + 1);
				strlist_push(out, buf_str(&b));
				buf_release(&b);
			}
			continue;
		}
		eq = strchr(s, sep);
		if (eq == s || !s[0])
			return fail(ld, it->line, "'%s': '%s' has no name", key,
				    s);
		if (eq) {
			env_set(out, s, (size_t)(eq - s), eq + 1);
		} else if (kind == PAIRS_ENV) {
			const char *val =
				ld->opt->lookup(s, ld->opt->lookup_ctx);

			if (val)
				env_set(out, s, strlen(s), val);
		} else {
			env_set(out, s, strlen(s), "");
		}
	}
	return 0;
}

/* --- env_file ---------------------------------------------------------- */

/* Reads a file of the compose set (the file itself, an env_file) into out,
 * up to max bytes; errors say why, without the line (the caller adds it). */
static int read_file(const char *path, size_t max, struct buf *out,
		     struct error *err)
{
	if (buf_read_file(out, path, max) == 0)
		return 0;
	if (errno == EFBIG)
		return err_set(err, EXIT_USAGE, "'%s' is larger than %zu bytes",
			       path, max);
	return err_set(err, EXIT_USAGE, "cannot read '%s': %s", path,
		       strerror(errno));
}

/*
 * An env file: KEY=VALUE lines; blank lines and lines starting with '#'
 * are skipped, a leading "export " is dropped, a value in matching single
 * or double quotes loses them, and a bare KEY is looked up.
 */
static int read_env_file(struct loader *ld, const char *rel, unsigned line,
			 struct strlist *env)
{
	char *path = join_path(ld->cf->dir, rel);
	struct buf text = BUF_INIT(BUF_TEXT_MAX);
	struct error why = ERROR_INIT;
	char *p, *next;
	unsigned lineno = 0;
	int ret = -1;

	if (read_file(path, ENV_FILE_MAX, &text, &why) < 0) {
		fail(ld, line, "env_file: %s", why.msg);
		goto out;
	}
	for (p = text.data; p && *p; p = next) {
		char *end = strchr(p, '\n'), *eq;
		size_t vlen;

		next = end ? end + 1 : p + strlen(p);
		if (end)
			*end = '\0';
		lineno++;
		if (end > p && end[-1] == '\r')
			end[-1] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		if (!strncmp(p, "export ", 7))
			p += 7;
		eq = strchr(p, '=');
		if (eq == p) {
			fail(ld, line,
			     "env_file '%s' line %u: no name before '='", rel,
			     lineno);
			goto out;
		}
		if (!eq) {
			const char *v = ld->opt->lookup(p, ld->opt->lookup_ctx);

			if (v)
				env_set(env, p, strlen(p), v);
			continue;
		}
		vlen = strlen(eq + 1);
		if (vlen >= 2 && (eq[1] == '"' || eq[1] == '\'') &&
		    eq[vlen] == eq[1]) {
			eq[vlen] = '\0';
			env_set(env, p, (size_t)(eq - p), eq + 2);
		} else {
			env_set(env, p, (size_t)(eq - p), eq + 1);
		}
	}
	ret = 0;
out:
	buf_release(&text);
	free(path);
	return ret;
}

/* --- services ---------------------------------------------------------- */

static int read_build(struct loader *ld, struct compose_service *svc,
		      const struct ynode *n, const char *key)
{
	const char *ctx = ".";
	size_t i;

	svc->has_build = 1;
	if (n->kind == YNODE_SCALAR) {
		ctx = n->value;
	} else if (n->kind == YNODE_MAP) {
		for (i = 0; i < n->n; i++) {
			const char *k = n->keys[i]->value;
			const struct ynode *v = n->items[i];
			char sub[768];

			snprintf(sub, sizeof(sub), "%s.%s", key, k);
			if (!strcmp(k, "context")) {
				if (want_scalar(ld, v, sub, &ctx) < 0)
					return -1;
			} else if (!strcmp(k, "dockerfile")) {
				if (want_string(ld, v, sub,
						&svc->build_dockerfile) < 0)
					return -1;
			} else if (!strcmp(k, "target")) {
				if (want_string(ld, v, sub,
						&svc->build_target) < 0)
					return -1;
			} else if (!strcmp(k, "args")) {
				if (want_pairs(ld, v, sub, PAIRS_ENV,
					       &svc->build_args) < 0)
					return -1;
			} else if (!strncmp(k, "x-", 2)) {
				continue;
			} else {
				return fail(ld, n->keys[i]->line,
					    "'%s' is not supported (builder "
					    "reads context, dockerfile, args "
					    "and target)",
					    sub);
			}
		}
	} else {
		return fail(ld, n->line,
			    "'%s' must be a path or a mapping, not a list",
			    key);
	}
	if (!ctx[0])
		ctx = ".";
	if (strstr(ctx, "://") || !strncmp(ctx, "git@", 4))
		return fail(ld, n->line,
			    "'%s': remote build contexts ('%s') are not "
			    "supported: use a directory",
			    key, ctx);
	svc->build_context = join_path(ld->cf->dir, ctx);
	return 0;
}

static int read_condition(struct loader *ld, const struct ynode *v,
			  const char *key, enum compose_condition *c)
{
	const char *s = NULL;

	if (want_scalar(ld, v, key, &s) < 0)
		return -1;
	if (!strcmp(s, "service_started"))
		*c = COMPOSE_STARTED;
	else if (!strcmp(s, "service_healthy"))
		*c = COMPOSE_HEALTHY;
	else if (!strcmp(s, "service_completed_successfully"))
		*c = COMPOSE_COMPLETED;
	else
		return fail(
			ld, v->line,
			"'%s': unknown condition '%s' (service_started, "
			"service_healthy or service_completed_successfully)",
			key, s);
	return 0;
}

static struct compose_dep *add_dep(struct compose_service *svc,
				   const char *name, unsigned line)
{
	struct compose_dep *d;
	size_t i;

	for (i = 0; i < svc->ndeps; i++)
		if (!strcmp(svc->deps[i].service, name))
			return &svc->deps[i];
	svc->deps = xrealloc(svc->deps, (svc->ndeps + 1) * sizeof(*d));
	d = &svc->deps[svc->ndeps++];
	memset(d, 0, sizeof(*d));
	d->service = xstrdup(name);
	d->line = line;
	return d;
}

static int read_depends_on(struct loader *ld, struct compose_service *svc,
			   const struct ynode *n, const char *key)
{
	size_t i, j;

	if (n->kind == YNODE_SEQ) {
		for (i = 0; i < n->n; i++) {
			const char *s = NULL;

			if (want_scalar(ld, n->items[i], key, &s) < 0)
				return -1;
			add_dep(svc, s, n->items[i]->line);
		}
		return 0;
	}
	if (n->kind != YNODE_MAP)
		return fail(ld, n->line, "'%s' must be a list or a mapping",
			    key);
	for (i = 0; i < n->n; i++) {
		const struct ynode *v = n->items[i];
		struct compose_dep *d =
			add_dep(svc, n->keys[i]->value, n->keys[i]->line);
		char sub[768];

		snprintf(sub, sizeof(sub), "%s.%s", key, n->keys[i]->value);
		if (ynode_is_null(v))
			continue;
		if (v->kind != YNODE_MAP)
			return fail(ld, v->line,
				    "'%s' must be a mapping with a condition",
				    sub);
		for (j = 0; j < v->n; j++) {
			const char *k = v->keys[j]->value;
			char sub2[1024];

			snprintf(sub2, sizeof(sub2), "%s.%s", sub, k);
			if (!strcmp(k, "condition")) {
				if (read_condition(ld, v->items[j], sub2,
						   &d->condition) < 0)
					return -1;
			} else if (!strcmp(k, "restart") ||
				   !strcmp(k, "required")) {
				warn(ld, v->keys[j]->line,
				     "'%s' is ignored: builder starts each "
				     "service once",
				     sub2);
			} else {
				return fail(ld, v->keys[j]->line,
					    "'%s' is not supported (only "
					    "condition)",
					    sub2);
			}
		}
	}
	return 0;
}

static int read_links(struct loader *ld, struct compose_service *svc,
		      const struct ynode *n, const char *key)
{
	struct strlist l = STRLIST_INIT;
	size_t i;

	if (n->kind != YNODE_SEQ) {
		return fail(ld, n->line, "'%s' must be a list of services",
			    key);
	}
	if (want_words(ld, n, key, 0, &l) < 0) {
		strlist_clear(&l);
		return -1;
	}
	for (i = 0; i < l.n; i++) {
		char *colon = strchr(l.v[i], ':');
		struct compose_dep *d;

		if (colon)
			*colon = '\0';
		d = add_dep(svc, l.v[i], n->items[i]->line);
		if (colon && colon[1]) {
			free(d->alias);
			d->alias = xstrdup(colon + 1);
		}
	}
	strlist_clear(&l);
	return 0;
}

static int read_duration(struct loader *ld, const struct ynode *v,
			 const char *key, long long *ns)
{
	const char *s = NULL;

	if (want_scalar(ld, v, key, &s) < 0)
		return -1;
	if (compose_duration(s, ns) < 0)
		return fail(ld, v->line,
			    "'%s': '%s' is not a duration (like 30s, 1m30s "
			    "or 500ms)",
			    key, s);
	return 0;
}

static int read_healthcheck(struct loader *ld, struct compose_service *svc,
			    const struct ynode *n, const char *key)
{
	struct compose_healthcheck *hc = &svc->healthcheck;
	size_t i;

	if (n->kind != YNODE_MAP)
		return fail(ld, n->line, "'%s' must be a mapping", key);
	hc->present = 1;
	for (i = 0; i < n->n; i++) {
		const char *k = n->keys[i]->value;
		const struct ynode *v = n->items[i];
		char sub[768];

		snprintf(sub, sizeof(sub), "%s.%s", key, k);
		if (!strcmp(k, "test")) {
			if (v->kind == YNODE_SCALAR) {
				strlist_clear(&hc->test);
				if (ynode_is_null(v))
					continue;
				strlist_push(&hc->test, "CMD-SHELL");
				strlist_push(&hc->test, v->value);
				continue;
			}
			if (want_words(ld, v, sub, 0, &hc->test) < 0)
				return -1;
			if (!hc->test.n)
				continue;
			if (!strcmp(hc->test.v[0], "NONE")) {
				hc->disable = 1;
			} else if (strcmp(hc->test.v[0], "CMD") &&
				   strcmp(hc->test.v[0], "CMD-SHELL")) {
				return fail(ld, v->line,
					    "'%s' must start with \"CMD\", "
					    "\"CMD-SHELL\" or \"NONE\"",
					    sub);
			}
		} else if (!strcmp(k, "interval")) {
			if (read_duration(ld, v, sub, &hc->interval_ns) < 0)
				return -1;
		} else if (!strcmp(k, "timeout")) {
			if (read_duration(ld, v, sub, &hc->timeout_ns) < 0)
				return -1;
		} else if (!strcmp(k, "start_period")) {
			if (read_duration(ld, v, sub, &hc->start_period_ns) < 0)
				return -1;
		} else if (!strcmp(k, "retries")) {
			const char *s = NULL;
			char *end;
			long r;

			if (want_scalar(ld, v, sub, &s) < 0)
				return -1;
			errno = 0;
			r = strtol(s, &end, 10);
			if (!*s || *end || errno || r < 0 || r > 100000)
				return fail(ld, v->line,
					    "'%s': '%s' is not a number of "
					    "retries",
					    sub, s);
			hc->retries = (int)r;
		} else if (!strcmp(k, "disable")) {
			int b = ynode_bool(v);

			if (b < 0)
				return fail(ld, v->line,
					    "'%s' must be true or false", sub);
			hc->disable = b;
		} else if (!strcmp(k, "start_interval")) {
			warn(ld, n->keys[i]->line,
			     "'%s' is ignored: the engine applies its default",
			     sub);
		} else if (strncmp(k, "x-", 2)) {
			return fail(ld, n->keys[i]->line,
				    "'%s' is not supported", sub);
		}
	}
	return 0;
}

static int add_mount(struct loader *ld, struct compose_service *svc,
		     const char *source, const char *target, int read_only,
		     int bind, unsigned line, const char *key)
{
	struct compose_mount m = { 0 };
	char *abs = NULL, *real = NULL, *real_ctx = NULL, *ctx = NULL;
	const char *below;
	int ret = -1;

	if (!target || target[0] != '/')
		return fail(ld, line,
			    "'%s': the mount target '%s' must be an absolute "
			    "path in the container",
			    key, target ? target : "");
	m.line = line;
	m.read_only = read_only;
	m.target = xstrdup(target);
	if (!source || !source[0]) {
		m.kind = COMPOSE_MOUNT_ANON;
	} else if (!bind) {
		m.kind = COMPOSE_MOUNT_VOLUME;
		if (!strlist_has(&ld->cf->volumes, source)) {
			fail(ld, line,
			     "'%s': the named volume '%s' is not declared in "
			     "the top-level 'volumes:'",
			     key, source);
			goto out;
		}
		m.source = xstrdup(source);
	} else {
		m.kind = COMPOSE_MOUNT_BIND;
		if (source[0] == '~') {
			fail(ld, line,
			     "'%s': '%s' is outside the build context: "
			     "builder binds only paths inside it",
			     key, source);
			goto out;
		}
		ctx = clean_path(ld->opt->context_dir ? ld->opt->context_dir
						      : ld->cf->dir);
		abs = join_path(ld->cf->dir, source);
		below = path_below(abs, ctx);
		/* Symbolic links must not lead out either. */
		real = realpath(abs, NULL);
		real_ctx = realpath(ctx, NULL);
		if (!below ||
		    (real && real_ctx && !path_below(real, real_ctx))) {
			fail(ld, line,
			     "'%s': '%s' is outside the build context '%s': "
			     "builder binds only paths inside it, which also "
			     "work on remote engines",
			     key, source, ctx);
			goto out;
		}
		m.context_path = xstrdup(below);
		m.source = abs;
		abs = NULL;
	}
	svc->mounts = xrealloc(svc->mounts,
			       (svc->nmounts + 1) * sizeof(*svc->mounts));
	svc->mounts[svc->nmounts++] = m;
	memset(&m, 0, sizeof(m));
	ret = 0;
out:
	free(m.target);
	free(m.source);
	free(m.context_path);
	free(abs);
	free(real);
	free(real_ctx);
	free(ctx);
	return ret;
}

static int is_bind_source(const char *s)
{
	return s[0] == '.' || s[0] == '/' || s[0] == '~';
}

static int read_volume_long(struct loader *ld, struct compose_service *svc,
			    const struct ynode *n, const char *key)
{
	const char *type = NULL, *source = NULL, *target = NULL;
	int ro = 0;
	size_t i;

	for (i = 0; i < n->n; i++) {
		const char *k = n->keys[i]->value;
		const struct ynode *v = n->items[i];
		char sub[768];

		snprintf(sub, sizeof(sub), "%s.%s", key, k);
		if (!strcmp(k, "type")) {
			if (want_scalar(ld, v, sub, &type) < 0)
				return -1;
		} else if (!strcmp(k, "source")) {
			if (want_scalar(ld, v, sub, &source) < 0)
				return -1;
		} else if (!strcmp(k, "target")) {
			if (want_scalar(ld, v, sub, &target) < 0)
				return -1;
		} else if (!strcmp(k, "read_only")) {
			ro = ynode_bool(v);
			if (ro < 0)
				return fail(ld, v->line,
					    "'%s' must be true or false", sub);
		} else if (strncmp(k, "x-", 2)) {
			return fail(ld, n->keys[i]->line,
				    "'%s' is not supported (type, source, "
				    "target, read_only)",
				    sub);
		}
	}
	if (!type || (strcmp(type, "volume") && strcmp(type, "bind")))
		return fail(ld, n->line,
			    "'%s': type must be 'volume' or 'bind'", key);
	if (!strcmp(type, "bind") && (!source || !source[0]))
		return fail(ld, n->line, "'%s': a bind needs a source", key);
	return add_mount(ld, svc, source, target, ro, !strcmp(type, "bind"),
			 n->line, key);
}

static int read_volumes(struct loader *ld, struct compose_service *svc,
			const struct ynode *n, const char *key)
{
	size_t i;

	if (n->kind != YNODE_SEQ)
		return fail(ld, n->line, "'%s' must be a list", key);
	for (i = 0; i < n->n; i++) {
		const struct ynode *it = n->items[i];
		struct strlist parts = STRLIST_INIT;
		const char *s = NULL;
		int ro = 0, ret;

		if (it->kind == YNODE_MAP) {
			if (read_volume_long(ld, svc, it, key) < 0)
				return -1;
			continue;
		}
		if (want_scalar(ld, it, key, &s) < 0)
			return -1;
		strlist_split(&parts, s, ":");
		if (parts.n == 3) {
			struct strlist modes = STRLIST_INIT;
			size_t j;

			strlist_split(&modes, parts.v[2], ",");
			for (j = 0; j < modes.n; j++) {
				const char *m = modes.v[j];

				if (!strcmp(m, "ro"))
					ro = 1;
				else if (strcmp(m, "rw") && strcmp(m, "z") &&
					 strcmp(m, "Z") &&
					 strcmp(m, "cached") &&
					 strcmp(m, "delegated") &&
					 strcmp(m, "consistent") &&
					 strcmp(m, "nocopy")) {
					fail(ld, it->line,
					     "'%s': unknown mount mode '%s' in "
					     "'%s'",
					     key, m, s);
					strlist_clear(&modes);
					strlist_clear(&parts);
					return -1;
				}
			}
			strlist_clear(&modes);
		}
		if (parts.n == 1)
			ret = add_mount(ld, svc, NULL, parts.v[0], 0, 0,
					it->line, key);
		else if (parts.n == 2 || parts.n == 3)
			ret = add_mount(ld, svc, parts.v[0], parts.v[1], ro,
					is_bind_source(parts.v[0]), it->line,
					key);
		else
			ret = fail(ld, it->line,
				   "'%s': '%s' is not SOURCE:TARGET[:MODE]",
				   key, s);
		strlist_clear(&parts);
		if (ret < 0)
			return -1;
	}
	return 0;
}

static const char *const warned_keys[] = { "networks", "container_name",
					   "restart", "ports", NULL };

static int read_service(struct loader *ld, struct compose_service *svc,
			const char *prefix, const struct ynode *n, int v1)
{
	const struct ynode *envfile = NULL, *environment = NULL;
	struct strlist files = STRLIST_INIT;
	const char *dockerfile_v1 = NULL;
	size_t i;
	int ret = -1;

	if (n->kind != YNODE_MAP && !ynode_is_null(n))
		return fail(ld, n->line, "'%s%s' must be a mapping", prefix,
			    svc->name);
	for (i = 0; n->kind == YNODE_MAP && i < n->n; i++) {
		const char *k = n->keys[i]->value;
		const struct ynode *v = n->items[i];
		char key[512];
		size_t w;

		snprintf(key, sizeof(key), "%s%s.%s", prefix, svc->name, k);
		if (!strncmp(k, "x-", 2))
			continue;
		for (w = 0; warned_keys[w]; w++)
			if (!strcmp(k, warned_keys[w]))
				break;
		if (warned_keys[w]) {
			warn(ld, n->keys[i]->line,
			     "'%s' is ignored: builder runs each test file on "
			     "its own private network with unique names",
			     key);
			continue;
		}
		if (!strcmp(k, "image")) {
			if (want_string(ld, v, key, &svc->image) < 0)
				goto out;
		} else if (!strcmp(k, "build")) {
			if (read_build(ld, svc, v, key) < 0)
				goto out;
		} else if (v1 && !strcmp(k, "dockerfile")) {
			if (want_scalar(ld, v, key, &dockerfile_v1) < 0)
				goto out;
		} else if (!strcmp(k, "command")) {
			svc->has_command = 1;
			if (want_words(ld, v, key, 1, &svc->command) < 0)
				goto out;
		} else if (!strcmp(k, "entrypoint")) {
			svc->has_entrypoint = 1;
			if (want_words(ld, v, key, 1, &svc->entrypoint) < 0)
				goto out;
		} else if (!strcmp(k, "environment")) {
			environment = v;
		} else if (!strcmp(k, "env_file")) {
			envfile = v;
			if (want_words(ld, v, key, 0, &files) < 0)
				goto out;
		} else if (!strcmp(k, "depends_on")) {
			if (read_depends_on(ld, svc, v, key) < 0)
				goto out;
		} else if (!strcmp(k, "links")) {
			if (read_links(ld, svc, v, key) < 0)
				goto out;
		} else if (!strcmp(k, "healthcheck")) {
			if (read_healthcheck(ld, svc, v, key) < 0)
				goto out;
		} else if (!strcmp(k, "working_dir")) {
			if (want_string(ld, v, key, &svc->working_dir) < 0)
				goto out;
		} else if (!strcmp(k, "user")) {
			if (want_string(ld, v, key, &svc->user) < 0)
				goto out;
		} else if (!strcmp(k, "tmpfs")) {
			if (want_words(ld, v, key, 0, &svc->tmpfs) < 0)
				goto out;
		} else if (!strcmp(k, "extra_hosts")) {
			if (want_pairs(ld, v, key, PAIRS_HOSTS,
				       &svc->extra_hosts) < 0)
				goto out;
		} else if (!strcmp(k, "labels")) {
			if (want_pairs(ld, v, key, PAIRS_LABELS, &svc->labels) <
			    0)
				goto out;
		} else if (!strcmp(k, "volumes")) {
			if (read_volumes(ld, svc, v, key) < 0)
				goto out;
		} else {
			fail(ld, n->keys[i]->line,
			     "'%s' is not supported by builder's compose "
			     "subset: remove it or run that test another way",
			     key);
			goto out;
		}
	}
	if (dockerfile_v1) {
		if (!svc->has_build) {
			fail(ld, n->line,
			     "'%s%s.dockerfile' needs 'build' next to it",
			     prefix, svc->name);
			goto out;
		}
		free(svc->build_dockerfile);
		svc->build_dockerfile = xstrdup(dockerfile_v1);
	}
	if (!svc->image && !svc->has_build) {
		fail(ld, n->line,
		     "service '%s' has neither 'image' nor 'build'", svc->name);
		goto out;
	}
	/* env_file first, environment over it, whatever the key order. */
	for (i = 0; i < files.n; i++)
		if (read_env_file(ld, files.v[i], envfile->line,
				  &svc->environment) < 0)
			goto out;
	if (environment) {
		char key[512];

		snprintf(key, sizeof(key), "%s%s.environment", prefix,
			 svc->name);
		if (want_pairs(ld, environment, key, PAIRS_ENV,
			       &svc->environment) < 0)
			goto out;
	}
	ret = 0;
out:
	strlist_clear(&files);
	return ret;
}

/* --- interpolation over the tree ---------------------------------------- */

struct interp_walk {
	struct loader *ld;
	struct strlist unset;
};

static int interp_tree(struct interp_walk *w, struct ynode *n, struct buf *key)
{
	size_t i, keylen = key->len;

	if (n->kind == YNODE_SCALAR) {
		char *out = NULL;

		if (!strchr(n->value, '$'))
			return 0;
		if (interp_string(n->value, w->ld->opt->lookup,
				  w->ld->opt->lookup_ctx, &out, &w->unset,
				  w->ld->err) < 0)
			return fail(w->ld, n->line, "'%s': %s", buf_str(key),
				    w->ld->err->msg);
		free(n->value);
		n->value = out;
		/* An interpolated value is a string, never YAML's null. */
		n->plain = 0;
		return 0;
	}
	for (i = 0; i < n->n; i++) {
		if (n->keys) {
			/* Top-level extension fields are templates, used
			 * through anchors; they are interpolated where used. */
			if (!keylen && !strncmp(n->keys[i]->value, "x-", 2))
				continue;
			buf_addf(key, "%s%s", keylen ? "." : "",
				 n->keys[i]->value);
		} else {
			buf_addf(key, "[%zu]", i);
		}
		if (interp_tree(w, n->items[i], key) < 0)
			return -1;
		key->len = keylen;
		key->data[keylen] = '\0';
	}
	return 0;
}

/* --- the file ------------------------------------------------------------ */

static int read_top_volumes(struct loader *ld, const struct ynode *n)
{
	size_t i, j;

	if (ynode_is_null(n))
		return 0;
	if (n->kind != YNODE_MAP)
		return fail(ld, n->line, "'volumes' must be a mapping");
	for (i = 0; i < n->n; i++) {
		const struct ynode *v = n->items[i];

		if (!ynode_is_null(v) && v->kind != YNODE_MAP)
			return fail(ld, v->line,
				    "'volumes.%s' must be a mapping or empty",
				    n->keys[i]->value);
		for (j = 0; v->kind == YNODE_MAP && j < v->n; j++) {
			const char *k = v->keys[j]->value;

			if (!strncmp(k, "x-", 2) || !strcmp(k, "labels"))
				continue;
			return fail(ld, v->keys[j]->line,
				    "'volumes.%s.%s' is not supported: builder "
				    "creates a fresh local volume for each "
				    "test file",
				    n->keys[i]->value, k);
		}
		strlist_push(&ld->cf->volumes, n->keys[i]->value);
	}
	return 0;
}

static int check_deps(struct loader *ld)
{
	struct compose_file *cf = ld->cf;
	size_t i, j;

	for (i = 0; i < cf->nservices; i++) {
		for (j = 0; j < cf->services[i].ndeps; j++) {
			const struct compose_dep *d = &cf->services[i].deps[j];

			if (!compose_service(cf, d->service))
				return fail(ld, d->line,
					    "service '%s' depends on '%s', "
					    "which is not defined",
					    cf->services[i].name, d->service);
		}
	}
	return 0;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = NULL, *cwd = NULL, *res;

	if (slash == path)
		return xstrdup("/");
	dir = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup(".");
	if (dir[0] == '/') {
		res = clean_path(dir);
	} else {
		cwd = getcwd(NULL, 0);
		res = join_path(cwd ? cwd : "/", dir);
	}
	free(cwd);
	free(dir);
	return res;
}

int compose_parse(struct compose_file **out, const char *path, const char *text,
		  size_t len, const struct compose_options *opt,
		  struct error *err)
{
	struct compose_file *cf = xcalloc(1, sizeof(*cf));
	struct loader ld = { opt, cf, path, err };
	struct interp_walk w = { &ld, STRLIST_INIT };
	struct buf key = BUF_INIT(BUF_TEXT_MAX);
	struct ynode *doc = NULL;
	const struct ynode *services;
	int v1, ret = -1;
	size_t i, u;

	*out = NULL;
	cf->path = xstrdup(path);
	cf->dir = dir_of(path);
	if (yamldoc_parse(&doc, text, len, path, err) < 0)
		goto out;
	if (doc->kind != YNODE_MAP) {
		fail(&ld, doc->line,
		     "a compose file must be a mapping of services");
		goto out;
	}
	if (interp_tree(&w, doc, &key) < 0)
		goto out;
	for (u = 0; u < w.unset.n; u++)
		warn(&ld, 1,
		     "the variable '%s' is not set: using an empty string",
		     w.unset.v[u]);

	services = ynode_get(doc, "services");
	v1 = !services && !ynode_get(doc, "version");
	for (i = 0; !v1 && i < doc->n; i++) {
		const char *k = doc->keys[i]->value;

		if (!strcmp(k, "version") || !strcmp(k, "services") ||
		    !strncmp(k, "x-", 2) || !strcmp(k, "name"))
			continue;
		if (!strcmp(k, "volumes")) {
			if (read_top_volumes(&ld, doc->items[i]) < 0)
				goto out;
		} else if (!strcmp(k, "networks")) {
			warn(&ld, doc->keys[i]->line,
			     "'networks' is ignored: builder runs each test "
			     "file on its own private network");
		} else {
			fail(&ld, doc->keys[i]->line,
			     "top-level '%s' is not supported by builder's "
			     "compose subset",
			     k);
			goto out;
		}
	}
	if (v1)
		services = doc;
	if (!services || ynode_is_null(services)) {
		fail(&ld, doc->line, "no services defined");
		goto out;
	}
	if (services->kind != YNODE_MAP) {
		fail(&ld, services->line, "'services' must be a mapping");
		goto out;
	}
	cf->services =
		xcalloc(services->n ? services->n : 1, sizeof(*cf->services));
	for (i = 0; i < services->n; i++) {
		struct compose_service *svc = &cf->services[cf->nservices];
		const char *name = services->keys[i]->value;

		if (!strncmp(name, "x-", 2))
			continue;
		svc->name = xstrdup(name);
		svc->line = services->keys[i]->line;
		cf->nservices++;
		if (read_service(&ld, svc, v1 ? "" : "services.",
				 services->items[i], v1) < 0)
			goto out;
	}
	if (check_deps(&ld) < 0)
		goto out;
	*out = cf;
	cf = NULL;
	ret = 0;
out:
	compose_free(cf);
	ynode_free(doc);
	buf_release(&key);
	strlist_clear(&w.unset);
	return ret;
}

int compose_load(struct compose_file **out, const char *path,
		 const struct compose_options *opt, struct error *err)
{
	struct buf text = BUF_INIT(BUF_TEXT_MAX);
	int ret;

	*out = NULL;
	if (read_file(path, COMPOSE_FILE_MAX, &text, err) < 0)
		return -1;
	ret = compose_parse(out, path, buf_str(&text), text.len, opt, err);
	buf_release(&text);
	return ret;
}

static void service_release(struct compose_service *s)
{
	size_t i;

	free(s->name);
	free(s->image);
	free(s->build_context);
	free(s->build_dockerfile);
	strlist_clear(&s->build_args);
	free(s->build_target);
	strlist_clear(&s->command);
	strlist_clear(&s->entrypoint);
	strlist_clear(&s->environment);
	for (i = 0; i < s->ndeps; i++) {
		free(s->deps[i].service);
		free(s->deps[i].alias);
	}
	free(s->deps);
	strlist_clear(&s->healthcheck.test);
	free(s->working_dir);
	free(s->user);
	strlist_clear(&s->tmpfs);
	strlist_clear(&s->extra_hosts);
	strlist_clear(&s->labels);
	for (i = 0; i < s->nmounts; i++) {
		free(s->mounts[i].source);
		free(s->mounts[i].context_path);
		free(s->mounts[i].target);
	}
	free(s->mounts);
}

void compose_free(struct compose_file *cf)
{
	size_t i;

	if (!cf)
		return;
	for (i = 0; i < cf->nservices; i++)
		service_release(&cf->services[i]);
	free(cf->services);
	free(cf->path);
	free(cf->dir);
	strlist_clear(&cf->volumes);
	strlist_clear(&cf->warnings);
	free(cf);
}

const struct compose_service *compose_service(const struct compose_file *cf,
					      const char *name)
{
	size_t i;

	for (i = 0; i < cf->nservices; i++)
		if (!strcmp(cf->services[i].name, name))
			return &cf->services[i];
	return NULL;
}

/* --- the sut closure ------------------------------------------------------ */

enum { WHITE, GREY, BLACK };

static int visit(const struct compose_file *cf, size_t i, unsigned char *color,
		 size_t *order, size_t *n, struct error *err)
{
	const struct compose_service *s = &cf->services[i];
	size_t j;

	if (color[i] == BLACK)
		return 0;
	if (color[i] == GREY)
		return err_set(err, EXIT_USAGE,
			       "'%s': the dependencies of service '%s' form a "
			       "cycle",
			       cf->path, s->name);
	color[i] = GREY;
	for (j = 0; j < s->ndeps; j++) {
		const struct compose_service *d =
			compose_service(cf, s->deps[j].service);

		if (!d)
			return err_set(err, EXIT_USAGE,
				       "'%s': service '%s' depends on '%s', "
				       "which is not defined",
				       cf->path, s->name, s->deps[j].service);
		if (visit(cf, (size_t)(d - cf->services), color, order, n,
			  err) < 0)
			return -1;
	}
	color[i] = BLACK;
	order[(*n)++] = i;
	return 0;
}

int compose_sut_order(const struct compose_file *cf, size_t **order, size_t *n,
		      struct error *err)
{
	const struct compose_service *sut = compose_service(cf, "sut");
	unsigned char *color = NULL;

	*order = NULL;
	*n = 0;
	if (!sut)
		return err_set(err, EXIT_USAGE,
			       "'%s' has no 'sut' service: autotest runs the "
			       "service called sut and judges by its exit code",
			       cf->path);
	color = xcalloc(cf->nservices, 1);
	*order = xcalloc(cf->nservices, sizeof(**order));
	if (visit(cf, (size_t)(sut - cf->services), color, *order, n, err) <
	    0) {
		free(*order);
		*order = NULL;
		*n = 0;
		free(color);
		return -1;
	}
	free(color);
	return 0;
}

int compose_builds_same_image(const struct compose_service *svc,
			      const char *context_dir, const char *dockerfile,
			      const char *target)
{
	char *ctx, *a, *b;
	int same;

	if (!svc->has_build || svc->build_args.n)
		return 0;
	if ((svc->build_target || target) &&
	    (!svc->build_target || !target ||
	     strcmp(svc->build_target, target)))
		return 0;
	ctx = clean_path(context_dir);
	a = join_path(ctx, svc->build_dockerfile ? svc->build_dockerfile
						 : "Dockerfile");
	b = join_path(ctx, dockerfile ? dockerfile : "Dockerfile");
	same = !strcmp(svc->build_context, ctx) && !strcmp(a, b);
	free(ctx);
	free(a);
	free(b);
	return same;
}

/* --- test files ------------------------------------------------------------
 */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int compose_find_tests(const char *dir, struct strlist *out, struct error *err)
{
	static const char main_name[] = "docker-compose.test.yml";
	struct strlist names = STRLIST_INIT;
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t i;

	if (!d)
		return err_set(err, EXIT_USAGE,
			       "cannot read directory '%s': %s", dir,
			       strerror(errno));
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		struct buf p = BUF_INIT(BUF_TEXT_MAX);
		struct stat st;

		if (len <= 9 || strcmp(de->d_name + len - 9, ".test.yml"))
			continue;
		buf_addf(&p, "%s/%s", dir, de->d_name);
		if (stat(buf_str(&p), &st) == 0 && S_ISREG(st.st_mode))
			strlist_push(&names, de->d_name);
		buf_release(&p);
	}
	closedir(d);
	if (names.n)
		qsort(names.v, names.n, sizeof(*names.v), cmp_str);
	for (i = 0; i < names.n; i++) {
		struct buf p = BUF_INIT(BUF_TEXT_MAX);

		if (strcmp(names.v[i], main_name))
			continue;
		buf_addf(&p, "%s/%s", dir, main_name);
		strlist_push(out, buf_str(&p));
		buf_release(&p);
	}
	for (i = 0; i < names.n; i++) {
		struct buf p = BUF_INIT(BUF_TEXT_MAX);

		if (!strcmp(names.v[i], main_name))
			continue;
		buf_addf(&p, "%s/%s", dir, names.v[i]);
		strlist_push(out, buf_str(&p));
		buf_release(&p);
	}
	strlist_clear(&names);
	return 0;
}

/* --- small grammars
 * ----------------------------------------------------------- */

int compose_split_words(const char *s, struct strlist *out, struct error *err)
{
	struct buf w = BUF_INIT(BUF_TEXT_MAX);
	int in_word = 0, ret = -1;

	for (; *s; s++) {
		char c = *s;

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			if (in_word)
				strlist_push(out, buf_str(&w));
			buf_reset(&w);
			in_word = 0;
			continue;
		}
		in_word = 1;
		if (c == '\\') {
			if (s[1])
				buf_addch(&w, *++s);
		} else if (c == '\'') {
			const char *end = strchr(s + 1, '\'');

			if (!end)
				goto unclosed;
			buf_add(&w, s + 1, (size_t)(end - s - 1));
			s = end;
		} else if (c == '"') {
			for (s++; *s && *s != '"'; s++) {
				if (*s == '\\' && s[1] &&
				    strchr("\\\"$`\n", s[1]))
					s++;
				buf_addch(&w, *s);
			}
			if (!*s)
				goto unclosed;
		} else {
			buf_addch(&w, c);
		}
	}
	if (in_word)
		strlist_push(out, buf_str(&w));
	ret = 0;
	goto out;
unclosed:
	err_set(err, EXIT_USAGE, "a quote is not closed");
out:
	buf_release(&w);
	return ret;
}

int compose_duration(const char *s, long long *ns)
{
	static const struct {
		const char *unit;
		long long ns;
	} units[] = {
		{ "ns", 1LL },
		{ "us", 1000LL },
		{ "ms", 1000000LL },
		{ "s", 1000000000LL },
		{ "m", 60LL * 1000000000LL },
		{ "h", 3600LL * 1000000000LL },
	};
	long double total = 0;

	if (!strcmp(s, "0")) {
		*ns = 0;
		return 0;
	}
	if (!*s)
		return -1;
	while (*s) {
		long double v = 0, frac = 0, scale = 1;
		int digits = 0;
		size_t u, best = (size_t)-1;

		while (*s >= '0' && *s <= '9') {
			v = v * 10 + (*s++ - '0');
			digits++;
		}
		if (*s == '.') {
			for (s++; *s >= '0' && *s <= '9'; s++) {
				scale /= 10;
				frac += (*s - '0') * scale;
				digits++;
			}
		}
		if (!digits)
			return -1;
		for (u = 0; u < sizeof(units) / sizeof(*units); u++) {
			size_t n = strlen(units[u].unit);

			if (!strncmp(s, units[u].unit, n) &&
			    (best == (size_t)-1 ||
			     n > strlen(units[best].unit)))
				best = u;
		}
		if (best == (size_t)-1)
			return -1;
		s += strlen(units[best].unit);
		total += (v + frac) * units[best].ns;
		if (total > 9.2e18L)
			return -1;
	}
	*ns = (long long)total;
	return 0;
}
