#!/usr/bin/env bash
# The build stage against the real engine: .dockerignore, the context's
# odd files, failing steps, Dockerfile locations, labels and build args.
. "$(dirname "$0")/../lib.sh"

# build_only DIR [flags...]: builds and tags locally, no tests, no push.
build_only() {
	local dir=$1
	shift
	ACCOUNT=t$T_UNIQ IMAGE=app TAG=1 PUSH=false \
		assert_exit 0 "$BUILDER" "$@" "$dir"
}

t_dockerignore_applied() {
	need_builder
	make_app app
	mkdir -p app/secret app/logs app/keep app/docs
	echo s >app/secret/key; echo l >app/logs/a.log; echo k >app/logs/keep.log
	echo x >app/notes.tmp; echo y >app/keep/notes.tmp; echo d >app/docs/a.md
	cat >app/.dockerignore <<'IGN'
# comment
secret
logs/*.log
!logs/keep.log
**/*.tmp
/docs
Dockerfile
.dockerignore
IGN
	echo 'COPY . /ctx/' >>app/Dockerfile
	build_only app
	docker run --rm "t$T_UNIQ/app:1" find /ctx | sort >files
	assert_contains files "/ctx/app.sh"
	assert_contains files "/ctx/logs/keep.log"
	assert_not_contains files "/ctx/secret"
	assert_not_contains files "a.log"
	assert_not_contains files "notes.tmp"
	assert_not_contains files "/ctx/docs"
	# The Dockerfile was still sent (the build worked); the classic
	# builder then drops the ignored Dockerfile and .dockerignore.
	assert_not_contains files "/ctx/Dockerfile"
}

t_odd_files_round_trip() {
	need_builder
	mkdir -p ctx/empty ctx/sub
	long=$(printf 'd%.0s' $(seq 1 60))/$(printf 'f%.0s' $(seq 1 70))
	mkdir -p "ctx/$(dirname "$long")"
	echo long >"ctx/$long"
	echo sp >"ctx/with space.txt"
	echo u >"ctx/ünïcødé-名前.txt"
	echo target >ctx/sub/target
	ln -s sub/target ctx/link
	ln -s /etc/shadow ctx/outside-link
	ln ctx/sub/target ctx/hardlink
	mkfifo ctx/fifo
	chmod 750 ctx/sub
	cat >ctx/Dockerfile <<'DF'
FROM busybox:latest
COPY . /ctx/
DF
	build_only ctx
	assert_contains "$OUT" "skipping 'fifo'"
	docker run --rm "t$T_UNIQ/app:1" sh -c '
		cd /ctx && ls -la && cat "'"$long"'" "with space.txt" "ünïcødé-名前.txt" &&
		readlink link && readlink outside-link && cat hardlink &&
		test -d empty && test ! -e fifo &&
		stat -c "%a" sub' >out.txt
	assert_contains out.txt "long"
	assert_contains out.txt "sp"
	assert_contains out.txt "sub/target"
	assert_contains out.txt "/etc/shadow"
	assert_contains out.txt "750"
}

t_failing_run_exits_1() {
	need_builder
	make_app app
	echo "RUN echo \"about to fail $T_UNIQ\" >&2 && exit 3" >>app/Dockerfile
	ACCOUNT=t$T_UNIQ IMAGE=app assert_exit 1 "$BUILDER" app
	assert_contains "$OUT" "about to fail $T_UNIQ"
	assert_contains "$OUT" "build failed at 'Step 4/"
	assert_contains "$OUT" 'RUN echo "about to fail'
	assert_contains "$OUT" "returned a non-zero code: 3"
	# forcerm: the failed step's container is gone.
	left=$(docker ps -a --no-trunc --format '{{.Command}}' | grep -c "$T_UNIQ" || true)
	assert_eq "$left" 0
	# Nothing was tagged.
	[ -z "$(docker images -q "t$T_UNIQ/app")" ] || t_fail "image was tagged"
}

t_missing_dockerfile() {
	need_builder
	mkdir empty
	ACCOUNT=t$T_UNIQ IMAGE=app assert_exit 2 "$BUILDER" empty
	assert_contains "$OUT" "empty/Dockerfile' does not exist"
	ACCOUNT=t$T_UNIQ IMAGE=app DOCKERFILE=nope.Dockerfile assert_exit 2 "$BUILDER" empty
	assert_contains "$OUT" "DOCKERFILE 'nope.Dockerfile' does not exist"
}

t_unreadable_file() {
	need_builder
	command -v setpriv >/dev/null || t_skip "setpriv is missing"
	make_app app
	echo secret >app/locked
	chmod 000 app/locked
	# root reads everything: drop the capabilities that let it.
	ACCOUNT=t$T_UNIQ IMAGE=app PUSH=false assert_exit 1 \
		setpriv --bounding-set=-dac_override,-dac_read_search \
		"$BUILDER" app
	assert_contains "$OUT" "cannot read 'locked'"
	assert_contains "$OUT" "Permission denied"
	assert_no_leftovers
}

t_dockerfile_outside_context() {
	need_builder
	make_app app
	mkdir other
	printf 'FROM busybox:latest\nCOPY . /ctx/\nLABEL from=outside\n' >other/Build.df
	build_only app -f other/Build.df
	docker run --rm "t$T_UNIQ/app:1" ls -a /ctx >files
	assert_contains files "app.sh"
	assert_not_contains files ".dockerfile."
	docker image inspect -f '{{index .Config.Labels "from"}}' "t$T_UNIQ/app:1" >label
	assert_contains label outside
}

t_args_labels_target() {
	need_builder
	mkdir app
	cat >app/Dockerfile <<'DF'
FROM busybox:latest AS base
ARG GREETING=unset
RUN echo "$GREETING" >/greeting
FROM base AS final
RUN echo final >/stage
DF
	GITHUB_ACTIONS=true GITHUB_SHA=abc1234 SOURCE_DATE_EPOCH=1700000000 \
		BUILD_ARGS='GREETING=hi there' LABELS='team=core,org.opencontainers.image.version=custom' \
		build_only app --target base
	docker run --rm "t$T_UNIQ/app:1" sh -c 'cat /greeting; ls /stage 2>&1; true' >out
	assert_contains out "hi there"
	assert_contains out "No such file"
	docker image inspect -f '{{json .Config.Labels}}' "t$T_UNIQ/app:1" >labels
	assert_contains labels '"team":"core"'
	assert_contains labels '"org.opencontainers.image.revision":"abc1234"'
	assert_contains labels '"org.opencontainers.image.version":"custom"'
	assert_contains labels '"org.opencontainers.image.created":"2023-11-14T22:13:20Z"'
}

run_test ".dockerignore excludes and re-includes" t_dockerignore_applied
run_test "symlinks, FIFO, long, UTF-8 and spaced names round-trip" t_odd_files_round_trip
run_test "a failing RUN exits 1 with its output, no container left" t_failing_run_exits_1
run_test "a missing Dockerfile exits 2 naming the path" t_missing_dockerfile
run_test "an unreadable file fails the build" t_unreadable_file
run_test "a Dockerfile outside the context" t_dockerfile_outside_context
run_test "build args, labels and target" t_args_labels_target
t_summary
