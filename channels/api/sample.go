package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// SampleRequest returns a valid POST /api/v1/complaints body carrying text, as a call
// centre would send it (`intake simulate api`).
func SampleRequest(text string) []byte {
	req := map[string]any{
		"sender":      map[string]any{"name": "Warga Contoh", "phone": "0812-3456-7890", "email": "warga@example.co.id"},
		"subject":     "Aduan lewat pusat panggilan",
		"body":        text,
		"location":    map[string]any{"name": "Kantor Kelurahan", "address": "Jl. Merdeka No. 1, Bandung"},
		"received_at": time.Now().UTC().Format(time.RFC3339),
		"agent":       "simulate",
	}
	b, _ := json.Marshal(req)
	return b
}

// NewSampleRequest builds a complete request for a running gateway at baseURL: the sample
// body for text, the bearer key and a fresh Idempotency-Key. The answer's body decodes
// into Answer (201, or 200 for a repeat).
func NewSampleRequest(ctx context.Context, baseURL, key, text string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(baseURL, "/")+Path,
		bytes.NewReader(SampleRequest(text)))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Idempotency-Key", NewIdempotencyKey())
	return req, nil
}

// NewIdempotencyKey returns a random UUID (version 4), the kind of key callers should send.
func NewIdempotencyKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
