package host

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/internal/ipaddr"
)

// The module-level state of MicroPython's network module.
type globals struct {
	hostname string
	country  string
	dns      []string
	prefer   int
	phyMode  int
}

// PHY modes of network.phy_mode().
const (
	Mode11B = 1
	Mode11G = 2
	Mode11N = 3
)

// MaxHostname is the longest hostname network.hostname() accepts.
const MaxHostname = config.MaxHostname

func (h *Host) globals() globals {
	h.mu.Lock()
	defer h.mu.Unlock()
	g := h.g
	g.dns = append([]string(nil), g.dns...)
	return g
}

// Hostname is network.hostname(): the name sent to DHCP servers by every
// interface.
func (h *Host) Hostname() string { return h.globals().hostname }

// SetHostname is network.hostname(name): at most MaxHostname characters
// of letters, digits, hyphens and dots. It applies from the next
// connection (DHCP sends it when it asks for a lease); it never waits.
func (h *Host) SetHostname(name string) error {
	if err := h.errClosed("network.hostname()"); err != nil {
		return err
	}
	if err := config.CheckHostname(name); err != nil {
		return fmt.Errorf("host: network.hostname(): %w", err)
	}
	h.mu.Lock()
	h.g.hostname = name
	h.mu.Unlock()
	return nil
}

// Country is network.country(): the ISO 3166-1 alpha-2 code radios obey,
// "XX" for worldwide.
func (h *Host) Country() string { return h.globals().country }

