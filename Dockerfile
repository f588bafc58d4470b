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
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/intake"]
CMD ["serve"]
