package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/simnet"
	"github.com/nichost/nichost/simnet/devices"
)

// The demo is nichost's main job on built-in simulated hardware: every NIC
// plugin there is, each on its simulated device, on one simulated LAN with
// a router (DHCP, DNS, HTTP). For each NIC it shows the plugin load, the
// link, the DHCP lease (for PPP: the connect to a simulated access server
// routed onto the LAN, and IPCP's addresses), a DNS lookup and an HTTP GET
// bound to that NIC.

func newDemo() *cobra.Command {
	var once, asJSON, contain bool
	var engine string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run NIC plugins on built-in simulated hardware and a simulated LAN (no root, no hardware)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			root, err := moduleRoot()
			if err != nil {
				return err
			}
			d := &demo{out: cmd.OutOrStdout(), root: root, engine: engine}
			if asJSON {
				d.out = io.Discard
			}
			results, err := d.run(cmd.Context())
			defer d.close()
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				for _, r := range results {
					enc.Encode(r)
				}
			}
			if err != nil {
				return err
			}
			if contain {
				if r := d.hostile(cmd.Context()); r.Error != "" {
					results = append(results, r)
				}
			}
			if failed := failures(results); failed != "" {
				return fmt.Errorf("demo failed: %s", failed)
			}
			if !once && !asJSON {
				return d.live(cmd.Context())
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&once, "once", false, "exit after one pass (status 1 if any NIC failed)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per NIC instead of text (implies --once)")
	cmd.Flags().BoolVar(&contain, "contain", false, "also load a driver that hangs and show the host interrupting and restarting it")
	engineFlag(cmd, &engine, "")
	return cmd
}

// nicResult is what the demo reports per NIC.
type nicResult struct {
	Name        string   `json:"name"`
	Class       string   `json:"class"`
	Plugin      string   `json:"plugin"`
	Engine      string   `json:"engine"` // the WebAssembly engine the plugin ran on
	Load        string   `json:"load"`   // "cold" or "cached"
	LoadMillis  int64    `json:"load_ms"`
	Active      bool     `json:"active"`
	IsConnected bool     `json:"isconnected"`
	Addr4       string   `json:"addr4"`
	Gw4         string   `json:"gw4"`
	DNS         []string `json:"dns"`
	Lookup      string   `json:"lookup"`
	HTTPStatus  int      `json:"http_status"`
	HTTPBytes   int64    `json:"http_bytes"`
	HTTPMBps    float64  `json:"http_mbps"`
	// An access point's: its SSID and the stations associated with it.
	SSID      string        `json:"ssid,omitempty"`
	Stations  []demoStation `json:"stations,omitempty"`
	Restarts  int           `json:"restarts,omitempty"`
	Contained string        `json:"contained,omitempty"`
	Error     string        `json:"error"`
}

func failures(rs []nicResult) string {
	var bad []string
	for _, r := range rs {
		if r.Error != "" {
			bad = append(bad, r.Name+": "+r.Error)
		}
	}
	return strings.Join(bad, "; ")
}

// demoStation is a station of the demo's access point, as status('stations')
// and the access point's DHCP server see it.
type demoStation struct {
	MAC   string `json:"mac"`
	RSSI  int    `json:"rssi"`
	Addr4 string `json:"addr4"` // its lease from the access point
}

// device is one simulated NIC of the demo: its plugin and hardware.
type device struct {
	name, class, plugin string
	buses               map[string]config.BusGrant
	sims                map[string]any
	connect             []any            // connect()'s arguments, for a class that connects (PPP)
	networks            []simnet.Network // the Wi-Fi networks in reach (WLAN); the first is joined
	joinAP              func(ssid, key string) (*simnet.Station, error)
}

type demo struct {
	out    io.Writer
	root   string
	engine string // host.Options.Engine
	router *simnet.Router
	h      *host.Host
	nics   []*host.NIC
	closer []func()
}

func (d *demo) say(format string, a ...any) { fmt.Fprintf(d.out, format+"\n", a...) }

