// Package dhcpserver is a small DHCPv4 server for simulated networks (the
// simulated LAN's router, tests; later the core's access-point mode): a
// pool of addresses handed out per client MAC, with mask, router, DNS
// servers and lease time. It is not meant to face a real LAN.
//
// The server works on Ethernet frames and depends on no stack: whoever
// owns the link hands it every received frame (Handle) and gives it a way
// to send one (Config.Send).
package dhcpserver

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/soypat/seqs/eth/dhcp"

	"github.com/nichost/nichost/internal/dhcpwire"
)

// Config configures a Server.
type Config struct {
	// Addr is the server's own IPv4 address and subnet; the pool lies in it.
	Addr netip.Prefix
	// MAC is the server's hardware address, the source of its replies.
	MAC net.HardwareAddr
	// First and Last bound the pool, inclusive.
	First, Last netip.Addr
	// Router is sent as option 3, if valid.
	Router netip.Addr
	// DNS is sent as option 6, if not empty.
	DNS []netip.Addr
	// Lease is the lease time (default 1 hour).
	Lease time.Duration
	// Send transmits one Ethernet frame; it must not keep frame.
	Send func(frame []byte) error
	// Logger receives a Debug line per message it cannot use (nil: none).
	Logger *slog.Logger
	// Now is the clock leases run on (nil: time.Now).
	Now func() time.Time
}

// Lease is one address handed out.
type Lease struct {
	MAC      net.HardwareAddr
	Addr     netip.Addr
	Hostname string // option 12 of the client's last request
	Expires  time.Time
	Bound    bool // acknowledged (not merely offered)
}

// Server is a DHCPv4 server. It is safe for concurrent use.
type Server struct {
	cfg Config

	mu     sync.Mutex
	leases map[string]*Lease // by client MAC
}

// New checks cfg and returns a server; it sends nothing until Handle is
// given a request.
func New(cfg Config) (*Server, error) {
	p := cfg.Addr
	switch {
	case !p.IsValid() || !p.Addr().Is4():
		return nil, fmt.Errorf("dhcpserver: the server needs an IPv4 address, got %v", p)
	case len(cfg.MAC) != 6:
		return nil, fmt.Errorf("dhcpserver: the server needs a 6-byte MAC, got %d bytes", len(cfg.MAC))
	case cfg.Send == nil:
		return nil, fmt.Errorf("dhcpserver: no Send function")
	case !cfg.First.Is4() || !cfg.Last.Is4() || !p.Contains(cfg.First) || !p.Contains(cfg.Last) || cfg.Last.Less(cfg.First):
		return nil, fmt.Errorf("dhcpserver: pool %s-%s is not a range inside %s", cfg.First, cfg.Last, p)
	}
	if cfg.Lease <= 0 {
		cfg.Lease = time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.MAC = append(net.HardwareAddr(nil), cfg.MAC...)
	return &Server{cfg: cfg, leases: map[string]*Lease{}}, nil
}

// Leases lists the current leases by address.
func (s *Server) Leases() []Lease {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Lease, 0, len(s.leases))
	for _, l := range s.leases {
		c := *l
		c.MAC = append(net.HardwareAddr(nil), l.MAC...)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Addr.Less(out[j].Addr) })
	return out
}

// Handle takes a received Ethernet frame if it is a DHCP request for this
// server (true: the caller need not deliver it further) and answers it.
// frame is not kept.
func (s *Server) Handle(frame []byte) bool {
	if len(frame) < 6 || (frame[0]&1 == 0 && string(frame[:6]) != string(s.cfg.MAC)) {
		return false // unicast to another station
	}
	d, ok := dhcpwire.ParseUDP(frame)
	if !ok || d.DstPort != dhcp.DefaultServerPort || d.SrcPort != dhcp.DefaultClientPort {
		return false
	}
	m, err := dhcpwire.Decode(d.Payload)
	if err != nil {
		s.cfg.Logger.Debug("dhcpserver: dropped a request", "err", err)
		return true
	}
	if m.Header.OP == dhcp.OpRequest && m.Header.HLen == 6 {
		s.handle(m)
	}
	return true
}

