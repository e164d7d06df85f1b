package host

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/nichost/nichost/host/config"
)

// applyIPConfig applies the ipconfig: sections of the plugin's interfaces
// (config.IPConfig): each NIC's keys in one SetIPConfig call, then the dns:
// servers of all of them added to the host's static ones. It runs once the
// NICs are made and before the plugin is listed, so before anything can
// call active(True). A section for an interface the plugin does not
// declare, or a key the network core refuses, is an error naming the
// interface, the NIC and the keys; the caller then drops the plugin, and
// the host's DNS servers are left as they were.
func (p *Plugin) applyIPConfig() error {
	nics := p.NICs()
	byIface := map[string]*NIC{}
	for _, n := range nics {
		byIface[n.iface] = n
	}
	for _, name := range slices.Sorted(maps.Keys(p.cfg.Interfaces)) {
		if p.cfg.Interfaces[name].IPConfig == nil || byIface[name] != nil {
			continue
		}
		declared := make([]string, len(nics))
		for i, n := range nics {
			declared[i] = n.iface
		}
		return fmt.Errorf("interfaces.%s.ipconfig: the plugin has no interface %q (it declares %s)", name, name, strings.Join(declared, ", "))
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.limits.CallTimeout)
	defer cancel()
	var dns []string
	for _, n := range nics { // the order the plugin declares them
		ic := p.cfg.Interfaces[n.iface].IPConfig
		if ic == nil {
			continue
		}
		kw := nicIPConfigArgs(ic)
		if len(kw) > 0 {
			if err := n.SetIPConfig(ctx, kw); err != nil {
				return fmt.Errorf("interfaces.%s.ipconfig: NIC %s: ipconfig(%s): %w", n.iface, n.Name(), describeKW(kw), err)
			}
		}
		dns = append(dns, ic.DNS...)
	}
	if len(dns) == 0 {
		return nil
	}
	if err := p.h.addStaticDNS(dns); err != nil {
		return fmt.Errorf("interfaces: ipconfig dns: %w", err)
	}
	return nil
}

// nicIPConfigArgs are the keyword arguments of nic.ipconfig() a section
// sets; dns is the host's, not the NIC's.
func nicIPConfigArgs(ic *config.IPConfig) KW {
	kw := KW{}
	if ic.DHCP4 != nil {
		kw["dhcp4"] = *ic.DHCP4
	}
	if ic.Addr4 != "" {
		kw["addr4"] = ic.Addr4
	}
	if ic.GW4 != "" {
		kw["gw4"] = ic.GW4
	}
	if ic.Autoconf6 != nil {
		kw["autoconf6"] = *ic.Autoconf6
	}
	if ic.Addr6 != "" {
		kw["addr6"] = ic.Addr6
	}
	return kw
}

// addStaticDNS adds servers, in order and without repeats, after the
// host's static DNS servers (network.ipconfig(dns=...)).
func (h *Host) addStaticDNS(servers []string) error {
	h.ipMu.Lock()
	defer h.ipMu.Unlock()
	have := h.globals().dns
	merged := slices.Clone(have)
	for _, s := range servers {
		a, err := config.ParseDNSServer(s)
		if err != nil {
			return err
		}
		if !slices.Contains(merged, a.String()) {
			merged = append(merged, a.String())
		}
	}
	if len(merged) == len(have) {
		return nil
	}
	return h.setIPConfigLocked(KW{"dns": merged})
}

// describeKW writes keyword arguments as a call's: addr4='10.0.0.2/24', dhcp4=False.
func describeKW(kw KW) string {
	keys := slices.Sorted(maps.Keys(kw))
	parts := make([]string, len(keys))
	for i, k := range keys {
		switch v := kw[k].(type) {
		case bool:
			parts[i] = fmt.Sprintf("%s=%s", k, map[bool]string{true: "True", false: "False"}[v])
		default:
			parts[i] = fmt.Sprintf("%s=%q", k, v)
		}
	}
	return strings.Join(parts, ", ")
}
