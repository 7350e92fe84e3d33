#!/usr/bin/env bash
# builder's compose reader (builder/compose/) against Debian's docker-compose
# 1.29 on the same files: `docker-compose -f F config` prints the model it
# derived (interpolated, merged); tests/compose_dump.c prints ours; both are
# brought to one shape (tests/compose-config-norm.py) and must be equal:
# the same services, images, commands, environments, dependencies, and the
# same services started for sut. Files docker-compose refuses, builder
# refuses with exit 2. No engine needed.
#
# Where the two are meant to differ, the case is not here: nested defaults
# ("${A:-${B}}", in the compose specification, not in 1.29) and
# "${A:+x}" are covered by tests/unit/test_compose_interp.c.
. "$(dirname "$0")/../lib.sh"

SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
. "$REPO_ROOT/scripts/libs.sh"
PKGS=$LIB_PKGS
# shellcheck disable=SC2086
DEPS_CFLAGS=$(pkg-config --cflags $PKGS 2>/dev/null)
# shellcheck disable=SC2086
DEPS_LIBS=$(pkg-config --libs $PKGS 2>/dev/null || echo "$LIB_FALLBACK")
DUMP=$REPO_ROOT/build/compose-dump
NORM=$REPO_ROOT/tests/compose-config-norm.py

lib_objs=()
for src in "$REPO_ROOT"/builder/*/*.c; do
	[ "$(basename "$src")" = main.c ] && continue
	lib_objs+=("$REPO_ROOT/build/asan/$(basename "$src" .c).o")
done
BUILD_STATUS=ok
# shellcheck disable=SC2086 # SAN, DEPS_CFLAGS and DEPS_LIBS are word lists
{ make -s -C "$REPO_ROOT" "${lib_objs[@]#"$REPO_ROOT"/}" &&
	gcc -g -O1 -std=c17 -D_GNU_SOURCE $SAN -I"$REPO_ROOT/builder" -I"$REPO_ROOT/build/proto" $DEPS_CFLAGS \
		-o "$DUMP" "$REPO_ROOT/tests/compose_dump.c" "${lib_objs[@]}" $DEPS_LIBS; } \
	>/tmp/compose-dump-make.$$ 2>&1 || BUILD_STATUS=$(tail -20 /tmp/compose-dump-make.$$)
rm -f /tmp/compose-dump-make.$$

need_tools() {
	[ "$BUILD_STATUS" = ok ] || t_fail "compose-dump did not build: $BUILD_STATUS"
	command -v docker-compose >/dev/null ||
		t_skip "no docker-compose: apt-get install docker-compose"
	python3 -c 'import yaml' 2>/dev/null || t_skip "no python3-yaml"
}

# same_model FILE: builder's model of FILE equals docker-compose's.
same_model() {
	local f=$1
	touch Dockerfile
	assert_exit 0 docker-compose -f "$f" config
	python3 "$NORM" <"$STDOUT" >want.json
	assert_exit 0 "$DUMP" "$f" "$T_DIR"
	python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps(d, indent=2, sort_keys=True))' \
		<"$STDOUT" >got.json
	# The closure as a set: compose starts by levels, we in one order.
	python3 - <<'PY' || t_fail "builder and docker-compose differ (diff above)"
import json, subprocess, sys
a, b = json.load(open("want.json")), json.load(open("got.json"))
for d in (a, b):
    assert d["start"][-1:] == ["sut"], d["start"]
    d["start"] = sorted(d["start"])
if a != b:
    open("want.json", "w").write(json.dumps(a, indent=2, sort_keys=True))
    open("got.json", "w").write(json.dumps(b, indent=2, sort_keys=True))
    subprocess.call(["diff", "-u", "want.json", "got.json"])
    sys.exit(1)
PY
}

# both_refuse FILE: docker-compose fails, builder exits 2 naming a line.
both_refuse() {
	assert_exit '!0' docker-compose -f "$1" config
	assert_exit 2 "$DUMP" "$1" "$T_DIR"
	assert_contains "$STDERR" "line "
}

t_interpolation() {
	need_tools
	cat >docker-compose.test.yml <<'YML'
services:
  sut:
    image: busybox
    command: sh -c 'echo "$${HOME}" ${B_VAR-unset} $A_VAR.${A_VAR:-x}'
    entrypoint: /bin/entry --flag
    environment:
      A: "${A_VAR:-defa}"
      B: $$literal
      C: "${EMPTY_VAR-kept}"
      D: ${Z}/${Z:-no}/${Z-no}
      E: ${UNSET_VAR}
      F: "${Z:?Z is required}"
YML
	export A_VAR='' EMPTY_VAR='' Z=zz
	same_model docker-compose.test.yml
}

t_required_missing() {
	need_tools
	printf 'services:\n  sut:\n    image: "${IMG:?set IMG}"\n' >a.test.yml
	unset IMG
	both_refuse a.test.yml
	assert_contains "$STDERR" "set IMG"
	printf 'services:\n  sut:\n    image: busybox\n    command: echo $1\n' >b.test.yml
	both_refuse b.test.yml
}

t_anchors_and_merge() {
	need_tools
	cat >docker-compose.test.yml <<'YML'
version: "3.4"
x-base: &base
  image: busybox
  environment: &env
    A: base
    B: base
x-more: &more
  image: other
  command: ["more", "args"]
services:
  sut:
    <<: *base
    environment:
      A: own
    depends_on: [db]
  db:
    <<: [*base, *more]
    entrypoint: ["/e", "x y"]
  cache:
    image: explicit
    <<: *more
    environment: *env
YML
	same_model docker-compose.test.yml
}

t_closure_and_conditions() {
	need_tools
	cat >docker-compose.test.yml <<'YML'
version: "2.4"
services:
  sut:
    build: .
    command: ./run_tests.sh
    depends_on:
      app:
        condition: service_healthy
  app:
    build:
      context: .
      dockerfile: Dockerfile
    depends_on: [db, cache]
    healthcheck:
      test: wget -q localhost
      interval: 1s
  db:
    image: postgres
    environment: [POSTGRES_PASSWORD=x, "LIST=a,b"]
    healthcheck:
      test: ["CMD", "pg_isready"]
  cache:
    image: redis
    depends_on:
      db:
        condition: service_started
  unrelated:
    image: busybox
    depends_on: [db]
YML
	same_model docker-compose.test.yml
}

t_version1_links() {
	need_tools
	cat >docker-compose.test.yml <<'YML'
sut:
  build: .
  command: ./run_tests.sh
  links:
    - web:app
web:
  image: nginx
  environment:
    - MODE=test
YML
	same_model docker-compose.test.yml
}

for t in interpolation required_missing anchors_and_merge \
	closure_and_conditions version1_links; do
	run_test "compose model like docker-compose: $t" "t_$t"
done
t_summary
