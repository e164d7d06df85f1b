// Package simnet is the simulated network nichost's demo, its driver test
// command (`nichost test --sim NAME`), the conformance suite and tests run
// on, and that drivers in other modules can use the same way: an Ethernet
// segment (host/bus/sim) with a router that is a second instance of
// nichost's core, serving DHCP, DNS (github.com/miekg/dns; A and AAAA
// records) and HTTP, and, with Options.IPv6, sending IPv6 router
// advertisements for SLAAC. A Device is one simulated NIC's hardware wired
// to the LAN, ready to hand to a host. Nothing in it touches a real
// network.
package simnet

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/nichost/nichost/core"
	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/internal/dhcpserver"
)

// Options configure a Router. Zero fields take the defaults shown.
type Options struct {
	Segment  sim.SegmentOptions // loss, delay, ... of the LAN (none)
	Domain   string             // DNS zone ("sim.nichost")
	PageSize int                // bytes served at http://www.<domain>/ (256 KiB)
	// IPv6 gives the router RouterAddr6 in Prefix6, answers AAAA queries
	// with it, and sends router advertisements of Prefix6 (on-link,
	// autonomous) with the router as DNS server (RDNSS), so hosts on the
	// LAN configure themselves by SLAAC (off: the LAN is IPv4 only, apart
	// from link-local addresses).
	IPv6   bool
	Logger *slog.Logger // nil discards
}

// The router's fixed addresses.
var (
	RouterAddr  = netip.MustParseAddr("10.64.0.1")
	Subnet      = netip.MustParsePrefix("10.64.0.0/24")
	RouterAddr6 = netip.MustParseAddr("fd64::1")     // with Options.IPv6
	Prefix6     = netip.MustParsePrefix("fd64::/64") // advertised with Options.IPv6
	routerMAC   = net.HardwareAddr{0x02, 0x64, 0, 0, 0, 0x01}
	poolFirst   = netip.MustParseAddr("10.64.0.100")
	poolLast    = netip.MustParseAddr("10.64.0.199")
)

// Router is the simulated LAN and its router.
type Router struct {
	Segment *sim.Segment
	Stack   *core.Stack
	NIC     *core.NIC
	Domain  string
	Page    []byte // what http://www.<domain>/ returns

	ipv6     bool
	dhcp     *dhcpserver.Server
	ra       *advertiser // nil without IPv6
	dnsSrv   *dns.Server
	httpSrv  *http.Server
	port     *sim.FramePort
	stopPump func()
	wg       sync.WaitGroup
}

// Lease is an address the router's DHCP server handed out.
type Lease struct {
	MAC      net.HardwareAddr
	Addr     netip.Addr
	Hostname string // option 12 of the client's last request
	Expires  time.Time
	Bound    bool // acknowledged (not merely offered)
}

// NewRouter starts the segment and the router on it.
func NewRouter(opts Options) (*Router, error) {
	if opts.Domain == "" {
		opts.Domain = "sim.nichost"
	}
	if opts.PageSize == 0 {
		opts.PageSize = 256 << 10
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if err := opts.Segment.Validate(); err != nil {
		return nil, fmt.Errorf("simnet: %w", err)
	}
	r := &Router{Segment: sim.NewSegment(opts.Segment), Domain: opts.Domain, ipv6: opts.IPv6}
	r.Page = make([]byte, opts.PageSize)
	for i := range r.Page {
		r.Page[i] = "nichost simulated router\n"[i%25]
	}
	if err := r.start(opts.Logger); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// start brings the router's NIC up with its addresses and starts its
// servers.
func (r *Router) start(log *slog.Logger) error {
	r.Stack = core.New(core.Options{Hostname: func() string { return "router" }, Logger: log})
	r.port = r.Segment.Attach("router")
	nic, err := r.Stack.AddNIC("lan", routerMAC, core.LinkEthernet, r.port.WriteFrame)
	if err != nil {
		return fmt.Errorf("simnet: %w", err)
	}
	r.NIC = nic
	r.dhcp, err = dhcpserver.New(dhcpserver.Config{
		Addr: netip.PrefixFrom(RouterAddr, Subnet.Bits()), MAC: routerMAC,
		First: poolFirst, Last: poolLast, Router: RouterAddr, DNS: []netip.Addr{RouterAddr}, Lease: time.Hour,
		Send: r.port.WriteFrame, Logger: log,
	})
	if err != nil {
		return fmt.Errorf("simnet: %w", err)
	}
	if r.ipv6 {
		r.ra = newAdvertiser(r.port.WriteFrame)
	}
	r.pump()
	nic.LinkChanged(core.LinkState{Up: true, Type: core.LinkEthernet, MTU: 1500})
	ipcfg := map[string]any{"addr4": netip.PrefixFrom(RouterAddr, Subnet.Bits()).String()}
	if r.ipv6 {
		// The router advertises; it takes no advertisements itself.
		ipcfg["addr6"], ipcfg["autoconf6"] = netip.PrefixFrom(RouterAddr6, Prefix6.Bits()).String(), false
	}
	if err := nic.SetIPConfig(ipcfg); err != nil {
		return fmt.Errorf("simnet: router addresses: %w", err)
	}
	if err := r.serveDNS(); err != nil {
		return err
	}
	if err := r.serveHTTP(); err != nil {
		return err
	}
	if r.ra != nil {
		r.ra.start()
	}
	return nil
}

// Attach adds a port on the LAN for a device (a simulated chip's wire).
func (r *Router) Attach(name string) *sim.FramePort { return r.Segment.Attach(name) }

// URL is the address of the router's web page.
func (r *Router) URL() string { return "http://www." + r.Domain + "/" }

// Leases lists the DHCP server's current leases by address.
func (r *Router) Leases() []Lease {
	var out []Lease
	for _, l := range r.dhcp.Leases() {
		out = append(out, Lease{MAC: l.MAC, Addr: l.Addr, Hostname: l.Hostname, Expires: l.Expires, Bound: l.Bound})
	}
	return out
}

// pump moves frames from the router's port to the DHCP server, the router
// advertiser (which answers solicitations) and the router's stack.
func (r *Router) pump() {
	r.stopPump = bus.Forward(r.port, func(f []byte) {
		if r.dhcp.Handle(f) {
			return
		}
		if r.ra != nil {
			r.ra.observe(f)
		}
		r.NIC.DeliverFrame(f)
	})
}

// Close stops the servers and the router's stack.
func (r *Router) Close() {
	if r.ra != nil {
		r.ra.stop()
	}
	r.stopServers()
	if r.stopPump != nil {
		r.stopPump()
	}
	if r.port != nil {
		r.port.Close()
	}
	if r.Stack != nil {
		r.Stack.Close()
	}
	r.wg.Wait()
}
