# Multi-stage build: a static binary on a minimal, non-root image.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/intake ./cmd/intake

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/intake /usr/local/bin/intake
# The spool and media directories live on a volume owned by the non-root user.
WORKDIR /var/lib/intake
# Any INTAKE_ setting means production: an image started without Redis or a channel
# refuses to start rather than falling into development mode. /metrics goes to the admin
# port, which is not published.
ENV INTAKE_HTTP_ADDR=:8080 \
    INTAKE_ADMIN_ADDR=:9090 \
    INTAKE_SPOOL_DIR=/var/lib/intake/spool \
    INTAKE_MEDIA_DIR=/var/lib/intake/media \
    INTAKE_LOG_FORMAT=json
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/intake"]
CMD ["serve"]
