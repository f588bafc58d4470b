package httpapi

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/metrics"
)

// M6: a body trickled in a byte at a time is cut off after BodyTimeout, so it cannot hold
// a handler (and its memory) for the server's whole read timeout.
func TestSlowBodyIsCutOff(t *testing.T) {
	s := New(Options{BodyTimeout: 300 * time.Millisecond})
	readErr := make(chan error, 1)
	s.Handle(http.MethodPost, "/echo", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := channels.ReadBody(r)
		readErr <- err
		if err != nil {
			channels.WriteBodyError(w, err)
		}
	}))
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // one byte every 100 ms: the whole body would take 100 s
		defer wg.Done()
		for i := 0; i < 1000; i++ {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			if _, err := conn.Write([]byte("a")); err != nil {
				return
			}
		}
	}()
	defer func() { close(stop); wg.Wait() }()
	conn.SetReadDeadline(time.Now().Add(20 * time.Second)) // a guard, far above the 300 ms cut
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer while the body trickles in (it is not cut off): %v", err)
	}
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("a body cut off answered %d, want 408", resp.StatusCode)
	}
	if err := <-readErr; !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the handler's read ended with %v, not the body deadline", err)
	}
}

// Once the body is read, the deadline no longer applies: a handler still making its
// record durable is not cancelled when the body's time is up.
func TestBodyDeadlineEndsWithTheBody(t *testing.T) {
	const timeout = 100 * time.Millisecond
	s := New(Options{BodyTimeout: timeout})
	s.Handle(http.MethodPost, "/work", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := channels.ReadBody(r); err != nil {
			channels.WriteBodyError(w, err)
			return
		}
		select {
		case <-r.Context().Done():
			http.Error(w, "cancelled", http.StatusInternalServerError)
		case <-time.After(5 * timeout):
			io.WriteString(w, "done")
		}
	}))
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	resp, err := http.Post(ts.URL+"/work", "text/plain", strings.NewReader("a complaint"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(b) != "done" {
		t.Fatalf("handler working past the body deadline: %d %s", resp.StatusCode, b)
	}
}

// M6: at most MaxInFlight requests are handled at once; the next gets a clear 503 with
// Retry-After, while health, readiness and metrics still answer.
func TestInFlightBound(t *testing.T) {
	s := New(Options{MaxInFlight: 2, Metrics: metrics.New(nil)})
	entered, release := make(chan struct{}, 2), make(chan struct{})
	s.Handle(http.MethodPost, "/block", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		io.WriteString(w, "done")
	}))
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if resp, err := http.Post(ts.URL+"/block", "text/plain", strings.NewReader("x")); err == nil {
				resp.Body.Close()
			}
		}()
	}
	<-entered
	<-entered
	client := &http.Client{Timeout: 10 * time.Second} // a guard: without the bound the third request blocks
	resp, err := client.Post(ts.URL+"/block", "text/plain", strings.NewReader("x"))
	if err != nil {
		close(release)
		t.Fatalf("third request with two in flight: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" ||
		resp.Header.Get("Content-Type") != channels.ProblemContentType || !strings.Contains(string(b), "INTAKE_MAX_IN_FLIGHT") {
		t.Errorf("over the bound: %d Retry-After=%q %s %s", resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("Content-Type"), b)
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := client.Get(ts.URL + path)
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("%s while full: %v %v", path, err, resp)
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		if path == "/metrics" && !strings.Contains(string(b), "intake_http_busy_total 1") {
			t.Errorf("the refusal is not counted: %s", b)
		}
	}
	close(release)
	wg.Wait()
	resp, err = client.Post(ts.URL+"/block", "text/plain", strings.NewReader("x"))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("after the requests finished: %v %v", err, resp)
	}
}

// M6: headers are capped at 64 KiB (net/http's default is 1 MB).
func TestHeaderOver64KiBGets431(t *testing.T) {
	s := New(Options{})
	base := serveOn(t, s.Serve)
	for size, want := range map[int]int{32 << 10: 200, 100 << 10: http.StatusRequestHeaderFieldsTooLarge} {
		req, _ := http.NewRequest(http.MethodGet, base+"/healthz", nil)
		req.Header.Set("X-Padding", strings.Repeat("p", size))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%d-byte header: %v", size, err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%d-byte header: %d, want %d", size, resp.StatusCode, want)
		}
	}
}
