/*
 * The Markdown summary and GitHub step outputs; see summary.h. No engine
 * call here: the pipeline fills a struct summary at the end of the run.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "pipeline/summary.h"
#include "util/banned.h"

static int set(const char *s)
{
	return s && *s;
}

/* Text from outside, as a Markdown table cell: no line breaks, Markdown
 * punctuation escaped, HTML made inert. */
static void add_md(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			buf_addch(b, ' ');
		else if (c == '<')
			buf_addstr(b, "&lt;");
		else if (c == '>')
			buf_addstr(b, "&gt;");
		else if (c == '&')
			buf_addstr(b, "&amp;");
		else if (strchr("\\`*_[]|#~!", c)) {
			buf_addch(b, '\\');
			buf_addch(b, (char)c);
		} else
			buf_addch(b, (char)c);
	}
}

/* Our own values (references, digests): a code span, which holds no
 * backtick of theirs (a reference cannot contain one). */
static void add_code(struct buf *b, const char *s)
{
	buf_addch(b, '`');
	for (; *s; s++)
		buf_addch(b,
			  (*s == '`' || (unsigned char)*s < 0x20) ? '?' : *s);
	buf_addch(b, '`');
}

static void add_plural(struct buf *b, long long n, const char *one,
		       const char *many)
{
	buf_addf(b, "%lld %s", n, n == 1 ? one : many);
}

int summary_markdown(const struct summary *s, struct buf *out)
{
	const struct junit *t = s->tests;

	buf_addstr(out, "### builder: ");
	if (set(s->image))
		add_code(out, s->image);
	else
		buf_addstr(out, "(no image)");
	buf_addstr(out, s->exit_code ? " failed\n\n" : " ok\n\n");

	buf_addstr(out, "| | |\n|---|---|\n");
	if (set(s->image)) {
		buf_addstr(out, "| image | ");
		add_code(out, s->image);
		buf_addstr(out, " |\n");
	}
	if (set(s->digest)) {
		buf_addstr(out, "| digest | ");
		add_code(out, s->digest);
		buf_addstr(out, " |\n");
	}
	if (set(s->image_id)) {
		buf_addstr(out, "| image ID | ");
		add_code(out, s->image_id);
		buf_addstr(out, " |\n");
	}
	if (s->tags && s->tags->n) {
		buf_addstr(out, "| tags | ");
		for (size_t i = 0; i < s->tags->n; i++) {
			if (i)
				buf_addstr(out, "<br>");
			add_code(out, s->tags->v[i]);
		}
		buf_addstr(out, " |\n");
	}
	buf_addch(out, '\n');

	if (s->nstages) {
		buf_addstr(out,
			   "| stage | result | duration |\n|---|---|---|\n");
		for (size_t i = 0; i < s->nstages; i++) {
			const struct summary_stage *st = &s->stages[i];

			buf_addf(out, "| %s | %s | ", st->name,
				 st->result ? st->result : "not run");
			if (st->seconds >= 0)
				buf_addf(out, "%.1f s", st->seconds);
			buf_addstr(out, " |\n");
		}
		buf_addch(out, '\n');
	}

	if (t) {
		buf_addstr(out, "**Tests:** ");
		add_plural(out, t->tests, "test", "tests");
		buf_addstr(out, ", ");
		add_plural(out, t->failures, "failure", "failures");
		buf_addstr(out, ", ");
		add_plural(out, t->errors, "error", "errors");
		buf_addf(out, ", %lld skipped in %.1f s (", t->skipped,
			 t->time);
		add_plural(out, (long long)t->files, "JUnit file",
			   "JUnit files");
		buf_addstr(out, ")\n\n");
		if (t->ncases) {
			buf_addstr(out, "| failing test | message |\n"
					"|---|---|\n");
			for (size_t i = 0; i < t->ncases; i++) {
				buf_addstr(out, "| ");
				add_md(out, t->cases[i].name);
				buf_addf(out, " (%s) | ", t->cases[i].kind);
				add_md(out, t->cases[i].message);
				buf_addstr(out, " |\n");
			}
			if (t->more_cases)
				buf_addf(out, "\nand %zu more failing tests\n",
					 t->more_cases);
			buf_addch(out, '\n');
		}
	}
	if (set(s->error)) {
		buf_addstr(out, "**Error:** ");
		add_md(out, s->error);
		buf_addstr(out, "\n\n");
	}
	return 0;
}

