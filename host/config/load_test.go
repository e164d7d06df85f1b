package config_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nichost/nichost/host/config"
)

// TestLoadConfig_Lines checks that every kind of error names the file and
// the line of the offending key or value.
func TestLoadConfig_Lines(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		line int
		want string // what follows "config FILE:LINE: "
	}{
		{
			name: "bad hostname",
			yaml: "# board\ncountry: DE\nhostname: " + strings.Repeat("h", 40) + "\n",
			line: 3, want: "hostname: ValueError",
		},
		{
			name: "hostname value on its own line",
			yaml: "hostname:\n  -bad-\n",
			line: 2, want: "hostname: ValueError",
		},
		{
			name: "unknown top-level key",
			yaml: "hostname: b\nhostnmae: c\n",
			line: 2, want: `unknown key "hostnmae"; want one of hostname, country, limits, plugins`,
		},
		{
			name: "unknown key in a plugin",
			yaml: "plugins:\n  - name: a\n    source: x\n\n    bsues: {}\n",
			line: 5, want: `plugins[0]: unknown key "bsues"`,
		},
		{
			name: "unknown key in a device section",
			yaml: "plugins:\n  - name: a\n    source: x\n    buses:\n      spi:\n        kind: spi\n        spi: {device: /dev/spidev0.0, sped_hz: 1}\n",
			line: 7, want: `plugins[0].buses.spi.spi: unknown key "sped_hz"; want one of device, speed_hz, mode, bits`,
		},
		{
			name: "bad bus kind in the second plugin",
			yaml: `plugins:
  - name: a
    source: x
    buses:
      spi: {kind: spi, sim: s}
  - name: b
    source: y
    buses:
      irq:
        kind: gpio
        sim: w
      spi:
        kind: i2c
        sim: s
`,
			line: 13, want: "plugins[1]: b: buses.spi: kind: ",
		},
		{
			name: "bad byte size",
			yaml: "hostname: b\nlimits:\n  call_timeout: 1s\n  memory_limit: lots\n",
			line: 4, want: `limits.memory_limit: size "lots": want a number of bytes or e.g. 64MiB`,
		},
		{
			name: "byte size out of range",
			yaml: "limits:\n  call_timeout: 1s\n  memory_limit: 1MiB\n",
			line: 3, want: "limits: memory_limit: 1MiB out of range",
		},
		{
			name: "bad duration",
			yaml: "plugins:\n  - name: a\n    source: x\n    limits:\n      call_timeout: soon\n",
			line: 5, want: "plugins[0].limits.call_timeout: cannot unmarshal !!str `soon` into time.Duration",
		},
		{
			name: "missing source",
			yaml: "hostname: b\nplugins:\n  - name: a\n    source: x\n  - name: b\n    class: WIZNET5K\n",
			line: 5, want: "plugins[1]: b: source: missing",
		},
		{
			name: "name used twice",
			yaml: "plugins:\n  - {name: a, source: x}\n  -\n    name: a\n    source: y\n",
			line: 4, want: `plugins[1]: name "a" is used twice`,
		},
		{
			name: "bad field of a device section",
			yaml: "plugins:\n  - name: a\n    source: x\n    buses:\n      spi:\n        kind: spi\n        spi:\n          device: /dev/spidev0.0\n          speed_hz: 5\n",
			line: 9, want: "plugins[0]: a: buses.spi: bus: spi config: speed_hz: 5 out of range",
		},
		{
			name: "uart grant of a device and a socket",
			yaml: "plugins:\n  - name: a\n    source: x\n    buses:\n      serial:\n        kind: uart\n        uart:\n          device: /dev/ttyS0\n          unix: /tmp/ppp.sock\n",
			line: 9, want: "plugins[0]: a: buses.serial: bus: uart config: unix: and device: are exclusive",
		},
		{
			name: "grant naming no bus",
			yaml: "plugins:\n  - name: a\n    source: x\n    buses:\n      spi:\n        kind: spi\n",
			line: 5, want: "neither sim: nor a spi: section",
		},
		{
			name: "bad mac",
			yaml: "plugins:\n  - name: a\n    source: x\n    interfaces:\n      eth:\n        mac: '02:00'\n",
			line: 6, want: "a: interfaces.eth.mac: ",
		},
		// ipconfig: sections, one per line so each error names its own.
		{
			name: "ipconfig: bad IPv4 address",
			yaml: ipconfigDoc("addr4: 192.168.0.999/24"),
			line: 7, want: `a: interfaces.eth.ipconfig: addr4: "192.168.0.999/24" is not an IPv4 address with a prefix length`,
		},
		{
			name: "ipconfig: addr4 without a prefix length",
			yaml: ipconfigDoc("addr4: 192.168.0.4"),
			line: 7, want: `addr4: "192.168.0.4" has no prefix length; write e.g. 192.168.0.4/24`,
		},
		{
			name: "ipconfig: addr4 not IPv4",
			yaml: ipconfigDoc("addr4: 2001:db8::4/64"),
			line: 7, want: `addr4: "2001:db8::4/64" is not an IPv4 address (IPv6 goes in addr6)`,
		},
		{
			name: "ipconfig: addr4 the subnet's address",
			yaml: ipconfigDoc("addr4: 192.168.0.0/24"),
			line: 7, want: `addr4: "192.168.0.0/24" is the subnet's network address`,
		},
		{
			name: "ipconfig: gw4 not IPv4",
			yaml: ipconfigDoc("addr4: 192.168.0.4/24", "gw4: 2001:db8::1"),
			line: 8, want: `a: interfaces.eth.ipconfig: gw4: "2001:db8::1" is not an IPv4 address`,
		},
		{
			name: "ipconfig: gw4 not an address",
			yaml: ipconfigDoc("gw4: router"),
			line: 7, want: `gw4: "router" is not an IPv4 address`,
		},
		{
			name: "ipconfig: gw4 with a prefix length",
			yaml: ipconfigDoc("gw4: 192.168.0.1/24"),
			line: 7, want: `gw4: "192.168.0.1/24": a gateway is an address, without a prefix length`,
		},
		{
			name: "ipconfig: gw4 outside the subnet",
			yaml: ipconfigDoc("addr4: 192.168.0.4/24", "gw4: 192.168.1.1"),
			line: 8, want: "gw4: 192.168.1.1 is outside addr4's subnet 192.168.0.0/24",
		},
		{
			name: "ipconfig: dhcp4 with a static addr4",
			yaml: ipconfigDoc("dhcp4: true", "addr4: 192.168.0.4/24"),
			line: 8, want: "addr4: a static address and dhcp4: true exclude each other",
		},
		{
			name: "ipconfig: bad IPv6 address",
			yaml: ipconfigDoc("autoconf6: false", "addr6: 2001:db8::zz"),
			line: 8, want: `addr6: "2001:db8::zz" is not an IPv6 address`,
		},
		{
			name: "ipconfig: addr6 not IPv6",
			yaml: ipconfigDoc("addr6: 192.168.0.4/24"),
			line: 7, want: `addr6: "192.168.0.4/24" is not an IPv6 address (IPv4 goes in addr4)`,
		},
		{
			name: "ipconfig: bad DNS server in a list",
			yaml: ipconfigDoc("dns:", "  - 192.168.0.1", "  - dns.example"),
			line: 9, want: `a: interfaces.eth.ipconfig: dns: "dns.example" is not an IPv4 or IPv6 address`,
		},
		{
			name: "ipconfig: one bad DNS server",
			yaml: ipconfigDoc("dns: 224.0.0.251"),
			line: 7, want: `dns: "224.0.0.251": multicast address, not a host's`,
		},
		{
			name: "ipconfig: dns of the wrong shape",
			yaml: ipconfigDoc("dns: [192.168.0.1, {server: 192.168.0.2}]"),
			line: 7, want: "plugins[0].interfaces.eth.ipconfig.dns: want an address or a list of addresses, not a mapping",
		},
		{
			name: "ipconfig: unknown key",
			yaml: ipconfigDoc("dhcp4: false", "dhcp: true"),
			line: 8, want: `plugins[0].interfaces.eth.ipconfig: unknown key "dhcp"; want one of dhcp4, addr4, gw4, autoconf6, addr6, dns`,
		},
		{
			name: "ipconfig: dhcp4 not a bool",
			yaml: ipconfigDoc("dhcp4: sometimes"),
			line: 7, want: "plugins[0].interfaces.eth.ipconfig.dhcp4: cannot unmarshal !!str `sometimes` into bool",
		},
		{
			name: "ipconfig: autoconf6 not a bool",
			yaml: ipconfigDoc("autoconf6: 2"),
			line: 7, want: "plugins[0].interfaces.eth.ipconfig.autoconf6: cannot unmarshal !!int `2` into bool",
		},
		{
			name: "ipconfig: addr4 a list",
			yaml: ipconfigDoc("addr4: [192.168.0.4, 255.255.255.0]"),
			line: 7, want: "plugins[0].interfaces.eth.ipconfig.addr4: cannot unmarshal !!seq into string",
		},
		{
			name: "ipconfig: not a mapping",
			yaml: "plugins:\n  - name: a\n    source: x\n    interfaces:\n      eth:\n        ipconfig: dhcp\n",
			line: 6, want: "plugins[0].interfaces.eth.ipconfig: cannot unmarshal !!str `dhcp` into config.IPConfig",
		},
		{
			name: "error in an aliased node",
			yaml: "plugins:\n  - &p {name: a, source: x}\n  - *p\n",
			line: 2, want: `plugins[1]: name "a" is used twice`,
		},
		{
			name: "merged limits",
			yaml: "plugins:\n  - name: a\n    source: x\n    limits:\n      <<: {call_timeout: 1s}\n      start_timeout: 1h\n",
			line: 6, want: "a: limits: start_timeout: 1h0m0s out of range",
		},
		{
			name: "merge of a scalar",
			yaml: "limits:\n  call_timeout: 1s\n  <<: 3\n",
			line: 3, want: `limits: <<: merges a mapping or a sequence of mappings, not "3"`,
		},
		{
			name: "anchor that contains itself",
			yaml: "plugins:\n  - name: a\n    source: x\n    options: &o\n      self: *o\n",
			line: 5, want: "plugins[0].options.self: *o: the anchor o contains itself",
		},
		{
			name: "key given twice",
			yaml: "hostname: a\ncountry: DE\nhostname: b\n",
			line: 3, want: `mapping key "hostname" already defined at line 1`,
		},
		{
			name: "wrong shape",
			yaml: "plugins:\n  name: a\n",
			line: 2, want: "plugins: cannot unmarshal !!map into []config.PluginConfig",
		},
		{
			name: "unclosed flow sequence",
			yaml: "hostname: a\ncountry: DE\nplugins: [{name: a, source: x}\nlimits: {}\n",
			line: 3, want: "did not find expected ',' or ']'",
		},
		{
			name: "syntax error on the first line",
			yaml: "hostname: a: b\n",
			line: 1, want: "mapping values are not allowed in this context",
		},
		{
			name: "bad indentation",
			yaml: "hostname: a\n country: DE\n",
			line: 2, want: "mapping values are not allowed in this context",
		},
		{
			name: "unknown anchor",
			yaml: "hostname: a\nlimits: *nope\n",
			line: 2, want: "unknown anchor 'nope' referenced",
		},
		{
			name: "not UTF-8",
			yaml: "hostname: a\ncountry: DE\nplugins: \xff\n",
			line: 3, want: "invalid leading UTF-8 octet",
		},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("c%d.yaml", i))
			if err := os.WriteFile(path, []byte(tt.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := config.LoadConfig(path)
			prefix := fmt.Sprintf("config %s:%d: ", path, tt.line)
			if err == nil || !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadConfig = %v\nwant %s...%s...", err, prefix, tt.want)
			}
			var ce *config.Error
			if !errors.As(err, &ce) || ce.File != path || ce.Line != tt.line {
				t.Fatalf("LoadConfig error %#v, want a *config.Error at %s:%d", err, path, tt.line)
			}
			// Without a file name, ParseConfig reports the same line.
			_, err = config.ParseConfig(strings.NewReader(tt.yaml))
			if want := fmt.Sprintf("line %d: ", tt.line); err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("ParseConfig = %v, want it to start with %q", err, want)
			}
		})
	}
}

