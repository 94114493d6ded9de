# The Flink appliance: flink-supervisor as PID 1 in front of Apache Flink.
# Built by `make image`, which provides the base image and the Flink
# distribution FLINK_DIST (build/flink, or build/flink-<version>).
ARG BASE_IMAGE=debian:bookworm-slim
ARG FLINK_DIST=build/flink

FROM ${BASE_IMAGE} AS builder
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      gcc make pkg-config libc6-dev libyaml-dev libzookeeper-mt-dev libmicrohttpd-dev libcurl4-openssl-dev libjansson-dev \
      openjdk-17-jdk-headless \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY supervisor/ supervisor/
RUN make all
# The example jobs, compiled against the Flink release the image carries.
ARG FLINK_DIST
COPY ${FLINK_DIST}/lib/ /flink-lib/
COPY examples/ examples/
RUN examples/build.sh /flink-lib /src/build/examples

FROM ${BASE_IMAGE}
ARG FLINK_VERSION=1.20.5
ARG FLINK_DIST
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      openjdk-17-jre-headless libyaml-0-2 libzookeeper-mt2 libmicrohttpd12 libcurl4 libjansson4 ca-certificates procps \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 9999 flink \
 && useradd --system --uid 9999 --gid flink --home-dir /opt/flink --no-create-home --shell /usr/sbin/nologin flink
COPY ${FLINK_DIST}/ /opt/flink/
COPY conf/flink/config.yaml /opt/flink/conf/config.yaml
COPY --from=builder /src/build/flink-supervisor /usr/local/bin/flink-supervisor
COPY --from=builder /src/build/examples/ /opt/flink/examples/
COPY images/bin/ /usr/local/libexec/flink-appliance/
# bin/: Flink's client behind the image's wrapper (bin/flink, README: The
# image's bin/), and the scripts with no use here replaced by one that says
# so. /var/lib/flink: HA data, checkpoints and savepoints; a named volume
# mounted there takes its owner from here, so the JVMs can write to it.
# /run/flink: where the supervisor renders the configuration
# (SUPERVISOR_CONF_DIR), sticky like /tmp so that a supervisor of any user
# can make its directory there and none can replace another's.
RUN cd /opt/flink/bin \
 && mv flink flink-client.sh \
 && cp /usr/local/libexec/flink-appliance/flink flink \
 && for s in start-cluster.sh stop-cluster.sh flink-daemon.sh zookeeper.sh start-zookeeper-quorum.sh \
             stop-zookeeper-quorum.sh sql-client.sh sql-gateway.sh pyflink-shell.sh pyflink-udf-runner.sh \
             kubernetes-jobmanager.sh kubernetes-session.sh kubernetes-taskmanager.sh yarn-session.sh \
             migrate-config-file.sh config-parser-utils.sh; do \
        ln -sf /usr/local/libexec/flink-appliance/unavailable "$s"; done \
 && rm -f pyflink-udf-runner.bat \
 && mkdir -p /opt/flink/log /var/cache/flink-supervisor /var/lib/flink /run/flink \
 && chown flink:flink /opt/flink/log /var/lib/flink \
 && chmod 1777 /run/flink \
 && flink-supervisor --version
ENV FLINK_HOME=/opt/flink \
    SUPERVISOR_CONF_DIR=/run/flink/conf \
    PATH=/opt/flink/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR /opt/flink
# REST/web UI, JobManager RPC, blob server, TaskManager RPC and data,
# health, Flink's Prometheus metrics.
EXPOSE 8081 6123 6124 6122 6121 8558 9249
HEALTHCHECK --interval=10s --timeout=5s --start-period=90s --retries=3 CMD ["flink-supervisor", "--probe"]
STOPSIGNAL SIGTERM
LABEL org.opencontainers.image.title="flink-appliance" \
      org.opencontainers.image.description="Apache Flink ${FLINK_VERSION} with flink-supervisor as PID 1, for Docker and Marathon" \
      org.opencontainers.image.version="${FLINK_VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="${BASE_IMAGE}"
ENTRYPOINT ["/usr/local/bin/flink-supervisor"]
