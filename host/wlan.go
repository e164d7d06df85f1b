package host

import (
	"context"
	"maps"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/config"
)

// The security values of a WLAN: config('security'), the fifth field of a
// scan() tuple and connect()'s choice (ESP32's numbering, which
// MicroPython's WLAN documents for 0 to 4).
const (
	SecOpen     = 0 // no security
	SecWEP      = 1
	SecWPA      = 2 // WPA-PSK
	SecWPA2     = 3 // WPA2-PSK
	SecWPAWPA2  = 4 // WPA/WPA2-PSK
	SecWPA3     = 6 // WPA3-SAE
	SecWPA2WPA3 = 7 // WPA2-PSK/WPA3-SAE transition mode
)

// The power-management modes of a WLAN, config(pm=...): the values of
// MicroPython's rp2 port (cyw43-driver's packed settings).
const (
	PMNone        = 0x10     // no power saving
	PMPerformance = 0xa11142 // the default: power saving with a short sleep
	PMPowerSave   = 0x111022 // the most power saving
)

// wlanStation says the NIC is a Wi-Fi station: its driver reports status
// 2 once joined, and the host says 3 while it holds an IPv4 address.
func (n *NIC) wlanStation() bool {
	return n.needIP && n.Class() == abi.ClassWLAN
}

// withAddress turns a Wi-Fi station's "joined, no IP yet" into "got IP"
// while the NIC holds an IPv4 address (ABI.md 8.4: the driver knows the
// join, the host the address).
func (n *NIC) withAddress(v any) any {
	if c, ok := v.(int64); ok && c == StatNoIP && n.wlanStation() && n.core.Addr4().IsValid() {
		return int64(StatGotIP)
	}
	return v
}

// hostnameAlias says config's hostname parameter is the host's: a WLAN's
// config('hostname') is network.hostname() (MicroPython keeps it as a
// deprecated alias there).
func (n *NIC) hostnameAlias() bool { return n.Class() == abi.ClassWLAN }

// takeHostname takes hostname out of a WLAN's config(...) keywords,
// checked: the returned apply sets it once the driver accepted the rest.
func (n *NIC) takeHostname(kw map[string]any) (rest map[string]any, apply func(), err error) {
	v, ok := kw["hostname"]
	if !ok || !n.hostnameAlias() {
		return kw, func() {}, nil
	}
	name, err := abi.Str("hostname", v)
	if err != nil {
		return nil, nil, err
	}
	if err := config.CheckHostname(name); err != nil {
		return nil, nil, abi.ValueError("hostname: %v", err)
	}
	rest = maps.Clone(kw)
	delete(rest, "hostname")
	return rest, func() { _ = n.p.h.SetHostname(name) }, nil
}

// hostnameValue answers config('hostname') for a WLAN.
func (n *NIC) hostnameValue(ctx context.Context) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, n.fail(`config("hostname")`, err)
	}
	return n.p.h.Hostname(), nil
}
