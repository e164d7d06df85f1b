package host

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/nichost/nichost/abi"
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
const MaxHostname = 32

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

// SetHostname is network.hostname(name). It applies from the next
// connection (DHCP sends it when it asks for a lease).
func (h *Host) SetHostname(name string) error {
	if err := checkHostname(name); err != nil {
		return err
	}
	h.mu.Lock()
	h.g.hostname = name
	h.mu.Unlock()
	return nil
}

func checkHostname(name string) error {
	switch {
	case name == "":
		return abi.ValueError("hostname must not be empty")
	case len(name) > MaxHostname:
		return abi.ValueError("hostname %q is %d characters; at most %d are allowed", name, len(name), MaxHostname)
	}
	for i, labels := 0, strings.Split(name, "."); i < len(labels); i++ {
		l := labels[i]
		if l == "" || l[0] == '-' || l[len(l)-1] == '-' {
			return abi.ValueError("hostname %q: labels are 1-63 letters, digits and inner hyphens", name)
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return abi.ValueError("hostname %q: %q is not allowed (letters, digits, hyphens, dots)", name, c)
			}
		}
	}
	return nil
}

// Country is network.country(): the ISO 3166-1 alpha-2 code radios obey,
// "XX" for worldwide.
func (h *Host) Country() string { return h.globals().country }

// SetCountry is network.country(code). Plugins that declare the "country"
// feature are told at once (nic_call "country"), the rest at their next
// start.
func (h *Host) SetCountry(ctx context.Context, code string) error {
	c, err := checkCountry(code)
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.g.country = c
	h.mu.Unlock()
	var errs []error
	for _, p := range h.pluginsWith("country") {
		if _, err := p.nics[0].Call(ctx, "country", c); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func checkCountry(code string) (string, error) {
	c := strings.ToUpper(code)
	if len(c) != 2 || !strings.Contains(iso3166, " "+c+" ") {
		return "", abi.ValueError("country %q is not an ISO 3166-1 alpha-2 code (or XX for worldwide)", code)
	}
	return c, nil
}

// IPConfig is network.ipconfig(name) for the global parameters "dns" and
// "prefer".
func (h *Host) IPConfig(name string) (any, error) {
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
	return nil, abi.ValueError("network.ipconfig: unknown parameter %q (want dns or prefer)", name)
}

// SetIPConfig is network.ipconfig(dns=..., prefer=...): dns is an IPv4 or
// IPv6 address (or a list of them), prefer is 4 or 6. Nothing changes
// unless every argument is valid.
func (h *Host) SetIPConfig(kw KW) error {
	if len(kw) == 0 {
		return abi.TypeError("network.ipconfig() needs keyword arguments to set")
	}
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
		out = append(out, a.String())
	}
	return out, nil
}

// PhyMode is network.phy_mode(): 0 until set.
func (h *Host) PhyMode() int { return h.globals().phyMode }

// SetPhyMode is network.phy_mode(mode) with Mode11B, Mode11G or Mode11N. It
// is forwarded to every plugin that declares the "phy_mode" feature; if none
// does, it fails naming the NICs that cannot.
func (h *Host) SetPhyMode(ctx context.Context, mode int) error {
	if mode != Mode11B && mode != Mode11G && mode != Mode11N {
		return abi.ValueError("phy_mode: %d is not MODE_11B (1), MODE_11G (2) or MODE_11N (3)", mode)
	}
	ps := h.pluginsWith("phy_mode")
	if len(ps) == 0 {
		var names []string
		for _, n := range h.NICs() {
			names = append(names, fmt.Sprintf("%s (%s)", n.name, n.Class()))
		}
		if len(names) == 0 {
			return abi.Unsupported("phy_mode: no NIC is loaded")
		}
		return abi.Unsupported("phy_mode: no NIC supports it: %s", strings.Join(names, ", "))
	}
	var errs []error
	for _, p := range ps {
		if _, err := p.nics[0].Call(ctx, "phy_mode", mode); err != nil {
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
		if contains(p.desc.Features, feature) {
			ps = append(ps, p)
		}
	}
	return ps
}

// iso3166 holds the officially assigned ISO 3166-1 alpha-2 codes, and XX
// (MicroPython's "worldwide").
const iso3166 = " XX " +
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS " +
	"BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE " +
	"EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM " +
	"HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC " +
	"LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA " +
	"NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW " +
	"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO " +
	"TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW "
