// Package config is the schema of nichost's configuration file (YAML): the
// plugins to load, the buses granted to each, their limits and the
// module-level settings, with the checks that name the first bad field.
// The host takes these types as they are; nothing here opens a device.
package config

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/bus/linux"
	"github.com/nichost/nichost/internal/ipaddr"
)

// Config is the operator's configuration file (YAML):
//
//	hostname: board-7
//	country: DE
//	engine: wazero                  # optional: or wasmtime, in a nichost built with -tags wasmtime
//	limits: {memory_limit: 64MiB, call_timeout: 2s}
//	plugins:
//	  - name: eth0
//	    source: plugins/wiznet        # Go or C source directory, or a .wasm file
//	    class: WIZNET5K               # optional: refuse a plugin of another class
//	    buses:                        # grants, by the names the plugin declares
//	      spi:   {kind: spi, spi: {device: /dev/spidev0.0, speed_hz: 20000000}}
//	      rst:   {kind: gpio, gpio: {chip: gpiochip0, line: GPIO24}}
//	      int:   {kind: gpio, sim: w5500-int}   # a simulated bus the host provides
//	      # frame ports: {kind: frame, tap: {name: tap0, up: true}} or
//	      #              {kind: frame, packet: {interface: eth1}}
//	      # serial ports: {kind: uart, uart: {device: /dev/ttyUSB0, baud: 115200}}, or
//	      #   {kind: uart, uart: {unix: /tmp/ppp.sock}}: a listening unix socket (qemu
//	      #   -serial unix:PATH,server, ser2net); no line settings apply; redials if the peer goes
//	    interfaces:                   # by the names the plugin declares
//	      eth:
//	        mac: "02:00:00:00:00:01"
//	        ipconfig: {addr4: 192.168.0.4/24, gw4: 192.168.0.1, dns: [192.168.0.1]}
//	    options: {poll_ms: 20}
//	    limits: {call_timeout: 500ms}
//
// An interface's ipconfig: section holds the keyword arguments of
// MicroPython's nic.ipconfig(), applied when the plugin is loaded, after
// its NICs are made and before anything can bring them up: an interface's
// keys in one ipconfig() call, all or nothing; one that cannot be applied
// fails the load, naming the plugin, interface and key.
//
//	dhcp4: false                  # bool; LAN and WIZNET5K run DHCPv4 by default, as
//	                              # MicroPython's Ethernet ports do once the interface is up
//	addr4: 192.168.0.4/24         # static IPv4 address/prefix length; turns DHCPv4 off,
//	                              # so it cannot go with dhcp4: true
//	gw4: 192.168.0.1              # IPv4 default gateway (in addr4's subnet)
//	autoconf6: true               # bool: IPv6 SLAAC
//	addr6: 2001:db8::5/64         # static IPv6 address; a bare address is a /64
//	dns: [192.168.0.1, 2001:db8::53]   # or one address
//
// With no ipconfig: section an interface keeps the host's defaults (DHCPv4
// on LAN and WIZNET5K). MicroPython has no per-NIC DNS servers: the dns:
// servers of every interface of every plugin are added, in the order of
// the plugins in the file and of the interfaces a plugin declares, without
// repeats, to the host's static ones (what network.ipconfig(dns=...) sets;
// Host.DNSServers lists them ahead of those learnt by DHCP). They stay
// when the plugin is closed.
type Config struct {
	Hostname string         `yaml:"hostname"`
	Country  string         `yaml:"country"`
	Limits   Limits         `yaml:"limits"`
	Plugins  []PluginConfig `yaml:"plugins"`
	Engine   string         `yaml:"engine"` // the WebAssembly engine (Engines); "" is the host's default
	// Signatures says which plugin modules the host trusts (see
	// SignaturesConfig); by default every configured source loads.
	Signatures SignaturesConfig `yaml:"signatures"`

	// The daemon's settings (daemon.go); a host embedded in a program
	// ignores them.
	Control ControlConfig `yaml:"control"`
	Metrics MetricsConfig `yaml:"metrics"`
	Log     LogConfig     `yaml:"log"`
}

