/*
 * libFuzzer target for the image reference parser (ref.c). Beyond not
 * crashing, whatever parses must print back to forms that parse to the
 * same fields, and every field must satisfy its own validator.
 *
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined -Ibuilder \
 *	    tests/fuzz/fuzz_ref.c builder/registry/ref.c builder/util/buf.c \
 *	    builder/util/xmalloc.c builder/util/error.c -o build/fuzz_ref
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "registry/ref.h"
#include "util/xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ref r = REF_INIT, back = REF_INIT;
	struct error err = ERROR_INIT;
	char *s = xstrndup((const char *)data, size);
	char *fam = NULL, *full = NULL;

	ref_valid_tag(s);
	ref_valid_path_component(s);
	ref_valid_domain(s);
	ref_valid_digest(s);
	ref_auth_key(s);
	if (ref_parse(&r, s, "FUZZ", &err) < 0) {
		if (err.code != EXIT_USAGE || !strstr(err.msg, "FUZZ") ||
		    r.domain || r.path || r.tag || r.digest)
			abort();
		goto out;
	}
	if (!ref_valid_domain(r.domain) || !r.path || strlen(r.path) > 255 ||
	    (r.tag && !ref_valid_tag(r.tag)) ||
	    (r.digest && !ref_valid_digest(r.digest)))
		abort();
	fam = ref_familiar_string(&r);
	if (ref_parse(&back, fam, NULL, &err) < 0 ||
	    !same(back.domain, r.domain) || !same(back.path, r.path) ||
	    !same(back.tag, r.tag) || !same(back.digest, r.digest))
		abort();
	ref_release(&back);
	full = ref_full_name(&r);
	if (ref_parse(&back, full, NULL, &err) < 0 ||
	    !same(back.domain, r.domain) || !same(back.path, r.path))
		abort();
out:
	ref_release(&back);
	ref_release(&r);
	free(fam);
	free(full);
	free(s);
	return 0;
}
