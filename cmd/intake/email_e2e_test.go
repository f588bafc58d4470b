package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lapor/intake/internal/testenv"
)

// The whole binary's email path: `serve` configured for production with one mailbox on a
// real Dovecot and a real redis-server, `simulate email` APPENDs, and the record is in the
// stream (read back with `tail`), with the mail moved to the processed folder.
func TestServeTakesInEmailFromARealMailbox(t *testing.T) {
	dc := testenv.StartDovecot(t)
	redisAddr := testenv.RedisAddr(t)
	prefix := strings.ReplaceAll(testenv.Prefix(t), ":", "-")
	dir := t.TempDir()
	env := map[string]string{
		"INTAKE_REDIS_URL": "redis://" + redisAddr + "/0", "INTAKE_HTTP_ADDR": "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t)),
		"INTAKE_STREAM": prefix + "complaints", "INTAKE_REJECTED_STREAM": prefix + "rejected",
		"INTAKE_SPOOL_DIR": filepath.Join(dir, "spool"), "INTAKE_MEDIA_DIR": filepath.Join(dir, "media"),
		"INTAKE_PUBLIC_URL": "https://intake.example.go.id",
		"INTAKE_IMAP_ADDR":  dc.Addr, "INTAKE_IMAP_USERNAME": dc.User, "INTAKE_IMAP_PASSWORD": dc.Password,
		"INTAKE_IMAP_SECURITY": "none", "INTAKE_IMAP_POLL_INTERVAL": "1m", "INTAKE_RECEIPTS": "off",
	}
	logs := serveFromEnv(t, env)

	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"simulate", "email", "Sampah di TPS Pasar Baru belum diangkut seminggu."}, &out, &errb); code != 0 {
		t.Fatalf("simulate email exit %d: %s %s", code, out.String(), errb.String())
	}
	// IDLE delivers well within the poll interval (1 min); tail stops after a few seconds.
	tctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	var tail bytes.Buffer
	run(tctx, []string{"tail", "--all", "--redis", env["INTAKE_REDIS_URL"], "--stream", env["INTAKE_STREAM"]}, &tail, &errb)
	if !strings.Contains(tail.String(), "Sampah di TPS Pasar Baru belum diangkut seminggu.") || !strings.Contains(tail.String(), "email") {
		t.Fatalf("the mail's record is not in the stream; tail:\n%s\nlogs:\n%s", tail.String(), logs.String())
	}
	if strings.Contains(logs.String(), "Sampah di TPS") || strings.Contains(logs.String(), dc.Password) {
		t.Fatal("the logs carry message text or the mailbox password")
	}
}