// SignaturesConfig is the signatures: section: with require: true, a
// plugin's source must be a .wasm module with a detached signature
// (NAME.wasm.sig, written by nichost plugin sign) made by one of keys,
// covering the module's bytes and its declaration (class, driver name,
// version, buses). An unsigned module, one changed after signing, one
// signed by another key, and a source directory (unless allow_source) are
// refused at load and at reload.
//
//	signatures:
//	  require: true
//	  keys: [/etc/nichost/keys/release.pub]   # PEM public keys (nichost plugin keygen)
//	  allow_source: false                     # true: Go and C source directories still load, unsigned
type SignaturesConfig struct {
	Require     bool     `yaml:"require"`
	Keys        []string `yaml:"keys"` // public key files; relative ones are taken from the config file's directory
	AllowSource bool     `yaml:"allow_source"`
}

// Validate checks the section's shape; reading the keys is the host's.
func (s *SignaturesConfig) Validate() error {
	if s.Require && len(s.Keys) == 0 {
		return at(errors.New("require: true needs at least one public key in signatures.keys"), "require")
	}
	if !s.Require && s.AllowSource {
		return at(errors.New("allow_source: only means something with require: true (without it every source loads)"), "allow_source")
	}
	for i, k := range s.Keys {
		if strings.TrimSpace(k) == "" {
			return at(fmt.Errorf("keys[%d]: empty path", i), "keys", strconv.Itoa(i))
		}
	}
	return nil
}

// PluginConfig configures and grants one plugin.
type PluginConfig struct {
	Name       string                     `yaml:"name"`
	Source     string                     `yaml:"source"`
	Class      string                     `yaml:"class"`
	Buses      map[string]BusGrant        `yaml:"buses"`
	Interfaces map[string]InterfaceConfig `yaml:"interfaces"`
	Options    map[string]any             `yaml:"options"`
	Limits     Limits                     `yaml:"limits"`
}

// BusGrant grants one bus: a simulated one the host provides by name (Sim),
// or a real Linux device described in the field of its kind.
type BusGrant struct {
	Kind   string              `yaml:"kind"`
	Sim    string              `yaml:"sim"`
	SPI    *linux.SPIConfig    `yaml:"spi"`
	GPIO   *linux.GPIOConfig   `yaml:"gpio"`
	UART   *linux.UARTConfig   `yaml:"uart"`
	MDIO   *linux.MDIOConfig   `yaml:"mdio"`
	TAP    *linux.TAPConfig    `yaml:"tap"`    // a frame port on a Linux TAP device
	Packet *linux.PacketConfig `yaml:"packet"` // a frame port on a Linux interface (AF_PACKET)
	File   string              `yaml:"file"`   // a blob: the file whose bytes the driver may read
}

// InterfaceConfig sets one interface's identity and IP configuration.
type InterfaceConfig struct {
	// Name is the NIC's name on the host (the same rule as a plugin's
	// name); empty: the plugin's name, with ".IFACE" when the plugin has
	// several interfaces (a Wi-Fi plugin "wlan" has NICs wlan.sta and
	// wlan.ap unless these name them).
	Name     string    `yaml:"name"`
	MAC      string    `yaml:"mac"`      // e.g. "02:00:00:00:00:01"; derived when empty
	IPConfig *IPConfig `yaml:"ipconfig"` // nil: the host's defaults (see Config)
	// Profile is the API the NIC presents in the control API and the
	// shell: "" MicroPython's class, "wipy" the WLANWiPy profile (the
	// station interface, sta, of a WLAN plugin only).
	Profile string `yaml:"profile"`
}

// IPConfig is an interface's ipconfig: section, the keyword arguments of
// MicroPython's nic.ipconfig() (see Config for how they apply). Unset
// fields (nil, "", empty) are left as the host has them.
type IPConfig struct {
	DHCP4     *bool    `yaml:"dhcp4"`     // run the DHCPv4 client
	Addr4     string   `yaml:"addr4"`     // "192.168.0.4/24"; excludes dhcp4: true
	GW4       string   `yaml:"gw4"`       // "192.168.0.1"
	Autoconf6 *bool    `yaml:"autoconf6"` // IPv6 SLAAC
	Addr6     string   `yaml:"addr6"`     // "2001:db8::5/64", or "2001:db8::5" for a /64
	DNS       AddrList `yaml:"dns"`       // added to the host's static DNS servers
}

