# The Flink appliance: flink-supervisor as PID 1 in front of Apache Flink.
# Built by `make image`, which provides the base image and build/flink.
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${BASE_IMAGE} AS builder
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      gcc make pkg-config libc6-dev libyaml-dev libzookeeper-mt-dev libmicrohttpd-dev libcurl4-openssl-dev libjansson-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY supervisor/ supervisor/
RUN make all

FROM ${BASE_IMAGE}
ARG FLINK_VERSION=1.20.5
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      openjdk-17-jre-headless libyaml-0-2 libzookeeper-mt2 libmicrohttpd12 libcurl4 libjansson4 ca-certificates procps \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 9999 flink \
 && useradd --system --uid 9999 --gid flink --home-dir /opt/flink --no-create-home --shell /usr/sbin/nologin flink
COPY build/flink/ /opt/flink/
COPY conf/flink/config.yaml /opt/flink/conf/config.yaml
COPY --from=builder /src/build/flink-supervisor /usr/local/bin/flink-supervisor
# /var/lib/flink: HA data and checkpoints; a named volume mounted there
# takes its owner from here, so the JVMs can write to it.
RUN mkdir -p /opt/flink/log /var/cache/flink-supervisor /var/lib/flink \
 && chown flink:flink /opt/flink/log /var/lib/flink \
 && flink-supervisor --version
ENV FLINK_HOME=/opt/flink \
    PATH=/opt/flink/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR /opt/flink
# REST/web UI, JobManager RPC, blob server, TaskManager RPC and data, health.
EXPOSE 8081 6123 6124 6122 6121 8558
HEALTHCHECK --interval=10s --timeout=5s --start-period=90s --retries=3 CMD ["flink-supervisor", "--probe"]
STOPSIGNAL SIGTERM
LABEL org.opencontainers.image.title="flink-appliance" \
      org.opencontainers.image.description="Apache Flink ${FLINK_VERSION} with flink-supervisor as PID 1, for Docker and Marathon" \
      org.opencontainers.image.version="${FLINK_VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="${BASE_IMAGE}"
ENTRYPOINT ["/usr/local/bin/flink-supervisor"]
