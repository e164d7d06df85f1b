package host

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net"

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

// WiFiNetwork is one network of a WLAN's scan(), typed: the tuple (ssid,
// bssid, channel, RSSI, security, hidden) of ABI.md 8.4.
type WiFiNetwork struct {
	SSID     string // "" for a hidden network that did not give its name
	BSSID    net.HardwareAddr
	Channel  int
	RSSI     int // dBm
	Security int // SecOpen ... SecWPA2WPA3
	Hidden   bool
}

// ParseScanTuple reads one scan() tuple; an error says how it is not (str,
// bytes(6), int, int, int, bool).
func ParseScanTuple(v any) (WiFiNetwork, error) {
	t, ok := v.(abi.Tuple)
	if !ok || len(t) != 6 {
		return WiFiNetwork{}, fmt.Errorf("a scan() result is a 6-tuple (ssid, bssid, channel, RSSI, security, hidden), not %s", abi.TypeName(v))
	}
	ssid, ok1 := t[0].(string)
	bssid, ok2 := t[1].([]byte)
	ch, ok3 := t[2].(int64)
	rssi, ok4 := t[3].(int64)
	sec, ok5 := t[4].(int64)
	hidden, ok6 := t[5].(bool)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || len(bssid) != 6 {
		return WiFiNetwork{}, fmt.Errorf("a scan() result is (str, bytes(6), int, int, int, bool), not (%s, %s, %s, %s, %s, %s)",
			abi.TypeName(t[0]), abi.TypeName(t[1]), abi.TypeName(t[2]), abi.TypeName(t[3]), abi.TypeName(t[4]), abi.TypeName(t[5]))
	}
	return WiFiNetwork{SSID: ssid, BSSID: net.HardwareAddr(bytes.Clone(bssid)), Channel: int(ch), RSSI: int(rssi), Security: int(sec), Hidden: hidden}, nil
}

// ParseScan reads a scan() list; the error names the first tuple that is
// not one.
func ParseScan(l []any) ([]WiFiNetwork, error) {
	out := make([]WiFiNetwork, 0, len(l))
	for i, v := range l {
		w, err := ParseScanTuple(v)
		if err != nil {
			return nil, fmt.Errorf("scan()[%d]: %w", i, err)
		}
		out = append(out, w)
	}
	return out, nil
}

// Networks is Scan with typed results: the networks a WLAN sees, strongest
// first. A driver whose tuples are not those of ABI.md 8.4 fails with
// ErrBadModule.
func (n *NIC) Networks(ctx context.Context, kw KW) ([]WiFiNetwork, error) {
	l, err := n.Scan(ctx, kw)
	if err != nil {
		return nil, err
	}
	out, err := ParseScan(l)
	if err != nil {
		return nil, &PluginError{Plugin: n.p.name, Op: n.name + ".scan()", Err: fmt.Errorf("%w: the driver returned %v", ErrBadModule, err)}
	}
	return out, nil
}
