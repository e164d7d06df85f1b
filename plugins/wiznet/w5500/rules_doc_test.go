package w5500

import (
	"os"
	"strings"
	"testing"
)

// docRules are the rules misuse messages cite (rules.go), each of which
// abi/ABI.md §8.6 must quote: a rule that decides PASS or FAIL of `nichost
// test` is written where driver authors read the contract. A rule added to
// rules.go goes here and into ABI.md.
var docRules = map[string]string{
	"ruleFrame":    ruleFrame,
	"ruleFDM":      ruleFDM,
	"ruleBSB":      ruleBSB,
	"ruleReset":    ruleReset,
	"ruleReadOnly": ruleReadOnly,
	"rulePHYCFGR":  rulePHYCFGR,
	"ruleBufSize":  ruleBufSize,
	"ruleBufMove":  ruleBufMove,
	"ruleCommand":  ruleCommand,
	"ruleMACRAW":   ruleMACRAW,
	"ruleOpen":     ruleOpen,
	"ruleSendDone": ruleSendDone,
	"ruleTxFree":   ruleTxFree,
	"ruleFrameLen": ruleFrameLen,
	"ruleRecv":     ruleRecv,
	"ruleNoBuf":    ruleNoBuf,
	"ruleNotSim":   ruleNotSim,
}

// oneLine collapses every run of white space to one space, so that a rule
// ABI.md wraps across lines still matches.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Every rule the simulator cites is quoted word for word in ABI.md's
// section on the simulated devices.
func TestRules_InABIDoc(t *testing.T) {
	b, err := os.ReadFile("../../../abi/ABI.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "### 8.6 The simulated devices")
	end := strings.Index(doc, "## 9. The link protocol")
	if start < 0 || end < start {
		t.Fatal("abi/ABI.md has no section 8.6 The simulated devices before section 9")
	}
	sec := oneLine(doc[start:end])
	for name, rule := range docRules {
		if !strings.Contains(sec, "`"+oneLine(rule)+"`") {
			t.Errorf("abi/ABI.md §8.6 does not quote %s: %q", name, rule)
		}
	}
}
