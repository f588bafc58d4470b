package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/lapor/intake/channels/android"
	"github.com/lapor/intake/channels/email"
	"github.com/lapor/intake/channels/twilio"
	"github.com/lapor/intake/channels/whatsapp"
	"github.com/lapor/intake/normalizer"
	"github.com/lapor/intake/record"
)

// decoder turns one raw file of a channel into messages and the rejections the channel
// itself makes (a Meta reaction). A payload may carry several messages (a Meta POST).
type decoder func(raw []byte) ([]*record.Message, []*record.Rejection, error)

var decoders = map[string]decoder{
	record.ChannelEmail: func(raw []byte) ([]*record.Message, []*record.Rejection, error) {
		m, err := email.Decode(raw, email.DecodeLimits{})
		if err != nil {
			return nil, nil, err
		}
		// As the channel does: a trusted forwarder counts only with the receiving server's word.
		email.Authenticate(m, email.Config{AuthservID: os.Getenv("INTAKE_EMAIL_AUTHSERV_ID")}.AuthservIDs())
		return []*record.Message{m}, nil, nil
	},
	// The Twilio form body as posted (SMS, MMS, WhatsApp through Twilio), or the JSON
	// event SMS Gateway for Android posts.
	record.ChannelSMS: func(raw []byte) ([]*record.Message, []*record.Rejection, error) {
		if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '{' {
			d, err := android.Decode(t, android.DecodeOptions{})
			if err != nil {
				return nil, nil, err
			}
			if d.Message == nil {
				return nil, []*record.Rejection{{Reason: "status", Detail: "an Android " + d.Event + " event, not a message"}}, nil
			}
			return []*record.Message{d.Message}, nil, nil
		}
		form, err := url.ParseQuery(strings.TrimSpace(string(raw)))
		if err != nil {
			return nil, nil, fmt.Errorf("not a form body: %w", err)
		}
		m, _, err := twilio.Decode(form, raw)
		if errors.Is(err, twilio.ErrStatusCallback) {
			return nil, []*record.Rejection{{Reason: "status", Detail: err.Error()}}, nil
		}
		if err != nil {
			return nil, nil, err
		}
		return []*record.Message{m}, nil, nil
	},
	// Meta's webhook JSON as posted.
	record.ChannelWhatsApp: whatsapp.Decode,
}

type normalizeLine struct {
	File      string            `json:"file"`
	Complaint *record.Complaint `json:"complaint,omitempty"`
	Rejected  *rejectedLine     `json:"rejected,omitempty"`
}

type rejectedLine struct {
	Reason string `json:"reason"`
	Detail string `json:"detail,omitempty"`
}

func normalizeCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("normalize", flag.ContinueOnError)
	fs.SetOutput(stderr)
	channel := fs.String("channel", "email", "channel of the files: "+strings.Join(channelNames(), ", "))
	region := fs.String("region", "ID", "region for phone numbers without a country code")
	trusted := fs.String("trusted-forwarders", os.Getenv("INTAKE_TRUSTED_FORWARDERS"), "comma-separated trusted forwarders")
	if err := fs.Parse(args); err != nil {
		return err
	}
	decode, ok := decoders[*channel]
	if !ok {
		return fmt.Errorf("unknown channel %q: use one of %s", *channel, strings.Join(channelNames(), ", "))
	}
	if fs.NArg() == 0 {
		return errors.New("normalize needs at least one FILE")
	}
	n, err := normalizer.New(normalizer.Options{DefaultRegion: *region, TrustedForwarders: splitList(*trusted)})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	for _, file := range fs.Args() {
		for _, line := range normalizeFile(n, decode, file) {
			if err := enc.Encode(line); err != nil {
				return err
			}
		}
	}
	return nil
}

// normalizeFile answers for one file: one line per message in it, or one rejection.
func normalizeFile(n *normalizer.Normalizer, decode decoder, file string) []normalizeLine {
	raw, err := os.ReadFile(file)
	if err != nil {
		return []normalizeLine{{File: file, Rejected: &rejectedLine{Reason: record.ReasonUnparseable, Detail: err.Error()}}}
	}
	msgs, rejs, err := decode(raw)
	if err != nil {
		return []normalizeLine{{File: file, Rejected: &rejectedLine{Reason: record.ReasonUnparseable, Detail: err.Error()}}}
	}
	var out []normalizeLine
	for _, r := range rejs {
		out = append(out, normalizeLine{File: file, Rejected: &rejectedLine{Reason: r.Reason, Detail: r.Detail}})
	}
	for _, m := range msgs {
		c, rej := n.Normalize(m)
		if rej != nil {
			out = append(out, normalizeLine{File: file, Rejected: &rejectedLine{Reason: rej.Reason, Detail: rej.Detail}})
		} else {
			out = append(out, normalizeLine{File: file, Complaint: c})
		}
	}
	if len(out) == 0 {
		out = append(out, normalizeLine{File: file, Rejected: &rejectedLine{Reason: "no_message", Detail: "the payload holds no message (a status update or an empty batch)"}})
	}
	return out
}

func channelNames() []string {
	var names []string
	for _, c := range []string{record.ChannelEmail, record.ChannelSMS, record.ChannelWhatsApp} {
		if _, ok := decoders[c]; ok {
			names = append(names, c)
		}
	}
	return names
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
