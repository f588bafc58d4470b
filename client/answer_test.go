package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/lapor/intake/client"
	"github.com/redis/go-redis/v9"
)

func TestSendAnswerAddsMessageEntry(t *testing.T) {
	e := newEnv(t)
	stream := e.stream + ":outbound"
	a := client.Answer{ID: "ans-1", Reference: "7KQ2-9XMD", Text: "Jalan sudah diperbaiki.",
		Template: &client.Template{Name: "jawaban", Language: "id", Parameters: []string{"7KQ2-9XMD", "Jalan sudah diperbaiki."}}}
	id, err := client.SendAnswer(context.Background(), e.rdb, stream, a)
	if err != nil {
		t.Fatal(err)
	}
	msgs := e.rdb.XRange(context.Background(), stream, "-", "+").Val()
	if len(msgs) != 1 || msgs[0].ID != id || len(msgs[0].Values) != 1 {
		t.Fatalf("stream holds %+v, want one entry %s with one field", msgs, id)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(msgs[0].Values["message"].(string)), &got); err != nil {
		t.Fatalf("message is not JSON: %v", err)
	}
	want := `{"id":"ans-1","kind":"answer","reference":"7KQ2-9XMD","template":{"language":"id","name":"jawaban","parameters":["7KQ2-9XMD","Jalan sudah diperbaiki."]},"text":"Jalan sudah diperbaiki."}`
	if b, _ := json.Marshal(got); string(b) != want {
		t.Fatalf("message %s\nwant    %s", b, want)
	}
}

func TestSendAnswerDefaultStream(t *testing.T) {
	e := newEnv(t)
	// The default key has no test prefix: database 15 keeps it away from other tests'
	// gateways reading intake:outbound in database 0 of a shared server.
	rdb := redis.NewClient(&redis.Options{Addr: e.addr, DB: 15})
	defer rdb.Close()
	ctx := context.Background()
	before := rdb.XLen(ctx, client.DefaultOutboundStream).Val()
	id, err := client.SendAnswer(ctx, rdb, "", client.Answer{ID: "ans-2", ComplaintID: "01J0000000000000000000000", Text: "Diterima.", Kind: client.KindStatus})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.XDel(ctx, client.DefaultOutboundStream, id) })
	if after := rdb.XLen(ctx, client.DefaultOutboundStream).Val(); after != before+1 {
		t.Fatalf("%s grew from %d to %d, want one entry more", client.DefaultOutboundStream, before, after)
	}
}

func TestSendAnswerRejectsIncompleteAnswers(t *testing.T) {
	e := newEnv(t)
	stream := e.stream + ":outbound"
	for _, tc := range []struct {
		a    client.Answer
		want string
	}{
		{client.Answer{Reference: "R", Text: "t"}, "id is empty"},
		{client.Answer{ID: "x", Text: "t"}, "name the complaint"},
		{client.Answer{ID: "x", Reference: "R", Text: "  "}, "text is empty"},
		{client.Answer{ID: "x", Reference: "R", Text: "t", Kind: "reply"}, `kind "reply" is unknown`},
		{client.Answer{ID: "x", Reference: "R", Text: "t", Template: &client.Template{Name: "n"}}, "template needs a name and a language"},
	} {
		_, err := client.SendAnswer(context.Background(), e.rdb, stream, tc.a)
		if !errors.Is(err, client.ErrInvalidAnswer) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("SendAnswer(%+v) = %v, want ErrInvalidAnswer saying %q", tc.a, err, tc.want)
		}
	}
	if n := e.rdb.XLen(context.Background(), stream).Val(); n != 0 {
		t.Fatalf("invalid answers wrote %d entries", n)
	}
}

func TestDecodeAnswerRoundTrip(t *testing.T) {
	e := newEnv(t)
	stream := e.stream + ":outbound"
	sent := client.Answer{ID: "ans-3", ComplaintID: "01J9Z3", Text: "Selesai.", Kind: client.KindStatus}
	if _, err := client.SendAnswer(context.Background(), e.rdb, stream, sent); err != nil {
		t.Fatal(err)
	}
	m := e.rdb.XRange(context.Background(), stream, "-", "+").Val()[0]
	got, err := client.DecodeAnswer(client.Entry{ID: m.ID, Stream: stream, Values: map[string]string{"message": m.Values["message"].(string)}})
	if err != nil || got.ID != sent.ID || got.ComplaintID != sent.ComplaintID || got.Text != sent.Text || got.Kind != sent.Kind || got.Template != nil {
		t.Fatalf("DecodeAnswer = %+v, %v; want %+v", got, err, sent)
	}
	// Incomplete: the id still comes back, so the gateway can report a failed delivery for it.
	got, err = client.DecodeAnswer(client.Entry{Values: map[string]string{"message": `{"id":"ans-4","text":"x"}`}})
	if got.ID != "ans-4" || !errors.Is(err, client.ErrInvalidAnswer) || !errors.Is(err, client.ErrDecode) || !client.IsPermanent(err) {
		t.Fatalf("incomplete answer: %+v, %v", got, err)
	}
	for _, bad := range []map[string]string{{"delivery": "{}"}, {"message": "not json"}} {
		if _, err := client.DecodeAnswer(client.Entry{Values: bad}); !client.IsPermanent(err) || !errors.Is(err, client.ErrDecode) {
			t.Errorf("DecodeAnswer(%v) = %v, want a permanent decode error", bad, err)
		}
	}
}
