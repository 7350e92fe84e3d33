/*
 * Docker Hub build hooks, the parts without side effects: which exist,
 * their order and exit codes, their interpreter, the autobuild variables.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "compose/hooks.h"
#include "util/buf.h"
#include "util/xmalloc.h"
#include "util/banned.h"

const char *const hook_names[HOOK_COUNT] = {
	"post_checkout", "pre_build", "build",	  "post_build", "pre_test",
	"test",		 "post_test", "pre_push", "push",	"post_push",
};

int hook_exit_code(enum hook h)
{
	if (h <= HOOK_POST_BUILD)
		return EXIT_BUILD;
	if (h <= HOOK_POST_TEST)
		return EXIT_TESTS;
	return EXIT_PUSH;
}

int hooks_find(const char *dir, struct strlist *out, struct error *err)
{
	struct buf p = BUF_INIT(BUF_TEXT_MAX);
	struct stat st;
	int h;

	buf_addf(&p, "%s/hooks", dir);
	if (stat(buf_str(&p), &st) < 0) {
		int e = errno;

		buf_release(&p);
		if (e == ENOENT || e == ENOTDIR)
			return 0;
		return err_set(err, EXIT_USAGE, "cannot read '%s/hooks': %s",
			       dir, strerror(e));
	}
	if (!S_ISDIR(st.st_mode)) {
		buf_release(&p);
		return 0;
	}
	for (h = 0; h < HOOK_COUNT; h++) {
		buf_reset(&p);
		buf_addf(&p, "%s/hooks/%s", dir, hook_names[h]);
		if (stat(buf_str(&p), &st) == 0 && S_ISREG(st.st_mode))
			strlist_push(out, hook_names[h]);
	}
	buf_release(&p);
	return 0;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

int hooks_interpreter(const char *text, size_t len, struct strlist *argv,
		      struct error *err)
{
	const char *end;
	char *line = NULL, *p, *prog, *arg = NULL;

	if (len < 2 || text[0] != '#' || text[1] != '!') {
		strlist_push(argv, "sh");
		return 0;
	}
	end = memchr(text, '\n', len);
	line = xstrndup(text + 2, (end ? (size_t)(end - text) : len) - 2);
	for (p = line; *p == ' ' || *p == '\t'; p++)
		;
	prog = p;
	while (*p && *p != ' ' && *p != '\t' && *p != '\r')
		p++;
	if (*p) {
		*p++ = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		/* The kernel passes the rest as one argument, trailing
		 * blanks dropped. */
		arg = p;
		for (p = arg + strlen(arg);
		     p > arg &&
		     (p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\r');
		     p--)
			p[-1] = '\0';
		if (!*arg)
			arg = NULL;
	}
	if (!*prog) {
		free(line);
		return err_set(err, EXIT_USAGE,
			       "the '#!' line names no interpreter");
	}
	if (strcmp(base_name(prog), "env")) {
		strlist_push(argv, base_name(prog));
		if (arg)
			strlist_push(argv, arg);
		free(line);
		return 0;
	}
	/* env: its first operand is the program; "-S" splits the rest. */
	if (arg && !strncmp(arg, "-S", 2)) {
		arg += 2;
		strlist_split(argv, arg, " \t");
	} else if (arg) {
		strlist_split(argv, arg, " \t");
	}
	free(line);
	if (!argv->n)
		return err_set(err, EXIT_USAGE,
			       "the '#!/usr/bin/env' line names no program");
	{
		/* env options (-i, -u NAME) are not for hooks. */
		const char *first = argv->v[0];

		if (first[0] == '-')
			return err_set(err, EXIT_USAGE,
				       "the '#!/usr/bin/env %s' line: options "
				       "other than -S are not supported",
				       first);
		if (strrchr(first, '/')) {
			char *b = xstrdup(base_name(first));

			free(argv->v[0]);
			argv->v[0] = b;
		}
	}
	return 0;
}

static const char *first_set(compose_lookup_fn lookup, void *ctx,
			     const char *const *names)
{
	for (; *names; names++) {
		const char *v = lookup(*names, ctx);

		if (v && *v)
			return v;
	}
	return NULL;
}

static void push_var(struct strlist *out, const char *name, const char *v)
{
	struct buf b = BUF_INIT(BUF_TEXT_MAX);

	buf_addf(&b, "%s=%s", name, v ? v : "");
	strlist_push(out, buf_str(&b));
	buf_release(&b);
}

void hooks_autobuild_vars(const struct autobuild_facts *facts,
			  compose_lookup_fn lookup, void *ctx,
			  struct strlist *out)
{
	static const char *const branch[] = {
		"SOURCE_BRANCH",
		"GITHUB_HEAD_REF",
		"GITHUB_REF_NAME",
		"CI_COMMIT_TAG",
		"CI_COMMIT_REF_NAME",
		"CIRCLE_TAG",
		"CIRCLE_BRANCH",
		"bamboo_planRepository_branchName",
		NULL,
	};
	static const char *const commit[] = {
		"SOURCE_COMMIT",
		"GITHUB_SHA",
		"CI_COMMIT_SHA",
		"CIRCLE_SHA1",
		"bamboo_planRepository_revision",
		NULL,
	};
	static const char *const msg[] = { "COMMIT_MSG", "CI_COMMIT_MESSAGE",
					   NULL };
	const char *repo, *tag, *v;
	struct buf image = BUF_INIT(BUF_TEXT_MAX);

	push_var(out, "SOURCE_BRANCH", first_set(lookup, ctx, branch));
	push_var(out, "SOURCE_COMMIT", first_set(lookup, ctx, commit));
	push_var(out, "COMMIT_MSG", first_set(lookup, ctx, msg));
	repo = lookup("DOCKER_REPO", ctx);
	if (!repo || !*repo)
		repo = facts->repo;
	tag = lookup("DOCKER_TAG", ctx);
	if (!tag || !*tag)
		tag = facts->tag;
	push_var(out, "DOCKER_REPO", repo);
	v = lookup("DOCKERFILE_PATH", ctx);
	push_var(out, "DOCKERFILE_PATH", v && *v ? v : facts->dockerfile);
	push_var(out, "DOCKER_TAG", tag);
	v = lookup("IMAGE_NAME", ctx);
	if (v && *v) {
		push_var(out, "IMAGE_NAME", v);
	} else {
		if (repo && *repo)
			buf_addf(&image, "%s%s%s", repo, tag && *tag ? ":" : "",
				 tag && *tag ? tag : "");
		push_var(out, "IMAGE_NAME", buf_str(&image));
	}
	v = lookup("BUILD_PATH", ctx);
	push_var(out, "BUILD_PATH", v && *v ? v : facts->build_path);
	buf_release(&image);
}

const char *hooks_strlist_lookup(const char *name, void *ctx)
{
	const struct strlist *l = ctx;
	size_t n = strlen(name), i;

	for (i = 0; i < l->n; i++)
		if (!strncmp(l->v[i], name, n) && l->v[i][n] == '=')
			return l->v[i] + n + 1;
	return NULL;
}

void hooks_env(char *const base[], const struct strlist *vars,
	       struct strlist *out)
{
	size_t i;

	for (; base && *base; base++) {
		const char *eq = strchr(*base, '=');
		size_t n = eq ? (size_t)(eq - *base) : strlen(*base);
		int replaced = 0;

		for (i = 0; i < vars->n && !replaced; i++)
			replaced = !strncmp(vars->v[i], *base, n) &&
				   vars->v[i][n] == '=';
		if (!replaced)
			strlist_push(out, *base);
	}
	for (i = 0; i < vars->n; i++)
		strlist_push(out, vars->v[i]);
}