// AddrList is a list of addresses, written in YAML as a sequence or as a
// single address.
type AddrList []string

// UnmarshalYAML takes one scalar or a sequence of scalars. Anything else is
// a *yaml.TypeError naming its line; the addresses are checked by Validate.
func (l *AddrList) UnmarshalYAML(n *yaml.Node) error {
	bad := func(n *yaml.Node) error {
		what := "a mapping"
		if n.Kind == yaml.SequenceNode {
			what = "a sequence"
		}
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: want an address or a list of addresses, not %s", n.Line, what)}}
	}
	switch n.Kind {
	case yaml.ScalarNode:
		*l = AddrList{n.Value}
		return nil
	case yaml.SequenceNode:
		out := make(AddrList, 0, len(n.Content))
		for _, item := range n.Content {
			if item.Kind == yaml.AliasNode {
				item = item.Alias
			}
			if item.Kind != yaml.ScalarNode {
				return bad(item)
			}
			out = append(out, item.Value)
		}
		*l = out
		return nil
	}
	return bad(n)
}

// Empty reports whether the section sets nothing.
func (c *IPConfig) Empty() bool {
	return c.DHCP4 == nil && c.Addr4 == "" && c.GW4 == "" && c.Autoconf6 == nil && c.Addr6 == "" && len(c.DNS) == 0
}

// Validate checks each address and that they fit together, naming the
// first bad key.
func (c *IPConfig) Validate() error {
	var a4 netip.Prefix
	if c.Addr4 != "" {
		p, err := ParseAddr4(c.Addr4)
		if err != nil {
			return at(fmt.Errorf("addr4: %w", err), "addr4")
		}
		if c.DHCP4 != nil && *c.DHCP4 {
			return at(errors.New("addr4: a static address and dhcp4: true exclude each other (a static addr4 turns DHCPv4 off)"), "addr4")
		}
		a4 = p
	}
	if c.GW4 != "" {
		gw, err := ParseGateway4(c.GW4)
		if err != nil {
			return at(fmt.Errorf("gw4: %w", err), "gw4")
		}
		switch {
		case !a4.IsValid():
		case gw == a4.Addr():
			return at(fmt.Errorf("gw4: %s is addr4's own address", gw), "gw4")
		case a4.Bits() < 32 && !a4.Masked().Contains(gw):
			return at(fmt.Errorf("gw4: %s is outside addr4's subnet %s, so it cannot be reached", gw, a4.Masked()), "gw4")
		}
	}
	if c.Addr6 != "" {
		if _, err := ParseAddr6(c.Addr6); err != nil {
			return at(fmt.Errorf("addr6: %w", err), "addr6")
		}
	}
	for i, s := range c.DNS {
		if _, err := ParseDNSServer(s); err != nil {
			return at(fmt.Errorf("dns: %w", err), "dns", strconv.Itoa(i))
		}
	}
	return nil
}

// ParseAddr4 parses an interface's static IPv4 address with its prefix
// length, "192.168.0.4/24": a unicast address that is neither the subnet's
// own address nor its broadcast address.
func ParseAddr4(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil {
		if a, aerr := netip.ParseAddr(strings.TrimSpace(s)); aerr == nil && a.Is4() {
			return netip.Prefix{}, fmt.Errorf("%q has no prefix length; write e.g. %s/24", s, a)
		}
		return netip.Prefix{}, fmt.Errorf("%q is not an IPv4 address with a prefix length (192.168.0.4/24)", s)
	}
	a := p.Addr()
	switch {
	case !a.Is4():
		return netip.Prefix{}, fmt.Errorf("%q is not an IPv4 address (IPv6 goes in addr6)", s)
	case p.Bits() == 0:
		return netip.Prefix{}, fmt.Errorf("%q: prefix length 0 leaves no subnet (e.g. /24)", s)
	}
	if err := unicast(a); err != nil {
		return netip.Prefix{}, fmt.Errorf("%q: %w", s, err)
	}
	if r := ipaddr.SubnetProblem(p); r != "" {
		return netip.Prefix{}, fmt.Errorf("%q is %s, not an interface's", s, r)
	}
	return p, nil
}

