# syntax=docker/dockerfile:1
# ekspec in a small image: a static binary (musl, rustls: no OpenSSL) on distroless, which has
# CA certificates and a non-root user and nothing else (no shell, no package manager).
#
#   docker build -t ekspec .
#   docker run --rm -v "$PWD:/work" -w /work \
#     -e AWS_REGION -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY -e AWS_SESSION_TOKEN \
#     ekspec plan -f clusters/
#
# The release workflow builds it per architecture on native runners (.github/workflows/
# publish-image.yml) and publishes ghcr.io/ekspec/ekspec:<version> with build provenance.

FROM rust:1.95-alpine3.22 AS build
# aws-lc-rs (the SDK's TLS crypto) builds its C with the compiler below; cmake and perl cover
# the platforms where it falls back to its CMake build.
RUN apk add --no-cache musl-dev gcc g++ make cmake perl
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
# `.git` is not copied: the release job passes the commit `ekspec --version` names.
ARG EKSPEC_COMMIT=""
ENV EKSPEC_COMMIT=${EKSPEC_COMMIT}
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin ekspec \
    && install -D -m 0755 target/release/ekspec /out/ekspec

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ekspec /usr/local/bin/ekspec
USER nonroot:nonroot
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/ekspec"]
CMD ["--help"]
