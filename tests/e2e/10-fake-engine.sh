#!/usr/bin/env bash
# The fake engine (tests/fake_engine.c), driven by plain curl: each script
# directive does what its documentation says, so that the builder's fault
# tests can rely on it.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

fcurl() { curl -s --unix-socket "$FAKE_SOCK" "$@"; }

t_reply_and_log() {
	fake_engine_start <<'EOF'
# comments and blank lines are ignored

match /_ping
reply HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Length: 2\r\n\r\nOK
EOF
	assert_exit 0 fcurl -i -A t/1 -H 'X-Registry-Auth: c2VjcmV0LXRva2Vu' \
		http://d/v1.41/_ping
	assert_contains "$STDOUT" "Api-Version: 1.41"
	assert_eq "$(tail -c 2 "$STDOUT")" OK "body"
	assert_contains "$FAKE_LOG" "GET /v1.41/_ping | User-Agent: t/1"
	assert_contains "$FAKE_LOG" "X-Registry-Auth: <redacted>"
	assert_contains "$FAKE_LOG" "=> line 3"
	assert_not_contains "$FAKE_LOG" c2VjcmV0LXRva2Vu
}

t_no_rule_is_404() {
	fake_engine_start <<'EOF'
match /_ping
reply HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK
EOF
	assert_exit 0 fcurl -w ' %{http_code}' -X DELETE http://d/images/x
	assert_eq "$(cat "$STDOUT")" "$(printf '{"message":"fake-engine: no rule for DELETE /images/x"}\n 404')" "answer"
	assert_contains "$FAKE_LOG" "DELETE /images/x"
	assert_contains "$FAKE_LOG" "=> no rule"
}

t_keep_alive() {
	fake_engine_start <<'EOF'
match /_ping
reply HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK
EOF
	assert_exit 0 fcurl -v http://d/_ping http://d/_ping
	assert_eq "$(cat "$STDOUT")" OKOK "bodies"
	assert_contains "$STDERR" "Re-using existing connection"
	assert_eq "$(grep -c '^GET /_ping' "$FAKE_LOG")" 2 "requests logged"
}

t_once_and_times() {
	fake_engine_start <<'EOF'
match /_ping
once
reply HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n
match /_ping
reply HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n
match GET /version
times 2
reply HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n
EOF
	local _ codes=
	for _ in 1 2 3; do
		codes="$codes $(fcurl -o /dev/null -w '%{http_code}' http://d/_ping)"
		codes="$codes $(fcurl -o /dev/null -w '%{http_code}' http://d/version)"
	done
	assert_eq "$codes" " 500 200 200 200 200 404" "status codes"
	# "GET /version" does not match a POST.
	assert_exit 0 fcurl -o /dev/null -w '%{http_code}' -X POST http://d/version
	assert_eq "$(cat "$STDOUT")" 404 "POST /version"
}

t_chunk1_writes_byte_by_byte() {
	fake_engine_start <<'EOF'
match POST /build
send HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n
chunk1 {"stream":"Step 1/2 : FROM busybox\\n"}\r\n{"aux":{"ID":"sha256:abc"}}\r\n
close
EOF
	printf '{"stream":"Step 1/2 : FROM busybox\\n"}\r\n{"aux":{"ID":"sha256:abc"}}\r\n' >want
	assert_exit 0 fcurl -o got -w '%{time_total}' -X POST http://d/v1.41/build
	local secs n
	secs=$(cat "$STDOUT") n=$(wc -c <want)
	assert_exit 0 cmp got want
	# One byte a write, 1 ms apart: the whole took at least 1 ms a byte.
	awk -v t="$secs" -v n="$n" 'BEGIN { exit !(t >= n * 0.001) }' ||
		t_fail "$n one-byte writes took $secs s"
}

t_chunked_encoding() {
	fake_engine_start <<'EOF'
match /events
send HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n
chunked {"status":"a"}\r\n
chunked {"status":"b"}\r\n
chunked-end
match /_ping
reply HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK
EOF
	assert_exit 0 fcurl -v -o got http://d/events -o got2 http://d/_ping
	# The chunked response ended cleanly: the connection was reused.
	assert_contains "$STDERR" "Re-using existing connection"
	printf '{"status":"a"}\r\n{"status":"b"}\r\n' >want
	assert_exit 0 cmp got want
	assert_eq "$(cat got2)" OK "the next answer"
}

