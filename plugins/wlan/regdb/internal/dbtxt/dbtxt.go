// Package dbtxt parses wireless-regdb's db.txt and derives regdb's 2.4 GHz
// table from it. It is used by the generator (../gen) and by regdb's test
// that regenerates the committed table.
package dbtxt

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"go/format"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Rule is one frequency rule of a country, as db.txt writes it:
// "(start - end @ maxbw), (eirp), FLAG, ...".
type Rule struct {
	StartKHz, EndKHz, BWKHz int
	MBm                     int             // max EIRP in 1/100 dBm
	Flags                   map[string]bool // NO-IR, NO-OFDM, ...
	Line                    int
}

// DB is the parsed file: the rules of each country code ("00" is the
// world domain).
type DB struct {
	Countries map[string][]Rule
}

// knownFlags are the rule flags db.txt may use (those of the kernel's
// enum nl80211_reg_rule_flags that db.txt spells).
var knownFlags = map[string]bool{
	"NO-OFDM": true, "NO-CCK": true, "NO-INDOOR": true, "NO-OUTDOOR": true,
	"DFS": true, "PTP-ONLY": true, "PTMP-ONLY": true, "NO-IR": true,
	"NO-HT40": true, "AUTO-BW": true,
}

// Parse reads db.txt. It knows the file's grammar: comments (#), wmmrule
// blocks (skipped), "country A[,B...]: [DFS-region]" headers and their
// inline rules. Named band/power definitions are refused (db.txt has not
// used them for years); an unknown flag is an error, so a format change
// is noticed rather than misread.
func Parse(src []byte) (*DB, error) {
	db := &DB{Countries: map[string][]Rule{}}
	var cur []string // the countries the rules belong to; nil outside a country
	inWMM := false
	sc := bufio.NewScanner(bytes.NewReader(src))
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.Join(strings.Fields(line), "") // db.txt is whitespace-insensitive
		if line == "" {
			continue
		}
		switch {
		case strings.HasPrefix(line, "country"):
			names, _, ok := strings.Cut(line[len("country"):], ":")
			if !ok || names == "" {
				return nil, fmt.Errorf("db.txt:%d: country needs a name and a colon", n)
			}
			cur = strings.Split(names, ",")
			for _, c := range cur {
				if len(c) != 2 {
					return nil, fmt.Errorf("db.txt:%d: country %q is not two characters", n, c)
				}
			}
			inWMM = false
		case strings.HasPrefix(line, "wmmrule"):
			cur, inWMM = nil, true
		case strings.HasPrefix(line, "band"), strings.HasPrefix(line, "power"):
			return nil, fmt.Errorf("db.txt:%d: named band/power definitions are not supported", n)
		case strings.HasPrefix(line, "(") && cur != nil:
			r, skip, err := parseRule(line)
			if err != nil {
				return nil, fmt.Errorf("db.txt:%d: %v", n, err)
			}
			if skip {
				continue
			}
			r.Line = n
			for _, c := range cur {
				db.Countries[c] = append(db.Countries[c], r)
			}
		case inWMM:
			// vo_c: cw_min=..., etc.
		default:
			return nil, fmt.Errorf("db.txt:%d: unexpected %q", n, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if _, ok := db.Countries["00"]; !ok {
		return nil, fmt.Errorf("db.txt: no world domain (country 00)")
	}
	return db, nil
}

// parseRule parses "(2400-2483.5@40),(100mW),NO-OUTDOOR" (spaces removed).
// skip is true for a rule the kernel ignores (NO-INDOOR).
func parseRule(s string) (r Rule, skip bool, err error) {
	band, rest, ok := strings.Cut(s[1:], "),")
	if !ok || !strings.HasPrefix(rest, "(") {
		return r, false, fmt.Errorf("want (start - end @ bw), (power): %q", s)
	}
	power, flags, ok := strings.Cut(rest[1:], ")")
	if !ok {
		return r, false, fmt.Errorf("unclosed power in %q", s)
	}
	freqs, bw, hasBW := strings.Cut(band, "@")
	r.BWKHz = 20000 // db.txt's default when "@ bw" is missing
	if hasBW {
		if r.BWKHz, err = khz(bw); err != nil {
			return r, false, err
		}
	}
	lo, hi, ok := strings.Cut(freqs, "-")
	if !ok {
		return r, false, fmt.Errorf("band %q needs start - end", band)
	}
	if r.StartKHz, err = khz(lo); err != nil {
		return r, false, err
	}
	if r.EndKHz, err = khz(hi); err != nil {
		return r, false, err
	}
	if r.StartKHz <= 0 || r.EndKHz <= r.StartKHz || r.BWKHz <= 0 {
		return r, false, fmt.Errorf("bad band %q", band)
	}
	// An old form is "(max antenna gain, max eirp)": the EIRP is the last.
	if i := strings.LastIndexByte(power, ','); i >= 0 {
		power = power[i+1:]
	}
	if r.MBm, err = mbm(power); err != nil {
		return r, false, err
	}
	r.Flags = map[string]bool{}
	if flags != "" {
		if flags[0] != ',' {
			return r, false, fmt.Errorf("want a comma after the power in %q", s)
		}
		for _, f := range strings.Split(flags[1:], ",") {
			switch {
			case strings.HasPrefix(f, "wmmrule="):
				// WMM parameters: not used on the station side here.
			case knownFlags[f]:
				r.Flags[f] = true
			default:
				return r, false, fmt.Errorf("unknown flag %q", f)
			}
		}
	}
	// dbparse (and so the kernel's database) drops NO-INDOOR rules.
	return r, r.Flags["NO-INDOOR"], nil
}

// khz parses a frequency or bandwidth in MHz ("2483.5") to kHz.
func khz(s string) (int, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v > 1e6 {
		return 0, fmt.Errorf("bad frequency %q", s)
	}
	return int(math.Round(v * 1000)), nil
}

// mbm parses a power ("20", "23.00", "100 mW", "N/A") to mBm. It truncates
// like db2fw.py does (int(eirp*100)); the epsilon keeps exact powers of ten
// exact (Go's Log10(1000) is 2.9999999999999996).
func mbm(s string) (int, error) {
	if s == "N/A" {
		return 0, nil
	}
	mw := strings.HasSuffix(s, "mW")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "mW"), 64)
	if err != nil || v < 0 || (mw && v == 0) {
		return 0, fmt.Errorf("bad power %q", s)
	}
	if mw {
		v = 10 * math.Log10(v)
	}
	return int(math.Floor(v*100 + 1e-6)), nil
}