// ParseGateway4 parses an IPv4 gateway address such as "192.168.0.1".
func ParseGateway4(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	switch {
	case err != nil && strings.Contains(s, "/"):
		return netip.Addr{}, fmt.Errorf("%q: a gateway is an address, without a prefix length", s)
	case err != nil:
		return netip.Addr{}, fmt.Errorf("%q is not an IPv4 address", s)
	case !a.Is4():
		return netip.Addr{}, fmt.Errorf("%q is not an IPv4 address", s)
	}
	if err := unicast(a); err != nil {
		return netip.Addr{}, fmt.Errorf("%q: %w", s, err)
	}
	return a, nil
}

// ParseAddr6 parses an interface's static IPv6 address, "2001:db8::5/64",
// or "2001:db8::5" for a /64.
func ParseAddr6(s string) (netip.Prefix, error) {
	str := strings.TrimSpace(s)
	p, err := netip.ParsePrefix(str)
	if err != nil {
		a, aerr := netip.ParseAddr(str)
		if aerr != nil || strings.Contains(str, "/") {
			return netip.Prefix{}, fmt.Errorf("%q is not an IPv6 address (2001:db8::5 or 2001:db8::5/64)", s)
		}
		if a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q: an interface's address takes no zone", s)
		}
		p = netip.PrefixFrom(a, 64)
	}
	a := p.Addr()
	switch {
	case !a.Is6() || a.Is4In6():
		return netip.Prefix{}, fmt.Errorf("%q is not an IPv6 address (IPv4 goes in addr4)", s)
	case p.Bits() == 0:
		return netip.Prefix{}, fmt.Errorf("%q: prefix length 0 leaves no subnet (e.g. /64)", s)
	}
	if err := unicast(a); err != nil {
		return netip.Prefix{}, fmt.Errorf("%q: %w", s, err)
	}
	return p, nil
}

// ParseDNSServer parses a DNS server's IPv4 or IPv6 address.
func ParseDNSServer(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	switch {
	case err != nil:
		return netip.Addr{}, fmt.Errorf("%q is not an IPv4 or IPv6 address", s)
	case a.Zone() != "":
		return netip.Addr{}, fmt.Errorf("%q: a DNS server's address takes no zone", s)
	}
	if err := unicast(a); err != nil {
		return netip.Addr{}, fmt.Errorf("%q: %w", s, err)
	}
	return a.Unmap(), nil
}

// unicast reports why a cannot be a host's address (package
// internal/ipaddr's rule, the one the core applies), or nil.
func unicast(a netip.Addr) error {
	if r := ipaddr.Problem(a); r != "" {
		return fmt.Errorf("%s, not a host's", r)
	}
	return nil
}

// Limits bound a plugin's resources. Zero fields take the host's defaults
// (DefaultLimits).
type Limits struct {
	// MemoryLimit caps an instance's linear memory (a Go plugin needs at
	// least 3 MiB to start). Default 64 MiB.
	MemoryLimit ByteSize `yaml:"memory_limit"`
	// CallTimeout bounds every call into the plugin; a call that runs
	// longer is interrupted and the instance restarted. Default 2s.
	CallTimeout time.Duration `yaml:"call_timeout"`
	// StartTimeout bounds instantiating and starting an instance. Default
	// 10s.
	StartTimeout time.Duration `yaml:"start_timeout"`
	// RestartBackoff is the wait before the first restart after a fault; it
	// doubles with each fault in a row up to RestartBackoffMax. Defaults
	// 100ms and 10s.
	RestartBackoff    time.Duration `yaml:"restart_backoff"`
	RestartBackoffMax time.Duration `yaml:"restart_backoff_max"`
	// HealthyAfter is how long an instance must run for the back-off to
	// start again from RestartBackoff. Default 30s.
	HealthyAfter time.Duration `yaml:"healthy_after"`
	// MinPollInterval is the least time between two timer polls
	// (EVENT_TIMER) of the plugin, however early its wake_at asks. Default
	// 250µs: at most 4000 timer polls a second.
	MinPollInterval time.Duration `yaml:"min_poll_interval"`
	// CPUShare is how much of one core the plugin may keep busy (its calls'
	// time, host calls included): a credit refilled at CPUShare seconds a
	// second, holding at most CPUShare seconds. Once the plugin's calls
	// overdraw it, its polls and transmits wait until it is back to zero
	// (callers' control calls are still served). Default 0.5; at most 64.
	CPUShare float64 `yaml:"cpu_share"`
}

