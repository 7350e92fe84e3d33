# The app of the rebuild case: a slow dependency step (bench/run.sh
# replaces @SLOW@ with a sleep and @RUN_ID@ with the benchmark run's id, so
# that no image left by an earlier run can serve as cache), then the app.
FROM busybox:latest
RUN sleep @SLOW@ && echo "dependencies for @RUN_ID@" >/etc/deps
COPY calc.sh /bin/calc
COPY tests/ /tests/
ENTRYPOINT ["calc"]
