#!/usr/bin/env bash
# Docker Hub autotest and hooks through the whole pipeline on the real
# engine (issue 15): Docker's documented autotest shapes (a sut built from
# `.`, a sut reaching the app by name, depends_on service_healthy), a
# failing sut (exit 4, no push, the other services' logs), two *.test.yml
# files in turn, hooks in the autobuild order with the autobuild variables,
# hooks/build replacing the build, a failing pre_push stopping the push,
# post_push pushing one more tag with the docker CLI, SIGTERM during sut,
# YAML mistakes (exit 2 with the line), no shell for hooks (exit 2,
# builder-shell; also builder itself in a FROM scratch image), a sut FROM
# scratch whose command needs a shell (exit 4), and `builder cleanup`
# removing labelled volumes. After each run nothing labelled with its run
# id is left: containers, networks, volumes.
. "$(dirname "$0")/../lib.sh"

# pipeline CODE DIR [VAR=VALUE...]: the whole pipeline on DIR, pushing to
# the test registry as $REGISTRY_ADDR/t$T_UNIQ/app:1 unless PUSH=false.
pipeline() {
	local want=$1 dir=$2
	shift 2
	assert_exit "$want" env TEST_CMD= TEST_ENV= TEST_SERVICES= TEST_TIMEOUT= \
		TEST_COMPOSE= HOOKS= SOURCE_BRANCH= SOURCE_COMMIT= COMMIT_MSG= \
		DOCKER_REPO= DOCKER_TAG= IMAGE_NAME= DOCKERFILE_PATH= BUILD_PATH= \
		REGISTRY="$REGISTRY_ADDR" ACCOUNT="t$T_UNIQ" IMAGE=app TAG=1 \
		REGISTRY_USER="$REGISTRY_USER_T" REGISTRY_PASSWORD="$REGISTRY_PASS_T" \
		"$@" "$BUILDER_BIN" "$dir"
	cat "$OUT" >>"$T_DIR/all.out"
}

# The run ids named in FILEs (default: every pipeline's output so far).
run_ids() {
	cat "${@:-$T_DIR/all.out}" 2>/dev/null | grep -o 'run b[0-9a-f]\{10\}' |
		sed 's/^run //' | sort -u
}

# assert_clean [FILE...]: nothing labelled with those runs' ids is left.
assert_clean() {
	local id ids vols
	ids=$(run_ids "$@")
	[ -n "$ids" ] || t_fail "no run id in the output"
	for id in $ids; do
		assert_no_leftovers "$id"
		vols=$(docker volume ls -q --filter "label=io.builder.run=$id")
		if [ -n "$vols" ]; then
			# shellcheck disable=SC2086
			docker volume rm -f $vols >/dev/null 2>&1
			t_fail "volumes left behind: $vols"
		fi
	done
}

# make_web DIR: an app serving "hello from app" on port 8080, with
# /app/test.sh checking it in-image; its image is the test's own.
make_web() {
	mkdir -p "$1"
	cat >"$1/Dockerfile" <<'DF'
FROM busybox:latest
RUN mkdir /www && echo "hello from app" >/www/index.html
COPY test.sh /app/test.sh
CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
DF
	printf '#!/bin/sh\ngrep -q "hello from app" /www/index.html && echo "tests passed"\n' \
		>"$1/test.sh"
	chmod 755 "$1/test.sh"
	# An image ID of the test's own: the same ID in two tests running at
	# once (other worktrees share the engine) lets one's cleanup (docker
	# rmi of its tag) delete the other's image between build and tag.
	echo "LABEL io.builder.test=$T_UNIQ" >>"$1/Dockerfile"
}

t_sut_built_from_dot() {
	need_builder
	make_web app
	cat >app/docker-compose.test.yml <<'YML'
sut:
  build: .
  command: /app/test.sh
YML
	pipeline 0 app
	assert_contains "$STDERR" "compose test files: '$T_DIR/app/docker-compose.test.yml'"
	# the image just built, not a second build
	assert_contains "$STDERR" "service 'sut' (sha256:"
	assert_contains "$STDOUT" "tests passed"
	assert_eq "$(registry_tags "t$T_UNIQ/app")" 1 "tags pushed"
	assert_clean
}