func (d *demo) close() {
	if d.h != nil {
		d.h.Close()
	}
	for _, c := range d.closer {
		c()
	}
	if d.router != nil {
		d.router.Close()
	}
}

// demoNICs are the demo's interfaces, in the order it brings them up: the
// simulated device model of each (simnet/devices), the name the demo
// gives it, and how long its PHY takes to negotiate, if it has one.
var demoNICs = []struct {
	nic, model string
	autoNeg    time.Duration
}{
	{"eth0", "w5500", 0},
	{"lan0", "lan8720", 300 * time.Millisecond},
	{"ppp0", "ppp", 0},
	{"wlan0", "cyw43439", 0},
}

// devices makes the simulated hardware, one per NIC plugin in the tree.
func (d *demo) devices() ([]device, error) {
	var devs []device
	for _, n := range demoNICs {
		m, ok := devices.Lookup(n.model)
		if !ok {
			return nil, fmt.Errorf("demo: no simulated device %q", n.model)
		}
		dev, err := m.New(d.router, devices.Options{Name: n.nic, AutoNeg: n.autoNeg})
		if err != nil {
			return nil, fmt.Errorf("demo: %s: %w", n.nic, err)
		}
		if dev.Close != nil {
			d.closer = append(d.closer, dev.Close)
		}
		devs = append(devs, device{name: n.nic, class: m.Class, plugin: m.Driver, buses: dev.Buses, sims: dev.Sims, connect: dev.Connect, networks: dev.Networks, joinAP: dev.JoinAP})
	}
	return devs, nil
}

func (d *demo) run(ctx context.Context) ([]nicResult, error) {
	var err error
	if d.router, err = simnet.NewRouter(simnet.Options{}); err != nil {
		return nil, err
	}
	devs, err := d.devices()
	if err != nil {
		return nil, err
	}
	sims := map[string]any{}
	for _, dev := range devs {
		for k, v := range dev.sims {
			sims[k] = v
		}
	}
	d.h, err = host.New(host.Options{
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Hostname: "nichost-demo",
		Progress: func(msg string) { d.say("  %s", msg) },
		Buses:    sims,
		Engine:   d.engine,
	})
	if err != nil {
		return nil, err
	}
	d.say("nichost demo: NIC drivers as WebAssembly plugins (on %s) on simulated hardware", d.h.Engine())
	d.say("simulated LAN %s: router %s serving DHCP, DNS and %s\n", simnet.Subnet, simnet.RouterAddr, d.router.URL())
	var results []nicResult
	for _, dev := range devs {
		r := d.bringUp(ctx, dev)
		results = append(results, r)
		if dev.class == abi.ClassWLAN && dev.joinAP != nil && r.Error == "" {
			results = append(results, d.accessPoint(ctx, dev))
		}
	}
	return results, nil
}

