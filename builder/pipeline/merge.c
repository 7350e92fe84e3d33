/*
 * `builder merge TARGET SOURCE...` (promote.h): one image index from the
 * sources' platforms, as `docker buildx imagetools create` makes it.
 *
 * Each source is fetched: an image's platform is read from its config
 * blob; an index contributes its entries (attestation manifests are left
 * out). Images that live in another repository or registry are first
 * copied into TARGET's repository (promote_contents(), then a PUT by
 * digest). The index is PUT last, as TARGET's tag and each of EXTRA_TAGS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/promote.h"
#include "registry/copy.h"
#include "registry/ref.h"
#include "registry/verify.h"
#include "util/log.h"
#include "util/xmalloc.h"
#include "util/banned.h"

/* The largest image config read for its platform. */
#define CONFIG_MAX (8u * 1024 * 1024)

struct entry {
	struct descriptor d;
	size_t source; /* index in cfg->args */
};

struct entries {
	struct entry *v;
	size_t n, alloc;
};

static void entries_release(struct entries *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].d.media_type);
		free(l->v[i].d.digest);
		platform_release(&l->v[i].d.platform);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int add_entry(struct entries *l, const struct config *cfg, size_t source,
		     const char *mt, const char *digest, long long size,
		     const struct platform *p, struct error *err)
{
	struct entry *e;
	char *ps;

	for (size_t i = 0; i < l->n; i++) {
		if (!platform_equal(&l->v[i].d.platform, p))
			continue;
		if (!strcmp(l->v[i].d.digest, digest))
			return 0; /* the same image twice: once is enough */
		ps = platform_string(p);
		err_set(err, EXIT_USAGE,
			"sources '%s' and '%s' are both %s: an index holds one "
			"image per platform; build each source with its own "
			"PLATFORM",
			cfg->args.v[l->v[i].source], cfg->args.v[source], ps);
		free(ps);
		return -1;
	}
	l->n++;
	ALLOC_GROW(l->v, l->n, l->alloc);
	e = &l->v[l->n - 1];
	memset(e, 0, sizeof(*e));
	e->d.media_type = xstrdup(mt);
	e->d.digest = xstrdup(digest);
	e->d.size = size;
	platform_copy(&e->d.platform, p);
	e->source = source;
	return 0;
}

/* Puts the image or index f into the target repository under its digest,
 * unless it is there already. */
static int bring(struct registry_pool *pool, const struct ref *src,
		 const struct ref *dst, const struct fetched *f, const char *mt,
		 struct error *err)
{
	struct copy_stats st = { 0 };
	struct registry *dreg;
	char have[80];
	int r;

	if (!strcmp(src->domain, dst->domain) && !strcmp(src->path, dst->path))
		return 0;
	if (registry_pool_get(pool, dst->domain, 0, &dreg, err) < 0)
		return -1;
	r = registry_manifest_head(dreg, dst->path, f->digest, have, err);
	if (r < 0)
		return -1;
	if (r)
		return 0;
	if (promote_contents(pool, src->domain, src->path, dst->domain,
			     dst->path, f->body.data, f->body.len, mt, &st,
			     err) < 0 ||
	    registry_manifest_put(dreg, dst->path, f->digest, mt, f->body.data,
				  f->body.len, err) < 0)
		return -1;
	log_info("copied %s into '%s': blobs %d present, %d mounted, %d "
		 "copied",
		 f->digest, dst->path, st.present, st.mounted, st.copied);
	return 0;
}

static int add_source(struct registry_pool *pool, const struct config *cfg,
		      size_t i, const struct ref *dst, struct entries *l,
		      struct error *err)
{
	struct ref src = REF_INIT;
	struct fetched f = FETCHED_INIT;
	struct manifest m = MANIFEST_INIT;
	struct buf config = BUF_INIT(BUF_TEXT_MAX);
	struct platform p = { 0 };
	struct registry *reg;
	int ret = -1;