t_sut_reaches_app_by_name() {
	need_builder
	make_web app
	mkdir -p app/tests
	cat >app/tests/Dockerfile <<'DF'
FROM busybox:latest
COPY run_tests.sh /run_tests.sh
DF
	printf '#!/bin/sh\nwget -qO- http://web:8080/index.html && echo "sut reached web"\n' \
		>app/tests/run_tests.sh
	chmod 755 app/tests/run_tests.sh
	cat >app/docker-compose.test.yml <<'YML'
services:
  sut:
    build: ./tests
    command: /run_tests.sh
    depends_on:
      - web
  web:
    build: .
YML
	pipeline 0 app PUSH=false
	assert_contains "$STDOUT" "hello from app"
	assert_contains "$STDOUT" "sut reached web"
	assert_clean
	# the image built for sut alone is removed with the rest
	sut_image=$(sed -n "s/.*service 'sut' (\(sha256:[0-9a-f]*\)).*/\1/p" "$STDERR")
	[ -n "$sut_image" ] || t_fail "no image named for sut"
	if docker image inspect "$sut_image" >/dev/null 2>&1; then
		docker rmi -f "$sut_image" >/dev/null 2>&1
		t_fail "the image built for sut was left behind"
	fi
}

t_depends_on_healthy() {
	need_builder
	make_web app
	cat >app/docker-compose.test.yml <<'YML'
version: "3.8"
x-common: &common
  image: busybox:latest
services:
  db:
    <<: *common
    command: sh -c 'echo "db log line"; sleep 2; touch /tmp/ready; exec sleep 300'
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 500ms
      retries: 20
  sut:
    image: ${IMAGE_NAME}
    command: sh -c 'echo "db is healthy"; /app/test.sh'
    depends_on:
      db:
        condition: service_healthy
YML
	pipeline 0 app PUSH=false
	assert_contains "$STDOUT" "db is healthy"
	assert_contains "$STDOUT" "tests passed"
	assert_clean
}

t_failing_sut() {
	need_builder
	make_web app
	cat >app/docker-compose.test.yml <<'YML'
services:
  db:
    image: busybox:latest
    command: ["sh", "-c", "echo 'db log line, ready'; exec sleep 300"]
  sut:
    build: .
    command: sh -c 'echo "sut is failing"; exit 3'
    depends_on: [db]
YML
	pipeline 4 app
	assert_contains "$STDOUT" "sut is failing"
	assert_contains "$STDERR" "db log line, ready"
	assert_contains "$STDERR" "exit 3"
	assert_eq "$(registry_tags "t$T_UNIQ/app")" "" "tags pushed after a failed sut"
	assert_clean
}

t_two_test_files() {
	need_builder
	make_web app
	printf 'sut:\n  image: busybox:latest\n  command: echo "file one ran"\n' \
		>app/docker-compose.test.yml
	printf 'sut:\n  image: busybox:latest\n  command: echo "file two ran"\n' \
		>app/extra.test.yml
	pipeline 0 app PUSH=false
	assert_contains "$STDERR" "'$T_DIR/app/docker-compose.test.yml', '$T_DIR/app/extra.test.yml'"
	first=$(grep -n "file one ran" "$STDOUT" | cut -d: -f1)
	second=$(grep -n "file two ran" "$STDOUT" | cut -d: -f1)
	[ -n "$first" ] && [ -n "$second" ] && [ "$first" -lt "$second" ] ||
		t_fail "the files did not run one after the other"
	assert_clean
}

# make_hooks DIR NAME...: hooks that append "NAME SOURCE_BRANCH DOCKER_TAG
# IMAGE_NAME" to $HOOK_LOG; a hook without #! line runs with sh.
make_hooks() {
	local dir=$1 h
	shift
	mkdir -p "$dir/hooks"
	for h in "$@"; do
		printf 'echo "%s $SOURCE_BRANCH $DOCKER_TAG $IMAGE_NAME $DOCKERFILE_PATH" >>"$HOOK_LOG"\n' \
			"$h" >"$dir/hooks/$h"
	done
}

login_registry() {
	echo "$REGISTRY_PASS_T" | docker login -u "$REGISTRY_USER_T" \
		--password-stdin "$REGISTRY_ADDR" >/dev/null 2>&1 ||
		t_fail "docker login to the test registry failed"
}