t_close_cuts_the_stream() {
	fake_engine_start <<'EOF'
match /push
send HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n
chunked {"status":"Pushing"}\r\n{"status":"Pus
close
EOF
	# curl: transfer closed with outstanding read data remaining.
	assert_exit 18 fcurl -X POST http://d/images/x/push
	assert_contains "$STDOUT" '{"status":"Pus'
}

t_reset() {
	fake_engine_start <<'EOF'
match POST /build
nodrain
send HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"stream":"Step 1/2
reset
EOF
	head -c 3000000 /dev/zero >context.tar
	# The body is left unread, so the client sees a reset: curl 55 or 56.
	local rc=0
	fcurl -H 'Expect:' --data-binary @context.tar http://d/build >got || rc=$?
	[ "$rc" -eq 55 ] || [ "$rc" -eq 56 ] ||
		t_fail "curl exited $rc, want 55 or 56 (a reset)"
	assert_contains got '{"stream":"Step 1/2'
	assert_not_contains "$FAKE_LOG" "body 3000000 bytes"
}

t_hold_stalls_one_connection_only() {
	fake_engine_start <<'EOF'
match /wait
hold
match /_ping
reply HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK
EOF
	fcurl --max-time 3 -X POST http://d/containers/x/wait >/dev/null &
	local held=$!
	sleep 0.3
	# The held connection blocks nothing else.
	assert_exit 0 fcurl --max-time 2 http://d/_ping
	assert_eq "$(cat "$STDOUT")" OK "ping during a held request"
	local rc=0
	wait "$held" || rc=$?
	assert_eq "$rc" 28 "curl's exit on the held request (timeout)"
}

t_sleep() {
	fake_engine_start <<'EOF'
match /_ping
sleep 1.2
reply HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK
EOF
	assert_exit 0 fcurl -o /dev/null -w '%{time_total}' http://d/_ping
	awk -v t="$(cat "$STDOUT")" 'BEGIN { exit !(t >= 1.2) }' ||
		t_fail "the answer came after $(cat "$STDOUT") s, want 1.2 s or more"
}

t_drain_reads_bodies() {
	fake_engine_start <<'EOF'
match POST /build
reply HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK
EOF
	head -c 300000 /dev/zero >small
	head -c 2000000 /dev/zero >big
	assert_exit 0 fcurl -H 'Transfer-Encoding: chunked' --data-binary @small http://d/build
	assert_exit 0 fcurl --data-binary @small http://d/build
	# Over 1 MB curl asks "Expect: 100-continue"; the drain answers it.
	assert_exit 0 fcurl --data-binary @big http://d/build
	assert_eq "$(grep -c '^  body 300000 bytes$' "$FAKE_LOG")" 2 "300000-byte bodies read"
	assert_contains "$FAKE_LOG" "Transfer-Encoding: chunked"
	assert_contains "$FAKE_LOG" "Expect: 100-continue"
	assert_contains "$FAKE_LOG" "  body 2000000 bytes"
}

t_answer_before_the_body_ends() {
	fake_engine_start <<'EOF'
match /early
send HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nearly
drain
match /refuse
nodrain
send HTTP/1.1 400 Bad Request\r\nContent-Length: 13\r\n\r\nbad parameter
EOF
	head -c 3000000 /dev/zero >big
	assert_exit 0 fcurl -H 'Expect:' --data-binary @big http://d/early
	assert_eq "$(cat "$STDOUT")" early "early answer"
	assert_contains "$FAKE_LOG" "  body 3000000 bytes"
	assert_exit 0 fcurl -w ' %{http_code}' --data-binary @big http://d/refuse
	assert_eq "$(cat "$STDOUT")" "bad parameter 400" "refusal"
	assert_eq "$(grep -c '^  body' "$FAKE_LOG")" 1 "bodies read"
}

t_escapes() {
	fake_engine_start <<'EOF'
match /logs
send HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\nContent-Length: 24\r\n\r\n
send \x01\x00\x00\x00\x00\x00\x00\x03hi\n\x02\x00\x00\x00\x00\x00\x00\x05\t\\er\n
EOF
	printf '\001\000\000\000\000\000\000\003hi\n\002\000\000\000\000\000\000\005\t\\er\n' >want
	assert_exit 0 fcurl -o got http://d/containers/x/logs
	assert_exit 0 cmp got want
}

t_script_errors() {
	printf 'send x\n' >s1
	printf 'match /a\nfrobnicate\n' >s2
	printf 'match /a\nsend \\q\n' >s3
	printf 'match /a\nclose\nsend x\n' >s4
	printf 'match /a\nsleep soon\n' >s5
	printf '# nothing\n' >s6
	assert_exit 2 "$FAKE_ENGINE" "$T_DIR/x.sock" s1
	assert_contains "$STDERR" "s1:1: 'send' before the first 'match'"
	assert_exit 2 "$FAKE_ENGINE" "$T_DIR/x.sock" s2
	assert_contains "$STDERR" "s2:2: unknown directive 'frobnicate'"
	assert_exit 2 "$FAKE_ENGINE" "$T_DIR/x.sock" s3
	assert_contains "$STDERR" "s3:2: unknown escape '\\q'"
	assert_exit 2 "$FAKE_ENGINE" "$T_DIR/x.sock" s4
	assert_contains "$STDERR" "s4:3: nothing can follow close"
	assert_exit 2 "$FAKE_ENGINE" "$T_DIR/x.sock" s5
	assert_contains "$STDERR" "s5:2: 'soon' is not a number of seconds"
	assert_exit 2 "$FAKE_ENGINE" "$T_DIR/x.sock" s6
	assert_contains "$STDERR" "has no 'match' rule"
	assert_exit 2 "$FAKE_ENGINE" "$T_DIR/x.sock" nosuchfile
	assert_contains "$STDERR" "cannot open script 'nosuchfile'"
	assert_exit 2 "$FAKE_ENGINE"
	assert_contains "$STDERR" "usage: fake-engine SOCKET_PATH SCRIPT_FILE"
	[ ! -e "$T_DIR/x.sock" ] || t_fail "a socket was created for a bad script"
}

t_sigterm_stops_everything() {
	fake_engine_start <<'EOF'
match /wait
hold
EOF
	fcurl --max-time 20 -X POST http://d/containers/x/wait >/dev/null &
	local held=$! rc=0 _
	sleep 0.3
	kill -TERM "$FAKE_PID"
	wait "$FAKE_PID" || rc=$?
	assert_eq "$rc" 0 "the fake engine's exit status"
	[ ! -e "$FAKE_SOCK" ] || t_fail "the socket is still there"
	# The child serving the held connection went too: curl sees the end.
	for _ in $(seq 50); do
		kill -0 "$held" 2>/dev/null || break
		sleep 0.1
	done
	! kill -0 "$held" 2>/dev/null || t_fail "the held connection is still open"
	rc=0
	wait "$held" || rc=$?
	assert_eq "$rc" 52 "curl's exit (empty reply)"
}

run_test "send, reply and the request log" t_reply_and_log
run_test "a request no rule matches gets 404" t_no_rule_is_404
run_test "requests on one connection (keep-alive)" t_keep_alive
run_test "once and times" t_once_and_times
run_test "chunk1 writes one byte at a time" t_chunk1_writes_byte_by_byte
run_test "chunked and chunked-end" t_chunked_encoding
run_test "close cuts a stream" t_close_cuts_the_stream
run_test "reset" t_reset
run_test "hold stalls one connection, not the others" t_hold_stalls_one_connection_only
run_test "sleep" t_sleep
run_test "bodies are read: length, chunked, 100-continue" t_drain_reads_bodies
run_test "an answer before the body has ended" t_answer_before_the_body_ends
run_test "escapes, binary frames" t_escapes
run_test "script errors name their line" t_script_errors
run_test "SIGTERM stops the server and its connections" t_sigterm_stops_everything
t_summary
