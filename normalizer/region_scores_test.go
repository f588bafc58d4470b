package normalizer

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/lapor/intake/record"
)

// Goals for the region finder on the public test set (issue 14): of the levels it reports,
// this many must be right; of the levels a careful reader finds, this many must be found.
const (
	regionPrecisionGoal = 0.95
	regionRecallGoal    = 0.85
)

// regionCase is one line of testdata/regions.jsonl: a made-up complaint as an SMS, a
// WhatsApp message or an email, and the areas a careful reader finds in it with certainty.
type regionCase struct {
	ID      string            `json:"id"`
	Style   string            `json:"style"`
	Subject string            `json:"subject"`
	Text    string            `json:"text"`
	Want    map[string]string `json:"want"` // "province", "regency", "district" → code
}

// TestRegionScores scores FindRegion on the public test set and fails below the goals.
// `make corpus` prints its "region:" lines beside the normaliser's other scores.
func TestRegionScores(t *testing.T) {
	cases := readRegionCases(t, "testdata/regions.jsonl")
	if len(cases) < 60 {
		t.Fatalf("the test set has %d cases; the issue asks for at least 60", len(cases))
	}
	var reported, right, expected, found int
	var misses []string
	for _, c := range cases {
		got := regionLevels(FindRegion(c.Subject, c.Text))
		ok := true
		for _, level := range []string{"province", "regency", "district"} {
			g, w := got[level], c.Want[level]
			if g != "" {
				reported++
				if g == w {
					right++
				} else {
					ok = false
				}
			}
			if w != "" {
				expected++
				if g == w {
					found++
				} else {
					ok = false
				}
			}
		}
		if !ok {
			misses = append(misses, fmt.Sprintf("%s (got %v, want %v)", c.ID, got, c.Want))
		}
	}
	precision, recall := ratio(right, reported), ratio(found, expected)
	fmt.Printf("region: precision %d/%d = %.1f%% (goal %.0f%%), recall %d/%d = %.1f%% (goal %.0f%%), %d texts\n",
		right, reported, 100*precision, 100*regionPrecisionGoal, found, expected, 100*recall, 100*regionRecallGoal, len(cases))
	for _, m := range misses {
		fmt.Printf("region miss: %s\n", m)
	}
	if precision < regionPrecisionGoal || recall < regionRecallGoal {
		t.Errorf("region scores below the goals: precision %.1f%%, recall %.1f%%", 100*precision, 100*recall)
	}
}

func readRegionCases(t *testing.T, path string) []regionCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []regionCase
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var c regionCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if c.ID == "" || seen[c.ID] {
			t.Fatalf("%s: missing or repeated id %q", path, c.ID)
		}
		seen[c.ID] = true
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

func regionLevels(r *record.Region) map[string]string {
	out := map[string]string{}
	if r == nil {
		return out
	}
	for level, a := range map[string]*record.Area{"province": r.Province, "regency": r.Regency, "district": r.District} {
		if a != nil {
			out[level] = a.Code
		}
	}
	return out
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}