t_hooks_in_order() {
	local img run
	need_builder
	make_web app
	printf 'sut:\n  build: .\n  command: /app/test.sh\n' >app/docker-compose.test.yml
	make_hooks app post_checkout pre_build post_build pre_test post_test pre_push post_push
	cat >>app/hooks/post_push <<'SH'
docker tag "$IMAGE_NAME" "$DOCKER_REPO:extra" && docker push "$DOCKER_REPO:extra"
SH
	login_registry
	export HOOK_LOG=$T_DIR/hooks.log
	pipeline 0 app GITHUB_ACTIONS=true GITHUB_REF_NAME=feature-x
	img="$REGISTRY_ADDR/t$T_UNIQ/app:1"
	# Between the build and the tag stage, IMAGE_NAME is the only name
	# the image has then: the run's.
	run=builder-run:$(run_ids | head -1)
	assert_eq "$(cat "$HOOK_LOG")" "post_checkout feature-x 1 $img Dockerfile
pre_build feature-x 1 $img Dockerfile
post_build feature-x 1 $run Dockerfile
pre_test feature-x 1 $run Dockerfile
post_test feature-x 1 $run Dockerfile
pre_push feature-x 1 $img Dockerfile
post_push feature-x 1 $img Dockerfile" "hooks run"
	assert_contains "$STDOUT" "tests passed"
	assert_eq "$(registry_tags "t$T_UNIQ/app" | tr '\n' ' ')" "1 extra " "tags pushed"
	assert_clean
}

# Between builder's build and the tag stage the image has only its run
# name: hooks find it as IMAGE_NAME (not an older image that still holds
# DOCKER_REPO:DOCKER_TAG), and it is not dangling, which is what `docker
# image prune` takes (not run here: other tests share the engine).
# record_image_hook FILE: a post_build hook that checks that and writes the
# image's ID to $HOOK_LOG.id.
record_image_hook() {
	cat >>"$1" <<'SH'
id=$(docker image inspect -f '{{.Id}}' "$IMAGE_NAME") || exit 1
if docker images -q --no-trunc --filter dangling=true | grep -qx "$id"; then
	echo "the image just built is dangling: a prune would take it"; exit 1
fi
echo "$id" >"$HOOK_LOG.id"
SH
}

t_hooks_get_the_image_just_built() {
	local img="$REGISTRY_ADDR/t$T_UNIQ/app:1" run
	need_builder
	make_web app
	make_hooks app post_build test pre_push
	# What a runner that built this repository before still has.
	assert_exit 0 docker tag busybox:latest "$img"
	record_image_hook app/hooks/post_build
	printf 'docker run --rm "$IMAGE_NAME" cat /www/index.html\n' >>app/hooks/test
	login_registry
	export HOOK_LOG=$T_DIR/hooks.log
	pipeline 0 app
	assert_contains "$STDOUT" "hello from app"
	run=$(run_ids | head -1)
	assert_eq "$(awk '{ print $1, $(NF - 1) }' "$HOOK_LOG")" "post_build builder-run:$run
test builder-run:$run
pre_push $img" "IMAGE_NAME in the hooks"
	assert_eq "$(registry_tags "t$T_UNIQ/app")" "1" "tags pushed"
	assert_clean
}

# A compose service built from a context of its own is not the image under
# test: the run's name stays with the pipeline's image.
t_service_build_keeps_the_run_name() {
	need_builder
	make_web app
	make_hooks app post_build post_test
	record_image_hook app/hooks/post_build
	cat >>app/hooks/post_test <<'SH'
[ "$(docker image inspect -f '{{.Id}}' "$IMAGE_NAME")" = "$(cat "$HOOK_LOG.id")" ] ||
	{ echo "IMAGE_NAME is not the image under test after the tests"; exit 1; }
SH
	mkdir app/tests
	printf 'FROM busybox:latest\nRUN echo "sut of %s" >/sut\n' "$T_UNIQ" >app/tests/Dockerfile
	printf 'sut:\n  build: ./tests\n  command: cat /sut\n' >app/docker-compose.test.yml
	export HOOK_LOG=$T_DIR/hooks.log
	pipeline 0 app PUSH=false
	assert_contains "$STDOUT" "sut of $T_UNIQ"
	assert_contains "$HOOK_LOG" "post_test"
	assert_clean
}

