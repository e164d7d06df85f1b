package session

import (
	"net/netip"
	"slices"

	"github.com/nichost/nichost/plugins/ppp/fsm"
)

// IPCP's configuration options (RFC 1332 3; the DNS servers RFC 1877 1).
const (
	optIPAddresses = 1 // the deprecated pair of addresses
	optIPComp      = 2
	optIPAddress   = 3
	optDNS1        = 129
	optNBNS1       = 130
	optDNS2        = 131
	optNBNS2       = 132
)

// ipcp is IPCP's options and layer actions.
type ipcp struct {
	s *Session

	// What this end asks for.
	addr             netip.Addr // a Client's: 0.0.0.0 asks the peer for one
	dns              [2]netip.Addr
	askAddr, askDNS1 bool
	askDNS2          bool

	peer netip.Addr // the peer's address, as acknowledged
}

// reset asks for everything again.
func (p *ipcp) reset() {
	c := p.s.cfg
	p.askAddr = true
	p.addr = netip.IPv4Unspecified()
	if c.Addr4.Is4() {
		p.addr = c.Addr4
	}
	clientAsks := c.Role == Client
	p.askDNS1, p.askDNS2 = clientAsks, clientAsks
	p.dns = [2]netip.Addr{netip.IPv4Unspecified(), netip.IPv4Unspecified()}
	p.peer = netip.Addr{}
}

func (p *ipcp) AppendRequest(b []byte) []byte {
	if p.askAddr {
		b = appendAddr(b, optIPAddress, p.addr)
	}
	if p.askDNS1 {
		b = appendAddr(b, optDNS1, p.dns[0])
	}
	if p.askDNS2 {
		b = appendAddr(b, optDNS2, p.dns[1])
	}
	return b
}

func (p *ipcp) Acked([]byte) {}

func (p *ipcp) Nakked(opts []byte) {
	_ = parseOptions(opts, func(o option) error {
		a, ok := o.addr()
		if !ok {
			return nil
		}
		switch o.typ {
		case optIPAddress:
			if p.s.cfg.Role == Client {
				p.addr = a // the address the peer gives us
			}
		case optDNS1:
			p.dns[0] = a
		case optDNS2:
			p.dns[1] = a
		}
		return nil
	})
}

func (p *ipcp) Rejected(opts []byte) {
	_ = parseOptions(opts, func(o option) error {
		switch o.typ {
		case optIPAddress:
			// The peer will not negotiate addresses. A client with a
			// static address can still use it; one without has none.
			p.askAddr = false
		case optDNS1:
			p.askDNS1 = false
		case optDNS2:
			p.askDNS2 = false
		}
		return nil
	})
}

// Check answers the peer's Configure-Request.
func (p *ipcp) Check(opts []byte, mustReject bool) (byte, []byte) {
	c := p.s.cfg
	var r reply
	peer := netip.Addr{}
	nak := func(o option, a netip.Addr) {
		if mustReject {
			r.reject(o)
		} else {
			r.nak = appendAddr(r.nak, o.typ, a)
		}
	}
	err := parseOptions(opts, func(o option) error {
		a, ok := o.addr()
		switch {
		case o.typ == optIPAddress && !ok:
			r.reject(o)
		case o.typ == optIPAddress && c.Role == Server:
			// The client's address is the one this server gives.
			if a != c.Peer4 {
				nak(o, c.Peer4)
			} else {
				peer = a
			}
		case o.typ == optIPAddress:
			// A client takes the server's own address as it is; 0.0.0.0
			// would ask this end to give it one, which a client cannot.
			if a.IsUnspecified() {
				r.reject(o)
			} else {
				peer = a
			}
		case (o.typ == optDNS1 || o.typ == optDNS2) && ok && c.Role == Server:
			i := 0
			if o.typ == optDNS2 {
				i = 1
			}
			switch {
			case i >= len(c.DNS):
				r.reject(o) // no such server to give
			case a != c.DNS[i]:
				nak(o, c.DNS[i])
			}
		default:
			// Van Jacobson compression, the old address pair, NBNS, and a
			// client asked for DNS servers it has none of.
			r.reject(o)
		}
		return nil
	})
	if err != nil {
		return fsm.ConfRej, opts
	}
	code, data := r.result()
	if code == fsm.ConfAck {
		p.peer = peer
	}
	return code, data
}

// Up is IPCP opened: the addresses are in force.
func (p *ipcp) Up() {
	s := p.s
	if s.cfg.Role == Client {
		if !p.addr.Is4() || p.addr.IsUnspecified() {
			s.lcp.closing = "the peer gave no IPv4 address"
			return
		}
		s.info.Addr4, s.info.Peer4 = p.addr, p.peer
		s.info.DNS = nil
		for i, a := range p.dns {
			// A secondary equal to the primary is dropped: pppd given one
			// ms-dns Naks both options with it.
			if (i == 0 && p.askDNS1 || i == 1 && p.askDNS2) && a.Is4() && !a.IsUnspecified() && !slices.Contains(s.info.DNS, a) {
				s.info.DNS = append(s.info.DNS, a)
			}
		}
	} else {
		s.info.Addr4, s.info.Peer4, s.info.DNS = s.cfg.Addr4, p.peer, s.cfg.DNS
	}
	s.running()
}

func (p *ipcp) Down() {
	s := p.s
	s.leaveRunning()
	if s.phase == Running {
		s.phase = Network
	}
}

func (p *ipcp) Started() {}

// Finished is IPCP given up (the peer stopped answering it, or rejected
// it): with no network protocol left, the link has nothing to carry and
// closes (as pppd does).
func (p *ipcp) Finished() {
	s := p.s
	if why := s.nf.Reason; why != reasonClosed && s.phase != Terminate && s.lf.State() == fsm.Opened {
		if why == "" {
			why = "closed"
		}
		s.lcp.closing = "IPCP: " + why
	}
}
