package simnet

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/nichost/nichost/core"
	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/bus/sim"
)

// DNS on the simulated LAN. The router's server answers for its zone
// (router.<domain> and www.<domain>), and is the server its DHCP leases
// name. NewDNSServer adds a DNS-only node on the same LAN at another
// address: a static server to set with ipconfig(dns=...) beside the
// learnt one, or, with Drop, one that never answers. Every server keeps a
// log of the queries it received, so a test can see which server a
// lookup asked.

// dnsLogSize is how many queries a server's log keeps (the latest).
const dnsLogSize = 1024

// DNSQuery is one query a simulated DNS server received.
type DNSQuery struct {
	Name string // lower-case, without the final dot ("www.sim.nichost")
	Type string // "A", "AAAA", ...
}

// dnsService is one simulated server's handler: its zone and its log.
type dnsService struct {
	zone map[string][]netip.Addr // by lower-case absolute name
	drop bool

	mu  sync.Mutex
	log []DNSQuery
}

// ServeDNS logs q and, unless the server drops queries, answers it: A and
// AAAA records from the zone, NXDOMAIN for any other name, an empty
// answer for other types.
func (s *dnsService) ServeDNS(w dns.ResponseWriter, q *dns.Msg) {
	s.mu.Lock()
	for _, question := range q.Question {
		if len(s.log) == dnsLogSize {
			s.log = append(s.log[:0], s.log[1:]...)
		}
		s.log = append(s.log, DNSQuery{
			Name: strings.TrimSuffix(strings.ToLower(question.Name), "."),
			Type: dns.Type(question.Qtype).String(),
		})
	}
	s.mu.Unlock()
	if s.drop {
		return
	}
	m := new(dns.Msg)
	m.SetReply(q)
	m.Authoritative = true
	for _, question := range q.Question {
		addrs, ok := s.zone[strings.ToLower(question.Name)]
		if !ok {
			m.Rcode = dns.RcodeNameError
			continue
		}
		for _, a := range addrs {
			hdr := dns.RR_Header{Name: question.Name, Rrtype: question.Qtype, Class: dns.ClassINET, Ttl: 60}
			switch {
			case question.Qtype == dns.TypeA && a.Is4():
				m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: a.AsSlice()})
			case question.Qtype == dns.TypeAAAA && a.Is6():
				m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr, AAAA: a.AsSlice()})
			}
		}
	}
	w.WriteMsg(m)
}

func (s *dnsService) queries() []DNSQuery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]DNSQuery(nil), s.log...)
}

// zone is what the router's DNS server knows: router.<domain> and
// www.<domain>, both the router itself.
func (r *Router) zone() map[string][]netip.Addr {
	addrs := []netip.Addr{RouterAddr}
	if r.ipv6 {
		addrs = append(addrs, RouterAddr6)
	}
	return map[string][]netip.Addr{
		dns.Fqdn("router." + r.Domain): addrs,
		dns.Fqdn("www." + r.Domain):    addrs,
	}
}

// serveDNS answers queries for the zone on port 53.
func (r *Router) serveDNS() error {
	pc, err := r.NIC.ListenPacket(r.listenAddr("udp", 53))
	if err != nil {
		return fmt.Errorf("simnet: DNS: %w", err)
	}
	r.dnsSrv = &dns.Server{PacketConn: pc, Handler: &dnsService{zone: r.zone()}}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.dnsSrv.ActivateAndServe()
	}()
	return nil
}

// DNSQueries lists the queries the router's DNS server received, oldest
// first (the latest 1024). It is safe for concurrent use.
func (r *Router) DNSQueries() []DNSQuery {
	if r.dnsSrv == nil {
		return nil
	}
	return r.dnsSrv.Handler.(*dnsService).queries()
}

// DNSServerOptions configure a DNSServer. Zero fields take the defaults
// shown.
type DNSServerOptions struct {
	// Addr is the server's address, in Subnet but neither the router's
	// nor in its DHCP pool (10.64.0.53).
	Addr netip.Addr
	// Records are the names the server knows, with their A and AAAA
	// addresses (nil: the router's zone). Other names get NXDOMAIN.
	Records map[string][]netip.Addr
	// Drop makes the server log every query and answer none: a server
	// that is down, for a host to fall back from.
	Drop bool
}

