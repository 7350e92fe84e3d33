/*
 * libFuzzer target for the WWW-Authenticate parser (wwwauth.c): no crash,
 * and a success always has a scheme, and a Bearer one a realm.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry/wwwauth.h"
#include "util/error.h"
#include "util/xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct www_challenge ch = WWW_CHALLENGE_INIT;
	struct error err = ERROR_INIT;
	char *s = xstrndup((const char *)data, size);

	if (wwwauth_parse(s, &ch, &err) == 0) {
		if (ch.scheme == WWW_NONE)
			abort();
		if (ch.scheme == WWW_BEARER && (!ch.realm || !*ch.realm))
			abort();
	} else if (err.code != EXIT_PUSH || ch.realm || ch.scheme) {
		abort();
	}
	www_challenge_release(&ch);
	free(s);
	return 0;
}
