/*
 * libFuzzer target for the manifest and index parser and the config
 * platform reader (manifest.c). Beyond not crashing: whatever parses has
 * valid digests and sizes, and an index built from its entries parses back
 * to the same entries.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry/manifest.h"
#include "registry/ref.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest m = MANIFEST_INIT, back = MANIFEST_INIT;
	struct platform p = { 0 };
	struct error err = ERROR_INIT;
	const char *mt = NULL;
	char *text = NULL;

	if (manifest_config_platform(&p, (const char *)data, size, &err) == 0 &&
	    (!p.os || !p.architecture))
		abort();
	platform_release(&p);
	if (manifest_parse(&m, (const char *)data, size, MT_OCI_INDEX, &err) <
	    0) {
		if (err.code != EXIT_PUSH || m.desc || m.media_type)
			abort();
		return 0;
	}
	for (size_t i = 0; i < m.n; i++)
		if (!ref_valid_digest(m.desc[i].digest) || m.desc[i].size < 0)
			abort();
	if (m.kind == MANIFEST_INDEX) {
		text = manifest_build_index(m.desc, m.n, &mt);
		if (manifest_parse(&back, text, strlen(text), NULL, &err) < 0 ||
		    back.n != m.n)
			abort();
		for (size_t i = 0; i < m.n; i++)
			if (strcmp(back.desc[i].digest, m.desc[i].digest) ||
			    back.desc[i].size != m.desc[i].size)
				abort();
	}
	free(text);
	manifest_release(&back);
	manifest_release(&m);
	return 0;
}
