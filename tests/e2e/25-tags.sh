#!/usr/bin/env bash
# TAGS and the OCI labels from the CI's facts (issue 18), against the real
# engine and registry: a simulated GitHub tag push and GitLab merge request
# push the tags their rules make, with the labels set; `builder tags`
# prints them without an engine; a tag that cannot be made valid exits 2
# naming the rule; unchanged sources keep their image ID.
. "$(dirname "$0")/../lib.sh"

SHA=0123456789abcdef0123456789abcdef01234567
# 2023-11-14T22:13:20Z
EPOCH=1700000000

# no_ci: the variables of any CI (or builder) this shell may have, unset,
# so that each test simulates exactly one CI.
no_ci() {
	unset TAG TAGS EXTRA_TAGS LABELS BUILD_ARGS CONTEXT DOCKERFILE REPORT \
		PUSH CI BRANCH GIT_TAG COMMIT_SHA PR_NUMBER DEFAULT_BRANCH \
		BUILD_NUMBER SOURCE_DATE_EPOCH \
		GITHUB_ACTIONS GITHUB_REF GITHUB_REF_NAME GITHUB_REF_TYPE \
		GITHUB_SHA GITHUB_HEAD_REF GITHUB_EVENT_PATH GITHUB_RUN_NUMBER \
		GITHUB_REPOSITORY GITHUB_SERVER_URL \
		GITLAB_CI CI_COMMIT_TAG CI_COMMIT_BRANCH CI_COMMIT_SHA \
		CI_MERGE_REQUEST_IID CI_DEFAULT_BRANCH CI_PIPELINE_IID \
		CI_PROJECT_URL CI_PROJECT_NAME \
		CIRCLECI CIRCLE_TAG CIRCLE_BRANCH CIRCLE_SHA1 CIRCLE_PR_NUMBER \
		CIRCLE_BUILD_NUM CIRCLE_REPOSITORY_URL \
		bamboo_buildNumber bamboo_planRepository_revision \
		bamboo_planRepository_branchName SOURCE_BRANCH SOURCE_COMMIT
}

# github_tag_push: the variables GitHub Actions sets on a push of the git
# tag v2.3.4, exported.
github_tag_push() {
	export GITHUB_ACTIONS=true GITHUB_REF=refs/tags/v2.3.4 \
		GITHUB_REF_NAME=v2.3.4 GITHUB_REF_TYPE=tag GITHUB_SHA=$SHA \
		GITHUB_REPOSITORY=acme/app GITHUB_SERVER_URL=https://github.com
}

# push_env: push app to the test registry as t$T_UNIQ/app.
push_env() {
	export REGISTRY=$REGISTRY_ADDR ACCOUNT=t$T_UNIQ IMAGE=app \
		REGISTRY_USER=$REGISTRY_USER_T REGISTRY_PASSWORD=$REGISTRY_PASS_T
}

# label NAME REF: the image's label NAME.
label() {
	docker image inspect -f "{{index .Config.Labels \"$1\"}}" "$2"
}

t_github_tag_push() {
	need_builder
	no_ci
	make_app app
	github_tag_push
	push_env
	TAGS=semver,sha SOURCE_DATE_EPOCH=$EPOCH assert_exit 0 "$BUILDER_BIN" app
	assert_eq "$(registry_tags "t$T_UNIQ/app" | tr '\n' ' ')" \
		"2 2.3 2.3.4 latest sha-0123456 " "the registry's tags"
	digest=$(registry_digest "t$T_UNIQ/app" 2.3.4)
	assert_eq "$(tail -n 1 "$STDOUT")" "$REGISTRY_ADDR/t$T_UNIQ/app:2.3.4@$digest"
	for t in 2.3 2 latest sha-0123456; do
		assert_eq "$(registry_digest "t$T_UNIQ/app" $t)" "$digest" "tag $t"
	done
	assert_contains "$OUT" "(tag from TAGS)"
	ref=$REGISTRY_ADDR/t$T_UNIQ/app:2.3.4
	assert_eq "$(label org.opencontainers.image.version "$ref")" 2.3.4
	assert_eq "$(label org.opencontainers.image.revision "$ref")" "$SHA"
	assert_eq "$(label org.opencontainers.image.source "$ref")" https://github.com/acme/app
	assert_eq "$(label org.opencontainers.image.url "$ref")" https://github.com/acme/app
	assert_eq "$(label org.opencontainers.image.title "$ref")" app
	assert_eq "$(label org.opencontainers.image.created "$ref")" 2023-11-14T22:13:20Z
}

