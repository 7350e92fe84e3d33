/*
 * Manifest and index parsing and building (manifest.h). Pure: the bytes
 * come from client.c and go back to it. Everything read from a registry is
 * checked before use: digests against ref_valid_digest(), sizes as whole
 * numbers in range (cJSON keeps numbers as doubles), strings as strings.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "registry/manifest.h"
#include "registry/ref.h"
#include "util/buf.h"
#include "util/xmalloc.h"
#include "util/banned.h"

/* 2^53: the largest size a double holds exactly. */
#define SIZE_MAX_JSON 9007199254740992.0

int manifest_type_is_index(const char *mt)
{
	return mt && (!strcmp(mt, MT_OCI_INDEX) || !strcmp(mt, MT_DOCKER_LIST));
}

int manifest_type_is_image(const char *mt)
{
	return mt && (!strcmp(mt, MT_OCI_MANIFEST) ||
		      !strcmp(mt, MT_DOCKER_MANIFEST));
}

void platform_release(struct platform *p)
{
	if (!p)
		return;
	free(p->os);
	free(p->architecture);
	free(p->variant);
	free(p->os_version);
	memset(p, 0, sizeof(*p));
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void platform_copy(struct platform *dst, const struct platform *src)
{
	platform_release(dst);
	dst->os = dup_or_null(src->os);
	dst->architecture = dup_or_null(src->architecture);
	dst->variant = dup_or_null(src->variant);
	dst->os_version = dup_or_null(src->os_version);
}

static void descriptor_release(struct descriptor *d)
{
	free(d->media_type);
	free(d->digest);
	platform_release(&d->platform);
	memset(d, 0, sizeof(*d));
}

void manifest_release(struct manifest *m)
{
	if (!m)
		return;
	free(m->media_type);
	descriptor_release(&m->config);
	for (size_t i = 0; i < m->n; i++)
		descriptor_release(&m->desc[i]);
	free(m->desc);
	memset(m, 0, sizeof(*m));
}

/* The string at key, NULL when absent; -1 when present but not a string. */
static int get_str(const cJSON *obj, const char *key, const char **out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

	*out = NULL;
	if (!it || cJSON_IsNull(it))
		return 0;
	if (!cJSON_IsString(it) || !it->valuestring)
		return -1;
	*out = it->valuestring;
	return 0;
}

static int read_platform(const cJSON *obj, struct platform *p,
			 const char *where, struct error *err)
{
	const char *os, *arch, *variant, *osv;

	if (get_str(obj, "os", &os) < 0 ||
	    get_str(obj, "architecture", &arch) < 0 ||
	    get_str(obj, "variant", &variant) < 0 ||
	    get_str(obj, "os.version", &osv) < 0)
		return err_set(err, EXIT_PUSH,
			       "%s: a platform field is not a string", where);
	p->os = dup_or_null(os);
	p->architecture = dup_or_null(arch);
	p->variant = variant && *variant ? xstrdup(variant) : NULL;
	p->os_version = osv && *osv ? xstrdup(osv) : NULL;
	return 0;
}

static int read_descriptor(const cJSON *obj, struct descriptor *d,
			   const char *where, struct error *err)
{
	const char *mt, *digest;
	const cJSON *size, *plat, *ann;

	if (!cJSON_IsObject(obj))
		return err_set(err, EXIT_PUSH, "%s is not a JSON object",
			       where);
	if (get_str(obj, "mediaType", &mt) < 0 || !mt || !*mt)
		return err_set(err, EXIT_PUSH, "%s has no mediaType", where);
	if (get_str(obj, "digest", &digest) < 0 || !digest ||
	    !ref_valid_digest(digest))
		return err_set(err, EXIT_PUSH,
			       "%s has no valid digest (sha256:<64 hex>)",
			       where);
	size = cJSON_GetObjectItemCaseSensitive(obj, "size");
	if (!cJSON_IsNumber(size) || !isfinite(size->valuedouble) ||
	    size->valuedouble < 0 || size->valuedouble > SIZE_MAX_JSON ||
	    size->valuedouble != (double)(int64_t)size->valuedouble)
		return err_set(err, EXIT_PUSH,
			       "%s has no valid size (a whole number of bytes)",
			       where);
	d->media_type = xstrdup(mt);
	d->digest = xstrdup(digest);
	d->size = (long long)size->valuedouble;
	plat = cJSON_GetObjectItemCaseSensitive(obj, "platform");
	if (plat && !cJSON_IsNull(plat)) {
		if (!cJSON_IsObject(plat))
			return err_set(err, EXIT_PUSH,
				       "%s: platform is not an object", where);
		if (read_platform(plat, &d->platform, where, err) < 0)
			return -1;
	}
	ann = cJSON_GetObjectItemCaseSensitive(obj, "annotations");
	if (cJSON_IsObject(ann)) {
		const char *t = NULL;

		if (get_str(ann, "vnd.docker.reference.type", &t) == 0 && t &&
		    !strcmp(t, "attestation-manifest"))
			d->attestation = 1;
	}
	return 0;
}

int manifest_parse(struct manifest *out, const char *body, size_t len,
		   const char *content_type, struct error *err)
{
	cJSON *root = NULL;
	const cJSON *list, *it;
	const char *mt = NULL;
	struct buf ct = BUF_INIT(BUF_TEXT_MAX);
	char where[64];
	size_t i = 0;
	int ret = -1;

	manifest_release(out);
	if (len > MANIFEST_MAX)
		return err_set(err, EXIT_PUSH,
			       "the manifest is larger than 4 MiB");
	root = cJSON_ParseWithLength(body, len);
	if (!cJSON_IsObject(root)) {
		err_set(err, EXIT_PUSH, "the manifest is not a JSON object");
		goto out;
	}
	it = cJSON_GetObjectItemCaseSensitive(root, "schemaVersion");
	if (cJSON_IsNumber(it) && it->valuedouble == 1) {
		err_set(err, EXIT_PUSH,
			"the manifest is Docker schema 1, which builder does "
			"not copy; push the image again with a current docker");
		goto out;
	}
	if (get_str(root, "mediaType", &mt) < 0) {
		err_set(err, EXIT_PUSH,
			"the manifest's mediaType is not a "
			"string");
		goto out;
	}
	if (!mt && content_type) {
		/* "application/...+json; charset=utf-8" */
		buf_init(&ct, 256);
		if (buf_add(&ct, content_type, strcspn(content_type, "; ")) ==
			    0 &&
		    (manifest_type_is_index(ct.data) ||
		     manifest_type_is_image(ct.data)))
			mt = ct.data;
	}
	if (!mt) {
		if (cJSON_GetObjectItemCaseSensitive(root, "manifests"))
			mt = MT_OCI_INDEX;
		else if (cJSON_GetObjectItemCaseSensitive(root, "layers"))
			mt = MT_OCI_MANIFEST;
	}
	if (manifest_type_is_index(mt)) {
		out->kind = MANIFEST_INDEX;
		list = cJSON_GetObjectItemCaseSensitive(root, "manifests");
	} else if (manifest_type_is_image(mt)) {
		out->kind = MANIFEST_IMAGE;
		list = cJSON_GetObjectItemCaseSensitive(root, "layers");
		if (read_descriptor(
			    cJSON_GetObjectItemCaseSensitive(root, "config"),
			    &out->config, "the manifest's config", err) < 0)
			goto out;
	} else {
		err_set(err, EXIT_PUSH,
			"the manifest's media type '%.200s' is neither an "
			"image manifest nor an index (OCI or Docker)",
			mt ? mt : "(none)");
		goto out;
	}
	out->media_type = xstrdup(mt);
	if (!cJSON_IsArray(list)) {
		err_set(err, EXIT_PUSH, "the %s has no '%s' array",
			out->kind == MANIFEST_INDEX ? "index" : "manifest",
			out->kind == MANIFEST_INDEX ? "manifests" : "layers");
		goto out;
	}
	out->n = (size_t)cJSON_GetArraySize(list);
	out->desc = xcalloc(out->n ? out->n : 1, sizeof(*out->desc));
	cJSON_ArrayForEach(it, list)
	{
		snprintf(where, sizeof(where), "%s %zu of the %s",
			 out->kind == MANIFEST_INDEX ? "entry" : "layer", i + 1,
			 out->kind == MANIFEST_INDEX ? "index" : "manifest");
		if (read_descriptor(it, &out->desc[i], where, err) < 0)
			goto out;
		i++;
	}
	ret = 0;
out:
	if (ret < 0)
		manifest_release(out);
	buf_release(&ct);
	cJSON_Delete(root);
	return ret;
}

int manifest_config_platform(struct platform *out, const char *body, size_t len,
			     struct error *err)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	int ret = -1;

	platform_release(out);
	if (!cJSON_IsObject(root)) {
		err_set(err, EXIT_PUSH,
			"the image config is not a JSON object");
		goto out;
	}
	if (read_platform(root, out, "the image config", err) < 0)
		goto out;
	if (!out->os || !*out->os || !out->architecture ||
	    !*out->architecture) {
		err_set(err, EXIT_PUSH,
			"the image config names no os and architecture");
		goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		platform_release(out);
	cJSON_Delete(root);
	return ret;
}

char *platform_string(const struct platform *p)
{
	struct buf b = BUF_INIT(BUF_TEXT_MAX);

	if (!p->os || !p->architecture)
		return xstrdup("unknown");
	buf_addf(&b, "%s/%s", p->os, p->architecture);
	if (p->variant)
		buf_addf(&b, "/%s", p->variant);
	return buf_detach(&b);
}

static int platform_part_ok(const char *s, size_t n)
{
	if (!n || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '.'))
			return 0;
	return 1;
}

