#!/usr/bin/env bash
# Hostile input: build contexts holding what a careless or malicious
# checkout can hold (symlinks out of the context and in loops, FIFOs,
# sockets, unreadable files, 100,000 files, 255-byte and non-UTF-8 names, a
# sparse 5 GB file), a pathological .dockerignore, and variables holding
# newlines, quotes and shell metacharacters. Nothing may block, run on the
# host, or be read from outside the context; errors must be clear.
. "$(dirname "$0")/../lib.sh"

# pipeline CODE DIR [VAR=VALUE...]: builds DIR (and runs TEST_CMD if given),
# no push, within 240 s. These are the tar upload's cases (context.c), so
# the classic builder; the session's walk has its own in 36-session.sh and
# tests/unit/test_session_*.c.
pipeline() {
	local want=$1 dir=$2
	shift 2
	assert_exit "$want" timeout 240 env TEST_CMD= TEST_ENV= TEST_SERVICES= \
		TEST_TIMEOUT= BUILD_ARGS= LABELS= ACCOUNT="t$T_UNIQ" IMAGE=app \
		TAG=1 PUSH=false BUILDER=classic "$@" "$BUILDER_BIN" "$dir"
}

# ctx DIR: a context whose Dockerfile copies it all to /ctx.
ctx() {
	mkdir -p "$1"
	printf 'FROM busybox:latest\nCOPY . /ctx/\n' >"$1/Dockerfile"
}

# image_holds TEXT: the saved image (every layer) contains TEXT.
image_holds() {
	docker save "t$T_UNIQ/app:1" | tar -xOf - --wildcards '*/layer.tar' |
		grep -aqF -- "$1"
}

t_symlink_outside() {
	need_builder
	mkdir outside
	echo "TOPSECRET-$T_UNIQ" >outside/secret
	ctx app
	ln -s "$T_DIR/outside/secret" app/abs-link
	ln -s ../outside/secret app/rel-link
	ln -s "$T_DIR/outside" app/dir-link
	pipeline 0 app TEST_CMD="readlink /ctx/abs-link; readlink /ctx/rel-link; readlink /ctx/dir-link; cat /ctx/abs-link /ctx/rel-link /ctx/dir-link/secret 2>&1; true"
	# Sent as links, with their targets as written...
	assert_contains "$STDOUT" "$T_DIR/outside/secret"
	assert_contains "$STDOUT" "../outside/secret"
	assert_contains "$STDOUT" "$T_DIR/outside"
	# ...and what they point at never read.
	assert_not_contains "$STDOUT" "TOPSECRET-$T_UNIQ"
	! image_holds "TOPSECRET-$T_UNIQ" || t_fail "the image holds the secret"
	# By run id: other runs on the shared engine are not ours to check.
	run=$(grep -o 'builder-b[0-9a-f]\{10\}' "$OUT" | head -1 | sed 's/^builder-//')
	[ -n "$run" ] || t_fail "no run id in the output"
	assert_no_leftovers "$run"
}

t_symlink_loops() {
	need_builder
	ctx app
	ln -s loop2 app/loop1
	ln -s loop1 app/loop2
	ln -s self app/self
	mkdir app/d
	ln -s .. app/d/up
	ln -s ../d app/d/again
	pipeline 0 app TEST_CMD='for l in loop1 self d/up d/again; do readlink /ctx/$l; done'
	assert_contains "$STDOUT" "loop2"
	assert_contains "$STDOUT" "self"
	assert_contains "$STDOUT" "../d"
}

t_fifo_and_socket() {
	need_builder
	ctx app
	echo kept >app/kept.txt
	mkfifo app/fifo
	mkdir app/sub
	mkfifo app/sub/fifo2
	python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' app/sock
	[ -S app/sock ] || t_fail "cannot make a socket"
	start=$(date +%s)
	# No writer ever opens the FIFOs: opening one would block forever.
	pipeline 0 app TEST_CMD='ls -la /ctx /ctx/sub; cat /ctx/kept.txt'
	echo "took $(($(date +%s) - start)) s"
	assert_contains "$STDERR" "skipping 'fifo'"
	assert_contains "$STDERR" "skipping 'sub/fifo2'"
	assert_contains "$STDERR" "skipping 'sock'"
	assert_contains "$STDOUT" "kept"
	assert_not_contains "$STDOUT" "fifo"
	assert_not_contains "$STDOUT" "sock"
}

# Root reads everything: drop the capabilities that let it.
unprivileged() {
	setpriv --bounding-set=-dac_override,-dac_read_search "$@"
}

