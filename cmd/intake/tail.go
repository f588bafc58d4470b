package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/lapor/intake/queue"
	"github.com/lapor/intake/record"
)

func tailCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	redisURL := fs.String("redis", envOr("INTAKE_REDIS_URL", "redis://127.0.0.1:6379/0"), "Redis URL (development mode's embedded server by default)")
	stream := fs.String("stream", envOr("INTAKE_STREAM", "intake:complaints"), "complaint stream")
	all := fs.Bool("all", false, "print the whole stream first, then follow")
	delivery := fs.Bool("delivery", false, "follow the delivery stream (answers' states) instead of the complaints")
	deliveryStream := fs.String("delivery-stream", envOr("INTAKE_DELIVERY_STREAM", queue.DefaultDeliveryStream), "delivery stream (with --delivery)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *delivery {
		return tailDeliveries(ctx, *redisURL, *deliveryStream, *all, stdout, stderr)
	}
	spool, err := os.MkdirTemp("", "intake-tail-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(spool)
	// tail reads without a consumer group, so it never takes records from the core.
	q, err := queue.Open(ctx, queue.Config{URL: *redisURL, Stream: *stream, SpoolDir: spool})
	if err != nil {
		return err
	}
	defer q.Close()
	from := "$"
	if *all {
		from = "0"
	}
	fmt.Fprintf(stderr, "following %s (Ctrl-C to stop)\n", *stream)
	err = q.Follow(ctx, from, func(id string, c *record.Complaint) error {
		printRecord(stdout, c)
		return nil
	})
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// printRecord writes one record for a person: a header line, then the text indented.
func printRecord(w io.Writer, c *record.Complaint) {
	who := ""
	if s := c.Sender; s != nil {
		who = strings.TrimSpace(strings.Join(nonEmpty(s.Name, s.Phone, s.Email, s.WhatsAppUserID), " "))
	}
	fmt.Fprintf(w, "%s  %-8s %s  %s  %s\n", c.Reference, c.Channel, c.ReceivedAt, who, c.ID)
	if c.Subject != "" {
		fmt.Fprintf(w, "  subject: %s\n", c.Subject)
	}
	for _, line := range strings.Split(c.Body, "\n") {
		fmt.Fprintf(w, "  %s\n", line)
	}
	for _, a := range c.Attachments {
		fmt.Fprintf(w, "  [%s %s %s %s]\n", a.Status, a.ContentType, a.Filename, a.StorageURL)
	}
	if l := c.Location; l != nil && l.Latitude != nil && l.Longitude != nil {
		fmt.Fprintf(w, "  location: %.6f,%.6f %s %s\n", *l.Latitude, *l.Longitude, l.Name, l.Address)
	}
	var extra []string
	if c.Language != "" {
		extra = append(extra, "language="+c.Language)
	}
	if c.Agency != "" {
		extra = append(extra, "agency="+c.Agency)
	}
	if len(c.Flags) > 0 {
		extra = append(extra, "flags="+strings.Join(c.Flags, ","))
	}
	if len(extra) > 0 {
		fmt.Fprintf(w, "  (%s)\n", strings.Join(extra, " "))
	}
	fmt.Fprintln(w)
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
