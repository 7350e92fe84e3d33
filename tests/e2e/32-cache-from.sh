#!/usr/bin/env bash
# CACHE_FROM: a CI engine without local images rebuilds from the cache of
# an image it pulls from the registry.
. "$(dirname "$0")/../lib.sh"

t_cache_from_pushed_image() {
	need_builder
	make_app app
	echo "RUN echo slow-step-$T_UNIQ && sleep 3" >>app/Dockerfile
	repo=$REGISTRY_ADDR/t$T_UNIQ/app
	export REGISTRY=$REGISTRY_ADDR ACCOUNT=t$T_UNIQ IMAGE=app \
		REGISTRY_USER=$REGISTRY_USER_T REGISTRY_PASSWORD=$REGISTRY_PASS_T
	# The classic builder's cache (BuildKit's inline cache: 35-buildkit).
	TAG=1 assert_exit 0 "$BUILDER_BIN" --builder classic app
	grep -q "^slow-step-$T_UNIQ" "$STDOUT" || t_fail "the slow step did not run"
	# A fresh CI engine: the image and its parent layers are gone.
	docker rmi -f "$repo:1" >/dev/null
	[ -z "$(docker images -q "$repo")" ] || t_fail "local copy still there"
	TAG=2 CACHE_FROM="$repo:1" assert_exit 0 "$BUILDER_BIN" --builder classic app
	assert_contains "$OUT" "cache: pulling '$repo:1'"
	# The slow step came from the cache: its command did not run.
	assert_contains "$OUT" "Using cache"
	! grep -q "^slow-step-$T_UNIQ" "$STDOUT" || t_fail "the slow step ran again"
	assert_eq "$(registry_tags "t$T_UNIQ/app" | tr '\n' ' ')" "1 2 "
}

t_cache_from_missing_image() {
	need_builder
	make_app app
	ACCOUNT=t$T_UNIQ IMAGE=app PUSH=false REGISTRY=$REGISTRY_ADDR \
		REGISTRY_USER=$REGISTRY_USER_T REGISTRY_PASSWORD=$REGISTRY_PASS_T \
		CACHE_FROM="$REGISTRY_ADDR/t$T_UNIQ/never-pushed:1" \
		assert_exit 0 "$BUILDER_BIN" app
	assert_contains "$OUT" "does not exist yet; building without it"
}

run_test "CACHE_FROM of a pushed image gives cache hits on a clean engine" t_cache_from_pushed_image
run_test "a CACHE_FROM image that does not exist yet is skipped" t_cache_from_missing_image
t_summary