t_build_hook_replaces_build() {
	need_builder
	make_web app
	make_hooks app build
	cat >>app/hooks/build <<'SH'
docker build -q --build-arg FROM_HOOK=yes -t "$IMAGE_NAME" -f "$DOCKERFILE_PATH" .
SH
	printf 'ARG FROM_HOOK=no\nRUN echo "built by hook: $FROM_HOOK" >/built\n' >>app/Dockerfile
	printf 'sut:\n  image: ${IMAGE_NAME}\n  command: cat /built\n' >app/docker-compose.test.yml
	export HOOK_LOG=$T_DIR/hooks.log
	pipeline 0 app PUSH=false
	assert_contains "$HOOK_LOG" "build"
	assert_contains "$STDERR" "hook 'build' built"
	assert_contains "$STDOUT" "built by hook: yes"
	assert_clean
}

t_failing_pre_push() {
	need_builder
	make_web app
	make_hooks app pre_push post_push
	printf 'exit 3\n' >>app/hooks/pre_push
	export HOOK_LOG=$T_DIR/hooks.log
	pipeline 5 app
	assert_contains "$STDERR" "hook 'pre_push' failed (exit 3)"
	assert_not_contains "$HOOK_LOG" "post_push"
	assert_eq "$(registry_tags "t$T_UNIQ/app")" "" "tags pushed after pre_push failed"
}

# hooks/test replaces the test stage, compose files included; its failure
# is the test stage's (exit 4), and nothing is pushed.
t_test_hook_replaces_tests() {
	need_builder
	make_web app
	printf 'sut:\n  image: busybox:latest\n  command: echo "compose sut ran"\n' \
		>app/docker-compose.test.yml
	make_hooks app test
	printf 'echo "test hook ran"; exit 2\n' >>app/hooks/test
	export HOOK_LOG=$T_DIR/hooks.log
	pipeline 4 app
	assert_contains "$STDOUT" "test hook ran"
	assert_not_contains "$STDOUT" "compose sut ran"
	assert_contains "$STDERR" "hook 'test' failed (exit 2)"
	assert_eq "$(registry_tags "t$T_UNIQ/app")" "" "tags pushed after hooks/test failed"
	assert_clean
}

t_no_hooks_skips() {
	need_builder
	make_web app
	make_hooks app pre_build
	printf 'exit 3\n' >>app/hooks/pre_build
	export HOOK_LOG=$T_DIR/hooks.log
	pipeline 0 app PUSH=false HOOKS=false
	[ ! -e "$HOOK_LOG" ] || t_fail "a hook ran with HOOKS=false"
}

t_no_shell_for_hooks() {
	need_builder
	make_web app
	make_hooks app pre_build
	mkdir empty
	pipeline 2 app PUSH=false PATH="$T_DIR/empty"
	assert_contains "$STDERR" "builder-shell"
	assert_contains "$STDERR" "pre_build"
}

# scratch_builder NAME: a FROM scratch image with bin/builder and the
# shared libraries it loads, nothing else: no /bin/sh, no sh on PATH, as
# in builder's own image (make image), but running the code under test.
scratch_builder() {
	local root=$T_DIR/scratch-root bin=$REPO_ROOT/bin/builder lib
	[ -x "$bin" ] || t_fail "'$bin' was not built: run 'make bin/builder'"
	mkdir -p "$root/bin" "$root/tmp"
	cp "$bin" "$root/bin/builder"
	for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
		cp -L --parents "$lib" "$root/"
	done
	printf '%s\n' 'FROM scratch' 'COPY . /' 'ENV PATH=/bin HOME=/tmp' \
		'WORKDIR /app' 'ENTRYPOINT ["/bin/builder"]' >"$T_DIR/scratch.Dockerfile"
	DOCKER_BUILDKIT=0 docker build -q -t "$1" -f "$T_DIR/scratch.Dockerfile" \
		"$root" >/dev/null || t_fail "cannot build the scratch image '$1'"
	if docker run --rm --entrypoint /bin/sh "$1" -c true >/dev/null 2>&1; then
		t_fail "the scratch image '$1' has a shell"
	fi
}

