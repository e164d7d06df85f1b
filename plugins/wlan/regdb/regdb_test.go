package regdb

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/nichost/nichost/plugins/wlan/regdb/internal/dbtxt"
)

func span(a, b int) []int {
	var s []int
	for c := a; c <= b; c++ {
		s = append(s, c)
	}
	return s
}

func mustLookup(t *testing.T, code string) Rules {
	t.Helper()
	r, err := Lookup(code)
	if err != nil {
		t.Fatalf("Lookup(%q): %v", code, err)
	}
	return r
}

// The facts below are what db.txt 2026.05.30 says (the rule is quoted).
func TestCountries(t *testing.T) {
	for _, tc := range []struct {
		code     string
		channels []int
		maxEIRP  int
		noIR     []int
		noOFDM   []int
		rule     string
	}{
		// US: (2400 - 2472 @ 40), (30)
		{"US", span(1, 11), 30, nil, nil, "2400-2472 @40, 30 dBm"},
		// CA: (2400 - 2483.5 @ 40), (4000 mW) = 36.02 dBm
		{"CA", span(1, 13), 36, nil, nil, "2400-2483.5 @40, 4000 mW"},
		// DE: (2400 - 2483.5 @ 40), (100 mW)
		{"DE", span(1, 13), 20, nil, nil, "2400-2483.5 @40, 100 mW"},
		{"GB", span(1, 13), 20, nil, nil, "2400-2483.5 @40, 100 mW"},
		// JP: (2402 - 2482 @ 40), (20) and (2474 - 2494 @ 20), (20), NO-OFDM
		{"JP", span(1, 14), 20, nil, []int{14}, "2402-2482 @40 + 2474-2494 @20 NO-OFDM"},
		// MY: (2400 - 2500 @ 40), (500 mW) = 26.99 dBm: channel 14 fits too
		{"MY", span(1, 14), 26, nil, nil, "2400-2500 @40, 500 mW"},
		// XX: 00's (2402 - 2472 @ 40), (20), channels 1..11 only
		{"XX", span(1, 11), 20, nil, nil, "00 restricted to 1..11"},
	} {
		r := mustLookup(t, tc.code)
		if r.Country != tc.code || !slices.Equal(r.Channels, tc.channels) || r.MaxEIRP != tc.maxEIRP ||
			!slices.Equal(r.NoIR, tc.noIR) || !slices.Equal(r.NoOFDM, tc.noOFDM) {
			t.Errorf("%s (%s): got %+v; want channels %v, %d dBm, NO-IR %v, NO-OFDM %v",
				tc.code, tc.rule, r, tc.channels, tc.maxEIRP, tc.noIR, tc.noOFDM)
		}
		for ch := 0; ch <= 15; ch++ {
			want := slices.Contains(tc.channels, ch)
			if r.Allows(ch) != want {
				t.Errorf("%s.Allows(%d) = %v, want %v", tc.code, ch, !want, want)
			}
			dbm, ok := r.MaxPower(ch)
			if ok != want || (ok && dbm != tc.maxEIRP) || (!ok && dbm != 0) {
				t.Errorf("%s.MaxPower(%d) = %d, %v", tc.code, ch, dbm, ok)
			}
		}
	}
}

func TestPowerUnits(t *testing.T) {
	for _, tc := range []struct {
		code string
		mBm  int
	}{
		{"DE", 2000}, // 100 mW
		{"US", 3000}, // 30 dBm
		{"CA", 3602}, // 4000 mW
		{"MY", 2698}, // 500 mW
		{"KR", 2300}, // 200 mW
		{"XX", 2000},
	} {
		r := mustLookup(t, tc.code)
		if m, ok := r.MaxPowerMBm(1); !ok || m != tc.mBm {
			t.Errorf("%s.MaxPowerMBm(1) = %d, %v; want %d", tc.code, m, ok, tc.mBm)
		}
		if d, _ := r.MaxPower(1); d*100 > tc.mBm || (d+1)*100 <= tc.mBm {
			t.Errorf("%s.MaxPower(1) = %d, not %d mBm rounded down", tc.code, d, tc.mBm)
		}
	}
	if _, ok := mustLookup(t, "US").MaxPowerMBm(12); ok {
		t.Error("US.MaxPowerMBm(12) ok, channel 12 is not allowed")
	}
}

