package main

import (
	"context"
	"errors"
	"io"
)

func serveCmd(ctx context.Context, args []string, stderr io.Writer) error {
	return errors.New("serve: not yet built")
}

func simulateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("simulate: not yet built")
}

func tailCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("tail: not yet built")
}
