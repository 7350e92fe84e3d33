#ifndef BUILDER_COMPOSE_RUN_H
#define BUILDER_COMPOSE_RUN_H

/*
 * Runs one compose test file against the engine: sut and what it depends
 * on, on a private network, sut's exit code as the verdict.
 *
 *	struct compose_run_options opt = COMPOSE_RUN_OPTIONS_INIT;
 *	struct compose_run_ops ops = { ... };      // the pipeline's services
 *	struct compose_run_result res;
 *	opt.run_id = run->id; opt.image = image_id; ...
 *	if (compose_run_file(eng, cf, &opt, &ops, &res, err) < 0)
 *		goto out;   // EXIT_TESTS when sut failed, EXIT_USAGE, ...
 *
 * For each file: a network "builder-<run id>-c<N>" (N counts the files of
 * the run), the file's named volumes as "builder-<run id>-c<N>-<volume>",
 * and one container per service of the sut closure,
 * "builder-<run id>-c<N>-<service>", reachable on the network by the
 * service's name and its link aliases; all labelled io.builder.run=<run
 * id> (opt.label) and reported to ops.created the moment they exist.
 * Services start in compose_sut_order()'s order; before a service starts,
 * each of its dependencies must meet its condition (started: running or
 * exited; healthy: Docker says healthy, or the health check passes when
 * we run it (engine/probe.h); completed: exited with
 * 0) within opt.ready_timeout. sut's output streams to our stdout and
 * stderr; when sut fails (or a dependency does), the last 50 lines of
 * every other started service's log follow on stderr. Everything is
 * removed before returning, on every path (containers with their anonymous
 * volumes, the network, the volumes), and reported to ops.removed.
 *
 * Images: a service whose build is the image builder built
 * (compose_builds_same_image() with opt.context_dir, opt.dockerfile,
 * opt.target), or whose image is opt.image_name (the IMAGE_NAME compose
 * interpolated), runs opt.image; another `build` is built by ops.build; an
 * `image` is made present by ops.ensure_image (pull when missing).
 *
 * Bind mounts (paths inside the context): with opt.copy_binds unset they
 * are bind mounts of the host path (the engine must see the job's files);
 * with it set (remote engines) ops.copy_in copies the path into the
 * container after it is created and before it starts; writes do not come
 * back.
 */

#include "compose/compose.h"
#include "util/error.h"

struct engine;

enum compose_object {
	COMPOSE_CONTAINER,
	COMPOSE_NETWORK,
	COMPOSE_VOLUME,
};

/* What the runner needs from the layers above it. ctx is passed back. */
struct compose_run_ops {
	void *ctx;
	/* Makes image present on the engine, pulling it when missing.
	 * NULL: images are assumed present. */
	int (*ensure_image)(void *ctx, const char *image, struct error *err);
	/* Builds svc's image (svc->build_*), setting *image (owned, an ID
	 * or reference). NULL: such a service is an error. */
	int (*build)(void *ctx, const struct compose_service *svc, char **image,
		     struct error *err);
	/* Copies host_path (a file or directory) to target in the created,
	 * not yet started container id (PUT /containers/{id}/archive).
	 * Needed only with copy_binds. */
	int (*copy_in)(void *ctx, const char *container_id,
		       const char *host_path, const char *target,
		       struct error *err);
	/* Register and forget engine objects for cleanup on every path
	 * (signals, `builder cleanup`). May be NULL. */
	void (*created)(void *ctx, enum compose_object kind, const char *id);
	void (*removed)(void *ctx, enum compose_object kind, const char *id);
	/* Called once sut was started and has ended (passed, failed or timed
	 * out), before its container is removed: what it wrote is still
	 * there (TEST_RESULTS). Not called when sut never started. May be
	 * NULL. */
	void (*sut_ended)(void *ctx, const char *container_id);
};

struct compose_run_options {
	const char *run_id; /* required: unique names and the label value */
	const char *label; /* the label key; NULL: "io.builder.run" */
	const char *image; /* the image builder built (ID or reference) */
	const char *image_name; /* what ${IMAGE_NAME} gave; may be NULL */
	const char *context_dir; /* absolute */
	const char *dockerfile; /* relative to context_dir; NULL: Dockerfile */
	const char *target; /* the build target, or NULL */
	int copy_binds; /* the engine cannot see our files: copy them in */
	long ready_timeout; /* seconds for each dependency; 0: 120 */
	long timeout; /* seconds for sut; 0: none */
	int log_tail; /* lines of other services' logs on failure; 0: 50 */
};

#define COMPOSE_RUN_OPTIONS_INIT                                     \
	{                                                            \
		NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0 \
	}

struct compose_run_result {
	int ran; /* sut was started */
	long exit_code; /* sut's exit code, -1 when it did not end */
	int timed_out;
	double seconds; /* sut's run time */
};

/*
 * The same in two steps, so that sidecars start while the image builds:
 * compose_run_start() creates the network and volumes and starts, in
 * order, each service that needs no build (neither the built image, nor
 * `image: ${IMAGE_NAME}`, nor a build of its own) and whose dependencies
 * were started the same way with condition service_started; it does not
 * wait for health. opt.image may still be NULL then. After the build,
 * compose_run_finish() starts the rest (waiting for their conditions)
 * and runs sut with image as the built image. compose_run_free() removes
 * everything the run created and frees it, on every path (NULL is
 * fine). opt, ops and cf must outlive the run.
 *
 *	struct compose_run *run = NULL;
 *	if (compose_run_start(&run, eng, cf, &opt, &ops, err) < 0) goto out;
 *	... build ...
 *	if (compose_run_finish(run, image_id, &res, err) < 0) goto out;
 *	out: compose_run_free(run);
 */
struct compose_run;
int compose_run_start(struct compose_run **out, struct engine *eng,
		      const struct compose_file *cf,
		      const struct compose_run_options *opt,
		      const struct compose_run_ops *ops, struct error *err);
int compose_run_finish(struct compose_run *run, const char *image,
		       struct compose_run_result *res, struct error *err);
void compose_run_free(struct compose_run *run);

/* Runs the file in one go (start, finish, free); see above. 0 when sut exited
 * with 0. sut failing is EXIT_TESTS "'FILE': sut failed (exit N)"; a dependency
 * that exits, turns unhealthy or is not ready in time is EXIT_TESTS too, naming
 * it, and so is a service whose command cannot start (the engine's 400 on
 * start: not in the image, e.g. sh in an image FROM scratch); engine errors
 * keep their code, signals 130/143. */
int compose_run_file(struct engine *eng, const struct compose_file *cf,
		     const struct compose_run_options *opt,
		     const struct compose_run_ops *ops,
		     struct compose_run_result *res, struct error *err);

#endif