t_unreadable() {
	need_builder
	ctx app
	echo "hidden" >app/secret.txt
	chmod 000 app/secret.txt
	unprivileged cat app/secret.txt >/dev/null 2>&1 &&
		t_skip "setpriv cannot drop CAP_DAC_OVERRIDE here"
	assert_exit 1 unprivileged env ACCOUNT="t$T_UNIQ" IMAGE=app TAG=1 \
		PUSH=false BUILDER=classic "$BUILDER_BIN" app
	assert_contains "$STDERR" "cannot read 'secret.txt' in the context"
	assert_contains "$STDERR" "Permission denied"
	assert_contains "$STDERR" ".dockerignore"
	# Listed in .dockerignore, it is not read at all.
	echo secret.txt >app/.dockerignore
	assert_exit 0 unprivileged env ACCOUNT="t$T_UNIQ" IMAGE=app TAG=1 \
		PUSH=false BUILDER=classic "$BUILDER_BIN" app
	# An unreadable directory.
	rm app/.dockerignore
	chmod 644 app/secret.txt
	mkdir app/private
	echo x >app/private/f
	chmod 000 app/private
	assert_exit 1 unprivileged env ACCOUNT="t$T_UNIQ" IMAGE=app TAG=1 \
		PUSH=false BUILDER=classic "$BUILDER_BIN" app
	assert_contains "$STDERR" "cannot read 'private' in the context"
	chmod 755 app/private
}

t_many_files() {
	need_builder
	ctx app
	python3 - app <<'PY'
import os, sys
root = sys.argv[1]
for d in range(100):
    p = os.path.join(root, "many", "d%03d" % d)
    os.makedirs(p)
    for f in range(1000):
        with open(os.path.join(p, "f%04d" % f), "w") as fh:
            fh.write("%d/%d\n" % (d, f))
PY
	start=$(date +%s%N)
	pipeline 0 app TEST_CMD='find /ctx/many -type f | wc -l; cat /ctx/many/d099/f0999'
	ms=$((($(date +%s%N) - start) / 1000000))
	echo "100,000 files: build and test in $ms ms"
	echo "$ms" >"$T_DIR/many.ms"
	assert_contains "$STDOUT" "100000"
	assert_contains "$STDOUT" "99/999"
	assert_contains "$STDERR" "context: 100102 files"
}

