#ifndef BUILDER_MANIFEST_H
#define BUILDER_MANIFEST_H

/*
 * Image manifests and indexes, OCI and Docker (pure: no I/O).
 *
 *	application/vnd.oci.image.manifest.v1+json              an image
 *	application/vnd.docker.distribution.manifest.v2+json     an image
 *	application/vnd.oci.image.index.v1+json                 an index
 *	application/vnd.docker.distribution.manifest.list.v2+json an index
 *
 * manifest_parse() reads what a registry returned for a manifest GET; the
 * media type comes from the body's "mediaType" or, when the body has none
 * (OCI allows that), from the Content-Type header, and failing both from
 * the body's shape ("manifests" or "layers"). Schema 1 manifests are
 * refused. Descriptors are checked: a valid digest, a size from 0 to
 * 2^53, a media type.
 *
 *	struct manifest m = MANIFEST_INIT;
 *	if (manifest_parse(&m, body, len, content_type, err) < 0) ...
 *	if (m.kind == MANIFEST_INDEX)
 *		for (size_t i = 0; i < m.n; i++) m.desc[i].platform ...
 *	manifest_release(&m);
 */

#include <stddef.h>

#include "util/error.h"

#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_MANIFEST \
	"application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST \
	"application/vnd.docker.distribution.manifest.list.v2+json"
/* The Accept header value that asks for any of the four. */
#define MT_ACCEPT_ALL                                         \
	MT_OCI_INDEX ", " MT_DOCKER_LIST ", " MT_OCI_MANIFEST \
		     ", " MT_DOCKER_MANIFEST

/* The largest manifest we accept (the distribution registry's own limit is
 * 4 MiB). */
#define MANIFEST_MAX (4u * 1024 * 1024)

struct platform {
	char *os; /* "linux" */
	char *architecture; /* "amd64", "arm64" */
	char *variant; /* "v8", or NULL */
	char *os_version; /* Windows only, or NULL */
};

struct descriptor {
	char *media_type;
	char *digest; /* "sha256:..." */
	long long size;
	struct platform platform; /* index entries; all NULL when absent */
	int attestation; /* an index entry that is an attestation manifest
			    (vnd.docker.reference.type), not an image */
};

enum manifest_kind { MANIFEST_IMAGE, MANIFEST_INDEX };

struct manifest {
	enum manifest_kind kind;
	char *media_type;
	struct descriptor config; /* an image's config */
	/* an image's layers, or an index's manifests */
	struct descriptor *desc;
	size_t n;
};

#define MANIFEST_INIT \
	{             \
		0     \
	}

/* The four media types above, and which is which. */
int manifest_type_is_index(const char *media_type);
int manifest_type_is_image(const char *media_type);

int manifest_parse(struct manifest *out, const char *body, size_t len,
		   const char *content_type, struct error *err);
void manifest_release(struct manifest *m);

/* Reads the platform of an image from its config blob ("os",
 * "architecture", "variant", "os.version"). os and architecture are
 * required. out is released first. */
int manifest_config_platform(struct platform *out, const char *body, size_t len,
			     struct error *err);

void platform_release(struct platform *p);
void platform_copy(struct platform *dst, const struct platform *src);

/* "linux/arm64/v8", or "unknown" when os or architecture is missing.
 * Owned. */
char *platform_string(const struct platform *p);

/* Parses "os/arch[/variant]" into out; -1 (EXIT_USAGE, naming what) when
 * it is not of that form: lowercase letters, digits, '_' and '.'. */
int platform_parse(struct platform *out, const char *s, const char *what,
		   struct error *err);

/* 1 when a and b name the same platform (a missing variant equals an empty
 * one). */
int platform_equal(const struct platform *a, const struct platform *b);

/*
 * Builds an index over the n descriptors (with their platforms) and
 * returns its JSON text, owned. The media type is Docker's manifest list
 * when every entry is a Docker image manifest, else the OCI index; it is
 * stored in *media_type (a static string).
 */
char *manifest_build_index(const struct descriptor *d, size_t n,
			   const char **media_type);

#endif
