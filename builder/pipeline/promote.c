/*
 * `builder promote SOURCE TARGET...` (promote.h): copies an image or an
 * index with everything it references to each target, registry to
 * registry, and moves each target's tag last. Also the pieces merge.c
 * shares: the pool of open registries and promote_contents().
 *
 * For each blob: HEAD on the target (present: nothing to do); within one
 * registry, a cross-repository mount; else a streamed copy whose sha256 is
 * checked before the upload completes (registry/copy.h).
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

/* Indexes of indexes of ...: deeper than this is refused. */
#define NEST_MAX 4

void registry_pool_init(struct registry_pool *p, const struct config *cfg)
{
	memset(p, 0, sizeof(*p));
	p->settings.auth = &cfg->auth;
	p->settings.insecure = &cfg->insecure_registries;
	p->settings.retries = cfg->push_retries;
}

int registry_pool_get(struct registry_pool *p, const char *domain, int second,
		      struct registry **out, struct error *err)
{
	struct pool_entry *e = NULL;
	struct registry **slot;

	for (int i = 0; i < p->n; i++)
		if (!strcmp(p->e[i].domain, domain))
			e = &p->e[i];
	if (!e) {
		if (p->n == (int)(sizeof(p->e) / sizeof(p->e[0])))
			return err_set(err, EXIT_USAGE,
				       "more than %d registries in one command",
				       p->n);
		e = &p->e[p->n++];
		e->domain = xstrdup(domain);
	}
	slot = second ? &e->reg2 : &e->reg;
	if (!*slot && registry_open(slot, domain, &p->settings, err) < 0)
		return -1;
	*out = *slot;
	return 0;
}

void registry_pool_release(struct registry_pool *p)
{
	for (int i = 0; i < p->n; i++) {
		registry_close(p->e[i].reg);
		registry_close(p->e[i].reg2);
		free(p->e[i].domain);
	}
	p->n = 0;
}

/* Layers that are never pushed to registries (Windows base layers). */
static int foreign(const struct descriptor *d)
{
	return strstr(d->media_type, "foreign") ||
	       strstr(d->media_type, "nondistributable");
}

static int copy_blob(struct registry_pool *pool, const char *src_domain,
		     const char *src_repo, const char *dst_domain,
		     const char *dst_repo, const struct descriptor *d,
		     struct copy_stats *st, struct error *err)
{
	struct registry *src, *dst;
	int same = !strcmp(src_domain, dst_domain), r;

	if (foreign(d))
		return 0;
	if (registry_pool_get(pool, dst_domain, 0, &dst, err) < 0)
		return -1;
	r = registry_blob_exists(dst, dst_repo, d->digest, err);
	if (r < 0)
		return -1;
	if (r) {
		st->present++;
		return 0;
	}
	if (same && strcmp(src_repo, dst_repo)) {
		r = registry_blob_mount(dst, dst_repo, d->digest, src_repo,
					err);
		if (r < 0)
			return -1;
		if (r) {
			st->mounted++;
			log_debug("mounted %s from '%s'", d->digest, src_repo);
			return 0;
		}
	}
	/* a streamed copy: two handles, also within one registry */
	if (registry_pool_get(pool, src_domain, same, &src, err) < 0)
		return -1;
	if (registry_blob_copy(src, src_repo, dst, dst_repo, d, err) < 0)
		return -1;
	st->copied++;
	st->bytes += d->size;
	return 0;
}

static int contents(struct registry_pool *pool, const char *src_domain,
		    const char *src_repo, const char *dst_domain,
		    const char *dst_repo, const char *body, size_t len,
		    const char *mt, struct copy_stats *st, int depth,
		    struct error *err)
{
	struct manifest m = MANIFEST_INIT;
	struct fetched child = FETCHED_INIT;
	struct registry *src, *dst;
	int ret = -1;