t_long_names() {
	need_builder
	ctx app
	n255=$(printf 'n%.0s' $(seq 251)).txt
	[ ${#n255} -eq 255 ] || t_fail "the name is ${#n255} bytes"
	d255=$(printf 'd%.0s' $(seq 255))
	mkdir -p "app/$d255/$d255/$d255"
	echo deep >"app/$d255/$d255/$d255/$n255"
	echo top >"app/$n255"
	pipeline 0 app TEST_CMD="cat '/ctx/$n255' '/ctx/$d255/$d255/$d255/$n255'"
	assert_contains "$STDOUT" "top"
	assert_contains "$STDOUT" "deep"
}

t_non_utf8_names() {
	need_builder
	ctx app
	echo latin1 >"app/$(printf '\xff\xfe.txt')"
	echo cafe >"app/$(printf 'caf\xe9')"
	mkdir "app/$(printf 'dir\x80')"
	echo inside >"app/$(printf 'dir\x80')/$(printf '\xc3\x28')"
	# The names arrive byte for byte; busybox's printf makes the same
	# bytes in the container.
	pipeline 0 app TEST_CMD='cat "/ctx/$(printf "\377\376.txt")" "/ctx/$(printf "caf\351")" "/ctx/$(printf "dir\200")/$(printf "\303(")"'
	assert_contains "$STDOUT" "latin1"
	assert_contains "$STDOUT" "cafe"
	assert_contains "$STDOUT" "inside"
}

t_sparse_5g() {
	need_builder
	[ "${TEST_LONG:-}" = 1 ] || t_skip "sends 5 GB: set TEST_LONG=1"
	mkdir app
	printf 'FROM busybox:latest\nCOPY big /big\nRUN ls -l /big\n' >app/Dockerfile
	truncate -s 5G app/big
	echo end >>app/big
	start=$(date +%s)
	pipeline 0 app TEST_CMD='ls -l /big; tail -c 4 /big' TEST_TIMEOUT=600
	echo "5 GB context: $(($(date +%s) - start)) s"
	assert_contains "$STDOUT" "5368709124"
	assert_contains "$STDOUT" "end"
	docker rmi -f "t$T_UNIQ/app:1" >/dev/null 2>&1 || true
}

t_pathological_dockerignore() {
	need_builder
	ctx app
	for i in $(seq 200); do
		echo '**/a*a*a*a*a*a*a*b'
	done >app/.dockerignore
	echo '!**/a*a*a*a*a*a*a*b*' >>app/.dockerignore
	deep=app
	for i in $(seq 12); do
		deep=$deep/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
	done
	mkdir -p "$deep"
	for i in $(seq 20); do
		touch "$deep/$(printf 'a%.0s' $(seq 60))$i"
	done
	touch "$deep/aaaaaaaaab"
	start=$(date +%s%N)
	pipeline 0 app TEST_CMD="find /ctx -type f | wc -l"
	ms=$((($(date +%s%N) - start) / 1000000))
	echo "200 pathological patterns: $ms ms"
	[ "$ms" -le 30000 ] || t_fail "took $ms ms"
}

t_invalid_names_exit_2() {
	need_builder
	for bad in "IMAGE=app
evil" "IMAGE=app;touch /tmp/pwned-$T_UNIQ" 'IMAGE=$(touch /tmp/pwned-'"$T_UNIQ"')' \
		"TAG=1\"2" "TAG=\`touch /tmp/pwned-$T_UNIQ\`" "TAG=1 2" "TAG=v1
v2" "ACCOUNT=a'b" "REGISTRY=r.io/\$(id)"; do
		# No engine is needed to refuse them.
		assert_exit 2 env DOCKER_HOST=unix:///nonexistent.sock \
			ACCOUNT="t$T_UNIQ" IMAGE=app TAG=1 "$bad" "$BUILDER_BIN" .
		assert_contains "$STDERR" "${bad%%=*}"
		[ "$(wc -l <"$STDERR")" -le 3 ] || t_fail "more than 3 lines of error"
	done
	[ ! -e "/tmp/pwned-$T_UNIQ" ] || t_fail "a command ran on the host"
}

t_metacharacters_are_literal() {
	need_builder
	mkdir app
	cat >app/Dockerfile <<'DF'
FROM busybox:latest
ARG A
ARG B
ARG C
RUN printf '[%s]\n' "$A" "$B" "$C" >/args
DF
	p=/tmp/pwned-$T_UNIQ
	a="\$(touch $p)"
	b="\`touch $p\`; rm -rf /x"
	c="it's \"quoted\" \\ & | > $p"
	pipeline 0 app BUILD_ARGS="A=$a
B=$b
C=$c" \
		LABELS="l.a=$a
l.c=$c" \
		TEST_ENV="X=$a
Y=$b
Z=$c" \
		REPORT="$T_DIR/report.json" \
		TEST_CMD='cat /args; printf "<%s>\n" "$X" "$Y" "$Z"; ls /tmp | grep -q . || echo "empty /tmp"'
	assert_contains "$STDOUT" "[$a]"
	assert_contains "$STDOUT" "[$b]"
	assert_contains "$STDOUT" "[$c]"
	assert_contains "$STDOUT" "<$a>"
	assert_contains "$STDOUT" "<$b>"
	assert_contains "$STDOUT" "<$c>"
	# Nothing ran in the build or test containers either.
	assert_contains "$STDOUT" "empty /tmp"
	assert_eq "$(docker image inspect -f '{{index .Config.Labels "l.a"}}' "t$T_UNIQ/app:1")" "$a" "label l.a"
	assert_eq "$(docker image inspect -f '{{index .Config.Labels "l.c"}}' "t$T_UNIQ/app:1")" "$c" "label l.c"
	jq -e . report.json >/dev/null || t_fail "the report is not JSON"
	[ ! -e "$p" ] || t_fail "a command ran on the host"
}

t_nested_quotes() {
	need_builder
	make_app app
	# shellcheck disable=SC2016
	pipeline 0 app TEST_CMD='sh -c "echo \"it'"'"'s \\\"nested\\\"\""; echo '"'"'$HOME `x` $(y)'"'"''
	assert_contains "$STDOUT" "it's \"nested\""
	# shellcheck disable=SC2016
	assert_contains "$STDOUT" '$HOME `x` $(y)'
}

run_test "a symlink out of the context is sent as a link" t_symlink_outside
run_test "symlink loops" t_symlink_loops
run_test "FIFOs and sockets are skipped, never opened" t_fifo_and_socket
run_test "unreadable files and directories: exit 1, clearly" t_unreadable
run_test "100,000 files" t_many_files
run_test "255-byte names" t_long_names
run_test "non-UTF-8 names" t_non_utf8_names
run_test "a sparse 5 GB file (long)" t_sparse_5g
run_test "a pathological .dockerignore" t_pathological_dockerignore
run_test "IMAGE, TAG, ACCOUNT, REGISTRY with metacharacters: exit 2" t_invalid_names_exit_2
run_test "BUILD_ARGS, LABELS, TEST_ENV values are passed literally" t_metacharacters_are_literal
run_test "TEST_CMD with nested quotes" t_nested_quotes
t_summary
