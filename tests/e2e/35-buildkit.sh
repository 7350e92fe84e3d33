#!/usr/bin/env bash
# BuildKit builds through POST /build?version=2, without a session.
. "$(dirname "$0")/../lib.sh"

bk() {
	ACCOUNT=t$T_UNIQ IMAGE=app TAG=1 PUSH=false BUILDER=buildkit "$@"
}

t_single_stage() {
	need_builder
	make_app app
	bk assert_exit 0 "$BUILDER" app
	assert_contains "$OUT" "builder: BuildKit (BUILDER=buildkit)"
	assert_contains "$OUT" "COPY app.sh test.sh /app/"
	assert_contains "$OUT" " DONE "
	docker run --rm "t$T_UNIQ/app:1" /app/test.sh >out
	assert_contains out "tests passed"
}

t_multi_stage_target_args() {
	need_builder
	mkdir app
	cat >app/Dockerfile <<'DF'
FROM busybox:latest AS one
ARG WORD=unset
RUN echo "stage one says $WORD" && echo "$WORD" >/word
FROM busybox:latest AS unused
RUN echo "this stage must not run" && exit 9
FROM busybox:latest AS final
COPY --from=one /word /word
DF
	bk assert_exit 0 "$BUILDER" --build-arg WORD=bonjour app
	assert_contains "$OUT" "stage one says bonjour"
	assert_not_contains "$OUT" "this stage must not run"
	docker run --rm "t$T_UNIQ/app:1" cat /word >word
	assert_contains word bonjour
	bk assert_exit 0 "$BUILDER" --target one --tag 2 --build-arg WORD=hi app
	docker run --rm "t$T_UNIQ/app:2" cat /word >word
	assert_contains word hi
}

t_failing_step() {
	need_builder
	make_app app
	echo "RUN echo 'bk failure $T_UNIQ' >&2 && exit 4" >>app/Dockerfile
	bk assert_exit 1 "$BUILDER" app
	assert_contains "$OUT" "bk failure $T_UNIQ"
	assert_contains "$OUT" "build failed at '"
	assert_contains "$OUT" "exit code: 4"
	[ -z "$(docker images -q "t$T_UNIQ/app")" ] || t_fail "image was tagged"
}

t_rebuild_cached() {
	need_builder
	make_app app
	echo "RUN echo slow-step-$T_UNIQ" >>app/Dockerfile
	bk assert_exit 0 "$BUILDER" app
	grep -Eq "^#[0-9]+ [0-9.]+ slow-step-$T_UNIQ" "$STDOUT" ||
		t_fail "the first build did not show the step's output"
	bk assert_exit 0 "$BUILDER" --tag 2 app
	assert_contains "$OUT" "CACHED"
	# The step's output ("#6 0.123 slow-step-...") is not there: it did
	# not run again.
	! grep -Eq "^#[0-9]+ [0-9.]+ slow-step-$T_UNIQ" "$STDOUT" ||
		t_fail "the RUN step ran again"
}

t_private_base_image() {
	need_builder
	base=$REGISTRY_ADDR/t$T_UNIQ/base:1
	docker tag busybox:latest "$base"
	printf '%s' "$REGISTRY_PASS_T" |
		docker --config "$T_DIR/cli" login -u "$REGISTRY_USER_T" --password-stdin "$REGISTRY_ADDR" >/dev/null
	docker --config "$T_DIR/cli" push "$base" >/dev/null
	docker rmi "$base" >/dev/null
	mkdir app
	printf 'FROM %s\nRUN echo built-on-private-base\n' "$base" >app/Dockerfile
	REGISTRY=$REGISTRY_ADDR REGISTRY_USER=$REGISTRY_USER_T REGISTRY_PASSWORD=$REGISTRY_PASS_T \
		bk assert_exit 0 "$BUILDER" app
	assert_contains "$OUT" "needs credentials (REGISTRY_USER/REGISTRY_PASSWORD)"
	assert_contains "$OUT" "built-on-private-base"
	# And the classic builder gets the credentials in X-Registry-Config.
	docker rmi "$base" >/dev/null
	REGISTRY=$REGISTRY_ADDR REGISTRY_USER=$REGISTRY_USER_T REGISTRY_PASSWORD=$REGISTRY_PASS_T \
		ACCOUNT=t$T_UNIQ IMAGE=app TAG=3 PUSH=false BUILDER=classic \
		assert_exit 0 "$BUILDER" app
	assert_contains "$OUT" "built-on-private-base"
	docker rmi "$base" >/dev/null 2>&1 || true
}

run_test "BuildKit: a single-stage build" t_single_stage
run_test "BuildKit: multi-stage, unused stage skipped, --target, build args" t_multi_stage_target_args
run_test "BuildKit: a failing step exits 1 with its output" t_failing_step
run_test "BuildKit: a rebuild hits the cache" t_rebuild_cached
run_test "BuildKit and classic: a private base image" t_private_base_image
t_summary
