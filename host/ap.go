package host

import (
	"context"
	"net"
	"slices"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/core"
)

// WiFiStation is a station associated with a Wi-Fi access point, a tuple
// of status('stations') (MicroPython's (MAC, RSSI)).
type WiFiStation struct {
	MAC  net.HardwareAddr
	RSSI int // dBm, as the access point hears it
}

// Stations is status('stations') of a Wi-Fi access point, typed: the
// stations associated now, in the order they joined. A reply that is not
// a list of (bytes(6), int) tuples fails with ErrBadModule.
func (n *NIC) Stations(ctx context.Context) ([]WiFiStation, error) {
	v, err := n.StatusParam(ctx, "stations")
	if err != nil {
		return nil, err
	}
	l, ok := v.([]any)
	if !ok {
		return nil, n.badResult("status('stations')", "a list", v)
	}
	out := make([]WiFiStation, 0, len(l))
	for _, e := range l {
		var t []any
		switch x := e.(type) {
		case abi.Tuple:
			t = x
		case []any:
			t = x
		}
		if len(t) != 2 {
			return nil, n.badResult("status('stations')", "a list of (MAC, RSSI) tuples", v)
		}
		mac, ok1 := t[0].([]byte)
		rssi, ok2 := t[1].(int64)
		if !ok1 || len(mac) != 6 || !ok2 {
			return nil, n.badResult("status('stations')", "a list of (bytes(6), int) tuples", v)
		}
		out = append(out, WiFiStation{MAC: net.HardwareAddr(slices.Clone(mac)), RSSI: int(rssi)})
	}
	return out, nil
}

// DHCPLeases lists the addresses the NIC's DHCP server handed out (an
// access point's interface serves its stations, ABI.md 8.4), by address;
// nil on a NIC that serves none.
func (n *NIC) DHCPLeases() []core.Lease { return n.core.Leases() }

// stationsReported takes an access point driver's report of its stations
// (validated: distinct 6-byte MACs) and publishes who joined and who
// left since the last one.
func (n *NIC) stationsReported(l []any) {
	now := make([]string, len(l))
	for i, e := range l {
		now[i] = string(e.([]byte))
	}
	n.mu.Lock()
	was := n.stations
	n.stations = now
	n.mu.Unlock()
	for _, m := range was {
		if !slices.Contains(now, m) {
			n.stationEvent("leave", m, len(now))
		}
	}
	for _, m := range now {
		if !slices.Contains(was, m) {
			n.stationEvent("join", m, len(now))
		}
	}
}

// stationsGone forgets the reported stations (the instance ended: the
// chip lost them), publishing their leave.
func (n *NIC) stationsGone() {
	n.mu.Lock()
	was := n.stations
	n.stations = nil
	n.mu.Unlock()
	for _, m := range was {
		n.stationEvent("leave", m, 0)
	}
}

func (n *NIC) stationEvent(event, mac string, count int) {
	s := net.HardwareAddr(mac).String()
	msg := "station " + s + " joined"
	if event == "leave" {
		msg = "station " + s + " left"
	}
	n.p.h.emit(Event{Kind: EventStation, Plugin: n.p.name, NIC: n.name, Generation: n.p.Generation(), Message: msg,
		Data: map[string]any{"event": event, "mac": s, "stations": count}})
}
