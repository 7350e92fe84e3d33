# The BuildKit case: two independent slow stages and a final one that
# copies from both. BuildKit runs the two stages at once; the classic
# builder runs every stage in turn. bench/run.sh replaces @SLOW@ with a
# sleep and @RUN_ID@ with the run's id. The label finds the classic
# builder's images of the first two stages, which no name holds, for the
# case's cleanup.
FROM busybox:latest AS deps
LABEL io.builder.bench=@RUN_ID@
RUN sleep @SLOW@ && echo "deps for @RUN_ID@" >/deps

FROM busybox:latest AS assets
LABEL io.builder.bench=@RUN_ID@
RUN sleep @SLOW@ && echo "assets for @RUN_ID@" >/assets

FROM busybox:latest
COPY --from=deps /deps /deps
COPY --from=assets /assets /assets
COPY calc.sh /bin/calc