func TestJPChannel14(t *testing.T) {
	r := mustLookup(t, "JP")
	if !r.Allows(14) || r.PassiveOnly(14) || !slices.Contains(r.NoOFDM, 14) {
		t.Fatalf("JP channel 14: %+v; want allowed, active, 802.11b only", r)
	}
	if a, b := r.HT40(14); a || b {
		t.Errorf("JP.HT40(14) = %v, %v; channel 14 has no 40 MHz", a, b)
	}
	for _, code := range []string{"US", "DE", "XX"} {
		if mustLookup(t, code).Allows(14) {
			t.Errorf("%s allows channel 14", code)
		}
	}
}

func TestHT40(t *testing.T) {
	for _, tc := range []struct {
		code        string
		plus, minus []int
	}{
		{"DE", span(1, 9), span(5, 13)},
		{"US", span(1, 7), span(5, 11)}, // 12..13 not allowed: 8..11 have no secondary above
		{"XX", span(1, 7), span(5, 11)},
		{"KP", nil, nil}, // (2402 - 2482 @ 20): 20 MHz only
	} {
		r := mustLookup(t, tc.code)
		if !slices.Equal(r.HT40Plus, tc.plus) || !slices.Equal(r.HT40Minus, tc.minus) {
			t.Errorf("%s HT40 +%v -%v, want +%v -%v", tc.code, r.HT40Plus, r.HT40Minus, tc.plus, tc.minus)
		}
	}
	if a, b := mustLookup(t, "DE").HT40(7); !a || !b {
		t.Errorf("DE.HT40(7) = %v, %v; want both", a, b)
	}
}

func TestNoOutdoor(t *testing.T) {
	// UA: (2400 - 2483.5 @ 40), (100 mW), NO-OUTDOOR
	if r := mustLookup(t, "UA"); !slices.Equal(r.NoOutdoor, span(1, 13)) {
		t.Errorf("UA NoOutdoor = %v, want 1..13", r.NoOutdoor)
	}
	if r := mustLookup(t, "DE"); r.NoOutdoor != nil {
		t.Errorf("DE NoOutdoor = %v, want none", r.NoOutdoor)
	}
}

func TestCase(t *testing.T) {
	want := mustLookup(t, "DE")
	for _, code := range []string{"de", "De", "dE"} {
		r := mustLookup(t, code)
		if r.Country != "DE" || !slices.Equal(r.Channels, want.Channels) || r.MaxEIRP != want.MaxEIRP {
			t.Errorf("Lookup(%q) = %+v, want DE's rules", code, r)
		}
	}
	if r := mustLookup(t, "xx"); r.Country != "XX" {
		t.Errorf(`Lookup("xx").Country = %q`, r.Country)
	}
}

func TestUnknown(t *testing.T) {
	// "00" is db.txt's world domain, not a code nichost takes (XX is).
	for _, code := range []string{"QQ", "qq", "", "D", "DEU", "00", "1A", "D\x00", "Dé", " DE"} {
		r, err := Lookup(code)
		var ue *UnknownCountryError
		want := fmt.Sprintf("regdb: no rules for country %q", code)
		if !errors.As(err, &ue) || ue.Code != code || err.Error() != want {
			t.Errorf("Lookup(%q) = %+v, %v; want error %s", code, r, err, want)
		}
	}
	if _, err := Lookup("QQ"); err.Error() != `regdb: no rules for country "QQ"` {
		t.Errorf("Lookup(QQ): %v", err)
	}
}

