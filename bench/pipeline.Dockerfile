# The small app of the full-pipeline case: examples/hello, plus a file
# that changes on every run (so each run really builds and pushes a new
# layer, as CI does after a commit) and one RUN step.
FROM busybox:latest
COPY build-id /etc/build-id
COPY calc.sh /bin/calc
COPY tests/ /tests/
RUN chmod 0755 /bin/calc /tests/run.sh && calc 1 + 1 >/dev/null
ENTRYPOINT ["calc"]
CMD ["2", "+", "3"]
