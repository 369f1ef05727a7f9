# syntax=docker/dockerfile:1
# Build stage: the release binary, with the C libraries diesel links against.
FROM rust:1-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq-dev libsqlite3-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, so source edits do not rebuild them.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
 && cargo build --release --locked || true
COPY build.rs build.rs
COPY src src
COPY migrations migrations
COPY api-spec api-spec
COPY docs docs
RUN touch src/main.rs src/lib.rs && cargo build --release --locked --bin goodwill

# Runtime stage: the binary, its shared libraries, curl for health checks, and
# an unprivileged user.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 libsqlite3-0 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/goodwill --create-home goodwill
COPY --from=build /src/target/release/goodwill /usr/local/bin/goodwill
USER goodwill
WORKDIR /var/lib/goodwill
ENV GOODWILL_BIND=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["goodwill"]
CMD ["serve"]
