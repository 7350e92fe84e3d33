/*
 * libFuzzer target for credential parsing (auth.c, base64.c): config.json
 * text looked up under several keys (helpers never run), credential helper
 * output, and base64 decoding, which must round-trip.
 *
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined -Ibuilder \
 *	    tests/fuzz/fuzz_authconfig.c builder/registry/auth.c builder/util/base64.c \
 *	    builder/registry/ref.c builder/util/buf.c builder/util/xmalloc.c builder/util/error.c \
 *	    builder/util/log.c builder/util/signals.c -lcjson -o build/fuzz_authconfig
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry/auth.h"
#include "util/base64.h"
#include "util/error.h"
#include "util/xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const keys[] = {
	"docker.io", "https://index.docker.io/v1/", "localhost:5000", "r.io",
	"",
};

static void check_headers(const struct credential *c)
{
	const struct credential *list[1] = { c };
	char *h = auth_header(c), *rc = auth_registry_config(list, 1);

	if (!h || !rc || !*h || !*rc)
		abort();
	auth_free_secret(h);
	auth_free_secret(rc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size);
	char *dec = NULL, *enc;
	size_t i, n;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		struct credential c = CREDENTIAL_INIT;
		struct error err = ERROR_INIT;

		if (auth_from_config_text(text, keys[i], 0, &c, &err) < 0) {
			if (err.code != EXIT_USAGE || c.username ||
			    c.password || c.identitytoken)
				abort();
			continue;
		}
		if (!c.serveraddress || !c.source[0])
			abort();
		check_headers(&c);
		credential_release(&c);
	}

	{
		struct credential c = CREDENTIAL_INIT;
		struct error err = ERROR_INIT;

		if (auth_parse_helper_output((const char *)data, size, &c,
					     &err) == 0)
			check_headers(&c);
		credential_release(&c);
	}

	if (base64_decode((const char *)data, size, &dec, &n) == 0) {
		char *again = NULL;
		size_t m;

		enc = base64_encode(dec, n);
		if (base64_decode(enc, strlen(enc), &again, &m) < 0 ||
		    m != n || memcmp(again, dec, n))
			abort();
		free(again);
		free(enc);
		free(dec);
	} else if (dec) {
		abort();
	}
	free(text);
	return 0;
}