// DefaultLimits are the limits used where neither the plugin's nor the
// host's configuration sets one.
var DefaultLimits = Limits{
	MemoryLimit:       64 << 20,
	CallTimeout:       2 * time.Second,
	StartTimeout:      10 * time.Second,
	RestartBackoff:    100 * time.Millisecond,
	RestartBackoffMax: 10 * time.Second,
	HealthyAfter:      30 * time.Second,
	MinPollInterval:   250 * time.Microsecond,
	CPUShare:          0.5,
}

// Or fills l's zero fields from d.
func (l Limits) Or(d Limits) Limits {
	pick := func(a, b time.Duration) time.Duration {
		if a != 0 {
			return a
		}
		return b
	}
	if l.MemoryLimit == 0 {
		l.MemoryLimit = d.MemoryLimit
	}
	l.CallTimeout = pick(l.CallTimeout, d.CallTimeout)
	l.StartTimeout = pick(l.StartTimeout, d.StartTimeout)
	l.RestartBackoff = pick(l.RestartBackoff, d.RestartBackoff)
	l.RestartBackoffMax = pick(l.RestartBackoffMax, d.RestartBackoffMax)
	l.HealthyAfter = pick(l.HealthyAfter, d.HealthyAfter)
	l.MinPollInterval = pick(l.MinPollInterval, d.MinPollInterval)
	if l.CPUShare == 0 {
		l.CPUShare = d.CPUShare
	}
	return l
}

// Validate reports the first limit out of range.
func (l Limits) Validate() error {
	switch {
	case l.MemoryLimit != 0 && (l.MemoryLimit < 4<<20 || l.MemoryLimit > 4<<30):
		return at(fmt.Errorf("memory_limit: %s out of range 4MiB..4GiB (a Go plugin needs 3 MiB to start)", l.MemoryLimit), "memory_limit")
	case l.CallTimeout < 0 || l.CallTimeout > time.Minute:
		return at(fmt.Errorf("call_timeout: %v out of range 0..1m", l.CallTimeout), "call_timeout")
	case l.StartTimeout < 0 || l.StartTimeout > 5*time.Minute:
		return at(fmt.Errorf("start_timeout: %v out of range 0..5m", l.StartTimeout), "start_timeout")
	case l.RestartBackoff < 0 || l.RestartBackoffMax < 0 || l.HealthyAfter < 0:
		field := "healthy_after"
		if l.RestartBackoff < 0 {
			field = "restart_backoff"
		} else if l.RestartBackoffMax < 0 {
			field = "restart_backoff_max"
		}
		return at(errors.New("restart_backoff, restart_backoff_max and healthy_after must not be negative"), field)
	case l.MinPollInterval < 0 || l.MinPollInterval > time.Second:
		return at(fmt.Errorf("min_poll_interval: %v out of range 0..1s", l.MinPollInterval), "min_poll_interval")
	case l.CPUShare < 0 || l.CPUShare > 64 || l.CPUShare != l.CPUShare:
		return at(fmt.Errorf("cpu_share: %v out of range 0..64 (cores)", l.CPUShare), "cpu_share")
	case l.RestartBackoffMax != 0 && l.RestartBackoff > l.RestartBackoffMax:
		return at(fmt.Errorf("restart_backoff %v is above restart_backoff_max %v", l.RestartBackoff, l.RestartBackoffMax), "restart_backoff")
	}
	return nil
}

// ByteSize is a size in bytes, written in YAML as 67108864, "64MiB" or
// "64M".
type ByteSize uint64

var sizeRE = regexp.MustCompile(`^(\d+)\s*([KMG]i?B?|B)?$`)

// UnmarshalYAML parses a size. A bad one is a *yaml.TypeError naming its
// line, so that the decoder reports it in document order with the others.
func (s *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	*s = v
	return nil
}

