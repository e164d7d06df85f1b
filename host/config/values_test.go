package config

import (
	"strings"
	"testing"
)

func TestCountryList(t *testing.T) {
	codes := strings.Fields(iso3166)
	if len(codes) != 250 { // 249 assigned codes + XX
		t.Fatalf("%d codes, want 249 assigned + XX", len(codes))
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if len(c) != 2 || seen[c] {
			t.Fatalf("bad or repeated code %q", c)
		}
		seen[c] = true
	}
}
