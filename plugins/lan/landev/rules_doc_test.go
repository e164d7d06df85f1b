package landev

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nichost/nichost/plugins/lan/phy"
)

// The Watcher's messages have no constants to compare ABI.md with, so this
// test makes the Watcher of each part record every misuse an MDIO write can
// provoke (each register written outside and during a soft reset) and
// checks that the part's subsection of abi/ABI.md §8.6 quotes each
// message, its values replaced by the placeholders ABI.md uses (0xVVVV for
// the value, R for the register).
func TestWatcher_RulesInABIDoc(t *testing.T) {
	b, err := os.ReadFile("../../../abi/ABI.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, tc := range []struct {
		heading, next string // the subsection and the one after it
		model         phy.Model
		addr          uint8
		prefix        string
		kinds         int // at least this many kinds of misuse
	}{
		{"#### lan8720", "#### ksz8081", phy.LAN8720A, LAN8720Addr, "lan8720: ", 2}, // read-only register, write during reset
		{"#### ksz8081", "#### w5500", phy.KSZ8081, KSZ8081Addr, "ksz8081: ", 3},    // and the vendor read-only registers
	} {
		t.Run(tc.model.String(), func(t *testing.T) {
			start := strings.Index(doc, tc.heading)
			end := strings.Index(doc, tc.next)
			if start < 0 || end < start {
				t.Fatalf("abi/ABI.md has no %q subsection before %q", tc.heading, tc.next)
			}
			sec := oneLine(doc[start:end])

			now := time.Unix(1000, 0)
			p := phy.New(phy.Options{Model: tc.model, Addr: tc.addr, Now: func() time.Time { return now }})
			w := Watch(p)
			settle := func() { now = now.Add(2 * phy.DefaultResetTime) }
			for reg := uint8(1); reg < 32; reg++ { // outside a reset
				for _, v := range []uint16{0x0000, 0xffff} {
					settle()
					w.WriteReg(reg, v)
				}
			}
			settle()
			w.WriteReg(phy.RegBMCR, phy.BMCRReset)
			for reg := uint8(0); reg < 32; reg++ { // during it
				w.WriteReg(reg, 0x1234)
			}
			settle()
			w.WriteReg(phy.RegBMCR, 0x0000)

			value := regexp.MustCompile(`0x[0-9a-f]{4}`)
			register := regexp.MustCompile(`\bregister [0-9]+\b`)
			kinds := map[string]bool{}
			for _, e := range w.Errors() {
				msg, ok := strings.CutPrefix(e.Error(), tc.prefix)
				if !ok {
					t.Errorf("misuse %q does not start with %q", e, tc.prefix)
					continue
				}
				msg = register.ReplaceAllString(value.ReplaceAllString(msg, "0xVVVV"), "register R")
				kinds[msg] = true
			}
			if len(kinds) < tc.kinds {
				t.Errorf("the Watcher recorded %d kinds of misuse, want at least %d: %v", len(kinds), tc.kinds, w.Errors())
			}
			if !strings.Contains(sec, "`"+tc.prefix+"`") {
				t.Errorf("abi/ABI.md's %s subsection does not give the messages' prefix `%s`", tc.heading, tc.prefix)
			}
			for msg := range kinds {
				if !strings.Contains(sec, "`"+oneLine(msg)+"`") {
					t.Errorf("abi/ABI.md's %s subsection does not quote the misuse %q", tc.heading, msg)
				}
			}
		})
	}
}

// oneLine collapses every run of white space to one space, so that a
// message ABI.md wraps across lines still matches.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
