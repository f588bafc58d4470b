package client_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/lapor/intake/client"
	"github.com/redis/go-redis/v9"
)

// The core's loop: read complaints, store each one idempotently, answer the citizen.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv("INTAKE_TEST_REDIS_ADDR")})
	defer rdb.Close()
	// In production these are "intake:complaints" and "intake:outbound".
	stream := "example:" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":complaints"
	outbound := stream + ":outbound"
	defer rdb.Del(context.Background(), stream, outbound)

	// What the gateway does when a citizen writes.
	rdb.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: []any{"id", "01J9Z3", "channel", "sms",
		"complaint", `{"schema_version":1,"id":"01J9Z3","reference":"7KQ2-9XMD","channel":"sms","body":"Lampu jalan mati"}`}})

	consumer, err := client.NewConsumer(rdb, client.Config{Stream: stream, Consumer: "core-1"})
	if err != nil {
		fmt.Println(err)
		return
	}
	err = consumer.Run(ctx, func(ctx context.Context, e client.Entry) error {
		c, err := client.DecodeComplaint(e)
		if err != nil {
			return err // permanent: straight to the dead-letter stream
		}
		// Store c.Record keyed by c.ID (INSERT … ON CONFLICT (id) DO NOTHING): a second
		// delivery of the same complaint must change nothing.
		fmt.Println("complaint", c.Reference, "by", c.Channel, "kind", c.Kind)
		_, err = client.SendAnswer(ctx, rdb, outbound, client.Answer{
			ID: "answer-" + c.ID, ComplaintID: c.ID, Text: "Terima kasih, laporan Anda kami terima.",
		})
		cancel() // the example stops after one complaint; a core runs until shutdown
		return err
	})
	fmt.Println("run:", err)

	answers := rdb.XRange(context.Background(), outbound, "-", "+").Val()
	fmt.Println("outbound:", answers[0].Values["message"])
	fmt.Println("pending:", rdb.XPending(context.Background(), stream, client.DefaultGroup).Val().Count)
	// Output:
	// complaint 7KQ2-9XMD by sms kind complaint
	// run: <nil>
	// outbound: {"id":"answer-01J9Z3","complaint_id":"01J9Z3","text":"Terima kasih, laporan Anda kami terima.","kind":"answer"}
	// pending: 0
}
