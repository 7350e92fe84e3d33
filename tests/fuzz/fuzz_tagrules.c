/*
 * libFuzzer target for the TAGS rule and template parser (tagrules.c) and
 * its regexp (tagregex.c). The input is "NAME\nRULES": NAME becomes the
 * branch or the git tag (chosen by its first byte) and RULES the TAGS
 * value. Beyond not crashing: every tag made is a valid tag, made once,
 * with its origin; every failure is a usage error with a message; a
 * sanitized name is a valid tag; regexp matches lie inside the text.
 *
 *	bash tests/fuzz/run.sh   (FUZZ_TARGETS=tagrules)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "meta/facts.h"
#include "meta/tagregex.h"
#include "meta/tagrules.h"
#include "registry/ref.h"
#include "util/error.h"
#include "util/xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_regex(const char *pattern, const char *text)
{
	struct tagregex re;
	size_t m[TAGREGEX_SLOTS], len = strlen(text);
	const char *why = NULL;
	int rc;

	if (tagregex_compile(&re, pattern, &why) < 0) {
		if (!why || !*why)
			abort();
		return;
	}
	rc = tagregex_match(&re, text, len, m);
	if (rc < 0 && len <= TAGREGEX_TEXT_MAX)
		abort();
	if (rc == 1) {
		if (m[0] > m[1] || m[1] > len)
			abort();
		for (int g = 1; g <= re.ngroups; g++)
			if (m[2 * g] != SIZE_MAX &&
			    (m[2 * g] > m[2 * g + 1] || m[2 * g + 1] > len))
				abort();
	}
	tagregex_release(&re);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = xstrndup((const char *)data, size);
	char *nl = strchr(in, '\n'), *rules = nl ? nl + 1 : in, *s = NULL;
	const char *name = in;
	struct meta_facts f = META_FACTS_INIT;
	struct meta_tagset ts = META_TAGSET_INIT;
	struct error err = ERROR_INIT;
	struct meta_semver sv;

	if (nl)
		*nl = '\0';
	meta_fact_set(&f.sha, "0123456789abcdef0123456789abcdef01234567",
		      "COMMIT_SHA");
	meta_fact_set(&f.build, "7", "BUILD_NUMBER");
	meta_fact_set(&f.created, "1700000000", "SOURCE_DATE_EPOCH");
	meta_fact_set(&f.default_branch, "main", "DEFAULT_BRANCH");
	switch (*name & 3) {
	case 0:
		f.event = META_EVENT_TAG;
		meta_fact_set(&f.tag, name, "GIT_TAG");
		break;
	case 1:
		f.event = META_EVENT_PR;
		meta_fact_set(&f.pr, "42", "PR_NUMBER");
		/* fall through */
	case 2:
		if (f.event == META_EVENT_NONE)
			f.event = META_EVENT_BRANCH;
		meta_fact_set(&f.branch, name, "BRANCH");
		break;
	default:
		f.event = META_EVENT_DETACHED;
	}

	if (meta_sanitize_tag(name, &s) == 0 && !ref_valid_tag(s))
		abort();
	free(s);
	if (meta_semver_parse(name, &sv) &&
	    (!*sv.major || !*sv.minor || !*sv.patch))
		abort();

	int checked = meta_tags_check(rules, &err);

	err_clear(&err);
	if (meta_tags(rules, &f, &ts, &err) < 0) {
		if (err.code != EXIT_USAGE || !err.msg[0] || ts.tags.n > 64 * 4)
			abort();
	} else {
		if (checked < 0 || ts.tags.n != ts.from.n)
			abort();
		for (size_t i = 0; i < ts.tags.n; i++) {
			if (!ref_valid_tag(ts.tags.v[i]))
				abort();
			for (size_t j = 0; j < i; j++)
				if (!strcmp(ts.tags.v[i], ts.tags.v[j]))
					abort();
		}
	}
	check_regex(rules, name);

	meta_tagset_release(&ts);
	meta_facts_release(&f);
	free(in);
	return 0;
}