func (s *Server) handle(m *dhcpwire.Message) {
	mac := net.HardwareAddr(append([]byte(nil), m.Header.CHAddr[:6]...))
	me := s.cfg.Addr.Addr()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	l := s.leases[string(mac)]
	switch m.Type {
	case dhcp.MsgDiscover:
		if l == nil {
			a, ok := s.free(now)
			if !ok {
				return // pool exhausted: stay silent, as servers do
			}
			l = &Lease{MAC: mac, Addr: a}
			s.leases[string(mac)] = l
		}
		l.Expires = now.Add(s.cfg.Lease)
		l.Hostname = string(m.Options[dhcp.OptHostName])
		s.reply(m, dhcp.MsgOffer, l.Addr)
	case dhcp.MsgRequest:
		if sid := m.Addr(dhcp.OptServerIdentification); sid.IsValid() && sid != me {
			return // the client chose another server
		}
		want := m.Addr(dhcp.OptRequestedIPaddress)
		if !want.IsValid() {
			want = netip.AddrFrom4(m.Header.CIAddr)
		}
		if l == nil || l.Addr != want {
			s.reply(m, dhcp.MsgNak, netip.Addr{})
			return
		}
		l.Expires, l.Bound = now.Add(s.cfg.Lease), true
		if h := m.Options[dhcp.OptHostName]; len(h) > 0 {
			l.Hostname = string(h)
		}
		s.reply(m, dhcp.MsgAck, l.Addr)
	case dhcp.MsgRelease, dhcp.MsgDecline:
		delete(s.leases, string(mac))
	}
}

// free finds an address of the pool no live lease holds, dropping expired
// leases on the way.
func (s *Server) free(now time.Time) (netip.Addr, bool) {
	taken := map[netip.Addr]bool{s.cfg.Addr.Addr(): true, s.cfg.Router: true}
	for k, l := range s.leases {
		if now.After(l.Expires) {
			delete(s.leases, k)
			continue
		}
		taken[l.Addr] = true
	}
	for a := s.cfg.First; !s.cfg.Last.Less(a); a = a.Next() {
		if !taken[a] {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// reply sends an OFFER, ACK or NAK to the client of m.
func (s *Server) reply(m *dhcpwire.Message, typ dhcp.MessageType, yours netip.Addr) {
	me := s.cfg.Addr
	hdr := dhcp.HeaderV4{OP: dhcp.OpReply, HType: 1, HLen: 6, Xid: m.Header.Xid, Flags: m.Header.Flags, CHAddr: m.Header.CHAddr, GIAddr: m.Header.GIAddr}
	opts := []dhcp.Option{
		{Num: dhcp.OptMessageType, Data: []byte{byte(typ)}},
		{Num: dhcp.OptServerIdentification, Data: me.Addr().AsSlice()},
	}
	if typ != dhcp.MsgNak {
		hdr.YIAddr = yours.As4()
		opts = append(opts, s.leaseOptions()...)
	}
	dst, dstMAC := netip.AddrFrom4([4]byte{255, 255, 255, 255}), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	if ci := netip.AddrFrom4(m.Header.CIAddr); ci.IsGlobalUnicast() && typ != dhcp.MsgNak {
		dst, dstMAC = ci, m.Header.CHAddr[:6] // a renewing client has its address
	}
	f := dhcpwire.UDPFrame(dstMAC, s.cfg.MAC, me.Addr(), dst, dhcp.DefaultServerPort, dhcp.DefaultClientPort, dhcpwire.Encode(hdr, opts))
	if err := s.cfg.Send(f); err != nil {
		s.cfg.Logger.Debug("dhcpserver: sending a reply failed", "err", err)
	}
}

// leaseOptions are the options of an OFFER or ACK: times, mask, router,
// DNS servers.
func (s *Server) leaseOptions() []dhcp.Option {
	be := binary.BigEndian
	secs := uint32(s.cfg.Lease / time.Second)
	opts := []dhcp.Option{
		{Num: dhcp.OptIPAddressLeaseTime, Data: be.AppendUint32(nil, secs)},
		{Num: dhcp.OptRenewTimeValue, Data: be.AppendUint32(nil, secs/2)},
		{Num: dhcp.OptRebindingTimeValue, Data: be.AppendUint32(nil, secs/8*7)},
		{Num: dhcp.OptSubnetMask, Data: be.AppendUint32(nil, ^uint32(0)<<(32-s.cfg.Addr.Bits()))},
	}
	if s.cfg.Router.IsValid() {
		opts = append(opts, dhcp.Option{Num: dhcp.OptRouter, Data: s.cfg.Router.AsSlice()})
	}
	if len(s.cfg.DNS) > 0 {
		var d []byte
		for _, a := range s.cfg.DNS {
			d = append(d, a.AsSlice()...)
		}
		opts = append(opts, dhcp.Option{Num: dhcp.OptDNSServers, Data: d})
	}
	return opts
}
