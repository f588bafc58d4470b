package whatsapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	ob "github.com/lapor/intake/outbound"
	"github.com/lapor/intake/record"
)

// graphStandIn records every message send and answers as scripted (status, body).
type graphStandIn struct {
	*httptest.Server
	mu      sync.Mutex
	sends   []map[string]any
	paths   []string
	answers [][2]any // status, body
}

func newGraphStandIn(t *testing.T) *graphStandIn {
	g := &graphStandIn{}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":{"message":"Invalid OAuth access token","code":190}}`)
			return
		}
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		g.mu.Lock()
		g.sends = append(g.sends, m)
		g.paths = append(g.paths, r.URL.Path)
		n := len(g.sends)
		var ans [2]any
		if len(g.answers) > 0 {
			ans, g.answers = g.answers[0], g.answers[1:]
		}
		g.mu.Unlock()
		if ans[0] != nil {
			w.WriteHeader(ans[0].(int))
			fmt.Fprint(w, ans[1])
			return
		}
		fmt.Fprintf(w, `{"messaging_product":"whatsapp","contacts":[{"input":"x","wa_id":"x"}],"messages":[{"id":"wamid.OUT%d"}]}`, n)
	}))
	t.Cleanup(g.Close)
	return g
}

func metaOut(open bool) ob.Outgoing {
	return ob.Outgoing{OutboundID: "o1", Text: "Aduan Anda sedang ditindaklanjuti.", Reference: "7KQ2-9XMD", WindowOpen: open,
		Contact: record.Contact{Channel: "whatsapp", Provider: "meta", Address: "6281234567811", Recipient: "109876"}}
}

func TestMetaSenderWindow(t *testing.T) {
	g := newGraphStandIn(t)
	s, err := NewSender(Config{AppSecret: "s", AccessToken: "tok", GraphURL: g.URL, AnswerTemplate: "lapor_tanggapan:id"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sent, err := s.Send(context.Background(), metaOut(true))
	if err != nil || sent.ProviderMessageID != "wamid.OUT1" {
		t.Fatalf("%+v %v", sent, err)
	}
	if _, err := s.Send(context.Background(), metaOut(false)); err != nil {
		t.Fatal(err)
	}
	withTemplate := metaOut(false)
	withTemplate.Template = &ob.Template{Name: "lapor_status", Language: "en", Parameters: []string{"A", "B", "C"}}
	if _, err := s.Send(context.Background(), withTemplate); err != nil {
		t.Fatal(err)
	}
	if g.paths[0] != "/109876/messages" {
		t.Errorf("path %s", g.paths[0])
	}
	text := g.sends[0]
	if text["type"] != "text" || text["to"] != "6281234567811" || text["text"].(map[string]any)["body"] != "Aduan Anda sedang ditindaklanjuti." {
		t.Errorf("inside the window: %v", text)
	}
	want := `{"components":[{"parameters":[{"text":"7KQ2-9XMD","type":"text"},{"text":"Aduan Anda sedang ditindaklanjuti.","type":"text"}],"type":"body"}],"language":{"code":"id","policy":"deterministic"},"name":"lapor_tanggapan"}`
	if b, _ := json.Marshal(g.sends[1]["template"]); g.sends[1]["type"] != "template" || string(b) != want {
		t.Errorf("outside the window: %s", b)
	}
	if b, _ := json.Marshal(g.sends[2]["template"]); !json.Valid(b) || g.sends[2]["template"].(map[string]any)["name"] != "lapor_status" {
		t.Errorf("the entry's template: %s", b)
	}
	// No template anywhere: refused before any call.
	bare, _ := NewSender(Config{AppSecret: "s", AccessToken: "tok", GraphURL: g.URL}, nil)
	_, err = bare.Send(context.Background(), metaOut(false))
	var oe *ob.Error
	if !errors.As(err, &oe) || oe.Class != ob.ClassWindowClosed || len(g.sends) != 3 {
		t.Errorf("%v, %d sends", err, len(g.sends))
	}
}

func TestMetaSenderErrorClasses(t *testing.T) {
	cases := []struct {
		status    int
		body      string
		class     ob.Class
		code      string
		ambiguous bool
	}{
		{400, `{"error":{"message":"Re-engagement message","code":131047,"error_data":{"details":"more than 24 hours"}}}`, ob.ClassWindowClosed, "131047", false},
		{400, `{"error":{"message":"Throughput","code":130429}}`, ob.ClassThrottle, "130429", false},
		{400, `{"error":{"message":"Pair rate","code":131056}}`, ob.ClassThrottle, "131056", false},
		{400, `{"error":{"message":"Something went wrong","code":131000}}`, ob.ClassRetry, "131000", false},
		{400, `{"error":{"message":"Undeliverable","code":131026}}`, ob.ClassPermanent, "131026", false},
		{400, `{"error":{"message":"Stopped","code":131050}}`, ob.ClassOptedOut, "131050", false},
		{401, `{"error":{"message":"Token expired","code":190}}`, ob.ClassConfig, "190", false},
		{400, `{"error":{"message":"Template missing","code":132001}}`, ob.ClassConfig, "132001", false},
		{500, `{"error":{"message":"oops","code":1}}`, ob.ClassRetry, "500", true},
		{502, `<html>bad gateway</html>`, ob.ClassRetry, "502", true},
	}
	for _, c := range cases {
		g := newGraphStandIn(t)
		g.answers = [][2]any{{c.status, c.body}}
		s, _ := NewSender(Config{AppSecret: "s", AccessToken: "tok", GraphURL: g.URL}, nil)
		_, err := s.Send(context.Background(), metaOut(true))
		var oe *ob.Error
		if !errors.As(err, &oe) || oe.Class != c.class || oe.Code != c.code || oe.Ambiguous != c.ambiguous {
			t.Errorf("%d %s: %+v", c.status, c.body, oe)
		}
	}
}
