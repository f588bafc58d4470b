package queue

import (
	"os"
	"strconv"
)

func init() {
	if v := os.Getenv("QW"); v != "" {
		writersOverride, _ = strconv.Atoi(v)
	}
}