// DNSServer is a DNS-only node on a router's LAN: a second core stack
// with one NIC at Addr, serving UDP port 53.
type DNSServer struct {
	Addr  netip.Addr
	Stack *core.Stack
	NIC   *core.NIC

	svc      *dnsService
	srv      *dns.Server
	port     *sim.FramePort
	stopPump func()
	done     chan struct{}
	once     sync.Once
}

// NewDNSServer starts a DNS server on lan's segment. Close it when done;
// closing the router does not.
func NewDNSServer(lan *Router, opts DNSServerOptions) (*DNSServer, error) {
	if !opts.Addr.IsValid() {
		opts.Addr = netip.MustParseAddr("10.64.0.53")
	}
	a := opts.Addr
	switch {
	case !a.Is4() || !Subnet.Contains(a) || a == Subnet.Addr() || a.As4()[3] == 255:
		return nil, fmt.Errorf("simnet: DNS server address %s: not a host address in %s", a, Subnet)
	case a == RouterAddr:
		return nil, fmt.Errorf("simnet: DNS server address %s: the router's", a)
	case a.Compare(poolFirst) >= 0 && a.Compare(poolLast) <= 0:
		return nil, fmt.Errorf("simnet: DNS server address %s: in the DHCP pool %s-%s", a, poolFirst, poolLast)
	}
	zone := lan.zone()
	if opts.Records != nil {
		zone = map[string][]netip.Addr{}
		for name, addrs := range opts.Records {
			zone[dns.Fqdn(strings.ToLower(name))] = append([]netip.Addr(nil), addrs...)
		}
	}
	s := &DNSServer{Addr: a, svc: &dnsService{zone: zone, drop: opts.Drop}, done: make(chan struct{})}
	if err := s.start(lan); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *DNSServer) start(lan *Router) error {
	s.Stack = core.New(core.Options{Hostname: func() string { return "dns" }, Logger: slog.New(slog.DiscardHandler)})
	s.port = lan.Segment.Attach("dns-" + s.Addr.String())
	port := s.port
	mac := net.HardwareAddr{0x02, 0x64, 0, 0, 0x01, s.Addr.As4()[3]}
	nic, err := s.Stack.AddNIC("lan", mac, core.LinkEthernet, port.WriteFrame)
	if err != nil {
		return fmt.Errorf("simnet: DNS server: %w", err)
	}
	s.NIC = nic
	s.stopPump = bus.Forward(port, func(f []byte) { nic.DeliverFrame(f) })
	nic.LinkChanged(core.LinkState{Up: true, Type: core.LinkEthernet, MTU: 1500})
	if err := nic.SetIPConfig(map[string]any{"addr4": netip.PrefixFrom(s.Addr, Subnet.Bits()).String(), "autoconf6": false}); err != nil {
		return fmt.Errorf("simnet: DNS server address: %w", err)
	}
	pc, err := nic.ListenPacket("udp4", netip.AddrPortFrom(s.Addr, 53).String())
	if err != nil {
		return fmt.Errorf("simnet: DNS server: %w", err)
	}
	started := make(chan struct{})
	s.srv = &dns.Server{PacketConn: pc, Handler: s.svc, NotifyStartedFunc: func() { close(started) }}
	go func() {
		defer close(s.done)
		s.srv.ActivateAndServe()
	}()
	select {
	case <-started:
	case <-s.done:
		s.srv = nil
		return fmt.Errorf("simnet: DNS server did not start")
	}
	return nil
}

// Queries lists the queries the server received, oldest first (the
// latest 1024). It is safe for concurrent use.
func (s *DNSServer) Queries() []DNSQuery { return s.svc.queries() }

// Close stops the server and takes it off the LAN.
func (s *DNSServer) Close() {
	s.once.Do(func() {
		if s.srv != nil {
			s.srv.Shutdown()
			<-s.done
		}
		if s.stopPump != nil {
			s.stopPump()
		}
		if s.port != nil {
			s.port.Close()
		}
		if s.Stack != nil {
			s.Stack.Close()
		}
	})
}
