package abi

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// ABI.md is the contract; these tests keep it and the code from drifting.

var rowRE = regexp.MustCompile("^\\| `([a-z_0-9A-Z]+)` \\| `?([^`|]+?)`? \\|")

// docRows returns the first two cells of the table rows in the section of
// ABI.md whose heading starts with heading, up to the next "## " heading.
func docRows(t *testing.T, heading string) [][2]string {
	t.Helper()
	b, err := os.ReadFile("ABI.md")
	if err != nil {
		t.Fatal(err)
	}
	var rows [][2]string
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "## ") {
			in = strings.HasPrefix(line, heading)
			continue
		}
		if m := rowRE.FindStringSubmatch(line); in && m != nil {
			rows = append(rows, [2]string{m[1], m[2]})
		}
	}
	if len(rows) == 0 {
		t.Fatalf("ABI.md has no table rows under %q", heading)
	}
	return rows
}

func funcsOf(rows [][2]string) []Func {
	var fs []Func
	for _, r := range rows {
		if strings.HasPrefix(r[1], "(") {
			fs = append(fs, Func{Name: r[0], Sig: Signature(r[1])})
		}
	}
	return fs
}

// unversioned drops Since, which the tables do not carry in a cell of
// their own.
func unversioned(fs []Func) []Func {
	out := make([]Func, len(fs))
	for i, f := range fs {
		out[i] = Func{Name: f.Name, Sig: f.Sig}
	}
	return out
}

func TestABIDoc_ExportsAndImports(t *testing.T) {
	if got, want := funcsOf(docRows(t, "## 4. Exports")), unversioned(ExportFuncs()); !reflect.DeepEqual(got, want) {
		t.Errorf("ABI.md exports:\n%v\nabi.ExportFuncs():\n%v", got, want)
	}
	if got, want := funcsOf(docRows(t, "## 5. Imports")), unversioned(ImportFuncs()); !reflect.DeepEqual(got, want) {
		t.Errorf("ABI.md imports:\n%v\nabi.ImportFuncs():\n%v", got, want)
	}
}

// The SDK must use exactly the documented functions: every wasmexport and
// wasmimport in abi/guest is in the ABI, and every ABI function is there.
func TestABIDoc_SDKUsesTheDocumentedFunctions(t *testing.T) {
	b, err := os.ReadFile("guest/wasm.go")
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	collect := func(re string) []string {
		var names []string
		for _, m := range regexp.MustCompile(re).FindAllStringSubmatch(src, -1) {
			names = append(names, m[1])
		}
		sort.Strings(names)
		return names
	}
	names := func(fs []Func) []string {
		var n []string
		for _, f := range fs {
			n = append(n, f.Name)
		}
		sort.Strings(n)
		return n
	}
	if got, want := collect(`(?m)^//go:wasmexport (\S+)$`), names(ExportFuncs()); !reflect.DeepEqual(got, want) {
		t.Errorf("SDK exports %v\nABI exports %v", got, want)
	}
	if got, want := collect(`(?m)^//go:wasmimport nic (\S+)$`), names(ImportFuncs()); !reflect.DeepEqual(got, want) {
		t.Errorf("SDK imports %v\nABI imports %v", got, want)
	}
	// Each Go declaration has as many parameters as the documented type.
	declRE := regexp.MustCompile(`(?m)^//go:wasmimport nic (\S+)\nfunc \w+\(([^)]*)\)`)
	sigs := map[string]Signature{}
	for _, f := range ImportFuncs() {
		sigs[f.Name] = f.Sig
	}
	for _, m := range declRE.FindAllStringSubmatch(src, -1) {
		got := 0
		for _, group := range strings.Split(m[2], ",") {
			if strings.TrimSpace(group) != "" {
				got++
			}
		}
		if want := len(sigs[m[1]].Params()); got != want {
			t.Errorf("SDK declares nic.%s with %d parameters, ABI.md has %d", m[1], got, want)
		}
	}
}

func TestABIDoc_Numbers(t *testing.T) {
	tables := []struct {
		heading string
		want    map[string]int
	}{
		{"## 2. Return codes", map[string]int{
			"EPERM": EPERM, "EIO": EIO, "E2BIG": E2BIG, "EBADF": EBADF, "EAGAIN": EAGAIN, "EFAULT": EFAULT,
			"ENODEV": ENODEV, "EINVAL": EINVAL, "EMSGSIZE": EMSGSIZE, "ENOTSUP": ENOTSUP, "ENOBUFS": ENOBUFS, "ETIMEDOUT": ETIMEDOUT,
		}},
		{"## 4. Exports", map[string]int{
			"EVENT_TIMER": int(EventTimer), "EVENT_GPIO": int(EventGPIO), "EVENT_UART": int(EventUART),
			"EVENT_FRAME": int(EventFrame), "EVENT_TX": int(EventTx), "EVENT_START": int(EventStart),
		}},
		{"## 3. Values", map[string]int{
			"ValueError": KindValueError, "TypeError": KindTypeError, "OSError": KindOSError, "NotImplementedError": KindUnsupported,
		}},
	}
	for _, tab := range tables {
		got := map[string]int{}
		for _, r := range docRows(t, tab.heading) {
			if _, ok := tab.want[r[0]]; !ok {
				continue
			}
			n, err := strconv.Atoi(r[1])
			if err != nil {
				t.Errorf("%s: %s = %q is not a number", tab.heading, r[0], r[1])
			}
			got[r[0]] = n
		}
		if !reflect.DeepEqual(got, tab.want) {
			t.Errorf("%s: ABI.md says %v, package abi says %v", tab.heading, got, tab.want)
		}
	}
	b, _ := os.ReadFile("ABI.md")
	doc := string(b)
	for _, want := range []string{
		"tag **32870**", "# nichost driver ABI, version 1.1", "five little-endian u32", "`0x00010001`", "1.0 was `0x00010000`",
		"at least 1514", "at most 262144 bytes", "(at most 256)", "more than 256 records", "over 1048576",
		"default 250 µs", "default 0.5", "`ns` + 10 ms",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("ABI.md lacks %q", want)
		}
	}
	for _, f := range HostFeatures() {
		if !strings.Contains(doc, "`"+f+"`") {
			t.Errorf("ABI.md does not name the host feature %q", f)
		}
	}
	if !strings.Contains(doc, fmt.Sprintf("1..%d", MaxTxBatch)) && !strings.Contains(doc, fmt.Sprintf("at most %d frames", MaxTxBatch)) {
		t.Errorf("ABI.md does not give nic_transmit_batch's limit of %d frames", MaxTxBatch)
	}
	// Each function added after 1.0 says so in its row.
	for _, f := range append(ExportFuncs(), ImportFuncs()...) {
		if f.Since == 0 {
			continue
		}
		row := regexp.MustCompile("(?m)^\\| `" + f.Name + "` \\|.*$").FindString(doc)
		if !strings.Contains(strings.ToLower(row), "since "+VersionString(f.Since)) && !strings.Contains(doc, "`"+f.Name+"` (since "+VersionString(f.Since)) {
			t.Errorf("ABI.md's row for %s does not say it is new in %s: %q", f.Name, VersionString(f.Since), row)
		}
	}
	if TagTuple != 32870 || SPIOpSize != 20 || Version != 0x00010001 || MaxSleepNanos != 10_000_000 || SPIMaxOps != 64 ||
		MinTxBuffer != 1514 || MaxTxBuffer != 262144 || MaxRxBatch != 256 || MaxBlobRead != 1048576 || MaxTxBatch != 64 {
		t.Error("a constant changed: update ABI.md and this test together")
	}
}
