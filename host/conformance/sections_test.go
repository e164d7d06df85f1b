package conformance

import (
	"os"
	"strings"
	"testing"

	"github.com/nichost/nichost/abi"
)

// abiHeadings returns the headings of abi/ABI.md without their leading #s,
// leaving out lines of code blocks.
func abiHeadings(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("../../abi/ABI.md")
	if err != nil {
		t.Fatal(err)
	}
	headings := map[string]bool{}
	code := false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "```") {
			code = !code
			continue
		}
		if code || !strings.HasPrefix(line, "#") {
			continue
		}
		if h, ok := strings.CutPrefix(strings.TrimLeft(line, "#"), " "); ok {
			headings[strings.TrimSpace(h)] = true
		}
	}
	if len(headings) == 0 {
		t.Fatal("abi/ABI.md has no headings")
	}
	return headings
}

// Every check names the ABI.md section whose rule it tests, and that
// section exists.
func TestChecks_SectionsExist(t *testing.T) {
	headings := abiHeadings(t)
	for class, checks := range suites {
		for _, c := range checks {
			switch {
			case c.section == "":
				t.Errorf("%s suite: check %q names no section of abi/ABI.md", class, c.name)
			case !headings[c.section]:
				t.Errorf("%s suite: check %q names section %q, which abi/ABI.md has no heading for", class, c.name, c.section)
			}
		}
	}
	for _, sec := range loadSections {
		if !headings[sec] {
			t.Errorf("the load check may name section %q, which abi/ABI.md has no heading for", sec)
		}
	}
	for class, sec := range classSections {
		if !headings[sec] {
			t.Errorf("class %s: abi/ABI.md has no heading %q", class, sec)
		}
	}
}

// The contract of each class that has a suite is tested by at least one
// of its checks: LAN and WIZNET5K are complete in ABI.md.
func TestChecks_ClassSectionsTested(t *testing.T) {
	for _, class := range []string{abi.ClassLAN, abi.ClassWIZNET5K} {
		checks, ok := suites[class]
		if !ok {
			t.Errorf("no suite for class %s", class)
			continue
		}
		named := false
		for _, c := range checks {
			named = named || c.section == classSections[class]
		}
		if !named {
			t.Errorf("no check of the %s suite names section %q", class, classSections[class])
		}
	}
}
