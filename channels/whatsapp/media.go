package whatsapp

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/lapor/intake/media"
	"github.com/lapor/intake/record"
)

// DefaultMediaHosts are where Meta serves WhatsApp media besides the Graph API host
// itself: the lookaside URLs the media endpoint returns, and Meta's CDNs.
var DefaultMediaHosts = []string{"lookaside.fbsbx.com", ".fbsbx.com", ".fbcdn.net", ".whatsapp.net"}

// MediaFetcher downloads WhatsApp Cloud API media by id: GET {graph}/{media-id} with the
// bearer token gives a short-lived URL, the mime type, the sha256 and the size; the URL is
// then downloaded with the same token, and the bytes are checked against that sha256. It
// implements media.Fetcher for the media worker.
type MediaFetcher struct {
	graph    string
	token    string
	policy   media.HostPolicy
	client   *http.Client
	maxBytes int64
}

var _ media.Fetcher = (*MediaFetcher)(nil)

// MediaOptions adjust a MediaFetcher; the zero value is production's.
type MediaOptions = media.FetcherOptions

// NewMediaFetcher returns the fetcher for cfg's Graph API and access token. Downloads go
// only to the Graph host, DefaultMediaHosts and cfg.MediaHosts.
func NewMediaFetcher(cfg Config, o MediaOptions) *MediaFetcher {
	hosts := o.HostsOr(DefaultMediaHosts)
	graph := strings.TrimRight(cfg.graphURL(), "/")
	policy := media.HostPolicy{}
	if u, err := url.Parse(graph); err == nil && u.Host != "" {
		policy = append(policy, u.Scheme+"://"+u.Host)
	}
	policy = append(policy, hosts...)
	policy = append(policy, cfg.MediaHosts...)
	return &MediaFetcher{
		graph:    graph,
		token:    cfg.AccessToken.Reveal(),
		policy:   policy,
		client:   media.NewClient(policy, o.Client()),
		maxBytes: o.MaxBytes,
	}
}

// Provider implements media.Fetcher.
func (f *MediaFetcher) Provider() string { return record.ProviderMeta }

// mediaInfo is the Graph media endpoint's answer.
type mediaInfo struct {
	URL      string     `json:"url"`
	MimeType string     `json:"mime_type"`
	SHA256   string     `json:"sha256"`
	FileSize flexString `json:"file_size"`
	ID       string     `json:"id"`
}

// Fetch implements media.Fetcher. The returned body fails at EOF with
// media.ErrDigestMismatch when the bytes differ from the sha256 Graph announced.
func (f *MediaFetcher) Fetch(ctx context.Context, a record.Attachment) (io.ReadCloser, string, error) {
	if a.MediaID == "" {
		return nil, "", &media.PermanentError{Status: record.MediaFailed, Err: errors.New("the attachment has no WhatsApp media id")}
	}
	if f.token == "" {
		return nil, "", &media.PermanentError{Status: record.MediaFailed,
			Err: errors.New("no Graph API token: set INTAKE_WHATSAPP_ACCESS_TOKEN to download WhatsApp media")}
	}
	info, err := f.lookup(ctx, a.MediaID)
	if err != nil {
		return nil, "", err
	}
	u, err := url.Parse(info.URL)
	if err != nil || info.URL == "" {
		return nil, "", &media.PermanentError{Status: record.MediaFailed, Err: errors.New("the Graph media endpoint gave no usable download url")}
	}
	if err := f.policy.Check(u); err != nil {
		return nil, "", err
	}
	if size, _ := parseSize(string(info.FileSize)); size > 0 {
		if err := media.LimitError(size, f.maxBytes); err != nil {
			return nil, "", err
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, "", &media.PermanentError{Status: record.MediaFailed, Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+f.token)
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, "", unwrapPermanent(fmt.Errorf("download WhatsApp media: %w", err))
	}
	if err := media.StatusError("the WhatsApp media download", resp.StatusCode); err != nil {
		drain(resp.Body)
		return nil, "", err
	}
	if err := media.LimitError(resp.ContentLength, f.maxBytes); err != nil {
		drain(resp.Body)
		return nil, "", err
	}
	ct := info.MimeType
	if ct == "" {
		ct = resp.Header.Get("Content-Type")
	}
	return media.VerifyingReader(resp.Body, hexDigest(info.SHA256)), ct, nil
}

// hexDigest accepts the sha256 as the media endpoint gives it (hex) or as webhooks do
// (base64), and returns hex; "" when it is neither.
func hexDigest(s string) string {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) == sha256.Size {
		return s
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == sha256.Size {
			return hex.EncodeToString(b)
		}
	}
	return ""
}

// lookup asks Graph for a media id's download URL.
func (f *MediaFetcher) lookup(ctx context.Context, id string) (*mediaInfo, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.graph+"/"+url.PathEscape(id), nil)
	if err != nil {
		return nil, &media.PermanentError{Status: record.MediaFailed, Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+f.token)
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, unwrapPermanent(fmt.Errorf("look up WhatsApp media: %w", err))
	}
	defer drain(resp.Body)
	if err := media.StatusError("the Graph media endpoint", resp.StatusCode); err != nil {
		return nil, err
	}
	var info mediaInfo
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&info); err != nil {
		return nil, fmt.Errorf("the Graph media endpoint answered something that is not its JSON: %w", err)
	}
	return &info, nil
}

// unwrapPermanent surfaces a PermanentError a redirect check returned inside *url.Error.
func unwrapPermanent(err error) error {
	var perm *media.PermanentError
	if errors.As(err, &perm) {
		return perm
	}
	return err
}

func drain(r io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r, 64<<10))
	_ = r.Close()
}

func parseSize(s string) (int64, bool) {
	var n int64
	if _, err := fmt.Sscan(strings.TrimSpace(s), &n); err != nil {
		return 0, false
	}
	return n, true
}