// SetCountry is network.country(code). Plugins that declare the "country"
// feature are told at once (nic_call "country"), the rest at their next
// start.
func (h *Host) SetCountry(ctx context.Context, code string) error {
	if err := h.errClosed("network.country()"); err != nil {
		return err
	}
	c, err := config.CheckCountry(code)
	if err != nil {
		return fmt.Errorf("host: network.country(): %w", err)
	}
	h.mu.Lock()
	h.g.country = c
	h.mu.Unlock()
	var errs []error
	for _, p := range h.pluginsWith("country") {
		nics := p.NICs()
		if len(nics) == 0 { // closed since the list was taken
			continue
		}
		if _, err := nics[0].Call(ctx, "country", c); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// IPConfig is network.ipconfig(name) for the global parameters "dns" (the
// first server, a str; see DNSServers for all) and "prefer" (4 or 6, an
// int64). It never waits.
func (h *Host) IPConfig(name string) (any, error) {
	if err := h.errClosed("network.ipconfig()"); err != nil {
		return nil, err
	}
	g := h.globals()
	switch name {
	case "dns":
		if servers := h.core.DNSServers(); len(servers) > 0 {
			return servers[0].String(), nil
		}
		return "0.0.0.0", nil
	case "prefer":
		return int64(g.prefer), nil
	}
	return nil, fmt.Errorf("host: %w", abi.ValueError("network.ipconfig: unknown parameter %q (want dns or prefer)", name))
}

// SetIPConfig is network.ipconfig(dns=..., prefer=...): dns is an IPv4 or
// IPv6 address (a str or netip.Addr, or a list of them), prefer is 4 or 6
// (any Go integer type). Nothing changes unless every argument is valid.
// It never waits.
func (h *Host) SetIPConfig(kw KW) error {
	if err := h.errClosed("network.ipconfig()"); err != nil {
		return err
	}
	if err := h.setIPConfig(kw); err != nil {
		return fmt.Errorf("host: network.ipconfig(): %w", err)
	}
	return nil
}

func (h *Host) setIPConfig(kw KW) error {
	h.ipMu.Lock()
	defer h.ipMu.Unlock()
	return h.setIPConfigLocked(kw)
}

// setIPConfigLocked is setIPConfig with h.ipMu held.
func (h *Host) setIPConfigLocked(kw KW) error {
	if len(kw) == 0 {
		return abi.TypeError("network.ipconfig() needs keyword arguments to set")
	}
	nkw, err := abi.Normalize(map[string]any(kw))
	if err != nil {
		return err
	}
	kw = nkw.(map[string]any)
	g := h.globals()
	for _, k := range abi.SortedKeys(kw) {
		v := kw[k]
		switch k {
		case "dns":
			servers, err := parseDNS(v)
			if err != nil {
				return err
			}
			g.dns = servers
		case "prefer":
			n, err := abi.Int("prefer", v)
			if err != nil {
				return err
			}
			if n != 4 && n != 6 {
				return abi.ValueError("prefer: must be 4 or 6, got %d", n)
			}
			g.prefer = int(n)
		default:
			return abi.ValueError("network.ipconfig: unknown parameter %q (want dns or prefer)", k)
		}
	}
	h.mu.Lock()
	h.g.dns, h.g.prefer = g.dns, g.prefer
	h.mu.Unlock()
	servers := make([]netip.Addr, len(g.dns))
	for i, s := range g.dns {
		servers[i] = netip.MustParseAddr(s)
	}
	h.core.SetDNS(servers)
	h.core.SetPrefer(g.prefer)
	return nil
}

// DNSServers are the DNS servers in use: the static ones, then those
// learnt on NICs.
func (h *Host) DNSServers() []netip.Addr { return h.core.DNSServers() }

func parseDNS(v any) ([]string, error) {
	var in []any
	switch x := v.(type) {
	case string:
		in = []any{x}
	case []any:
		in = x
	case []string:
		for _, s := range x {
			in = append(in, s)
		}
	case abi.Tuple:
		in = x
	default:
		return nil, abi.TypeError("dns: expected str or list of str, got %s", abi.TypeName(v))
	}
	out := make([]string, 0, len(in))
	for _, e := range in {
		s, err := abi.Str("dns", e)
		if err != nil {
			return nil, err
		}
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return nil, abi.ValueError("dns: %q is not an IPv4 or IPv6 address", s)
		}
		if r := ipaddr.Problem(a); r != "" {
			return nil, abi.ValueError("dns: %s is %s, not a server's", a, r)
		}
		if !slices.Contains(out, a.Unmap().String()) {
			out = append(out, a.Unmap().String())
		}
	}
	if len(out) > MaxStaticDNS {
		return nil, abi.ValueError("dns: %d servers; at most %d are kept", len(out), MaxStaticDNS)
	}
	return out, nil
}

// MaxStaticDNS is how many DNS servers network.ipconfig(dns=...) takes. A
// lookup tries each for up to 4 s, so more would only make a dead network
// slower to report.
const MaxStaticDNS = 8

// PhyMode is network.phy_mode(): 0 until set.
func (h *Host) PhyMode() int { return h.globals().phyMode }

// SetPhyMode is network.phy_mode(mode) with Mode11B, Mode11G or Mode11N. It
// is forwarded to every plugin that declares the "phy_mode" feature; if none
// does, it fails naming the NICs that cannot.
func (h *Host) SetPhyMode(ctx context.Context, mode int) error {
	if err := h.errClosed("network.phy_mode()"); err != nil {
		return err
	}
	if mode != Mode11B && mode != Mode11G && mode != Mode11N {
		return fmt.Errorf("host: network.phy_mode(): %w", abi.ValueError("phy_mode: %d is not MODE_11B (1), MODE_11G (2) or MODE_11N (3)", mode))
	}
	ps := h.pluginsWith("phy_mode")
	if len(ps) == 0 {
		var names []string
		for _, n := range h.NICs() {
			names = append(names, fmt.Sprintf("%s (%s)", n.name, n.Class()))
		}
		if len(names) == 0 {
			return fmt.Errorf("host: network.phy_mode(): %w", abi.Unsupported("phy_mode: no NIC is loaded"))
		}
		return fmt.Errorf("host: network.phy_mode(): %w", abi.Unsupported("phy_mode: no NIC supports it: %s", strings.Join(names, ", ")))
	}
	var errs []error
	for _, p := range ps {
		nics := p.NICs()
		if len(nics) == 0 { // closed since the list was taken
			continue
		}
		if _, err := nics[0].Call(ctx, "phy_mode", mode); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	h.mu.Lock()
	h.g.phyMode = mode
	h.mu.Unlock()
	return nil
}

// pluginsWith lists the plugins that declare an optional feature.
func (h *Host) pluginsWith(feature string) []*Plugin {
	var ps []*Plugin
	for _, p := range h.Plugins() {
		if slices.Contains(p.Description().Features, feature) {
			ps = append(ps, p)
		}
	}
	return ps
}
