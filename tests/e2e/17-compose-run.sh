#!/usr/bin/env bash
# builder/compose/run.c against the real engine, through tests/compose_run.c
# (the runner is not wired into the test stage yet): sut reaching a service
# by name once it is healthy, a failing sut (exit 4, the other services'
# logs shown), volumes and a bind mount of a context path, a service that
# must complete first, SIGTERM during sut; nothing left behind each time.
. "$(dirname "$0")/../lib.sh"

SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
. "$REPO_ROOT/scripts/libs.sh"
PKGS=$LIB_PKGS
# shellcheck disable=SC2086
DEPS_CFLAGS=$(pkg-config --cflags $PKGS 2>/dev/null)
# shellcheck disable=SC2086
DEPS_LIBS=$(pkg-config --libs $PKGS 2>/dev/null || echo "$LIB_FALLBACK")
RUNNER=$REPO_ROOT/build/compose-run

lib_objs=()
for src in "$REPO_ROOT"/builder/*/*.c; do
	[ "$(basename "$src")" = main.c ] && continue
	lib_objs+=("$REPO_ROOT/build/asan/$(basename "$src" .c).o")
done
BUILD_STATUS=ok
# shellcheck disable=SC2086 # SAN, DEPS_CFLAGS and DEPS_LIBS are word lists
{ make -s -C "$REPO_ROOT" "${lib_objs[@]#"$REPO_ROOT"/}" &&
	gcc -g -O1 -std=c17 -D_GNU_SOURCE $SAN -I"$REPO_ROOT/builder" -I"$REPO_ROOT/build/proto" $DEPS_CFLAGS \
		-o "$RUNNER" "$REPO_ROOT/tests/compose_run.c" "${lib_objs[@]}" $DEPS_LIBS; } \
	>/tmp/compose-run-make.$$ 2>&1 || BUILD_STATUS=$(tail -20 /tmp/compose-run-make.$$)
rm -f /tmp/compose-run-make.$$

need_runner() {
	[ "$BUILD_STATUS" = ok ] || t_fail "compose-run did not build: $BUILD_STATUS"
	export RUN_ID="b$T_UNIQ"
}

# nothing labelled with this run remains: containers, networks, volumes
assert_clean() {
	assert_no_leftovers "$RUN_ID"
	local vols
	vols=$(docker volume ls -q --filter "label=io.builder.run=$RUN_ID")
	[ -z "$vols" ] || { docker volume rm -f $vols >/dev/null; t_fail "volumes left: $vols"; }
	# every object created was removed, and reported so
	[ "$(grep -c '^created ' "$STDERR")" = "$(grep -c '^removed ' "$STDERR")" ] ||
		t_fail "created and removed differ"
}

t_healthy_app_by_name() {
	need_runner
	cat >docker-compose.test.yml <<'YML'
services:
  sut:
    image: busybox:latest
    command: sh -c 'wget -qO- http://app:8080/index.html && wget -qO- http://web:8080/index.html'
    depends_on:
      app:
        condition: service_healthy
    links: ["app:web"]
  app:
    image: busybox:latest
    command: sh -c 'mkdir -p /www && echo "hello from $$WHO" > /www/index.html && sleep 1 && exec httpd -f -p 8080 -h /www'
    environment:
      WHO: ${WHO_VAR:-app}
    healthcheck:
      test: wget -qO- http://localhost:8080/index.html
      interval: 500ms
      retries: 20
YML
	WHO_VAR=the-app assert_exit 0 "$RUNNER" docker-compose.test.yml busybox:latest "$T_DIR"
	assert_contains "$STDOUT" "hello from the-app"
	[ "$(grep -c 'hello from the-app' "$STDOUT")" = 2 ] || t_fail "the alias web did not answer"
	assert_contains "$STDERR" "waiting for service 'app' to be healthy"
	assert_clean
}

t_failing_sut_shows_logs() {
	need_runner
	cat >docker-compose.test.yml <<'YML'
sut:
  image: busybox:latest
  command: sh -c 'echo sut-says-no; exit 3'
  links: [db]
db:
  image: busybox:latest
  command: sh -c 'echo db-line-1; echo db-line-2; exec sleep 60'
unused:
  image: busybox:latest
  command: echo unused-started
YML
	assert_exit 4 "$RUNNER" docker-compose.test.yml busybox:latest "$T_DIR"
	assert_contains "$STDOUT" "sut-says-no"
	assert_contains "$STDERR" "sut failed (exit 3)"
	assert_contains "$STDERR" "[db] db-line-2"
	assert_not_contains "$STDERR" "unused"
	assert_clean
}

t_volumes_and_completed() {
	need_runner
	mkdir -p data
	echo from-the-context >data/file
	cat >docker-compose.test.yml <<'YML'
services:
  init:
    image: busybox:latest
    command: sh -c 'cp /ctx/file /shared/copied'
    volumes: ["./data:/ctx:ro", "shared:/shared"]
  sut:
    image: ${IMAGE_NAME}
    command: ["sh", "-c", "cat /shared/copied; cat /ctx/file"]
    volumes:
      - shared:/shared
      - type: bind
        source: ./data
        target: /ctx
        read_only: true
    tmpfs: /scratch
    working_dir: /scratch
    depends_on:
      init:
        condition: service_completed_successfully
volumes:
  shared:
YML
	IMAGE_NAME=acme/app:1 assert_exit 0 "$RUNNER" docker-compose.test.yml busybox:latest "$T_DIR"
	[ "$(grep -c from-the-context "$STDOUT")" = 2 ] || t_fail "the volume or the bind did not work"
	assert_contains "$STDERR" "created volume"
	assert_clean
}

t_dependency_fails() {
	need_runner
	cat >docker-compose.test.yml <<'YML'
services:
  sut:
    image: busybox:latest
    command: "true"
    depends_on:
      migrate:
        condition: service_completed_successfully
  migrate:
    image: busybox:latest
    command: sh -c 'echo migration-broke; exit 7'
YML
	assert_exit 4 "$RUNNER" docker-compose.test.yml busybox:latest "$T_DIR"
	assert_contains "$STDERR" "service 'migrate' exited with code 7"
	assert_contains "$STDERR" "[migrate] migration-broke"
	assert_clean
}

t_sigterm_leaves_nothing() {
	need_runner
	cat >docker-compose.test.yml <<'YML'
services:
  sut:
    image: busybox:latest
    command: sh -c 'echo sut-running; sleep 60'
    depends_on: [db]
  db:
    image: busybox:latest
    command: sleep 60
YML
	"$RUNNER" docker-compose.test.yml busybox:latest "$T_DIR" >out 2>err &
	local pid=$! rc=0
	for _ in $(seq 1 100); do
		grep -q sut-running out 2>/dev/null && break
		sleep 0.2
	done
	grep -q sut-running out || t_fail "sut did not start"
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	cat err
	assert_eq "$rc" 143 "exit code after SIGTERM"
	STDERR=err assert_clean
}

# As the pipeline will run it: services that need no build start before
# the build (a sleep in tests/compose_run.c), sut after it.
t_sidecar_starts_during_build() {
	need_runner
	cat >docker-compose.test.yml <<'YML'
services:
  sut:
    image: ${IMAGE_NAME}
    command: sh -c 'wget -qO- http://db:7000/i && echo db-reached'
    depends_on:
      db:
        condition: service_healthy
  db:
    image: busybox:latest
    command: sh -c 'sleep 1; mkdir /w; echo up >/w/i; exec httpd -f -p 7000 -h /w'
    healthcheck:
      test: wget -qO- http://localhost:7000/i
      interval: 300ms
      retries: 30
YML
	IMAGE_NAME=acme/app:1 SPLIT_SLEEP=3 assert_exit 0 "$RUNNER" docker-compose.test.yml busybox:latest "$T_DIR"
	assert_contains "$STDOUT" "db-reached"
	# db started before the build, sut after it; db was healthy by then
	grep -nE "service 'db' .* started|the build runs now|the build is done|service 'sut'" "$STDERR" >order
	cat order
	[ "$(cut -d: -f2- order | sed -E "s/.*(service 'db'|build runs|build is done|'sut').*/\1/" | tr '\n' ,)" = \
		"service 'db',build runs,build is done,'sut'," ] || t_fail "wrong order"
	assert_not_contains "$STDERR" "waiting for service 'db'"
	assert_clean
}