// Channel is what one 2.4 GHz channel gets in a country.
type Channel struct {
	Allowed                 bool
	MBm                     int
	NoIR, NoOFDM, NoOutdoor bool
	HT40Plus, HT40Minus     bool
}

// CenterKHz is the centre of 2.4 GHz channel ch (1..14).
func CenterKHz(ch int) int {
	if ch == 14 {
		return 2484000
	}
	return (2407 + 5*ch) * 1000
}

// Derive computes channels 1..14 (index = channel; [0] unused) from a
// country's rules. A channel is allowed when its 20 MHz (centre ± 10 MHz)
// lies inside a rule whose max bandwidth is at least 20 MHz; if several
// rules hold it, the first in (start, end, bandwidth) order decides power
// and flags, as the kernel does with its sorted database. 40 MHz with the
// secondary above (below) needs both channels allowed and one rule with a
// max bandwidth of 40 MHz or more, without NO-HT40, holding the whole
// 40 MHz (centre -10..+30, or -30..+10). Channel 14 has no 40 MHz pairing.
func Derive(rules []Rule) [15]Channel {
	rs := slices.Clone(rules)
	slices.SortStableFunc(rs, func(a, b Rule) int {
		return cmp.Or(cmp.Compare(a.StartKHz, b.StartKHz), cmp.Compare(a.EndKHz, b.EndKHz),
			cmp.Compare(a.BWKHz, b.BWKHz), cmp.Compare(a.MBm, b.MBm))
	})
	fits := func(lo, hi, bw int) (Rule, bool) {
		for _, r := range rs {
			if r.BWKHz >= bw && r.StartKHz <= lo && hi <= r.EndKHz {
				return r, true
			}
		}
		return Rule{}, false
	}
	var out [15]Channel
	for ch := 1; ch <= 14; ch++ {
		c := CenterKHz(ch)
		r, ok := fits(c-10000, c+10000, 20000)
		if !ok {
			continue
		}
		out[ch] = Channel{Allowed: true, MBm: r.MBm, NoIR: r.Flags["NO-IR"],
			NoOFDM: r.Flags["NO-OFDM"], NoOutdoor: r.Flags["NO-OUTDOOR"]}
	}
	ht40 := func(lo, hi int) bool {
		for _, r := range rs {
			if r.BWKHz >= 40000 && !r.Flags["NO-HT40"] && r.StartKHz <= lo && hi <= r.EndKHz {
				return true
			}
		}
		return false
	}
	for ch := 1; ch <= 13; ch++ {
		c := CenterKHz(ch)
		if !out[ch].Allowed {
			continue
		}
		if ch+4 <= 13 && out[ch+4].Allowed {
			out[ch].HT40Plus = ht40(c-10000, c+30000)
		}
		if ch-4 >= 1 && out[ch-4].Allowed {
			out[ch].HT40Minus = ht40(c-30000, c+10000)
		}
	}
	return out
}