int platform_parse(struct platform *out, const char *s, const char *what,
		   struct error *err)
{
	const char *a = strchr(s, '/'), *v = a ? strchr(a + 1, '/') : NULL;
	size_t ol = a ? (size_t)(a - s) : 0;
	size_t al = a ? (v ? (size_t)(v - a - 1) : strlen(a + 1)) : 0;

	platform_release(out);
	if (!a || !platform_part_ok(s, ol) || !platform_part_ok(a + 1, al) ||
	    (v &&
	     (!platform_part_ok(v + 1, strlen(v + 1)) || strchr(v + 1, '/'))))
		return err_set(err, EXIT_USAGE,
			       "%s '%s' is not a platform: use os/arch or "
			       "os/arch/variant in lower case (example: "
			       "%s=linux/arm64)",
			       what, s, what);
	out->os = xstrndup(s, ol);
	out->architecture = xstrndup(a + 1, al);
	out->variant = v ? xstrdup(v + 1) : NULL;
	return 0;
}

static int same(const char *a, const char *b)
{
	if (!a)
		a = "";
	if (!b)
		b = "";
	return !strcmp(a, b);
}

int platform_equal(const struct platform *a, const struct platform *b)
{
	return same(a->os, b->os) && same(a->architecture, b->architecture) &&
	       same(a->variant, b->variant) &&
	       same(a->os_version, b->os_version);
}

