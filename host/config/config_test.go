package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nichost/nichost/host/config"
)

const goodConfig = `
hostname: board-7
country: de
limits: {memory_limit: 32MiB, call_timeout: 1500ms}
plugins:
  - name: eth0
    source: plugins/wiznet
    class: WIZNET5K
    buses:
      spi:   {kind: spi, spi: {device: /dev/spidev0.0, speed_hz: 20000000}}
      reset: {kind: gpio, gpio: {chip: gpiochip0, line: GPIO25}}
      irq:   {kind: gpio, sim: w5500-int}
    interfaces: {eth: {mac: "02:00:00:00:00:01"}}
    options: {interrupt: true, retries: 3}
    limits: {call_timeout: 500ms}
`

func TestParseConfig(t *testing.T) {
	cfg, err := config.ParseConfig(strings.NewReader(goodConfig))
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Plugins[0]
	if cfg.Limits.MemoryLimit != 32<<20 || cfg.Limits.CallTimeout != 1500*time.Millisecond {
		t.Fatalf("limits %+v", cfg.Limits)
	}
	if p.Buses["spi"].SPI.SpeedHz != 20000000 || p.Buses["irq"].Sim != "w5500-int" || p.Options["retries"] != 3 {
		t.Fatalf("plugin %+v", p)
	}
	if p.Limits.CallTimeout != 500*time.Millisecond {
		t.Fatalf("plugin limits %+v", p.Limits)
	}
}

func TestParseConfig_Errors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "plugins:\n  - name: a\n    source: x\n    bsues: {}\n", `line 4: plugins[0]: unknown key "bsues"; want one of name, source,`},
		{"long hostname", "hostname: " + strings.Repeat("h", 33) + "\n", "hostname: ValueError"},
		{"bad country", "country: ZZ\n", "country: ValueError"},
		{"bad size", "limits: {memory_limit: lots}\n", `size "lots"`},
		{"tiny memory", "limits: {memory_limit: 1MiB}\n", "memory_limit: 1MiB out of range"},
		{"bad duration", "limits: {call_timeout: soon}\n", "soon"},
		{"no source", "plugins:\n  - name: a\n", "a: source: missing"},
		{"bad name", "plugins:\n  - name: 'eth 0'\n    source: x\n", `name: "eth 0"`},
		{"duplicate", "plugins:\n  - {name: a, source: x}\n  - {name: a, source: y}\n", `name "a" is used twice`},
		{"bad class", "plugins:\n  - {name: a, source: x, class: TOKENRING}\n", `class: "TOKENRING"`},
		{"bad kind", "plugins:\n  - {name: a, source: x, buses: {spi: {kind: i2c, sim: s}}}\n", "buses.spi: kind"},
		{"kind vs section", "plugins:\n  - {name: a, source: x, buses: {spi: {kind: gpio, spi: {device: /dev/spidev0.0}}}}\n", "a gpio grant cannot have a spi: section"},
		{"no bus named", "plugins:\n  - {name: a, source: x, buses: {spi: {kind: spi}}}\n", "neither sim: nor a spi: section"},
		{"bad spidev", "plugins:\n  - {name: a, source: x, buses: {spi: {kind: spi, spi: {device: /dev/sda}}}}\n", `"/dev/sda" is not of the form`},
		{"two frame ports", "plugins:\n  - {name: a, source: x, buses: {port: {kind: frame, tap: {name: t0}, packet: {interface: eth0}}}}\n", "one of tap: or packet:"},
		{"tap on spi", "plugins:\n  - {name: a, source: x, buses: {spi: {kind: spi, tap: {name: t0}}}}\n", "a spi grant cannot have a tap: section"},
		{"bad mac", "plugins:\n  - {name: a, source: x, interfaces: {eth: {mac: '02:00'}}}\n", "interfaces.eth.mac"},
		{"not yaml", "plugins: [\n", "did not find expected node content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.ParseConfig(strings.NewReader(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseConfig = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestLoadConfig_RelativeSources(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nichost.yaml")
	os.WriteFile(path, []byte("plugins:\n  - {name: a, source: drivers/lan}\n"), 0o644)
	cfg, err := config.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Plugins[0].Source; got != filepath.Join(dir, "drivers/lan") {
		t.Fatalf("source %q, want it relative to the config file", got)
	}
	if _, err := config.LoadConfig(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]config.ByteSize{"64MiB": 64 << 20, "64M": 64 << 20, "512KiB": 512 << 10, "1G": 1 << 30, "4096": 4096} {
		if got, err := config.ParseByteSize(in); err != nil || got != want {
			t.Errorf("ParseByteSize(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}
