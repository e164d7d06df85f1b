package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

// The defaults ABI.md §7 promises driver authors are the ones the host
// applies.
func TestDefaultLimits_AsABIDocSays(t *testing.T) {
	b, err := os.ReadFile("../../abi/ABI.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, c := range []struct {
		ok   bool
		text string
	}{
		{DefaultLimits.MinPollInterval == 250*time.Microsecond, "`min_poll_interval` apart (default 250 µs"},
		{DefaultLimits.CPUShare == 0.5, "(default 0.5"},
		{DefaultLimits.MemoryLimit == 64<<20, "a memory limit (default 64 MiB"},
		{DefaultLimits.CallTimeout == 2*time.Second, "per call (default 2 s)"},
	} {
		if !c.ok || !strings.Contains(doc, c.text) {
			t.Errorf("ABI.md says %q: the default and the text must agree (default %v in code)", c.text, c.ok)
		}
	}
}
