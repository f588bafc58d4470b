package main

import (
	"context"
	"log/slog"
	"strings"

	"github.com/lapor/intake/channels/android"
	"github.com/lapor/intake/channels/email"
	"github.com/lapor/intake/channels/smpp"
	"github.com/lapor/intake/channels/twilio"
	"github.com/lapor/intake/channels/whatsapp"
	"github.com/lapor/intake/config"
	"github.com/lapor/intake/metrics"
	"github.com/lapor/intake/outbound"
	"github.com/lapor/intake/queue"
	"github.com/lapor/intake/record"
)

// buildOutbound wires the return path (CONTRACT §7): a sender per configured provider,
// the worker that reads intake:outbound, and the tracker provider callbacks report to.
// It returns the tracker (the channels' status sink) and the slots of the senders that
// are running channels (SMPP's binds), which serve fills once it built them.
func buildOutbound(ctx context.Context, cfg *config.Config, qcfg queue.Config, g *gateway, m *metrics.Metrics, log *slog.Logger) (*outbound.Tracker, *channelSenders, error) {
	store, err := queue.OpenOutbound(ctx, qcfg, queue.OutboundConfig{Stream: cfg.OutboundStream, DeliveryStream: cfg.DeliveryStream})
	if err != nil {
		return nil, nil, err
	}
	g.closers = append(g.closers, store.Close)
	contacts, err := queue.OpenContacts(qcfg)
	if err != nil {
		return nil, nil, err
	}
	g.closers = append(g.closers, contacts.Close)

	senders, late, err := outboundSenders(cfg)
	if err != nil {
		return nil, nil, err
	}
	var labels [][2]string
	bySender := map[string]outbound.Sender{}
	for _, s := range senders {
		bySender[outbound.SenderKey(s.Channel(), s.Provider())] = s
		labels = append(labels, [2]string{s.Channel(), s.Provider()})
	}
	m.EnableOutbound(labels)
	observe := func(channel, provider string, s outbound.State) { m.Outbound(channel, provider, string(s)) }
	// Reports that beat the worker's record of a send wait for it (outbound/early.go).
	tracker := &outbound.Tracker{Store: store, Observe: observe, Ignored: m.OutboundIgnored, Parking: store}
	worker := &outbound.Worker{Store: store, Contacts: contacts, Senders: bySender, Observe: observe, Log: log.With("component", "outbound"),
		Parking: store, Statuses: tracker}
	consumer := cfg.InstanceID
	if consumer == "" {
		consumer = queue.DefaultInstanceID()
	}
	g.runners = append(g.runners, &outboundRunner{store: store, worker: worker, consumer: consumer, log: log})
	if len(senders) == 0 {
		log.Warn("no answer sender is configured: entries on the outbound stream become failed deliveries (class config)")
	}
	return tracker, late, nil
}

// channelSenders are the senders that are running channels, attached once built; a nil
// field: that channel does not send answers.
type channelSenders struct {
	smpp *lateSender
}

// outboundSenders builds a sender for every provider whose credentials are configured.
func outboundSenders(cfg *config.Config) ([]outbound.Sender, *channelSenders, error) {
	var out []outbound.Sender
	late := &channelSenders{}
	if cfg.Twilio.SendsEnabled() {
		tmpl := ""
		if strings.HasPrefix(cfg.WhatsApp.AnswerTemplate, "HX") {
			tmpl = cfg.WhatsApp.AnswerTemplate
		}
		for _, ch := range []string{record.ChannelSMS, record.ChannelWhatsApp} {
			s, err := twilio.NewSender(cfg.Twilio, twilio.SenderOptions{Channel: ch, PublicURL: cfg.PublicURL, AnswerTemplate: tmpl})
			if err != nil {
				return nil, nil, err
			}
			out = append(out, s)
		}
	}
	if cfg.WhatsApp.Enabled() && cfg.WhatsApp.AccessToken != "" {
		s, err := whatsapp.NewSender(cfg.WhatsApp, nil)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, s)
	}
	if cfg.Email.SMTP.Enabled() {
		s, err := email.NewSender(cfg.Email.SMTP, nil)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, s)
	}
	if cfg.Android.Enabled() && cfg.Android.APIURL != "" {
		s, err := android.NewAnswerer(cfg.Android, nil)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, s)
	}
	if smppCanSend(cfg.SMPP) {
		// The answers leave on the channel's own binds: serve attaches it once built.
		late.smpp = newLateSender(record.ChannelSMS, record.ProviderSMPP)
		out = append(out, late.smpp)
	}
	return out, late, nil
}

// smppCanSend reports whether any SMPP bind can send answers.
func smppCanSend(c smpp.Config) bool {
	for _, b := range c.All() {
		if b.CanSend() {
			return true
		}
	}
	return false
}

// outboundRunner reads the outbound stream (through the client package, like the core)
// and hands each entry to the worker.
type outboundRunner struct {
	store    *queue.OutboundStore
	worker   *outbound.Worker
	consumer string // INTAKE_INSTANCE_ID: a restart under the same name takes its own pending entries first
	log      *slog.Logger
}

func (r *outboundRunner) Name() string { return "outbound" }

func (r *outboundRunner) Run(ctx context.Context) error {
	return r.store.Consume(ctx, queue.ConsumeOptions{Consumer: r.consumer, Logger: r.log}, r.worker.Handle)
}