// bringUp loads one NIC's plugin and walks it through the network.
func (d *demo) bringUp(ctx context.Context, dev device) nicResult {
	res := nicResult{Name: dev.name, Class: dev.class, Plugin: dev.plugin}
	fail := func(step string, err error) nicResult {
		res.Error = step + ": " + err.Error()
		d.say("  %s failed: %v\n", step, err)
		return res
	}
	d.say("%s: %s driver from %s", dev.name, dev.class, dev.plugin)
	t0 := time.Now()
	pc := config.PluginConfig{
		Name: dev.name, Source: filepath.Join(d.root, filepath.FromSlash(dev.plugin)), Class: dev.class, Buses: dev.buses,
	}
	if dev.class == abi.ClassWLAN { // the station is the NIC the demo shows: wlan0, not wlan0.sta
		pc.Interfaces = map[string]config.InterfaceConfig{"sta": {Name: dev.name}, "ap": {Name: demoAP}}
	}
	p, info, err := d.h.Load(ctx, pc)
	if err != nil {
		return fail("load", err)
	}
	res.LoadMillis, res.Load, res.Engine = time.Since(t0).Milliseconds(), "cached", p.Engine()
	if (info.Build != nil && !info.Build.Cached) || !info.CompileCached {
		res.Load = "cold"
	}
	nic := p.NICs()[0]
	d.nics = append(d.nics, nic)
	if dev.connect != nil { // an IP-only link: no MAC address on it
		d.say("  plugin loaded (%s) in %d ms", res.Load, res.LoadMillis)
	} else {
		d.say("  plugin loaded (%s) in %d ms, MAC %s", res.Load, res.LoadMillis, nic.MAC())
	}
	// DHCP is on by default for LAN and WIZNET5K, as on MicroPython's
	// ports: active(True) is all it takes. PPP dials its access server
	// with connect(), and IPCP gives the addresses.
	step := "link and DHCP"
	if dev.class == abi.ClassWLAN {
		step = "Wi-Fi join and DHCP"
		if err := d.wifiJoin(ctx, nic, dev.networks); err != nil {
			return fail("Wi-Fi", err)
		}
	} else if dev.connect != nil {
		step = "PPP connect"
		if err := nic.Connect(ctx, dev.connect...); err != nil {
			return fail("connect()", err)
		}
	} else if err := nic.SetActive(ctx, true); err != nil {
		return fail("active(True)", err)
	}
	res.Active = true
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	t1 := time.Now()
	for {
		// isconnected() is the link and an address, as MicroPython reports it.
		if res.IsConnected, _ = nic.IsConnected(wctx); res.IsConnected {
			break
		}
		select {
		case <-wctx.Done():
			if dev.connect != nil {
				why, _ := nic.StatusParam(ctx, "failure")
				return fail(step, fmt.Errorf("not connected after 15 s (failure: %v)", why))
			}
			if dev.class == abi.ClassWLAN {
				st, _ := nic.Status(ctx)
				return fail(step, fmt.Errorf("not joined with a lease after 15 s (status() %v)", st))
			}
			return fail(step, fmt.Errorf("no link or no lease after 15 s (isconnected=%v)", res.IsConnected))
		case <-time.After(20 * time.Millisecond):
		}
	}
	a, _ := nic.IPConfig(ctx, "addr4")
	gw, _ := nic.IPConfig(ctx, "gw4")
	res.Addr4, res.Gw4 = a.(abi.Tuple)[0].(string), gw.(string)
	for _, s := range d.h.DNSServers() {
		res.DNS = append(res.DNS, s.String())
	}
	if dev.connect != nil {
		d.say("  PPP link up (LCP, CHAP, IPCP) in %v: %s gateway %s dns %s", time.Since(t1).Round(time.Millisecond), res.Addr4, res.Gw4, strings.Join(res.DNS, ","))
		if got := nic.Reported()["addr4"]; got != res.Addr4 {
			return fail(step, fmt.Errorf("connected with %s but IPCP negotiated %v", res.Addr4, got))
		}
	} else {
		d.say("  link up, DHCP lease in %v: %s/%s gateway %s dns %s", time.Since(t1).Round(time.Millisecond), res.Addr4, a.(abi.Tuple)[1], res.Gw4, strings.Join(res.DNS, ","))
		if _, leased, _ := nic.DHCP4(); !leased {
			return fail(step, fmt.Errorf("connected with %s but not by a DHCP lease", res.Addr4))
		}
	}

	host0 := "www." + d.router.Domain
	addrs, err := d.h.LookupHost(wctx, host0)
	if err != nil {
		return fail("DNS lookup", err)
	}
	res.Lookup = strings.Join(addrs, ",")
	d.say("  DNS: %s is %s", host0, res.Lookup)

	client := &http.Client{Transport: &http.Transport{DialContext: nic.Dial, DisableKeepAlives: true}}
	req, _ := http.NewRequestWithContext(wctx, "GET", d.router.URL(), nil)
	t2 := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return fail("HTTP GET", err)
	}
	res.HTTPStatus = resp.StatusCode
	res.HTTPBytes, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return fail("HTTP GET", err)
	}
	el := time.Since(t2)
	res.HTTPMBps = float64(res.HTTPBytes) / el.Seconds() / 1e6
	d.say("  HTTP GET %s through %s: %d, %d bytes in %v (%.1f MB/s)\n", d.router.URL(), dev.name, res.HTTPStatus, res.HTTPBytes, el.Round(time.Millisecond), res.HTTPMBps)
	if res.HTTPStatus != http.StatusOK || res.HTTPBytes != int64(len(d.router.Page)) {
		res.Error = fmt.Sprintf("HTTP GET returned %d with %d bytes", res.HTTPStatus, res.HTTPBytes)
	}
	return res
}