# run_scratch IMAGE VAR=VALUE...: IMAGE on $T_DIR/app (mounted as /app)
# with the engine's socket, as README's `docker run` of builder does.
run_scratch() {
	local image=$1 a envs=()
	shift
	for a in ACCOUNT="t$T_UNIQ" IMAGE=app TAG=1 PUSH=false "$@"; do
		envs+=(-e "$a")
	done
	docker run --rm -v /var/run/docker.sock:/var/run/docker.sock \
		-v "$T_DIR/app:/app" "${envs[@]}" "$image"
}

# builder in a FROM scratch image: a repository with hooks fails before
# anything runs (exit 2) and says to use builder-shell; without the hooks
# (HOOKS=false) the same image runs the compose autotest, which needs no
# shell on builder's side.
t_scratch_image_with_hooks() {
	need_builder
	make_web app
	printf 'sut:\n  image: busybox:latest\n  command: echo "compose sut ran"\n' \
		>app/docker-compose.test.yml
	make_hooks app pre_build
	scratch_builder "scratch-builder-$T_UNIQ"
	assert_exit 2 run_scratch "scratch-builder-$T_UNIQ"
	assert_contains "$STDERR" "hook 'pre_build' needs 'sh', which is not on the PATH"
	assert_contains "$STDERR" "use the builder-shell image"
	assert_not_contains "$OUT" "compose sut ran"
	assert_not_contains "$OUT" "<== build done"
	assert_exit 0 run_scratch "scratch-builder-$T_UNIQ" HOOKS=false
	assert_contains "$STDOUT" "compose sut ran"
	assert_clean "$OUT"
}

# A sut whose image has no shell (FROM scratch) and a command that needs
# one: the tests could not run, exit 4 as for TEST_CMD, with the engine's
# message and what to do; no push, nothing left.
t_scratch_sut() {
	need_builder
	make_web app
	mkdir -p app/scratch
	printf 'FROM scratch\nCOPY hello.txt /\n' >app/scratch/Dockerfile
	echo hello >app/scratch/hello.txt
	cat >app/docker-compose.test.yml <<'YML'
services:
  sut:
    build: ./scratch
    command: sh -c 'echo "sut ran"'
YML
	pipeline 4 app
	assert_not_contains "$STDOUT" "sut ran"
	assert_contains "$STDERR" "service 'sut' cannot run its command in image sha256:"
	assert_contains "$STDERR" '"sh"'
	assert_contains "$STDERR" "an image FROM scratch has no shell"
	assert_eq "$(registry_tags "t$T_UNIQ/app")" "" "tags pushed"
	assert_clean
}

t_sigterm_during_sut() {
	need_builder
	make_web app
	cat >app/docker-compose.test.yml <<'YML'
services:
  db:
    image: busybox:latest
    command: sleep 300
    volumes: ["data:/data"]
  sut:
    build: .
    command: sh -c 'echo started; sleep 120'
    depends_on: [db]
volumes:
  data:
YML
	env TEST_CMD= TEST_SERVICES= TEST_COMPOSE= HOOKS= ACCOUNT="t$T_UNIQ" \
		IMAGE=app TAG=1 PUSH=false "$BUILDER_BIN" app >"$STDOUT" 2>"$STDERR" &
	pid=$!
	for _ in $(seq 600); do
		grep -q started "$STDOUT" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	assert_contains "$STDOUT" "started"
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	cat "$STDOUT" "$STDERR" >"$OUT"
	cat "$OUT"
	assert_eq "$rc" 143 "exit status after SIGTERM"
	assert_clean "$OUT"
}

t_yaml_errors() {
	need_builder
	make_web app
	printf 'services:\n  sut:\n    image: [busybox\n' >app/docker-compose.test.yml
	pipeline 2 app PUSH=false
	assert_contains "$STDERR" "line"
	assert_not_contains "$STDERR" "build:"
	printf 'services:\n  sut:\n    image: busybox\n    privileged: true\n' \
		>app/docker-compose.test.yml
	pipeline 2 app PUSH=false
	assert_contains "$STDERR" "privileged"
	assert_contains "$STDERR" "line 4"
}