// TestParseConfig_Aliases checks that anchors, aliases and merges that
// decode cleanly pass the key check.
func TestParseConfig_Aliases(t *testing.T) {
	const doc = `
plugins:
  - name: a
    source: x
    options: &gpio {kind: gpio, sim: w}
    buses:
      irq: *gpio
      reset:
        <<: *gpio
        sim: r
`
	cfg, err := config.ParseConfig(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	b := cfg.Plugins[0].Buses
	if b["irq"].Sim != "w" || b["reset"].Sim != "r" || b["reset"].Kind != "gpio" {
		t.Fatalf("buses %+v", b)
	}
}

// TestParseConfig_Empty checks that an empty configuration is a valid one.
func TestParseConfig_Empty(t *testing.T) {
	for _, doc := range []string{"", "# nothing yet\n", "---\n", "~\n"} {
		if cfg, err := config.ParseConfig(strings.NewReader(doc)); err != nil || len(cfg.Plugins) != 0 {
			t.Errorf("ParseConfig(%q) = %+v, %v; want an empty configuration", doc, cfg, err)
		}
	}
}

// ipconfigDoc is a configuration whose one plugin's interface eth has an
// ipconfig: section of lines, the first on line 7.
func ipconfigDoc(lines ...string) string {
	doc := "plugins:\n  - name: a\n    source: x\n    interfaces:\n      eth:\n        ipconfig:\n"
	for _, l := range lines {
		doc += "          " + l + "\n"
	}
	return doc
}