// wifiJoin brings a Wi-Fi station up: active(True), a scan printed as a
// table, and connect() to the first network of the device, whose key the
// device gives; DHCP runs on the station by default once it has joined.
func (d *demo) wifiJoin(ctx context.Context, nic *host.NIC, networks []simnet.Network) error {
	if len(networks) == 0 {
		return errors.New("the simulated device lists no Wi-Fi network")
	}
	if err := nic.SetActive(ctx, true); err != nil {
		return fmt.Errorf("active(True): %w", err)
	}
	t0 := time.Now()
	l, err := nic.Scan(ctx, nil)
	if err != nil {
		return fmt.Errorf("scan(): %w", err)
	}
	d.say("  scan() found %d networks in %v:", len(l), time.Since(t0).Round(time.Millisecond))
	var table strings.Builder
	if err := printScan(&table, l); err != nil {
		return err
	}
	for _, line := range strings.Split(strings.TrimRight(table.String(), "\n"), "\n") {
		d.say("    %s", line)
	}
	n := networks[0]
	d.say("  connect(%q, key) to %s on channel %d", n.SSID, n.BSSID, n.Channel)
	if err := nic.Connect(ctx, n.SSID, n.Key); err != nil {
		return fmt.Errorf("connect(%q): %w", n.SSID, err)
	}
	return nil
}

// The demo's access point: the Wi-Fi chip's second interface.
const (
	demoAP     = "ap0"
	demoAPSSID = "nichost-demo-ap"
	demoAPKey  = "nichost-demo"
)

