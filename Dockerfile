# syntax=docker/dockerfile:1
# The Switchboard image: /switchboard/edge, /switchboard/worker and
# /switchboard/sbtoken, static binaries on a distroless base, run as a
# non-root user (65532). deploy/k8s runs it as switchboard:latest:
#
#   docker build -t switchboard:latest .
#
# On its own, the image runs the embedded default (NATS, worker and edge in
# one process, data in /home/nonroot/.local/share/switchboard). It listens on
# loopback unless SB_LISTEN says otherwise; publish it on the host's loopback
# only, since its development app lets anyone log in as anyone:
#
#   docker run -p 127.0.0.1:7400:7400 -e SB_LISTEN=:7400 switchboard:latest

FROM golang:1.26 AS build
WORKDIR /src
ENV CGO_ENABLED=0
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags="-s -w" -o /out/ ./cmd/edge ./cmd/worker ./cmd/sbtoken

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ /switchboard/
USER 65532:65532
EXPOSE 7400
ENTRYPOINT ["/switchboard/edge"]
