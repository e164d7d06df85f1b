// Package simnet builds the simulated network nichost's demo, its driver
// test command and its tests run on: an Ethernet segment with a router
// that is a second instance of nichost's core, serving DHCP (the core's
// small server), DNS (github.com/miekg/dns) and HTTP. Nothing in it touches
// a real network.
package simnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/nichost/nichost/core"
	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/bus/sim"
)

// Options configure a Router. Zero fields take the defaults shown.
type Options struct {
	Segment  sim.SegmentOptions // loss, delay, ... of the LAN (none)
	Domain   string             // DNS zone ("sim.nichost")
	PageSize int                // bytes served at http://www.<domain>/ (256 KiB)
	Logger   *slog.Logger
}

// The router's fixed addresses.
var (
	RouterAddr = netip.MustParseAddr("10.64.0.1")
	Subnet     = netip.MustParsePrefix("10.64.0.0/24")
	poolFirst  = netip.MustParseAddr("10.64.0.100")
	poolLast   = netip.MustParseAddr("10.64.0.199")
)

// Router is the simulated LAN and its router.
type Router struct {
	Segment *sim.Segment
	Stack   *core.Stack
	NIC     *core.NIC
	DHCP    *core.DHCPServer
	Domain  string
	Page    []byte // what http://www.<domain>/ returns

	dnsSrv   *dns.Server
	httpSrv  *http.Server
	port     *sim.FramePort
	stopPump func()
	wg       sync.WaitGroup
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
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := opts.Segment.Validate(); err != nil {
		return nil, fmt.Errorf("simnet: %w", err)
	}
	r := &Router{Segment: sim.NewSegment(opts.Segment), Domain: opts.Domain}
	r.Page = make([]byte, opts.PageSize)
	for i := range r.Page {
		r.Page[i] = "nichost simulated router\n"[i%25]
	}
	r.Stack = core.New(core.Options{Hostname: func() string { return "router" }, Logger: opts.Logger})
	r.port = r.Segment.Attach("router")
	nic, err := r.Stack.AddNIC("lan", net.HardwareAddr{0x02, 0x64, 0, 0, 0, 0x01}, core.LinkEthernet, r.port.WriteFrame)
	if err != nil {
		r.Close()
		return nil, err
	}
	r.NIC = nic
	r.pump()
	nic.LinkChanged(core.LinkState{Up: true, Type: core.LinkEthernet, MTU: 1500})
	if err := nic.SetIPConfig(map[string]any{"addr4": netip.PrefixFrom(RouterAddr, Subnet.Bits()).String()}); err != nil {
		r.Close()
		return nil, err
	}
	r.DHCP, err = nic.ServeDHCP(core.DHCPServerConfig{
		First: poolFirst, Last: poolLast, Router: RouterAddr, DNS: []netip.Addr{RouterAddr}, Lease: time.Hour,
	})
	if err != nil {
		r.Close()
		return nil, err
	}
	if err := r.serveDNS(); err != nil {
		r.Close()
		return nil, err
	}
	if err := r.serveHTTP(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// Attach adds a port on the LAN for a device (a simulated chip's wire).
func (r *Router) Attach(name string) *sim.FramePort { return r.Segment.Attach(name) }

// URL is the address of the router's web page.
func (r *Router) URL() string { return "http://www." + r.Domain + "/" }

// pump moves frames from the router's port into its stack.
func (r *Router) pump() {
	r.stopPump = bus.Forward(r.port, func(f []byte) { r.NIC.DeliverFrame(f) })
}

// serveDNS answers A queries for router.<domain> and www.<domain>.
func (r *Router) serveDNS() error {
	pc, err := r.Stack.ListenPacket("udp4", netip.AddrPortFrom(RouterAddr, 53).String())
	if err != nil {
		return fmt.Errorf("simnet: DNS: %w", err)
	}
	zone := map[string]netip.Addr{
		dns.Fqdn("router." + r.Domain): RouterAddr,
		dns.Fqdn("www." + r.Domain):    RouterAddr,
	}
	mux := dns.NewServeMux()
	mux.HandleFunc(".", func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		m.Authoritative = true
		for _, question := range q.Question {
			a, ok := zone[strings.ToLower(question.Name)]
			switch {
			case !ok:
				m.Rcode = dns.RcodeNameError
			case question.Qtype == dns.TypeA:
				m.Answer = append(m.Answer, &dns.A{
					Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
					A:   a.AsSlice(),
				})
			}
		}
		w.WriteMsg(m)
	})
	r.dnsSrv = &dns.Server{PacketConn: pc, Handler: mux}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.dnsSrv.ActivateAndServe()
	}()
	return nil
}

// serveHTTP serves the page on port 80.
func (r *Router) serveHTTP() error {
	ln, err := r.Stack.Listen("tcp4", netip.AddrPortFrom(RouterAddr, 80).String())
	if err != nil {
		return fmt.Errorf("simnet: HTTP: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", fmt.Sprint(len(r.Page)))
		w.Write(r.Page)
	})
	r.httpSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if err := r.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return
		}
	}()
	return nil
}

// Close stops the servers and the router's stack.
func (r *Router) Close() {
	if r.httpSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		r.httpSrv.Shutdown(ctx)
		cancel()
	}
	if r.dnsSrv != nil {
		r.dnsSrv.Shutdown()
	}
	if r.stopPump != nil {
		r.stopPump()
	}
	if r.Stack != nil {
		r.Stack.Close()
	}
	r.wg.Wait()
}