# Docker checks health once per interval, the first one an interval after
# the start: with an hour's interval it would never say healthy within the
# runner's 30 s. builder runs the check itself while sut waits (probe.c).
t_health_check_run_by_builder() {
	need_runner
	cat >docker-compose.test.yml <<'YML'
services:
  sut:
    image: busybox:latest
    command: wget -qO- http://db:7000/i
    depends_on:
      db:
        condition: service_healthy
  db:
    image: busybox:latest
    command: sh -c 'sleep 1; mkdir /w; echo db-says-up >/w/i; exec httpd -f -p 7000 -h /w'
    healthcheck:
      test: ["CMD-SHELL", "wget -qO- http://localhost:7000/i | grep -q up"]
      interval: 1h
YML
	assert_exit 0 "$RUNNER" docker-compose.test.yml busybox:latest "$T_DIR"
	assert_contains "$STDOUT" "db-says-up"
	assert_contains "$STDERR" "service 'db' is healthy: its health check passed when builder ran it"
	assert_clean
}

# Only a pass of ours counts: a check that fails is Docker's to call
# unhealthy (retries), and one that hangs past its timeout ends our runs
# (an exec cannot be stopped; it goes with the container).
t_health_check_failures_are_dockers() {
	need_runner
	cat >docker-compose.test.yml <<'YML'
services:
  sut:
    image: busybox:latest
    command: echo sut-ran
    depends_on:
      slow:
        condition: service_healthy
  slow:
    image: busybox:latest
    command: sleep 600
    healthcheck:
      test: ["CMD", "sleep", "600"]
      timeout: 1s
      interval: 2s
      retries: 1
YML
	VERBOSE=1 assert_exit 4 "$RUNNER" docker-compose.test.yml busybox:latest "$T_DIR"
	assert_contains "$STDERR" "no more health checks of our own (a check outlived its timeout)"
	assert_contains "$STDERR" "service 'slow' is unhealthy"
	assert_not_contains "$STDOUT" "sut-ran"
	assert_clean
}

for t in health_check_run_by_builder health_check_failures_are_dockers sidecar_starts_during_build healthy_app_by_name failing_sut_shows_logs volumes_and_completed \
	dependency_fails sigterm_leaves_nothing; do
	run_test "compose run: $t" "t_$t"
done
t_summary