	if (manifest_parse(&m, body, len, mt, err) < 0)
		return err_wrap(err, "'%s/%s'", src_domain, src_repo);
	if (m.kind == MANIFEST_IMAGE) {
		if (copy_blob(pool, src_domain, src_repo, dst_domain, dst_repo,
			      &m.config, st, err) < 0)
			goto out;
		for (size_t i = 0; i < m.n; i++)
			if (copy_blob(pool, src_domain, src_repo, dst_domain,
				      dst_repo, &m.desc[i], st, err) < 0)
				goto out;
		ret = 0;
		goto out;
	}
	if (depth >= NEST_MAX) {
		err_set(err, EXIT_PUSH,
			"'%s/%s' nests indexes deeper than %d levels",
			src_domain, src_repo, NEST_MAX);
		goto out;
	}
	if (registry_pool_get(pool, src_domain, 0, &src, err) < 0 ||
	    registry_pool_get(pool, dst_domain, 0, &dst, err) < 0)
		goto out;
	for (size_t i = 0; i < m.n; i++) {
		const struct descriptor *d = &m.desc[i];
		char have[80];
		int r;

		/* A child manifest already on the target has its blobs
		 * there too (registries check that on PUT). */
		r = registry_manifest_head(dst, dst_repo, d->digest, have, err);
		if (r < 0)
			goto out;
		if (r) {
			st->present++;
			continue;
		}
		if (registry_manifest_get(src, src_repo, d->digest, &child,
					  err) < 0 ||
		    contents(pool, src_domain, src_repo, dst_domain, dst_repo,
			     child.body.data, child.body.len, d->media_type, st,
			     depth + 1, err) < 0 ||
		    registry_manifest_put(dst, dst_repo, d->digest,
					  d->media_type, child.body.data,
					  child.body.len, err) < 0)
			goto out;
		st->manifests++;
		fetched_release(&child);
	}
	ret = 0;
out:
	fetched_release(&child);
	manifest_release(&m);
	return ret;
}

int promote_contents(struct registry_pool *pool, const char *src_domain,
		     const char *src_repo, const char *dst_domain,
		     const char *dst_repo, const char *body, size_t len,
		     const char *mt, struct copy_stats *st, struct error *err)
{
	return contents(pool, src_domain, src_repo, dst_domain, dst_repo, body,
			len, mt, st, 0, err);
}

/* The media type to PUT the manifest with: its own, else the header's;
 * into mt[len]. */
static const char *media_type_of(const struct fetched *f, char *mt, size_t len,
				 struct error *err)
{
	struct manifest m = MANIFEST_INIT;

	if (manifest_parse(&m, f->body.data, f->body.len, f->media_type, err) <
	    0)
		return NULL;
	snprintf(mt, len, "%s", m.media_type);
	manifest_release(&m);
	return mt;
}

int pipeline_promote(const struct config *cfg, struct error *err)
{
	struct registry_pool pool;
	struct ref src = REF_INIT, dst = REF_INIT;
	struct fetched f = FETCHED_INIT;
	struct registry *sreg, *dreg;
	const char *mt;
	char mtbuf[256];
	char *name = NULL;
	int ret = -1;

	registry_pool_init(&pool, cfg);
	if (ref_parse(&src, cfg->args.v[0], "SOURCE", err) < 0)
		goto out;
	name = ref_familiar_string(&src);
	log_stage("promote", "%s", name);
	if (registry_pool_get(&pool, src.domain, 0, &sreg, err) < 0 ||
	    registry_manifest_get(sreg, src.path,
				  src.digest ? src.digest
					     : (src.tag ? src.tag : "latest"),
				  &f, err) < 0 ||
	    !(mt = media_type_of(&f, mtbuf, sizeof(mtbuf), err)))
		goto fail;
	log_info("source %s is %s (%s)", name, f.digest, mt);
	for (size_t i = 1; i < cfg->args.n; i++) {
		struct copy_stats st = { 0 };
		const char *tag;
		double t0 = now_seconds();

		ref_release(&dst);
		if (ref_parse(&dst, cfg->args.v[i], "TARGET", err) < 0)
			goto out;
		/* a target without a tag keeps the source's */
		tag = dst.tag ? dst.tag : (src.tag ? src.tag : "latest");
		if (promote_contents(&pool, src.domain, src.path, dst.domain,
				     dst.path, f.body.data, f.body.len, mt, &st,
				     err) < 0 ||
		    registry_pool_get(&pool, dst.domain, 0, &dreg, err) < 0 ||
		    registry_manifest_put(dreg, dst.path, tag, mt, f.body.data,
					  f.body.len, err) < 0 ||
		    registry_verify_tag_on(dreg, dst.path, tag, f.digest, err) <
			    0) {
			err_wrap(err, "promote '%s' to '%s'", name,
				 cfg->args.v[i]);
			goto out;
		}
		{
			char *fam = ref_familiar_name(&dst);

			log_info("promoted to %s:%s in %.1fs: blobs %d "
				 "present, %d mounted, %d copied (%lld bytes), "
				 "%d child manifests",
				 fam, tag, now_seconds() - t0, st.present,
				 st.mounted, st.copied, st.bytes, st.manifests);
			printf("%s:%s@%s\n", fam, tag, f.digest);
			free(fam);
		}
	}
	ret = 0;
	goto out;
fail:
	err_wrap(err, "promote '%s'", name ? name : cfg->args.v[0]);
out:
	fetched_release(&f);
	ref_release(&src);
	ref_release(&dst);
	free(name);
	registry_pool_release(&pool);
	return ret;
}
