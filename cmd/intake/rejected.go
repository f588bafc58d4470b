package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lapor/intake/channels/api"
	"github.com/lapor/intake/media"
	"github.com/lapor/intake/normalizer"
	"github.com/lapor/intake/queue"
	"github.com/lapor/intake/record"
)

const rejectedUsage = `Usage:
  intake rejected list [--reason R] [--limit N] [--verbose]
                        print the rejected inputs, oldest first: stream id, reason, channel,
                        provider message id, time, and the record id if released
  intake rejected release ENTRY_ID
                        make a complaint (flag "released") from a wrongly rejected input;
                        however often it is run, one complaint
`

// rejectedCmd is "intake rejected list|release" (CONTRACT §1, §10).
func rejectedCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub, err := subcommand(args, rejectedUsage, "rejected needs list or release", stderr)
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("rejected "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	redisURL := fs.String("redis", envOr("INTAKE_REDIS_URL", "redis://127.0.0.1:6379/0"), "Redis URL (development mode's embedded server by default)")
	stream := fs.String("stream", envOr("INTAKE_STREAM", queue.DefaultStream), "complaint stream")
	rejStream := fs.String("rejected-stream", envOr("INTAKE_REJECTED_STREAM", queue.DefaultRejectedStream), "rejected stream")
	var reason *string
	var limit *int
	var verbose *bool
	var region, trusted, mediaDir, publicURL *string
	switch sub {
	case "list":
		reason = fs.String("reason", "", "only entries with this reason (auto_reply, bounce, …)")
		limit = fs.Int("limit", 1000, "print at most this many entries")
		verbose = fs.Bool("verbose", false, "also print each entry's detail and raw payload (may hold personal data)")
	case "release":
		region = fs.String("region", envOr("INTAKE_DEFAULT_REGION", "ID"), "region for phone numbers without a country code")
		trusted = fs.String("trusted-forwarders", os.Getenv("INTAKE_TRUSTED_FORWARDERS"), "comma-separated trusted forwarders")
		mediaDir = fs.String("media-dir", envOr("INTAKE_MEDIA_DIR", "./data/media"), "where a released mail's attachments are kept")
		publicURL = fs.String("public-url", os.Getenv("INTAKE_PUBLIC_URL"), "the gateway's external base URL (attachments' storage_url)")
	default:
		fmt.Fprint(stderr, rejectedUsage)
		return fmt.Errorf("unknown rejected command %q: use list or release", sub)
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	spool, err := os.MkdirTemp("", "intake-rejected-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(spool)
	q, err := queue.Open(ctx, queue.Config{URL: *redisURL, Stream: *stream, RejectedStream: *rejStream, SpoolDir: spool})
	if err != nil {
		return err
	}
	defer q.Close()
	if sub == "list" {
		if fs.NArg() > 0 {
			return fmt.Errorf("rejected list takes no arguments (got %q)", fs.Arg(0))
		}
		return listRejected(ctx, q, *reason, *limit, *verbose, stdout)
	}
	if fs.NArg() != 1 {
		return errors.New("rejected release needs exactly one ENTRY_ID (see intake rejected list)")
	}
	n, err := normalizer.New(normalizer.Options{DefaultRegion: *region, TrustedForwarders: splitList(*trusted)})
	if err != nil {
		return err
	}
	rel := releaser{norm: n, mediaDir: *mediaDir, publicURL: strings.TrimRight(*publicURL, "/"), stderr: stderr}
	return rel.release(ctx, q, fs.Arg(0), stdout)
}

func listRejected(ctx context.Context, q *queue.Queue, reason string, limit int, verbose bool, w io.Writer) error {
	es, err := q.Rejected(ctx, reason, limit)
	if err != nil {
		return err
	}
	for _, e := range es {
		line := fmt.Sprintf("%s  %-14s %-8s %s  %s", e.StreamID, e.Reason, orDash(e.Channel), e.ReceivedAt, orDash(e.ProviderMessageID))
		if e.ReleasedAs != "" {
			line += "  released as " + e.ReleasedAs
		}
		fmt.Fprintln(w, line)
		if verbose {
			if e.Detail != "" {
				fmt.Fprintf(w, "  detail: %s\n", e.Detail)
			}
			if e.RawRef != "" {
				fmt.Fprintf(w, "  raw_ref: %s\n", e.RawRef)
			}
			if len(e.Raw) > 0 {
				fmt.Fprintf(w, "  raw (%d bytes%s):\n", len(e.Raw), map[bool]string{true: ", truncated"}[e.RawTruncated])
				for _, l := range strings.Split(string(e.Raw), "\n") {
					fmt.Fprintf(w, "    %s\n", strings.TrimRight(l, "\r"))
				}
			}
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

type releaser struct {
	norm      *normalizer.Normalizer
	mediaDir  string
	publicURL string
	stderr    io.Writer
}

func (r releaser) release(ctx context.Context, q *queue.Queue, entryID string, w io.Writer) error {
	e, err := q.RejectedEntry(ctx, entryID)
	if err != nil {
		return err
	}
	if e.ReleasedAs != "" {
		// Release answers the first record again; nothing is decoded or written.
		res, err := q.Release(ctx, entryID, &record.Complaint{Channel: orDash(e.Channel)})
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s already released as %s %s\n", entryID, res.Reference, res.ID)
		return nil
	}
	c, note := r.complaint(e)
	if note != "" {
		fmt.Fprintf(r.stderr, "intake: %s\n", note)
	}
	res, err := q.Release(ctx, entryID, c)
	if err != nil {
		return err
	}
	if res.Duplicate {
		fmt.Fprintf(w, "%s already released as %s %s\n", entryID, res.Reference, res.ID)
	} else {
		fmt.Fprintf(w, "%s released as %s %s\n", entryID, res.Reference, res.ID)
	}
	return nil
}

// complaint makes the record for e: the raw payload decoded and normalised as the channel
// would have (machine-mail rules skipped), or, when it cannot be decoded, a record whose
// body is the raw text with the channel and provider ids kept; note says which.
func (r releaser) complaint(e queue.RejectedEntry) (*record.Complaint, string) {
	var c *record.Complaint
	note := ""
	if m, err := decodeRejected(e); err != nil {
		note = fmt.Sprintf("entry %s: the raw payload could not be decoded (%v); the complaint's body is the raw payload as text", e.StreamID, err)
		c = rawComplaint(e)
	} else {
		c = r.norm.NormalizeReleased(m)
		r.keepAttachments(c)
	}
	if e.RawTruncated {
		note = strings.TrimSpace(note + fmt.Sprintf(" entry %s: the rejected stream kept only the first %d bytes of the payload; the complaint is made from them", e.StreamID, queue.MaxRawBytes))
	}
	if c.Channel == "" {
		c.Channel = orDash(e.Channel)
	}
	if c.Provider == "" {
		c.Provider = e.Provider
	}
	if c.ProviderMessageID == "" {
		c.ProviderMessageID = e.ProviderMessageID
	}
	c.ReceivedAt = e.ReceivedAt // when the gateway took the input in, not the release
	if c.ReceivedAt == "" {
		c.ReceivedAt = record.FormatTime(time.Now())
	}
	if c.ChannelData == nil {
		c.ChannelData = map[string]any{}
	}
	c.ChannelData["released_from"] = e.StreamID
	c.ChannelData["rejected_reason"] = e.Reason
	return c, note
}

// decodeRejected decodes e's raw payload with its channel's decoder (the provider's
// payload for sms and whatsapp, the mail for email, the request body for api).
func decodeRejected(e queue.RejectedEntry) (*record.Message, error) {
	if len(e.Raw) == 0 {
		return nil, errors.New("the entry holds no raw payload")
	}
	if e.Channel == record.ChannelAPI {
		req, _, err := api.Decode(e.Raw)
		if err != nil {
			return nil, err
		}
		return req.Message("released", e.ProviderMessageID, e.Raw), nil
	}
	decode, ok := decoders[e.Channel]
	if !ok {
		return nil, fmt.Errorf("no decoder for channel %q", e.Channel)
	}
	msgs, _, err := decode(e.Raw)
	if err != nil {
		return nil, err
	}
	// A Meta POST may carry several messages: the rejected one is named by its id.
	for _, m := range msgs {
		if e.ProviderMessageID == "" || m.ProviderMessageID == e.ProviderMessageID {
			return m, nil
		}
	}
	return nil, errors.New("the payload holds no message with the entry's provider message id")
}

// rawComplaint is the fallback record: the raw payload as its body.
func rawComplaint(e queue.RejectedEntry) *record.Complaint {
	body := e.Raw
	if !utf8.Valid(body) {
		body = bytes.ToValidUTF8(body, []byte("\uFFFD"))
	}
	c := &record.Complaint{Channel: e.Channel, Provider: e.Provider, ProviderMessageID: e.ProviderMessageID,
		Body: normalizer.CleanText(string(body))}
	if c.Body == "" {
		c.Flags = append(c.Flags, record.FlagEmptyBody)
	}
	return c
}

// keepAttachments stores a released mail's inline parts, as the pipeline does.
func (r releaser) keepAttachments(c *record.Complaint) {
	var store *media.Store
	for i := range c.Attachments {
		a := &c.Attachments[i]
		if a.Data == nil {
			continue
		}
		data := a.Data
		a.Data = nil
		a.Status = record.MediaFailed
		if store == nil {
			s, err := media.NewStore(r.mediaDir, 25<<20)
			if err != nil {
				fmt.Fprintf(r.stderr, "intake: attachments not kept: %v\n", err)
				continue
			}
			store = s
		}
		blob, err := store.Put(bytes.NewReader(data), a.ContentType)
		switch {
		case errors.Is(err, media.ErrTooLarge):
			a.Status = record.MediaTooLarge
		case err != nil:
			fmt.Fprintf(r.stderr, "intake: attachment not kept: %v\n", err)
		default:
			media.SetStored(a, blob, r.publicURL)
		}
	}
}

// subcommand returns the subcommand args start with ("list" of "intake rejected list"),
// or prints usage: flag.ErrHelp for -h, an error saying what is needed otherwise.
func subcommand(args []string, usage, needs string, stderr io.Writer) (string, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(stderr, usage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return "", flag.ErrHelp
		}
		return "", errors.New(needs)
	}
	return args[0], nil
}