t_gitlab_merge_request() {
	need_builder
	no_ci
	make_app app
	push_env
	GITLAB_CI=true CI_MERGE_REQUEST_IID=17 CI_COMMIT_SHA=$SHA \
		CI_PROJECT_URL=https://gitlab.example.com/acme/app TAGS=pr,sha \
		assert_exit 0 "$BUILDER_BIN" app
	assert_eq "$(registry_tags "t$T_UNIQ/app" | tr '\n' ' ')" \
		"pr-17 sha-0123456 " "the registry's tags"
	ref=$REGISTRY_ADDR/t$T_UNIQ/app:pr-17
	assert_eq "$(label org.opencontainers.image.version "$ref")" pr-17
	assert_eq "$(label org.opencontainers.image.revision "$ref")" "$SHA"
	assert_eq "$(label org.opencontainers.image.source "$ref")" \
		https://gitlab.example.com/acme/app
}

t_builder_tags() {
	need_builder
	no_ci
	mkdir app
	github_tag_push
	# no engine: a socket that is not there
	DOCKER_HOST=unix:///nope.sock TAGS='semver sha pr' \
		SOURCE_DATE_EPOCH=$EPOCH assert_exit 0 "$BUILDER_BIN" tags app
	cat >want <<EOF
ci: github, event: tag
fact tag: v2.3.4 (GITHUB_REF_NAME)
fact commit: $SHA (GITHUB_SHA)
fact source: https://github.com/acme/app (GITHUB_SERVER_URL/GITHUB_REPOSITORY)
fact title: app (GITHUB_REPOSITORY)
fact created: $EPOCH (SOURCE_DATE_EPOCH)
tag: 2.3.4 <- semver from git tag 'v2.3.4' (GITHUB_REF_NAME)
tag: 2.3 <- semver from git tag 'v2.3.4' (GITHUB_REF_NAME)
tag: 2 <- semver from git tag 'v2.3.4' (GITHUB_REF_NAME)
tag: sha-0123456 <- sha from commit '$SHA' (GITHUB_SHA)
tag: latest <- semver: a stable version (latest=auto)
skipped: pr: nothing, not a pull request
label: org.opencontainers.image.source=https://github.com/acme/app <- GITHUB_SERVER_URL/GITHUB_REPOSITORY
label: org.opencontainers.image.url=https://github.com/acme/app <- GITHUB_SERVER_URL/GITHUB_REPOSITORY
label: org.opencontainers.image.revision=$SHA <- GITHUB_SHA
label: org.opencontainers.image.version=2.3.4 <- GITHUB_REF_NAME
label: org.opencontainers.image.created=2023-11-14T22:13:20Z <- SOURCE_DATE_EPOCH
label: org.opencontainers.image.title=app <- GITHUB_REPOSITORY
EOF
	diff want "$STDOUT" || t_fail "builder tags printed something else"

	# TAG wins as the image's tag; the rules' tags and EXTRA_TAGS follow;
	# a user's label wins over the one made from the facts.
	TAG=build-7 TAGS=semver EXTRA_TAGS=edge LABELS=org.opencontainers.image.title=Mine \
		DOCKER_HOST=unix:///nope.sock assert_exit 0 "$BUILDER_BIN" tags app
	grep '^tag: ' "$STDOUT" >tags
	printf '%s\n' 'tag: build-7 <- TAG' \
		"tag: 2.3.4 <- semver from git tag 'v2.3.4' (GITHUB_REF_NAME)" \
		"tag: 2.3 <- semver from git tag 'v2.3.4' (GITHUB_REF_NAME)" \
		"tag: 2 <- semver from git tag 'v2.3.4' (GITHUB_REF_NAME)" \
		'tag: latest <- semver: a stable version (latest=auto)' \
		'tag: edge <- EXTRA_TAGS' >want
	diff want tags || t_fail "builder tags with TAG printed other tags"
	assert_not_contains "$STDOUT" "image.title="

	# Without TAGS: the build number, as before; .git read directly
	no_ci
	git init -q -b Feature/Login repo
	make_app repo
	git -C repo -c user.name=t -c user.email=t@example.com add -A
	git -C repo -c user.name=t -c user.email=t@example.com commit -qm one
	head=$(git -C repo rev-parse HEAD)
	CIRCLE_BUILD_NUM=77 DOCKER_HOST=unix:///nope.sock \
		assert_exit 0 "$BUILDER_BIN" tags repo
	assert_contains "$STDOUT" "tag: 77 <- CIRCLE_BUILD_NUM"
	assert_contains "$STDOUT" "fact branch: Feature/Login ("
	assert_contains "$STDOUT" "fact commit: $head ("
	assert_contains "$STDOUT" "label: org.opencontainers.image.version=feature-login <- "
	TAGS=branch,sha DOCKER_HOST=unix:///nope.sock \
		assert_exit 0 "$BUILDER_BIN" tags repo
	assert_contains "$STDOUT" "tag: feature-login <- branch"
	assert_contains "$STDOUT" "tag: sha-${head:0:7} <- sha"
}

