package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A driver that misuses the chip FAILs `nichost test`, even where what the
// check looked at came out right: the W5500 test driver in
// plugins/wiznet/testdata/misuse issues a SEND before it has seen the
// previous one complete, and the FAIL line names the datasheet rule the
// simulator recorded; the plugin's log follows the results.
func TestTestCommand_MisusingDriver(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "test", filepath.Join(root, "plugins", "wiznet", "testdata", "misuse"), "--sim", "w5500")
	if err == nil || !strings.Contains(err.Error(), "checks failed") {
		t.Fatalf("the misusing driver passed: %v\n%s", err, out)
	}
	var fails []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "FAIL  ") {
			fails = append(fails, line)
		}
	}
	const (
		what = "the driver misused the simulated device"
		rule = "SEND while the previous SEND has not been seen to complete"
		cite = "(datasheet §4.2, Sn_CR: a command is still being processed after Sn_CR reads 0;"
	)
	if len(fails) == 0 {
		t.Fatalf("no FAIL line:\n%s", out)
	}
	for _, f := range fails {
		if !strings.Contains(f, what) || !strings.Contains(f, rule) || !strings.Contains(f, cite) {
			t.Errorf("FAIL line does not name the misuse and its rule: %s", f)
		}
	}
	// The plugin's log: the driver's own lines, after the summary.
	_, log, ok := strings.Cut(out, " skipped\n")
	if !ok || !strings.Contains(log, "the plugin's log") || !strings.Contains(log, `msg="w5500: link up, 100 Mb/s full duplex" plugin=dut`) {
		t.Fatalf("the plugin's log lines are not shown after the failure:\n%s", out)
	}
}

// pluginLog keeps the plugin's lines only, the last maxPluginLog of them.
func TestPluginLog(t *testing.T) {
	l := newPluginLog("dut")
	log := l.Logger()
	log.Info("core line")
	log.With("plugin", "other").Info("another plugin")
	p := log.With("plugin", "dut")
	for i := range maxPluginLog + 5 {
		p.Info("driver line", "i", i)
	}
	var b bytes.Buffer
	l.show(&b)
	out := b.String()
	if !strings.HasPrefix(out, "the plugin's log (the last 200 of 205 lines):\n") ||
		strings.Contains(out, "core line") || strings.Contains(out, "another plugin") ||
		strings.Contains(out, " i=4\n") || !strings.Contains(out, " i=5\n") || !strings.Contains(out, " i=204\n") {
		t.Fatalf("shown:\n%s", out)
	}
	var empty bytes.Buffer
	newPluginLog("dut").show(&empty)
	if empty.String() != "the plugin wrote no log lines\n" {
		t.Fatalf("an empty log shows %q", empty.String())
	}
}

// A plugin that does not load FAILs the load check, labelled with the
// section of ABI.md its error breaks, and the summary counts the checks
// that could not run as skipped, not failed.
func TestTestCommand_LoadFails(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(t.TempDir(), "garbage.wasm")
	if err := os.WriteFile(garbage, []byte("not a wasm module"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, source, section string
	}{
		{"not a module", garbage, "1. Shape of a plugin"},
		{"ABI version", filepath.Join(root, "host", "testdata", "plugins", "hostile", "abiversion"), "6. Versioning"},
		{"buses not granted", filepath.Join(root, "host", "testdata", "plugins", "needy"), "8.5 Bus names"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := run(t, "test", c.source, "--sim", "lan8720")
			if err == nil || !strings.Contains(err.Error(), "1 of ") || !strings.Contains(err.Error(), "checks failed") {
				t.Fatalf("err = %v; want 1 check failed\n%s", err, out)
			}
			if !strings.Contains(out, "\nFAIL  load (") || !strings.Contains(out, ", ABI.md "+c.section+"): ") {
				t.Errorf("the load check's FAIL line does not name ABI.md %s:\n%s", c.section, out)
			}
			skipped := strings.Count(out, "\nSKIP  ")
			if want := fmt.Sprintf("\n0 passed, 1 failed, %d skipped\n", skipped); skipped == 0 || !strings.Contains(out, want) {
				t.Errorf("summary: want %q:\n%s", strings.TrimSpace(want), out)
			}
		})
	}
}
