package twilio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/lapor/intake/media"
	"github.com/lapor/intake/record"
)

// DefaultMediaHosts are where Twilio serves message media: the API host the MediaUrlN
// point at, the CDN its redirect leads to when basic auth is enforced, and the legacy
// public bucket otherwise.
var DefaultMediaHosts = []string{"api.twilio.com", "mms.twiliocdn.com", ".twiliocdn.com",
	"s3-external-1.amazonaws.com/media.twiliocdn.com/"}

// MediaFetcher downloads MMS and WhatsApp-through-Twilio media (MediaUrlN) with HTTP basic
// auth AccountSid:AuthToken, only from DefaultMediaHosts (or the hosts given). It
// implements media.Fetcher for the media worker.
type MediaFetcher struct {
	accountSID string
	authToken  string
	policy     media.HostPolicy
	client     *http.Client
	maxBytes   int64
}

var _ media.Fetcher = (*MediaFetcher)(nil)

// MediaOptions adjust a MediaFetcher; the zero value is production's.
type MediaOptions = media.FetcherOptions

// NewMediaFetcher returns the fetcher for cfg's account media. Without cfg.AccountSID the
// fetcher still tries without credentials (accounts that do not enforce media auth).
func NewMediaFetcher(cfg Config, o MediaOptions) *MediaFetcher {
	hosts := o.HostsOr(DefaultMediaHosts)
	policy := media.HostPolicy(hosts)
	return &MediaFetcher{
		accountSID: cfg.AccountSID,
		authToken:  cfg.AuthToken.Reveal(),
		policy:     policy,
		client:     media.NewClient(policy, o.Client()),
		maxBytes:   o.MaxBytes,
	}
}

// Provider implements media.Fetcher.
func (f *MediaFetcher) Provider() string { return record.ProviderTwilio }

// Fetch implements media.Fetcher. A 404 is retried (Twilio may answer it for a
// moment right after the webhook); other 4xx are permanent.
func (f *MediaFetcher) Fetch(ctx context.Context, a record.Attachment) (io.ReadCloser, string, error) {
	if a.SourceURL == "" {
		return nil, "", &media.PermanentError{Status: record.MediaFailed, Err: errors.New("the attachment has no MediaUrl")}
	}
	u, err := url.Parse(a.SourceURL)
	if err != nil {
		return nil, "", &media.PermanentError{Status: record.MediaFailed, Err: fmt.Errorf("MediaUrl is not a URL: %w", err)}
	}
	if err := f.policy.Check(u); err != nil {
		return nil, "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, "", &media.PermanentError{Status: record.MediaFailed, Err: err}
	}
	if f.accountSID != "" && f.authToken != "" {
		req.SetBasicAuth(f.accountSID, f.authToken)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		var perm *media.PermanentError
		if errors.As(err, &perm) {
			return nil, "", perm
		}
		return nil, "", fmt.Errorf("download Twilio media: %w", err)
	}
	if err := media.StatusError("Twilio's media URL", resp.StatusCode, http.StatusNotFound); err != nil {
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			err = fmt.Errorf("%w (set INTAKE_TWILIO_ACCOUNT_SID with INTAKE_TWILIO_AUTH_TOKEN: media auth is enforced)", err)
		}
		return nil, "", err
	}
	if err := media.LimitError(resp.ContentLength, f.maxBytes); err != nil {
		_ = resp.Body.Close()
		return nil, "", err
	}
	return resp.Body, resp.Header.Get("Content-Type"), nil
}