static int add_output(struct buf *out, const char *name, const char *value,
		      const char *delim, struct error *err)
{
	value = value ? value : "";
	if (strstr(value, delim))
		return err_set(err, EXIT_USAGE,
			       "cannot write '%s' to GITHUB_OUTPUT: the value "
			       "holds the delimiter",
			       name);
	buf_addf(out, "%s<<%s\n%s", name, delim, value);
	if (*value && value[strlen(value) - 1] != '\n')
		buf_addch(out, '\n');
	return buf_addf(out, "%s\n", delim) < 0
		       ? err_set(err, EXIT_USAGE,
				 "GITHUB_OUTPUT: the outputs are too large")
		       : 0;
}

int summary_github_output(const struct summary *s, const char *metadata,
			  const char *delim, struct buf *out, struct error *err)
{
	struct buf tags = BUF_INIT(BUF_TEXT_MAX);
	int ret = -1;

	if (!delim || !*delim || strchr(delim, '\n'))
		return err_set(err, EXIT_USAGE,
			       "GITHUB_OUTPUT: no usable delimiter");
	for (size_t i = 0; s->tags && i < s->tags->n; i++)
		buf_addf(&tags, "%s\n", s->tags->v[i]);
	if (add_output(out, "digest", s->digest, delim, err) < 0 ||
	    add_output(out, "imageid", s->image_id, delim, err) < 0 ||
	    add_output(out, "tags", buf_str(&tags), delim, err) < 0 ||
	    add_output(out, "metadata", metadata, delim, err) < 0)
		goto out;
	ret = 0;
out:
	buf_release(&tags);
	return ret;
}

void summary_delimiter(char *out, size_t size)
{
	unsigned char r[16];
	size_t got = 0;
	struct buf b = BUF_INIT(BUF_PATH_MAX);

	while (got < sizeof(r)) {
		ssize_t n = getrandom(r + got, sizeof(r) - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	/* Without randomness (never on Linux >= 3.17), the time and pid
	 * still make a collision with a value unlikely. */
	if (got < sizeof(r)) {
		unsigned long long x =
			(unsigned long long)getpid() * 2654435761u;

		for (size_t i = 0; i < sizeof(r);
		     i++, x = x * 6364136223846793005ull + 1)
			r[i] = (unsigned char)(x >> 56);
	}
	buf_addstr(&b, "ghadelimiter_");
	for (size_t i = 0; i < sizeof(r); i++)
		buf_addf(&b, "%02x", r[i]);
	snprintf(out, size, "%s", b.data);
	buf_release(&b);
}

int summary_write_file(const char *variable, const char *path,
		       const struct buf *b, int append, struct error *err)
{
	int fd, flags = O_WRONLY | O_CREAT | O_CLOEXEC;
	size_t done = 0;

	flags |= append ? O_APPEND : O_TRUNC;
	fd = open(path, flags, 0644);
	if (fd < 0)
		return err_set(err, EXIT_USAGE, "cannot open %s '%s': %s",
			       variable, path, strerror(errno));
	while (done < b->len) {
		ssize_t n = write(fd, b->data + done, b->len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_set(err, EXIT_USAGE, "cannot write %s '%s': %s",
				variable, path, strerror(errno));
			close(fd);
			return -1;
		}
		done += (size_t)n;
	}
	if (close(fd) < 0)
		return err_set(err, EXIT_USAGE, "cannot write %s '%s': %s",
			       variable, path, strerror(errno));
	return 0;
}