	if (ref_parse(&src, cfg->args.v[i], "SOURCE", err) < 0)
		return -1;
	if (registry_pool_get(pool, src.domain, 0, &reg, err) < 0 ||
	    registry_manifest_get(reg, src.path,
				  src.digest ? src.digest
					     : (src.tag ? src.tag : "latest"),
				  &f, err) < 0 ||
	    manifest_parse(&m, f.body.data, f.body.len, f.media_type, err) < 0)
		goto fail;
	if (m.kind == MANIFEST_IMAGE) {
		if (registry_blob_get(reg, src.path, m.config.digest,
				      CONFIG_MAX, &config, err) < 0 ||
		    manifest_config_platform(&p, config.data, config.len, err) <
			    0)
			goto fail;
		if (add_entry(l, cfg, i, m.media_type, f.digest,
			      (long long)f.body.len, &p, err) < 0)
			goto out;
	} else {
		for (size_t k = 0; k < m.n; k++) {
			const struct descriptor *d = &m.desc[k];

			if (d->attestation)
				continue;
			if (!d->platform.os || !d->platform.architecture) {
				err_set(err, EXIT_PUSH,
					"entry %s of the index names no "
					"platform",
					d->digest);
				goto fail;
			}
			if (add_entry(l, cfg, i, d->media_type, d->digest,
				      d->size, &d->platform, err) < 0)
				goto out;
		}
	}
	{
		char *ps = m.kind == MANIFEST_IMAGE ? platform_string(&p)
						    : xstrdup("an index");

		log_info("source %s: %s, %s", cfg->args.v[i], f.digest, ps);
		free(ps);
	}
	if (bring(pool, &src, dst, &f, m.media_type, err) < 0)
		goto fail;
	ret = 0;
	goto out;
fail:
	err_wrap(err, "source '%s'", cfg->args.v[i]);
out:
	platform_release(&p);
	buf_release(&config);
	manifest_release(&m);
	fetched_release(&f);
	ref_release(&src);
	return ret;
}

int pipeline_merge(const struct config *cfg, struct error *err)
{
	struct registry_pool pool;
	struct ref dst = REF_INIT;
	struct entries l = { 0 };
	struct descriptor *d = NULL;
	struct registry *reg;
	const char *mt = NULL;
	char *index = NULL, *fam = NULL, digest[72];
	int ret = -1;

	registry_pool_init(&pool, cfg);
	if (ref_parse(&dst, cfg->args.v[0], "TARGET", err) < 0)
		goto out;
	log_stage("merge", "%s from %zu sources", cfg->args.v[0],
		  cfg->args.n - 1);
	for (size_t i = 1; i < cfg->args.n; i++)
		if (add_source(&pool, cfg, i, &dst, &l, err) < 0)
			goto out;
	d = xcalloc(l.n ? l.n : 1, sizeof(*d));
	for (size_t i = 0; i < l.n; i++)
		d[i] = l.v[i].d; /* borrowed */
	index = manifest_build_index(d, l.n, &mt);
	registry_sha256(index, strlen(index), digest);
	if (registry_pool_get(&pool, dst.domain, 0, &reg, err) < 0)
		goto fail;
	fam = ref_familiar_name(&dst);
	for (size_t t = 0; t <= cfg->extra_tags.n; t++) {
		const char *tag = t ? cfg->extra_tags.v[t - 1]
				    : (dst.tag ? dst.tag : "latest");

		if (registry_manifest_put(reg, dst.path, tag, mt, index,
					  strlen(index), err) < 0 ||
		    registry_verify_tag_on(reg, dst.path, tag, digest, err) < 0)
			goto fail;
		printf("%s:%s@%s\n", fam, tag, digest);
	}
	for (size_t i = 0; i < l.n; i++) {
		char *ps = platform_string(&l.v[i].d.platform);

		log_info("  %-16s %s (%s)", ps, l.v[i].d.digest,
			 cfg->args.v[l.v[i].source]);
		free(ps);
	}
	ret = 0;
	goto out;
fail:
	err_wrap(err, "merge into '%s'", cfg->args.v[0]);
out:
	free(d);
	free(index);
	free(fam);
	entries_release(&l);
	ref_release(&dst);
	registry_pool_release(&pool);
	return ret;
}
