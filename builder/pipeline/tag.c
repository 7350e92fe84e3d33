/*
 * Tagging; see tag.h. Endpoint: POST /images/{name}/tag?repo=&tag= (201).
 */
#include "util/buf.h"
#include "engine/engine.h"
#include "util/log.h"
#include "pipeline/tag.h"
#include "util/banned.h"

int tag_image(struct engine *eng, const char *image_id, const char *repository,
	      const struct strlist *tags, struct error *err)
{
	struct buf path = BUF_INIT(BUF_PATH_MAX);
	int ret = 0;

	for (size_t i = 0; i < tags->n && !ret; i++) {
		buf_reset(&path);
		buf_addstr(&path, "/images/");
		buf_add_urlencoded(&path, image_id);
		buf_addstr(&path, "/tag?repo=");
		buf_add_urlencoded(&path, repository);
		buf_addstr(&path, "&tag=");
		buf_add_urlencoded(&path, tags->v[i]);
		if (engine_json(eng, "POST", path.data, NULL, NULL, NULL, err) <
		    0) {
			if (err->code == EXIT_ENGINE)
				err_recode(err, EXIT_PUSH);
			ret = err_wrap(err, "cannot tag %s as '%s:%s'",
				       image_id, repository, tags->v[i]);
			break;
		}
		log_info("tagged %s:%s", repository, tags->v[i]);
	}
	buf_release(&path);
	return ret;
}