t_cleanup_removes_volumes() {
	need_builder
	id="b$(printf '%010x' "$T_UNIQ" | tail -c 10)"
	docker volume create --label "io.builder.run=$id" "vol-$T_UNIQ" >/dev/null
	assert_exit 0 "$BUILDER_BIN" cleanup --run "$id"
	if docker volume inspect "vol-$T_UNIQ" >/dev/null 2>&1; then
		docker volume rm -f "vol-$T_UNIQ" >/dev/null 2>&1
		t_fail "builder cleanup left the labelled volume"
	fi
	assert_contains "$STDERR" "removed volume 'vol-$T_UNIQ'"
}

# A service that needs neither the image nor a build starts before the
# build ends (the build takes 2 s here).
t_sidecar_starts_during_build() {
	need_builder
	make_web app
	echo 'RUN sleep 2' >>app/Dockerfile
	cat >app/docker-compose.test.yml <<'YML'
services:
  db:
    image: busybox:latest
    command: sleep 300
  sut:
    build: .
    command: /app/test.sh
    depends_on: [db]
YML
	pipeline 0 app PUSH=false
	started=$(grep -n "service 'db'.*started" "$STDERR" | head -1 | cut -d: -f1)
	built=$(grep -n "<== build done" "$STDERR" | head -1 | cut -d: -f1)
	[ -n "$started" ] && [ -n "$built" ] && [ "$started" -lt "$built" ] ||
		t_fail "db did not start while the image built"
	assert_contains "$STDOUT" "tests passed"
	assert_clean
}

# An engine that cannot see the job's files (tcp://, as CircleCI's remote
# docker or GitLab's dind; here the local engine behind socat): a bind of
# a context path is copied into the container, and writes stay there.
t_context_bind_on_remote_engine() {
	need_builder
	command -v socat >/dev/null || t_skip "no socat"
	make_web app
	mkdir -p app/testdata
	echo "from the context" >app/testdata/in.txt
	cat >app/docker-compose.test.yml <<'YML'
services:
  sut:
    image: busybox:latest
    volumes: ["./testdata:/data/td"]
    command: sh -c 'cat /data/td/in.txt && echo changed >/data/td/in.txt'
YML
	port=$((20000 + RANDOM % 20000))
	socat "TCP-LISTEN:$port,bind=127.0.0.1,fork,reuseaddr" \
		UNIX-CONNECT:/var/run/docker.sock &
	for _ in $(seq 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
		sleep 0.1
	done
	pipeline 0 app PUSH=false DOCKER_HOST="tcp://127.0.0.1:$port" \
		DOCKER_TLS_VERIFY= DOCKER_CERT_PATH=
	assert_contains "$STDOUT" "from the context"
	assert_eq "$(cat app/testdata/in.txt)" "from the context" \
		"the host file after the container wrote its copy"
	assert_clean
}

run_test "a service starts while the image builds" t_sidecar_starts_during_build
run_test "a context bind mount on a remote engine is copied in" t_context_bind_on_remote_engine
run_test "a sut built from . (the image just built)" t_sut_built_from_dot
run_test "a sut reaches the app service by name" t_sut_reaches_app_by_name
run_test "depends_on service_healthy, anchors and IMAGE_NAME" t_depends_on_healthy
run_test "a failing sut: exit 4, no push, other logs shown" t_failing_sut
run_test "two .test.yml files in turn" t_two_test_files
run_test "hooks in order with the autobuild variables, post_push pushes a tag" t_hooks_in_order
run_test "hooks/build replaces the build" t_build_hook_replaces_build
run_test "a failing pre_push stops the push (exit 5)" t_failing_pre_push
run_test "hooks/test replaces the tests; its failure is exit 4" t_test_hook_replaces_tests
run_test "HOOKS=false skips the hooks" t_no_hooks_skips
run_test "hooks without a shell: exit 2, builder-shell" t_no_shell_for_hooks
run_test "builder in a FROM scratch image: hooks are exit 2, builder-shell" t_scratch_image_with_hooks
run_test "a sut FROM scratch whose command needs a shell: exit 4" t_scratch_sut
run_test "SIGTERM during sut leaves nothing behind" t_sigterm_during_sut
run_test "YAML errors and unsupported keys: exit 2 with the line" t_yaml_errors
run_test "builder cleanup removes labelled volumes" t_cleanup_removes_volumes
run_test "hooks before the tag stage get the image just built, safe from prune" t_hooks_get_the_image_just_built
run_test "a service built from its own context leaves the run's name alone" t_service_build_keeps_the_run_name
t_summary