// ParseByteSize parses "64MiB", "64M", "512KiB" or a plain number of bytes.
func ParseByteSize(str string) (ByteSize, error) {
	m := sizeRE.FindStringSubmatch(strings.TrimSpace(str))
	if m == nil {
		return 0, fmt.Errorf("size %q: want a number of bytes or e.g. 64MiB", str)
	}
	n, err := strconv.ParseUint(m[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: %w", str, err)
	}
	switch strings.TrimSuffix(strings.TrimSuffix(m[2], "B"), "i") {
	case "K":
		n <<= 10
	case "M":
		n <<= 20
	case "G":
		n <<= 30
	}
	return ByteSize(n), nil
}

func (s ByteSize) String() string {
	switch {
	case s >= 1<<20 && s%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", s>>20)
	case s >= 1<<10 && s%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", s>>10)
	}
	return fmt.Sprintf("%dB", uint64(s))
}

// Validate checks the whole configuration and names the first problem. The
// error also records the path of keys to the bad field, which ParseConfig
// turns into the line of the file it is on.
func (c *Config) Validate() error {
	if c.Hostname != "" {
		if err := CheckHostname(c.Hostname); err != nil {
			return at(fmt.Errorf("hostname: %w", err), "hostname")
		}
	}
	if c.Country != "" {
		if _, err := CheckCountry(c.Country); err != nil {
			return at(fmt.Errorf("country: %w", err), "country")
		}
	}
	if c.Engine != "" && !slices.Contains(Engines(), c.Engine) {
		return at(fmt.Errorf("engine: %q is not an engine: %s", c.Engine, strings.Join(Engines(), " or ")), "engine")
	}
	if err := c.Limits.Validate(); err != nil {
		return at(fmt.Errorf("limits: %w", err), "limits")
	}
	if err := c.Signatures.Validate(); err != nil {
		return at(fmt.Errorf("signatures: %w", err), "signatures")
	}
	if err := c.validateDaemon(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i := range c.Plugins {
		p := &c.Plugins[i]
		if err := p.Validate(); err != nil {
			return at(fmt.Errorf("plugins[%d]: %w", i, err), "plugins", strconv.Itoa(i))
		}
		if seen[p.Name] {
			return at(fmt.Errorf("plugins[%d]: name %q is used twice", i, p.Name), "plugins", strconv.Itoa(i), "name")
		}
		seen[p.Name] = true
	}
	return nil
}

// Engines are the names engine: accepts, the default first: those of
// host.Engines. Whether this build of nichost has the engine is the host's
// to say (host.New): a nichost built without -tags wasmtime refuses
// wasmtime there, saying how to build it.
func Engines() []string { return []string{"wazero", "wasmtime"} }

var pluginNameRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_-]{0,14}$`)

// Validate checks one plugin's configuration. Grants and interfaces are
// checked in the order of their names, so the problem reported is always the
// same one.
func (p *PluginConfig) Validate() error {
	if !pluginNameRE.MatchString(p.Name) {
		return at(fmt.Errorf("name: %q must be 1-15 letters, digits, - or _, starting with a letter", p.Name), "name")
	}
	if p.Source == "" {
		return at(fmt.Errorf("%s: source: missing (a Go or C source directory, or a .wasm file)", p.Name), "source")
	}
	if p.Class != "" && !slices.Contains(abi.Classes(), p.Class) {
		return at(fmt.Errorf("%s: class: %q, want one of %v", p.Name, p.Class, abi.Classes()), "class")
	}
	for _, name := range slices.Sorted(maps.Keys(p.Buses)) {
		if err := p.Buses[name].Validate(); err != nil {
			return at(fmt.Errorf("%s: buses.%s: %w", p.Name, name, err), "buses", name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.Interfaces)) {
		ic := p.Interfaces[name]
		if ic.Name != "" && !pluginNameRE.MatchString(ic.Name) {
			return at(fmt.Errorf("%s: interfaces.%s.name: %q must be 1-15 letters, digits, - or _, starting with a letter", p.Name, name, ic.Name), "interfaces", name, "name")
		}
		if ic.MAC != "" {
			if _, err := ParseMAC(ic.MAC); err != nil {
				return at(fmt.Errorf("%s: interfaces.%s.mac: %w", p.Name, name, err), "interfaces", name, "mac")
			}
		}
		if ic.Profile != "" && (ic.Profile != "wipy" || name != "sta" || (p.Class != "" && p.Class != abi.ClassWLAN)) {
			return at(fmt.Errorf("%s: interfaces.%s.profile: %q: the one profile is \"wipy\" (WLANWiPy), on the sta interface of a WLAN plugin", p.Name, name, ic.Profile), "interfaces", name, "profile")
		}
		if ic.IPConfig != nil {
			if err := ic.IPConfig.Validate(); err != nil {
				return at(fmt.Errorf("%s: interfaces.%s.ipconfig: %w", p.Name, name, err), "interfaces", name, "ipconfig")
			}
		}
	}
	if _, err := abi.Marshal(map[string]any(p.Options)); err != nil {
		return at(fmt.Errorf("%s: options: %w", p.Name, err), "options")
	}
	if err := p.Limits.Validate(); err != nil {
		return at(fmt.Errorf("%s: limits: %w", p.Name, err), "limits")
	}
	return nil
}

// Validate checks that the grant names one bus, of its kind.
func (g BusGrant) Validate() error {
	kind, err := bus.ParseKind(g.Kind)
	if err != nil {
		return at(fmt.Errorf("kind: %w", err), "kind")
	}
	sections := []struct {
		name string
		kind bus.Kind
		set  bool
	}{
		{"spi", bus.KindSPI, g.SPI != nil}, {"gpio", bus.KindGPIO, g.GPIO != nil}, {"uart", bus.KindUART, g.UART != nil},
		{"mdio", bus.KindMDIO, g.MDIO != nil}, {"tap", bus.KindFrame, g.TAP != nil}, {"packet", bus.KindFrame, g.Packet != nil},
		{"file", bus.KindBlob, g.File != ""},
	}
	n := 0
	for _, s := range sections {
		if s.set && s.kind != kind {
			return at(fmt.Errorf("a %s grant cannot have a %s: section", kind, s.name), s.name)
		}
		if s.set {
			n++
		}
	}
	switch {
	case g.Sim != "" && n > 0:
		return at(errors.New("sim: and a device section are exclusive"), "sim")
	case n > 1:
		return at(errors.New("a grant names one bus: give one of tap: or packet:"), "packet")
	case g.Sim == "" && n == 0 && kind == bus.KindFrame:
		return errors.New("neither sim:, tap: nor packet: says which frame port to grant")
	case g.Sim == "" && n == 0 && kind == bus.KindBlob:
		return errors.New("neither sim: nor file: says which blob to grant")
	case g.Sim == "" && n == 0:
		return fmt.Errorf("neither sim: nor a %s: section says which bus to grant", kind)
	}
	switch {
	case g.SPI != nil:
		return inSection(g.SPI.Validate(), "spi")
	case g.GPIO != nil:
		return inSection(g.GPIO.Validate(), "gpio")
	case g.UART != nil:
		return inSection(g.UART.Validate(), "uart")
	case g.MDIO != nil:
		return inSection(g.MDIO.Validate(), "mdio")
	case g.TAP != nil:
		return inSection(g.TAP.Validate(), "tap")
	case g.Packet != nil:
		return inSection(g.Packet.Validate(), "packet")
	}
	return nil
}

// linuxFieldRE finds the field a host/bus/linux config error names: those
// read "bus: spi config: speed_hz: ...", the field by its yaml name.
var linuxFieldRE = regexp.MustCompile(`^bus: [a-z]+ config: ([a-z_]+):`)

// inSection records that err, from the Validate of a grant's device
// section, is about that section, and about the field it names if any.
func inSection(err error, section string) error {
	if err == nil {
		return nil
	}
	if m := linuxFieldRE.FindStringSubmatch(err.Error()); m != nil {
		return at(err, section, m[1])
	}
	return at(err, section)
}

// ClaimKey names the bus a grant points at, so that two grants of one bus
// can be told apart from two buses.
func (g BusGrant) ClaimKey() string {
	switch {
	case g.Sim != "":
		return "sim:" + g.Sim
	case g.SPI != nil:
		return "spi:" + g.SPI.Device
	case g.GPIO != nil:
		return "gpio:" + g.GPIO.Chip + "/" + g.GPIO.Line
	case g.UART != nil:
		return "uart:" + g.UART.Port()
	case g.MDIO != nil:
		return "mdio:" + g.MDIO.Interface
	case g.TAP != nil:
		return "tap:" + g.TAP.Name
	case g.Packet != nil:
		return "packet:" + g.Packet.Interface
	case g.File != "":
		return "file:" + g.File
	}
	return "none"
}