char *manifest_build_index(const struct descriptor *d, size_t n,
			   const char **media_type)
{
	cJSON *root = cJSON_CreateObject(), *list = cJSON_CreateArray();
	const char *mt = MT_DOCKER_LIST;
	char *text;

	for (size_t i = 0; i < n; i++)
		if (strcmp(d[i].media_type, MT_DOCKER_MANIFEST))
			mt = MT_OCI_INDEX;
	cJSON_AddNumberToObject(root, "schemaVersion", 2);
	cJSON_AddStringToObject(root, "mediaType", mt);
	for (size_t i = 0; i < n; i++) {
		cJSON *e = cJSON_CreateObject();
		const struct platform *p = &d[i].platform;

		cJSON_AddStringToObject(e, "mediaType", d[i].media_type);
		cJSON_AddStringToObject(e, "digest", d[i].digest);
		cJSON_AddNumberToObject(e, "size", (double)d[i].size);
		if (p->os && p->architecture) {
			cJSON *pl = cJSON_CreateObject();

			cJSON_AddStringToObject(pl, "architecture",
						p->architecture);
			cJSON_AddStringToObject(pl, "os", p->os);
			if (p->os_version)
				cJSON_AddStringToObject(pl, "os.version",
							p->os_version);
			if (p->variant)
				cJSON_AddStringToObject(pl, "variant",
							p->variant);
			cJSON_AddItemToObject(e, "platform", pl);
		}
		cJSON_AddItemToArray(list, e);
	}
	cJSON_AddItemToObject(root, "manifests", list);
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (!text)
		abort(); /* cJSON fails only when out of memory */
	*media_type = mt;
	/* cJSON allocates with malloc: the caller's free() matches. */
	return text;
}