// Worldwide is nichost's "XX": the world domain (00) restricted to
// channels 1..11, the channels every country allows.
func Worldwide(world [15]Channel) [15]Channel {
	var out [15]Channel
	for ch := 1; ch <= 11; ch++ {
		out[ch] = world[ch]
	}
	for ch := 8; ch <= 11; ch++ {
		out[ch].HT40Plus = false // secondary would be 12..15
	}
	return out
}

// Table derives every country's channels, "XX" instead of "00".
func (db *DB) Table() map[string][15]Channel {
	t := map[string][15]Channel{}
	for code, rules := range db.Countries {
		if code == "00" {
			t["XX"] = Worldwide(Derive(rules))
			continue
		}
		t[code] = Derive(rules)
	}
	return t
}

// Generate renders table.go for package regdb from db.txt's bytes.
// version names the wireless-regdb release (db.txt has no version line).
func Generate(src []byte, version string) ([]byte, error) {
	if version == "" || strings.ContainsAny(version, "\"\\\n") {
		return nil, fmt.Errorf("bad version %q", version)
	}
	db, err := Parse(src)
	if err != nil {
		return nil, err
	}
	t := db.Table()
	if _, ok := t["XX"]; !ok {
		return nil, fmt.Errorf("no world domain")
	}
	sum := sha256.Sum256(src)
	var b bytes.Buffer
	fmt.Fprintf(&b, `// Code generated by plugins/wlan/regdb/internal/gen; DO NOT EDIT.
//
// Source: wireless-regdb %s, db.txt
// SHA-256 of db.txt: %s
// (db.txt carries no version or date line; the release is given to the
// generator with -version.)
//
// Regenerate (from plugins/wlan/regdb):
//	go run ./internal/gen -db /path/to/db.txt -version %s -o table.go
// or: REGDB_TXT=/path/to/db.txt REGDB_VERSION=%s go generate

package regdb

// The wireless-regdb release and the SHA-256 of the db.txt the table is
// derived from.
const (
	DBVersion = %q
	DBSHA256  = %q
)

var table = [...]entry{
`, version, hex.EncodeToString(sum[:]), version, version, version, hex.EncodeToString(sum[:]))
	codes := make([]string, 0, len(t))
	for c := range t {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	for _, code := range codes {
		fmt.Fprintf(&b, "\t{%q, []run{", code)
		for i, u := range runs(t[code]) {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "{%d, %d, %d, %s}", u.first, u.last, u.ch.MBm, flagExpr(u.ch))
		}
		b.WriteString("}},\n")
	}
	b.WriteString("}\n")
	out, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("gofmt of the generated table: %v", err)
	}
	return out, nil
}

type chanRun struct {
	first, last int
	ch          Channel
}

// runs merges consecutive allowed channels with equal limits and flags.
func runs(chs [15]Channel) []chanRun {
	var out []chanRun
	for ch := 1; ch <= 14; ch++ {
		c := chs[ch]
		if !c.Allowed {
			continue
		}
		if n := len(out); n > 0 && out[n-1].last == ch-1 && out[n-1].ch == c {
			out[n-1].last = ch
			continue
		}
		out = append(out, chanRun{ch, ch, c})
	}
	return out
}

func flagExpr(c Channel) string {
	var fs []string
	for _, f := range []struct {
		on   bool
		name string
	}{
		{c.NoIR, "noIR"}, {c.NoOFDM, "noOFDM"}, {c.NoOutdoor, "noOutdoor"},
		{c.HT40Plus, "ht40Plus"}, {c.HT40Minus, "ht40Minus"},
	} {
		if f.on {
			fs = append(fs, f.name)
		}
	}
	if len(fs) == 0 {
		return "0"
	}
	return strings.Join(fs, " | ")
}
