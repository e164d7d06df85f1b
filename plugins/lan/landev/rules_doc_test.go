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
// test makes the Watcher record every misuse an MDIO write can provoke
// (each register written outside and during a soft reset) and checks that
// abi/ABI.md §8.6 quotes each message, its values replaced by the
// placeholders ABI.md uses (0xVVVV for the value, R for the register).
func TestWatcher_RulesInABIDoc(t *testing.T) {
	b, err := os.ReadFile("../../../abi/ABI.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "#### lan8720")
	end := strings.Index(doc, "#### w5500")
	if start < 0 || end < start {
		t.Fatal("abi/ABI.md has no lan8720 subsection before the w5500 one")
	}
	sec := oneLine(doc[start:end])

	now := time.Unix(1000, 0)
	p := phy.New(phy.Options{Addr: 1, Now: func() time.Time { return now }})
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
		msg, ok := strings.CutPrefix(e.Error(), "lan8720: ")
		if !ok {
			t.Errorf("misuse %q does not start with %q", e, "lan8720: ")
			continue
		}
		msg = register.ReplaceAllString(value.ReplaceAllString(msg, "0xVVVV"), "register R")
		kinds[msg] = true
	}
	if len(kinds) < 2 {
		t.Errorf("the Watcher recorded %d kinds of misuse, want at least 2 (read-only register, write during reset): %v", len(kinds), w.Errors())
	}
	if !strings.Contains(sec, "`lan8720: `") {
		t.Error("abi/ABI.md's lan8720 subsection does not give the messages' prefix `lan8720: `")
	}
	for msg := range kinds {
		if !strings.Contains(sec, "`"+oneLine(msg)+"`") {
			t.Errorf("abi/ABI.md's lan8720 subsection does not quote the misuse %q", msg)
		}
	}
}

// oneLine collapses every run of white space to one space, so that a
// message ABI.md wraps across lines still matches.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
