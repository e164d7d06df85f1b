package core

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/soypat/seqs/eth/dhcp"
)

// DHCPServer is a small DHCPv4 server for simulated networks (the demo's
// router, tests): a pool of addresses handed out per client MAC, with mask,
// router, DNS servers and lease time. It is not meant to face a real LAN.
type DHCPServer struct {
	n   *NIC
	cfg DHCPServerConfig

	mu     sync.Mutex
	leases map[string]*Lease // by client MAC
}

// DHCPServerConfig configures a DHCPServer.
type DHCPServerConfig struct {
	First, Last netip.Addr    // the pool, inclusive, inside the NIC's subnet
	Router      netip.Addr    // option 3, if valid
	DNS         []netip.Addr  // option 6
	Lease       time.Duration // default 1 hour
}

// Lease is one address handed out.
type Lease struct {
	MAC      net.HardwareAddr
	Addr     netip.Addr
	Hostname string // option 12 of the client's last request
	Expires  time.Time
	Bound    bool // acknowledged (not merely offered)
}

// ServeDHCP runs a DHCP server on the NIC, which must have a static IPv4
// address covering the pool.
func (n *NIC) ServeDHCP(cfg DHCPServerConfig) (*DHCPServer, error) {
	p := n.Addr4()
	switch {
	case !p.IsValid():
		return nil, errors.New("core: a DHCP server needs a static IPv4 address on its NIC")
	case !cfg.First.Is4() || !cfg.Last.Is4() || !p.Contains(cfg.First) || !p.Contains(cfg.Last) || cfg.Last.Less(cfg.First):
		return nil, fmt.Errorf("core: DHCP pool %s-%s is not a range inside %s", cfg.First, cfg.Last, p)
	}
	if cfg.Lease <= 0 {
		cfg.Lease = time.Hour
	}
	s := &DHCPServer{n: n, cfg: cfg, leases: map[string]*Lease{}}
	n.mu.Lock()
	n.dhcpd = s
	n.mu.Unlock()
	return s, nil
}

// Leases lists the current leases by address.
func (s *DHCPServer) Leases() []Lease {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Lease
	for _, l := range s.leases {
		out = append(out, *l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Addr.Less(out[j].Addr) })
	return out
}

// wants takes a frame if it is a DHCP request to this server.
func (s *DHCPServer) wants(frame []byte) bool {
	_, _, sport, dport, payload, ok := udpOf(frame)
	if !ok || dport != dhcp.DefaultServerPort || sport != dhcp.DefaultClientPort {
		return false
	}
	m, err := parseDHCP(payload)
	if err != nil {
		s.n.stats.drop("dhcpd: " + err.Error())
		return true
	}
	if m.hdr.OP != dhcp.OpRequest || m.hdr.HLen != 6 {
		return true
	}
	s.handle(m)
	return true
}

func (s *DHCPServer) handle(m *dhcpMsg) {
	mac := net.HardwareAddr(append([]byte(nil), m.hdr.CHAddr[:6]...))
	me := s.n.Addr4().Addr()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	l := s.leases[string(mac)]
	switch m.typ {
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
		l.Hostname = string(m.options[dhcp.OptHostName])
		s.reply(m, dhcp.MsgOffer, l.Addr)
	case dhcp.MsgRequest:
		if sid := m.addrOpt(dhcp.OptServerIdentification); sid.IsValid() && sid != me {
			return // the client chose another server
		}
		want := m.addrOpt(dhcp.OptRequestedIPaddress)
		if !want.IsValid() {
			want = netip.AddrFrom4(m.hdr.CIAddr)
		}
		if l == nil || l.Addr != want {
			s.reply(m, dhcp.MsgNak, netip.Addr{})
			return
		}
		l.Expires, l.Bound = now.Add(s.cfg.Lease), true
		if h := m.options[dhcp.OptHostName]; len(h) > 0 {
			l.Hostname = string(h)
		}
		s.reply(m, dhcp.MsgAck, l.Addr)
	case dhcp.MsgRelease, dhcp.MsgDecline:
		if l != nil {
			delete(s.leases, string(mac))
		}
	}
}

// free finds an address of the pool no live lease holds.
func (s *DHCPServer) free(now time.Time) (netip.Addr, bool) {
	taken := map[netip.Addr]bool{s.n.Addr4().Addr(): true, s.cfg.Router: true}
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
func (s *DHCPServer) reply(m *dhcpMsg, typ dhcp.MessageType, yi netip.Addr) {
	me := s.n.Addr4()
	hdr := dhcp.HeaderV4{OP: dhcp.OpReply, HType: 1, HLen: 6, Xid: m.hdr.Xid, Flags: m.hdr.Flags, CHAddr: m.hdr.CHAddr, GIAddr: m.hdr.GIAddr}
	opts := []dhcp.Option{
		{Num: dhcp.OptMessageType, Data: []byte{byte(typ)}},
		{Num: dhcp.OptServerIdentification, Data: me.Addr().AsSlice()},
	}
	if typ != dhcp.MsgNak {
		hdr.YIAddr = yi.As4()
		secs := uint32(s.cfg.Lease / time.Second)
		mask := binary.BigEndian.AppendUint32(nil, ^uint32(0)<<(32-me.Bits()))
		opts = append(opts,
			dhcp.Option{Num: dhcp.OptIPAddressLeaseTime, Data: binary.BigEndian.AppendUint32(nil, secs)},
			dhcp.Option{Num: dhcp.OptRenewTimeValue, Data: binary.BigEndian.AppendUint32(nil, secs/2)},
			dhcp.Option{Num: dhcp.OptRebindingTimeValue, Data: binary.BigEndian.AppendUint32(nil, secs/8*7)},
			dhcp.Option{Num: dhcp.OptSubnetMask, Data: mask})
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
	}
	dst, dstMAC := netip.AddrFrom4([4]byte{255, 255, 255, 255}), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	if ci := netip.AddrFrom4(m.hdr.CIAddr); ci.IsGlobalUnicast() && typ != dhcp.MsgNak {
		dst, dstMAC = ci, m.hdr.CHAddr[:6]
	}
	f := udpFrame(dstMAC, s.n.MAC(), me.Addr(), dst, dhcp.DefaultServerPort, dhcp.DefaultClientPort, buildDHCP(hdr, opts))
	if err := s.n.ep.tx(f); err != nil {
		s.n.stats.drop("dhcpd: " + err.Error())
	}
}
