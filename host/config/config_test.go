package config_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nichost/nichost/host/config"
)

const goodConfig = `
hostname: board-7
country: de
engine: wasmtime
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
	if cfg.Engine != "wasmtime" {
		t.Fatalf("engine %q, want wasmtime", cfg.Engine)
	}
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
		{"bad engine", "hostname: h\nengine: wasmer\n", `line 2: engine: "wasmer" is not an engine: wazero or wasmtime`},
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
		{"bad interface name", "plugins:\n  - {name: a, source: x, interfaces: {sta: {name: 'wlan 0'}}}\n", "interfaces.sta.name"},
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

func TestParseConfig_IPConfig(t *testing.T) {
	const doc = `
plugins:
  - name: lan0
    source: plugins/lan
    interfaces:
      eth:
        mac: "02:00:00:00:00:01"
        ipconfig:
          dhcp4: false
          addr4: 192.168.0.4/24
          gw4: 192.168.0.1
          autoconf6: true
          addr6: 2001:db8::5
          dns: [192.168.0.1, "2001:db8::53"]
  - name: eth0
    source: plugins/wiznet
    interfaces:
      eth: {ipconfig: {dhcp4: true, dns: 10.0.0.53}}
      spare: {mac: "02:00:00:00:00:02"}
`
	cfg, err := config.ParseConfig(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	ic := cfg.Plugins[0].Interfaces["eth"].IPConfig
	if ic == nil || ic.DHCP4 == nil || *ic.DHCP4 || ic.Addr4 != "192.168.0.4/24" || ic.GW4 != "192.168.0.1" ||
		ic.Autoconf6 == nil || !*ic.Autoconf6 || ic.Addr6 != "2001:db8::5" || !slices.Equal(ic.DNS, config.AddrList{"192.168.0.1", "2001:db8::53"}) {
		t.Fatalf("lan0 ipconfig %+v", ic)
	}
	ic = cfg.Plugins[1].Interfaces["eth"].IPConfig
	if ic == nil || ic.DHCP4 == nil || !*ic.DHCP4 || ic.Addr4 != "" || ic.Autoconf6 != nil || !slices.Equal(ic.DNS, config.AddrList{"10.0.0.53"}) || ic.Empty() {
		t.Fatalf("eth0 ipconfig %+v: one DNS server is a list of one", ic)
	}
	if ic := cfg.Plugins[1].Interfaces["spare"].IPConfig; ic != nil {
		t.Fatalf("an interface without ipconfig: has %+v", ic)
	}
	if !(&config.IPConfig{}).Empty() {
		t.Fatal("an empty ipconfig: section is not Empty")
	}
}

// TestIPConfig_Validate checks a section built in Go (as the demo and
// tests hand Host.Load), without YAML.
func TestIPConfig_Validate(t *testing.T) {
	yes, no := true, false
	good := []config.IPConfig{
		{},
		{DHCP4: &yes, GW4: "10.0.0.1", DNS: config.AddrList{"10.0.0.1"}},
		{DHCP4: &no, Addr4: "10.0.0.2/8", GW4: "10.255.0.1"},
		{Addr4: "10.0.0.1/31", GW4: "10.0.0.0"}, // a point-to-point /31 has no subnet or broadcast address
		{Addr4: "203.0.113.7/32", GW4: "203.0.113.1"},
		{Autoconf6: &no, Addr6: "fd00::5/48", DNS: config.AddrList{"fd00::53", "::ffff:10.0.0.1"}},
	}
	for _, c := range good {
		if err := c.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", c, err)
		}
	}
	bad := []struct {
		c    config.IPConfig
		want string
	}{
		{config.IPConfig{DHCP4: &yes, Addr4: "10.0.0.2/24"}, "addr4: a static address and dhcp4: true exclude each other"},
		{config.IPConfig{Addr4: "10.0.0.2/24", GW4: "10.0.0.2"}, "gw4: 10.0.0.2 is addr4's own address"},
		{config.IPConfig{Addr4: "10.0.0.2/24", GW4: "10.0.1.1"}, "outside addr4's subnet 10.0.0.0/24"},
		{config.IPConfig{DNS: config.AddrList{"10.0.0.1", ""}}, `dns: "" is not an IPv4 or IPv6 address`},
	}
	for _, tt := range bad {
		if err := tt.c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tt.c, err, tt.want)
		}
	}
}

func TestParseAddresses(t *testing.T) {
	type parse func(string) error
	kinds := map[string]parse{
		"addr4": func(s string) error { _, err := config.ParseAddr4(s); return err },
		"gw4":   func(s string) error { _, err := config.ParseGateway4(s); return err },
		"addr6": func(s string) error { _, err := config.ParseAddr6(s); return err },
		"dns":   func(s string) error { _, err := config.ParseDNSServer(s); return err },
	}
	tests := []struct {
		kind, in string
		want     string // "" for a good one, else part of the error
	}{
		{"addr4", "192.168.0.4/24", ""},
		{"addr4", "169.254.3.4/16", ""},
		{"addr4", "192.168.0.4", "has no prefix length"},
		{"addr4", "192.168.0.4/33", "is not an IPv4 address with a prefix length"},
		{"addr4", "192.168.0.4/0", "prefix length 0"},
		{"addr4", "192.168.0.255/24", "broadcast address"},
		{"addr4", "0.0.0.0/8", "unspecified"},
		{"addr4", "127.0.0.2/8", "loopback"},
		{"addr4", "224.0.0.1/4", "multicast"},
		{"addr4", "::ffff:10.0.0.1/120", "not an IPv4 address"},
		{"gw4", "192.168.0.1", ""},
		{"gw4", "255.255.255.255", "broadcast"},
		{"gw4", "fe80::1", "not an IPv4 address"},
		{"addr6", "2001:db8::5/64", ""},
		{"addr6", "2001:db8::5", ""},
		{"addr6", "fe80::5%eth0", "takes no zone"},
		{"addr6", "::/64", "unspecified"},
		{"addr6", "ff02::1", "multicast"},
		{"addr6", "::ffff:10.0.0.1", "IPv4 goes in addr4"},
		{"addr6", "2001:db8::5/", "is not an IPv6 address"},
		{"dns", "8.8.8.8", ""},
		{"dns", "2001:4860:4860::8888", ""},
		{"dns", "fe80::1%eth0", "takes no zone"},
		{"dns", "0.0.0.0", "unspecified"},
		{"dns", "dns.google", "not an IPv4 or IPv6 address"},
	}
	for _, tt := range tests {
		err := kinds[tt.kind](tt.in)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s %q: %v", tt.kind, tt.in, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s %q = %v, want an error containing %q", tt.kind, tt.in, err, tt.want)
		}
	}
	if p, _ := config.ParseAddr6("2001:db8::5"); p.Bits() != 64 {
		t.Errorf("a bare IPv6 address is a /%d, want /64", p.Bits())
	}
}