func TestCountriesList(t *testing.T) {
	cs := Countries()
	if !slices.IsSorted(cs) || len(cs) != len(table) {
		t.Fatalf("Countries() not sorted or wrong length: %v", cs)
	}
	if len(cs) < 150 {
		t.Errorf("only %d countries", len(cs))
	}
	for _, c := range []string{"XX", "DE", "US", "JP", "GB", "FR", "CN", "BR", "AU", "IN"} {
		if !slices.Contains(cs, c) {
			t.Errorf("Countries() lacks %s", c)
		}
	}
	if slices.Contains(cs, "00") {
		t.Error(`Countries() lists "00"`)
	}
	cs[0] = "ZZ"
	if Countries()[0] == "ZZ" {
		t.Error("Countries() shares its slice")
	}
}

// Table-wide invariants, and the claim of the doc that every country
// allows 1..11 (so XX is safe anywhere).
func TestInvariants(t *testing.T) {
	for _, c := range Countries() {
		r := mustLookup(t, c)
		if len(c) != 2 || strings.ToUpper(c) != c || r.Country != c {
			t.Errorf("bad code %q (%q)", c, r.Country)
		}
		if !slices.IsSorted(r.Channels) || len(r.Channels) == 0 || r.Channels[0] < 1 || r.Channels[len(r.Channels)-1] > 14 {
			t.Errorf("%s: channels %v", c, r.Channels)
		}
		for _, ch := range span(1, 11) {
			if !r.Allows(ch) || r.PassiveOnly(ch) {
				t.Errorf("%s does not allow channel %d actively", c, ch)
			}
		}
		top := 0
		for _, ch := range r.Channels {
			d, ok := r.MaxPower(ch)
			if !ok || d <= 0 {
				t.Errorf("%s channel %d: power %d, %v", c, ch, d, ok)
			}
			top = max(top, d)
		}
		if top != r.MaxEIRP {
			t.Errorf("%s MaxEIRP %d, highest channel %d", c, r.MaxEIRP, top)
		}
		for _, list := range [][]int{r.NoIR, r.NoOFDM, r.NoOutdoor, r.HT40Plus, r.HT40Minus} {
			for _, ch := range list {
				if !r.Allows(ch) {
					t.Errorf("%s: flag on channel %d it does not allow", c, ch)
				}
			}
		}
		for _, ch := range r.HT40Plus {
			if !r.Allows(ch + 4) {
				t.Errorf("%s: HT40+ on %d without %d", c, ch, ch+4)
			}
		}
		for _, ch := range r.HT40Minus {
			if !r.Allows(ch - 4) {
				t.Errorf("%s: HT40- on %d without %d", c, ch, ch-4)
			}
		}
	}
}

func TestRulesAreCopies(t *testing.T) {
	r := mustLookup(t, "DE")
	r.Channels[0] = 99
	r.Channels = append(r.Channels[:0], 14)
	if again := mustLookup(t, "DE"); !slices.Equal(again.Channels, span(1, 13)) {
		t.Errorf("changing a result changed the table: %v", again.Channels)
	}
}

// TestRegenerate checks that table.go is what the generator makes of its
// own source. It needs that db.txt: set REGDB_TXT to its path.
func TestRegenerate(t *testing.T) {
	path := os.Getenv("REGDB_TXT")
	if path == "" {
		t.Skip("REGDB_TXT is not set: db.txt (wireless-regdb " + DBVersion + ") is not part of nichost; see doc.go")
	}
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(src); hex.EncodeToString(sum[:]) != DBSHA256 {
		t.Skipf("%s is not the table's source (SHA-256 %x, table.go was made from %s, release %s); regenerate instead",
			path, sum, DBSHA256, DBVersion)
	}
	got, err := dbtxt.Generate(src, DBVersion)
	if err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile("table.go")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(have) {
		t.Error("table.go differs from what its db.txt generates; run go generate")
	}
}