t_invalid_tag_exit_2() {
	need_builder
	no_ci
	make_app app
	# The engine is never asked: the rule fails in config.
	BRANCH=/// TAGS=branch ACCOUNT=acme IMAGE=app DOCKER_HOST=unix:///nope.sock \
		assert_exit 2 "$BUILDER_BIN" app
	assert_contains "$STDERR" "TAGS rule 'branch'"
	assert_contains "$STDERR" "'///'"
	assert_not_contains "$OUT" "nope.sock"
	ACCOUNT=acme IMAGE=app DOCKER_HOST=unix:///nope.sock \
		assert_exit 2 "$BUILDER_BIN" --tags 'raw:a//b' app
	assert_contains "$STDERR" "rule 'raw:a//b' gives 'a//b'"
	BRANCH=/// DOCKER_HOST=unix:///nope.sock TAGS=branch \
		assert_exit 2 "$BUILDER_BIN" tags app
	assert_contains "$STDERR" "TAGS rule 'branch'"
}

# Unchanged sources and settings give the same image ID, whatever the build
# number (the tag): no label from the clock or the tag. Engine 20.10's
# BuildKit ignores SOURCE_DATE_EPOCH for the image's own created time, so
# the identity comes from the layer cache, not from a reproducible build.
t_same_sources_same_image_id() {
	need_builder
	no_ci
	# layers of its own: another build of the same layers (other tests
	# share make_app's) would replace their cache records, and with them
	# the creation times in the image's history, in between
	mkdir app
	echo "$T_UNIQ" >app/unique
	printf 'FROM busybox:latest\nCOPY unique /unique\nRUN cp /unique /copy\n' >app/Dockerfile
	for b in classic buildkit; do
		for n in 1 2; do
			ACCOUNT=t$T_UNIQ IMAGE=app PUSH=false BUILDER=$b \
				CIRCLE_BUILD_NUM=$b$n GITHUB_ACTIONS=true GITHUB_SHA=$SHA \
				SOURCE_DATE_EPOCH=$EPOCH assert_exit 0 "$BUILDER_BIN" app
		done
		one=$(docker image inspect -f '{{.Id}}' "t$T_UNIQ/app:${b}1")
		two=$(docker image inspect -f '{{.Id}}' "t$T_UNIQ/app:${b}2")
		[ "$one" = "$two" ] ||
			diff <(curl -s --unix-socket /var/run/docker.sock "http://d/images/$one/history") \
				<(curl -s --unix-socket /var/run/docker.sock "http://d/images/$two/history") || true
		assert_eq "$two" "$one" "the image ID of the second $b build"
		assert_eq "$(label org.opencontainers.image.created "t$T_UNIQ/app:${b}1")" \
			2023-11-14T22:13:20Z
	done
}

t_help() {
	need_builder
	assert_exit 0 "$BUILDER_BIN" --help
	for want in "builder tags [options] [CONTEXT]" "TAGS             --tags RULES" \
		"semver, branch, tag," "BRANCH, GIT_TAG, COMMIT_SHA, PR_NUMBER" \
		"SOURCE_DATE_EPOCH"; do
		assert_contains "$STDOUT" "$want"
	done
}

# BuildKit gets the creation time as the build arg SOURCE_DATE_EPOCH (0.11+
# make the image's created time of it); the classic builder does not, since
# it would only warn that the argument was not consumed.
t_source_date_epoch_build_arg() {
	need_builder
	no_ci
	mkdir app
	printf 'FROM busybox:latest\nARG SOURCE_DATE_EPOCH\nRUN echo "%s:$SOURCE_DATE_EPOCH" >/sde\n' \
		"$T_UNIQ" >app/Dockerfile
	for b in buildkit classic; do
		ACCOUNT=t$T_UNIQ IMAGE=app TAG=$b PUSH=false BUILDER=$b \
			SOURCE_DATE_EPOCH=$EPOCH assert_exit 0 "$BUILDER_BIN" app
		assert_not_contains "$OUT" "were not consumed"
		docker run --rm "t$T_UNIQ/app:$b" cat /sde >"sde.$b"
	done
	assert_eq "$(cat sde.buildkit)" "$T_UNIQ:$EPOCH" "BuildKit's SOURCE_DATE_EPOCH"
	assert_eq "$(cat sde.classic)" "$T_UNIQ:" "the classic builder's SOURCE_DATE_EPOCH"
}

run_test "--help names TAGS, the facts and builder tags" t_help
run_test "a GitHub tag push of v2.3.4 pushes semver tags with the labels" t_github_tag_push
run_test "a GitLab merge request pushes pr-N and sha-SHORT" t_gitlab_merge_request
run_test "builder tags prints tags, labels and their origins" t_builder_tags
run_test "a tag that cannot be made valid exits 2 naming the rule" t_invalid_tag_exit_2
run_test "unchanged sources keep their image ID" t_same_sources_same_image_id
run_test "SOURCE_DATE_EPOCH is a build arg for BuildKit only" t_source_date_epoch_build_arg
t_summary
