package control

import (
	"context"
	"sync"
	"time"

	"github.com/nichost/nichost/host"
)

// NICInfo is one NIC as GET /v1/nics lists it.
type NICInfo struct {
	Name   string `json:"name"`
	Class  string `json:"class"`
	Plugin string `json:"plugin"`
	Index  int    `json:"index"` // the interface index within the plugin
	MAC    string `json:"mac"`   // "02:00:00:00:00:01"
	// Active is active(), nil when the call failed or the plugin is down
	// (ActiveError then says why).
	Active      *bool    `json:"active"`
	ActiveError string   `json:"active_error,omitempty"`
	Link        LinkInfo `json:"link"`
	Addr4       string   `json:"addr4"` // "a.b.c.d/n"; "" when none
	Generation  int      `json:"generation"`
	Stats       NICStats `json:"stats"`
}

// LinkInfo is what the driver last reported about a NIC's link.
type LinkInfo struct {
	Up   bool   `json:"up"`
	Type string `json:"type"` // "ethernet" or "ip"
	MTU  int    `json:"mtu"`  // 0: the default (1500)
}

// NICStats are a NIC's frame counters.
type NICStats struct {
	RxFrames uint64            `json:"rx_frames"`
	RxBytes  uint64            `json:"rx_bytes"`
	TxFrames uint64            `json:"tx_frames"`
	TxBytes  uint64            `json:"tx_bytes"`
	Drops    map[string]uint64 `json:"drops"` // dropped frames by reason
}

// PluginInfo is one plugin as GET /v1/plugins lists it.
type PluginInfo struct {
	Name       string      `json:"name"`
	Class      string      `json:"class"`
	Driver     DriverInfo  `json:"driver"`
	Source     string      `json:"source"`
	Digest     string      `json:"digest"`              // "sha256:..." of the running module; "" for a native one
	Origin     string      `json:"origin"`              // where the module came from: "build" (a source directory the daemon built) or "file" (a .wasm); "" for a native one
	SignedBy   string      `json:"signed_by,omitempty"` // the key ID of the signature checked at load ("ed25519:..."); absent when none was
	Engine     string      `json:"engine"`              // what runs it: "wazero", "wasmtime" or "native"
	Up         bool        `json:"up"`
	Generation int         `json:"generation"`
	Restarts   int         `json:"restarts"`
	Reloads    int         `json:"reloads"`
	Faults     int         `json:"faults"`
	LastFault  string      `json:"last_fault"`           // "" when none
	RestartAt  *time.Time  `json:"restart_at,omitempty"` // when the next restart is due, while down
	NICs       []string    `json:"nics"`
	Stats      PluginStats `json:"stats"`
}

// DriverInfo is what a plugin's module says it is.
type DriverInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// PluginStats are a plugin's counters (see host.PluginStats).
type PluginStats struct {
	Calls         uint64  `json:"calls"`
	Polls         uint64  `json:"polls"`
	Faults        uint64  `json:"faults"`
	HostCalls     uint64  `json:"host_calls"`
	SPICalls      uint64  `json:"spi_calls"`
	SPIBytes      uint64  `json:"spi_bytes"`
	BadHandles    uint64  `json:"bad_handles"`
	Denied        uint64  `json:"denied"`
	OutputDropped uint64  `json:"output_dropped"`
	BusySeconds   float64 `json:"busy_seconds"`
	Throttled     uint64  `json:"throttled"`
	Throttling    bool    `json:"throttling"`
	Memory        uint64  `json:"memory"` // bytes of the instance's linear memory; 0 while down
	// Latency is the number and total time of the calls by export
	// ("nic_poll", ...); the buckets are on the metrics endpoint.
	Latency map[string]LatencyInfo `json:"latency"`
}

// LatencyInfo sums up one export's call latencies.
type LatencyInfo struct {
	Count      uint64  `json:"count"`
	SumSeconds float64 `json:"sum_seconds"`
}

// DaemonStatus is GET /v1/status.
type DaemonStatus struct {
	Version       string    `json:"version"`
	ABI           string    `json:"abi"` // "1.1"
	ABIVersion    int       `json:"abi_version"`
	Hostname      string    `json:"hostname"`
	Started       time.Time `json:"started"`
	UptimeSeconds float64   `json:"uptime_seconds"`
	PID           int       `json:"pid"`
	Plugins       int       `json:"plugins"`
	NICs          int       `json:"nics"`
}

// nicInfo describes n; active() is asked only of a plugin that is up, so
// that a listing does not wait out a restart back-off.
func nicInfo(ctx context.Context, n *host.NIC) NICInfo {
	ls := n.LinkState()
	st := n.Stats()
	info := NICInfo{
		Name: n.Name(), Class: n.Class(), Plugin: n.Plugin().Name(), Index: n.Index(), MAC: n.MAC().String(),
		Link:       LinkInfo{Up: ls.Up, Type: ls.Type.String(), MTU: ls.MTU},
		Generation: n.Plugin().Generation(),
		Stats:      NICStats{RxFrames: st.RxFrames, RxBytes: st.RxBytes, TxFrames: st.TxFrames, TxBytes: st.TxBytes, Drops: st.Drops},
	}
	if a, err := n.Addr4(); err == nil && a.IsValid() {
		info.Addr4 = a.String()
	}
	if !n.Plugin().State().Up {
		info.ActiveError = "the plugin is down"
		return info
	}
	if up, err := n.Active(ctx); err == nil {
		info.Active = &up
	} else {
		info.ActiveError = err.Error()
	}
	return info
}

// nicInfos describes the NICs, asking their plugins at once.
func nicInfos(ctx context.Context, nics []*host.NIC) []NICInfo {
	out := make([]NICInfo, len(nics))
	var wg sync.WaitGroup
	for i, n := range nics {
		wg.Go(func() { out[i] = nicInfo(ctx, n) })
	}
	wg.Wait()
	return out
}

func pluginInfo(p *host.Plugin) PluginInfo {
	d := p.Description()
	st := p.State()
	s := p.Stats()
	info := PluginInfo{
		Name: p.Name(), Class: d.Class, Driver: DriverInfo{Name: d.Name, Version: d.Version},
		Source: p.Config().Source, Digest: p.Digest(), Origin: p.Origin(), SignedBy: p.SignedBy(), Engine: p.Engine(), Up: st.Up, Generation: p.Generation(),
		Restarts: st.Restarts, Reloads: st.Reloads, Faults: st.Faults, NICs: []string{},
		Stats: PluginStats{
			Calls: s.Calls, Polls: s.Polls, Faults: s.Faults, HostCalls: s.HostCalls, SPICalls: s.SPICalls,
			SPIBytes: s.SPIBytes, BadHandles: s.BadHandles, Denied: s.Denied, OutputDropped: s.OutputDropped,
			BusySeconds: s.Busy.Seconds(), Throttled: s.Throttled, Throttling: s.Throttling, Memory: s.Memory,
			Latency: map[string]LatencyInfo{},
		},
	}
	if st.LastFault != nil {
		info.LastFault = st.LastFault.Error()
	}
	if !st.Up && !st.RestartAt.IsZero() {
		t := st.RestartAt
		info.RestartAt = &t
	}
	for _, n := range p.NICs() {
		info.NICs = append(info.NICs, n.Name())
	}
	for k, h := range s.Latency {
		info.Stats.Latency[k] = LatencyInfo{Count: h.Count, SumSeconds: h.Sum}
	}
	return info
}