// accessPoint starts the Wi-Fi chip's access point beside its station (on
// the station's channel, as the chip allows), lets a simulated station
// join it and take a lease from the access point's DHCP server, and pings
// the access point from it.
func (d *demo) accessPoint(ctx context.Context, dev device) nicResult {
	res := nicResult{Name: demoAP, Class: dev.class, Plugin: dev.plugin, SSID: demoAPSSID}
	fail := func(step string, err error) nicResult {
		res.Error = step + ": " + err.Error()
		d.say("  %s failed: %v\n", step, err)
		return res
	}
	nic, ok := d.h.NIC(demoAP)
	if !ok {
		return fail("access point", errors.New("the WLAN plugin has no NIC "+demoAP))
	}
	res.Engine = nic.Plugin().Engine()
	d.say("%s: the same chip's access point, MAC %s", demoAP, nic.MAC())
	if err := nic.SetConfig(ctx, host.KW{"ssid": demoAPSSID, "key": demoAPKey, "security": int64(host.SecWPA2)}); err != nil {
		return fail("config()", err)
	}
	if err := nic.SetActive(ctx, true); err != nil {
		return fail("active(True)", err)
	}
	res.Active = true
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	t0 := time.Now()
	for {
		if st, _ := nic.StatusCode(wctx); st == 2 {
			break
		}
		select {
		case <-wctx.Done():
			st, _ := nic.Status(ctx)
			return fail("access point", fmt.Errorf("not up after 15 s (status() %v)", st))
		case <-time.After(20 * time.Millisecond):
		}
	}
	ch, _ := nic.Config(ctx, "channel")
	a, _ := nic.IPConfig(ctx, "addr4")
	res.Addr4 = a.(abi.Tuple)[0].(string)
	d.say("  %q (WPA2) up in %v on channel %v, serving DHCP from %s/%s", demoAPSSID, time.Since(t0).Round(10*time.Microsecond), ch, res.Addr4, a.(abi.Tuple)[1])
	sta, err := dev.joinAP(demoAPSSID, demoAPKey)
	if err != nil {
		return fail("a simulated station", err)
	}
	d.closer = append(d.closer, sta.Close)
	t1 := time.Now()
	for !sta.NIC.Addr4().IsValid() {
		select {
		case <-wctx.Done():
			return fail("a simulated station", errors.New("no lease from the access point after 15 s"))
		case <-time.After(20 * time.Millisecond):
		}
	}
	d.say("  a simulated station %s joined and got %s from the access point in %v", sta.MAC, sta.NIC.Addr4(), time.Since(t1).Round(time.Millisecond))
	rtt, err := sta.NIC.Ping(wctx, sta.NIC.Gateway4(), 56)
	if err != nil {
		return fail("ping from the station", err)
	}
	d.say("  ping %s from the station: %v", sta.NIC.Gateway4(), rtt.Round(time.Microsecond))
	l, err := nic.Stations(wctx)
	if err != nil {
		return fail("status('stations')", err)
	}
	for _, s := range l {
		ds := demoStation{MAC: s.MAC.String(), RSSI: s.RSSI}
		for _, le := range nic.DHCPLeases() {
			if le.MAC.String() == ds.MAC {
				ds.Addr4 = le.Addr.String()
			}
		}
		res.Stations = append(res.Stations, ds)
		d.say("  status('stations'): %s at %d dBm, lease %s", ds.MAC, ds.RSSI, ds.Addr4)
	}
	if res.IsConnected, err = nic.IsConnected(wctx); err != nil || !res.IsConnected || len(res.Stations) != 1 {
		return fail("access point", fmt.Errorf("isconnected() %v with stations %v (%v)", res.IsConnected, res.Stations, err))
	}
	d.nics = append(d.nics, nic)
	d.say("")
	return res
}

// hostile loads a driver whose active() never returns and shows that the
// host interrupts it, restarts it, and that the other NICs are unaffected.
func (d *demo) hostile(ctx context.Context) nicResult {
	res := nicResult{Name: "bad0", Plugin: "host/testdata/plugins/hostile/loop"}
	d.say("bad0: a driver whose active() loops forever (%s)", res.Plugin)
	p, _, err := d.h.Load(ctx, config.PluginConfig{
		Name: "bad0", Source: filepath.Join(d.root, "host", "testdata", "plugins", "hostile", "loop"),
		Limits: config.Limits{CallTimeout: 300 * time.Millisecond},
	})
	if err != nil {
		res.Error = err.Error()
		return res
	}
	nic := p.NICs()[0]
	err = nic.SetActive(ctx, true)
	if !errors.Is(err, host.ErrTimeout) {
		res.Error = fmt.Sprintf("expected the host to interrupt active(True), got %v", err)
		return res
	}
	res.Contained = err.Error()
	d.say("  active(True) interrupted after 300 ms: %v", err)
	if _, err := nic.Active(ctx); err != nil {
		res.Error = err.Error()
		return res
	}
	d.say("  restarted %d time(s); it answers again", p.State().Restarts)
	for _, n := range d.nics {
		if ok, err := n.IsConnected(ctx); err != nil || !ok {
			res.Error = fmt.Sprintf("%s was disturbed: connected=%v, %v", n.Name(), ok, err)
			return res
		}
	}
	d.say("  the other NICs kept their links\n")
	d.nics = append(d.nics, nic)
	return res
}

// live prints a status line per NIC every second until interrupted.
func (d *demo) live(ctx context.Context) error {
	d.say("live status (Ctrl-C to stop):")
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		for _, n := range d.nics {
			d.say("  %s", statusLine(ctx, n))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// moduleRoot finds the nichost source tree the demo builds its plugins
// from: the current directory or a parent holding nichost's go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/nichost/nichost\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("demo: run it from a nichost source tree (it builds its plugins from source)")
		}
		dir = parent
	}
}
