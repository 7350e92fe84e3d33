/*
 * Base images of a Dockerfile; see dockerfile.h. This is not a Dockerfile
 * parser: it reads FROM and global ARG instructions and ignores the rest.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "context/dockerfile.h"
#include "util/xmalloc.h"
#include "util/banned.h"

/* The value of name in "K=V" pairs, or NULL. */
static const char *lookup(const struct strlist *pairs, const char *name,
			  size_t len)
{
	for (size_t i = pairs->n; i-- > 0;) {
		const char *p = pairs->v[i];

		if (!strncmp(p, name, len) && p[len] == '=')
			return p + len + 1;
	}
	return NULL;
}

static void expand(const char *word, const struct strlist *args,
		   const struct strlist *globals, struct buf *out)
{
	buf_reset(out);
	while (*word) {
		const char *name, *value;
		size_t len;
		int braced;

		if (*word != '$') {
			buf_addch(out, *word++);
			continue;
		}
		braced = word[1] == '{';
		name = word + 1 + braced;
		len = 0;
		while (isalnum((unsigned char)name[len]) || name[len] == '_')
			len++;
		if (!len || (braced && name[len] != '}')) {
			buf_addch(out, *word++);
			continue;
		}
		value = lookup(args, name, len);
		if (!value)
			value = lookup(globals, name, len);
		if (!value) {
			buf_addch(out, '$'); /* unknown: leave it visible */
			return;
		}
		buf_addstr(out, value);
		word = name + len + braced;
	}
}

/* Splits a logical line into words (no quoting in FROM or ARG). */
static size_t split_words(char *line, char **words, size_t max)
{
	size_t n = 0;
	char *p = line;

	while (*p && n < max) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		words[n++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = '\0';
	}
	return n;
}

static void handle_line(char *line, const struct strlist *args,
			struct strlist *globals, struct strlist *stages,
			int *seen_from, struct strlist *out)
{
	char *w[8];
	size_t n = split_words(line, w, 8), i = 1;
	struct buf image = BUF_INIT(BUF_TEXT_MAX);

	if (!n)
		return;
	if (!strcasecmp(w[0], "ARG") && !*seen_from) {
		for (i = 1; i < n; i++)
			if (strchr(w[i], '='))
				strlist_push(globals, w[i]);
		return;
	}
	if (strcasecmp(w[0], "FROM"))
		return;
	*seen_from = 1;
	while (i < n && !strncmp(w[i], "--", 2))
		i++;
	if (i >= n)
		return;
	expand(w[i], args, globals, &image);
	if (i + 2 < n && !strcasecmp(w[i + 1], "AS"))
		strlist_push(stages, w[i + 2]);
	if (image.len && !strchr(image.data, '$') &&
	    strcasecmp(image.data, "scratch") &&
	    !strlist_has(stages, image.data) && !strlist_has(out, image.data))
		strlist_push(out, image.data);
	buf_release(&image);
}

void dockerfile_base_images(const char *text, size_t len,
			    const struct strlist *build_args,
			    struct strlist *out)
{
	struct strlist globals = STRLIST_INIT, stages = STRLIST_INIT;
	struct buf logical = BUF_INIT(BUF_TEXT_MAX);
	const char *end = text + len;
	int seen_from = 0;

	while (text < end) {
		const char *nl = memchr(text, '\n', (size_t)(end - text));
		size_t n = nl ? (size_t)(nl - text) : (size_t)(end - text);
		const char *s = text;

		text += n + (nl != NULL);
		while (n && (s[n - 1] == '\r' || s[n - 1] == ' ' ||
			     s[n - 1] == '\t'))
			n--;
		while (n && (*s == ' ' || *s == '\t'))
			s++, n--;
		/* Comments (and parser directives) inside a continuation
		 * are skipped without ending it. */
		if (n && *s == '#')
			continue;
		if (n && s[n - 1] == '\\') {
			buf_add(&logical, s, n - 1);
			buf_addch(&logical, ' ');
			continue;
		}
		buf_add(&logical, s, n);
		if (logical.len)
			handle_line(logical.data, build_args, &globals, &stages,
				    &seen_from, out);
		buf_reset(&logical);
	}
	if (logical.len)
		handle_line(logical.data, build_args, &globals, &stages,
			    &seen_from, out);
	buf_release(&logical);
	strlist_clear(&globals);
	strlist_clear(&stages);
}

int dockerfile_base_images_of(const char *path,
			      const struct strlist *build_args,
			      struct strlist *out, struct error *err)
{
	struct buf text = BUF_INIT(DOCKERFILE_MAX);
	int ret = 0;

	if (buf_read_file(&text, path, DOCKERFILE_MAX) < 0) {
		if (errno == EFBIG)
			ret = err_set(err, EXIT_USAGE,
				      "the Dockerfile '%s' is larger than "
				      "%u MiB; shorten it",
				      path, DOCKERFILE_MAX >> 20);
		else
			ret = err_set(err, EXIT_USAGE,
				      "cannot read the Dockerfile '%s': %s",
				      path, strerror(errno));
	}
	if (!ret)
		dockerfile_base_images(buf_str(&text), text.len, build_args,
				       out);
	buf_release(&text);
	return ret;
}
