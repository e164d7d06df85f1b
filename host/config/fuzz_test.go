package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseConfig: any bytes as a configuration file either parse into a
// configuration that validates, or fail with an error that says what is
// wrong; nothing panics and nothing hangs. (The daemon parses the file at
// start and at every SIGHUP, from a file an operator edits by hand.)
func FuzzParseConfig(f *testing.F) {
	example, err := os.ReadFile(filepath.Join("..", "..", "dist", "nichost.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		string(example),
		"",
		"hostname: board-7\ncountry: DE\n",
		"plugins:\n  - name: eth0\n    source: x.wasm\n    buses:\n      spi: {kind: spi, spi: {device: /dev/spidev0.0, speed_hz: 20000000}}\n",
		"plugins:\n  - name: eth0\n    source: x\n    interfaces:\n      eth: {mac: \"02:00:00:00:00:01\", ipconfig: {addr4: 192.168.0.4/24, gw4: 192.168.0.1, dns: [192.168.0.1]}}\n",
		"limits: {memory_limit: 64MiB, call_timeout: 2s}\n",
		"signatures: {require: true, keys: [a.pub], allow_source: false}\n",
		"a: &x {b: *x}\n",
		"base: &b {kind: gpio, sim: pin}\nplugins:\n  - name: p\n    source: s\n    buses: {rst: {<<: *b}}\n",
		"hostname: [broken\n",
		"\t- tab\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		cfg, err := ParseConfig(bytes.NewReader(text))
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatalf("an empty error for %q", text)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("ParseConfig accepted %q, but the result does not validate: %v", text, err)
		}
	})
}
