package normalizer

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
)

func TestTmpQuotequail(t *testing.T) {
	raw, _ := os.ReadFile("/work/shared/corpus/closeio-quotequail/expected.json")
	var d struct {
		Unwrap []struct {
			Input    string
			Expected map[string]any
		}
	}
	json.Unmarshal(raw, &d)
	for _, c := range d.Unwrap {
		fw := ParseForward(c.Input)
		typ, _ := c.Expected["type"].(string)
		got := ""
		if fw != nil {
			got = fmt.Sprintf("%+v | text=%q", fw.From, fw.Text)
		}
		fmt.Printf("want=%s from=%v\n   got=%s\n", typ, c.Expected["from"], got)
	}
}
