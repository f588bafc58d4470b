// Command intake is the complaint intake gateway: one binary for serving, simulating,
// following the stream and running the normaliser alone. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `intake — the complaint intake gateway

Usage:
  intake serve [--config FILE] [--dev]    run the gateway (--dev: development mode, loopback only)
  intake simulate sms|whatsapp|email|api [flags] [TEXT]
                                          send a correctly signed sample message to a running gateway
  intake simulate answer REF_OR_ID TEXT   answer a complaint and follow the answer to its delivery state
  intake tail [flags]                     follow the complaint stream, readably (--delivery: the delivery stream)
  intake reply REF_OR_ID TEXT             put an answer to a complaint on the outbound stream; prints its id
  intake normalize --channel CH FILE...   normalise raw messages, one JSON line per file
  intake rejected list [--reason R]       show the rejected stream's entries, each with its stream id
  intake rejected release ENTRY_ID        make a complaint of a wrongly rejected entry (once)
  intake block add|remove|list [PHONE_OR_EMAIL]  manage the block list (by citizen_id)
  intake version                          print the version

Run "intake COMMAND -h" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serveCmd(ctx, args[1:], stderr)
	case "simulate":
		err = simulateCmd(ctx, args[1:], stdout, stderr)
	case "tail":
		err = tailCmd(ctx, args[1:], stdout, stderr)
	case "normalize", "normalise":
		err = normalizeCmd(args[1:], stdout, stderr)
	case "rejected":
		err = rejectedCmd(ctx, args[1:], stdout, stderr)
	case "block":
		err = blockCmd(ctx, args[1:], stdout, stderr)
	case "reply":
		err = replyCmd(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "intake", version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "intake: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "intake:", err)
		return 1
	}
	return 0
}
