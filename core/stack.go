package core

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/ethernet"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
)

// Options configure a Stack.
type Options struct {
	// Hostname is asked for the name to send with DHCP requests (option 12).
	Hostname func() string
	// Logger receives the core's log lines (slog.Default() when nil).
	Logger *slog.Logger
	// OnLease, if set, is told of each change of a NIC's DHCPv4 lease:
	// event is "bound" (a new address; a renewal of the same one is not
	// reported), "expired", "refused" (the server sent a NAK), "released"
	// (given back to the server) or "stopped" (the client stopped without
	// a release: the link was down or the NIC removed). addr and gw are
	// the lease's, zero once it is gone. It runs on the DHCP client's
	// goroutine holding its lock: it must not call back into the core.
	OnLease func(nic, event string, addr netip.Prefix, gw netip.Addr)
	// FlapWindow is how long a link may be down and still be a flap
	// (flap.go; 0: FlapWindow). Tests shorten it.
	FlapWindow time.Duration
}

// Stack is the host's TCP/IP stack.
type Stack struct {
	s    *stack.Stack
	opts Options
	log  *slog.Logger

	mu     sync.Mutex
	nics   map[tcpip.NICID]*NIC
	ndp    map[tcpip.NICID]*ndpLearnt // each guarded by its NIC's mu
	adding map[string]bool            // names of NICs AddNIC is creating
	nextID tcpip.NICID

	dns dnsState

	routeMu  sync.Mutex // serialises route table rebuilds
	rebuilds atomic.Uint64

	// The route worker: NDP callbacks may not call the stack, so they ask
	// this one goroutine to (rebuild the route table, remove refused
	// addresses). kick holds at most one wake-up; requests made while one
	// waits are merged into it. served catches up with requested when the
	// worker is idle.
	kick        chan struct{}
	routesDue   atomic.Bool
	requested   atomic.Uint64
	served      atomic.Uint64
	workerQuit  chan struct{}
	workerDone  chan struct{}
	workerClose sync.Once
}

// New makes a stack with no NICs.
func New(opts Options) *Stack {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Hostname == nil {
		opts.Hostname = func() string { return "nichost" }
	}
	st := &Stack{
		opts: opts, log: opts.Logger, nics: map[tcpip.NICID]*NIC{}, ndp: map[tcpip.NICID]*ndpLearnt{}, nextID: 1,
		kick: make(chan struct{}, 1), workerQuit: make(chan struct{}), workerDone: make(chan struct{}),
	}
	st.dns.prefer = 4
	st.s = stack.New(stack.Options{
		NetworkProtocols: []stack.NetworkProtocolFactory{
			ipv4.NewProtocol,
			arp.NewProtocol,
			ipv6.NewProtocolWithOptions(ipv6.Options{
				NDPConfigs: ndpConfig(true),
				NDPDisp:    ndpDispatcher{st},
				DADConfigs: stack.DADConfigurations{DupAddrDetectTransmits: dadTransmits, RetransmitTimer: defaultRetransmit},
			}),
		},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4, icmp.NewProtocol6},
		HandleLocal:        true,
	})
	// Production TCP: SACK on, and enough buffer for a fast LAN. RACK loss
	// detection is off: in this gVisor, the first ACK after a
	// retransmission timeout makes RACK mark every older segment lost and
	// enter SACK recovery, whose pipe still counts all of them in flight
	// (the timeout emptied the scoreboard), so the sender may send nothing
	// more until the next timeout: one segment per timeout, ~50 ms apart,
	// until the whole window is resent. A window lost in a reload or a
	// link flap brought a stream both ways from 30 MB/s down to 20 KB/s
	// for as long as losses kept coming. Without RACK, the ACK after a
	// timeout grows the window in slow start, and SACK-based fast recovery
	// (RFC 6675) repairs losses with data flowing both ways.
	sack := tcpip.TCPSACKEnabled(true)
	st.s.SetTransportProtocolOption(tcp.ProtocolNumber, &sack)
	recovery := tcpip.TCPRecovery(0)
	st.s.SetTransportProtocolOption(tcp.ProtocolNumber, &recovery)
	// Linux's 200 ms minimum retransmission timeout was chosen for WANs and
	// peers that delay ACKs up to 200 ms; nichost's links are LANs and
	// point-to-point lines with sub-millisecond round trips, where a lost
	// segment that fast recovery cannot repair would otherwise stall the
	// connection for 200 ms. 50 ms stays above Linux's 40 ms delayed-ACK
	// minimum, so a peer's delayed ACK does not cause spurious resends.
	minRTO := tcpip.TCPMinRTOOption(50 * time.Millisecond)
	st.s.SetTransportProtocolOption(tcp.ProtocolNumber, &minRTO)
	go st.routeWorker()
	return st
}

// Close tears the stack down, closing every NIC and connection.
func (st *Stack) Close() {
	// The worker goes first; removing the NICs rebuilds the routes itself.
	st.workerClose.Do(func() { close(st.workerQuit) })
	<-st.workerDone
	st.mu.Lock()
	nics := make([]*NIC, 0, len(st.nics))
	for _, n := range st.nics {
		nics = append(nics, n)
	}
	st.mu.Unlock()
	for _, n := range nics {
		n.Remove()
	}
	st.s.Close()
	st.s.Wait()
}

// ErrNICExists is returned by AddNIC for a name already in use.
var ErrNICExists = errors.New("core: a NIC of that name exists")

// AddNIC adds an interface. mac is its address (ignored on IP links); tx
// sends one frame through the driver and must not keep it. The NIC starts
// down: the driver's link report brings it up.
func (st *Stack) AddNIC(name string, mac net.HardwareAddr, kind LinkType, tx func([]byte) error) (*NIC, error) {
	if kind != LinkEthernet && kind != LinkIP {
		return nil, fmt.Errorf("core: NIC %s: unknown link type %d", name, kind)
	}
	if kind == LinkEthernet && len(mac) != 6 {
		return nil, fmt.Errorf("core: NIC %s: an Ethernet NIC needs a 6-byte MAC, got %d bytes", name, len(mac))
	}
	// st.mu is not held while gVisor creates the NIC: gVisor calls the NDP
	// dispatcher, which takes st.mu, with its own lock held (a NIC going
	// down elsewhere invalidates its routes), so holding st.mu across a
	// call into gVisor could deadlock. The name is reserved meanwhile.
	st.mu.Lock()
	for _, n := range st.nics {
		if n.name == name {
			st.mu.Unlock()
			return nil, fmt.Errorf("%w: %s", ErrNICExists, name)
		}
	}
	if st.adding[name] {
		st.mu.Unlock()
		return nil, fmt.Errorf("%w: %s", ErrNICExists, name)
	}
	if st.adding == nil {
		st.adding = map[string]bool{}
	}
	st.adding[name] = true
	id := st.nextID
	st.nextID++
	st.mu.Unlock()
	defer func() {
		st.mu.Lock()
		delete(st.adding, name)
		st.mu.Unlock()
	}()
	n := &NIC{st: st, id: id, name: name, kind: kind, mac: append(net.HardwareAddr(nil), mac...)}
	n.ep = &endpoint{mtu: 1500, ipOnly: kind == LinkIP, tx: n.counted(tx), onTxError: n.txError}
	var link stack.LinkEndpoint = n.ep
	if kind == LinkEthernet {
		n.ep.mtu = 1500 + header.EthernetMinimumSize
		n.ep.addr = tcpip.LinkAddress(mac)
		link = ethernet.New(n.ep)
	}
	n.autoconf6 = true
	st.mu.Lock()
	st.nics[id] = n // before gVisor knows the NIC, so its callbacks find it
	st.ndp[id] = &ndpLearnt{}
	st.mu.Unlock()
	if err := st.s.CreateNICWithOptions(id, link, stack.NICOptions{Name: name, Disabled: true}); err != nil {
		st.mu.Lock()
		delete(st.nics, id)
		delete(st.ndp, id)
		st.mu.Unlock()
		return nil, fmt.Errorf("core: NIC %s: %s", name, err)
	}
	n.addLinkLocal()
	st.requestRoutes() // its link-local route, before anything else changes
	return n, nil
}

// NIC returns a NIC by name.
func (st *Stack) NIC(name string) (*NIC, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, n := range st.nics {
		if n.name == name {
			return n, true
		}
	}
	return nil, false
}

// NICs lists the NICs by name.
func (st *Stack) NICs() []*NIC {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]*NIC, 0, len(st.nics))
	for _, n := range st.nics {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// updateRoutes rebuilds the route table from every NIC's configuration:
// on-link prefixes first (most specific wins), then default routes through
// each NIC's gateway, in NIC order. It returns once the table is set;
// NDP callbacks use requestRoutes instead.
func (st *Stack) updateRoutes() {
	st.routeMu.Lock()
	defer st.routeMu.Unlock()
	st.rebuilds.Add(1)
	type nicState struct {
		n *NIC
		l *ndpLearnt
	}
	st.mu.Lock()
	nics := make([]nicState, 0, len(st.nics))
	for id, n := range st.nics {
		nics = append(nics, nicState{n, st.ndp[id]})
	}
	for id := range st.ndp { // NICs removed since the last rebuild
		if st.nics[id] == nil {
			delete(st.ndp, id)
		}
	}
	st.mu.Unlock()
	sort.Slice(nics, func(i, j int) bool { return nics[i].n.id < nics[j].n.id })
	var subnets, defaults []tcpip.Route
	add := func(r tcpip.Route) {
		for _, o := range subnets {
			if o.Destination == r.Destination && o.Gateway == r.Gateway && o.NIC == r.NIC {
				return
			}
		}
		subnets = append(subnets, r)
	}
	for _, ns := range nics {
		n := ns.n
		n.mu.Lock()
		if n.addr4.IsValid() {
			add(tcpip.Route{Destination: subnetOf(n.addr4), NIC: n.id})
			if n.gw4.IsValid() {
				defaults = append(defaults, tcpip.Route{Destination: header.IPv4EmptySubnet, Gateway: addrOf(n.gw4), NIC: n.id})
			}
		}
		for _, r := range n.routes6 {
			add(r)
		}
		if ns.l != nil {
			for _, r := range ns.l.routes {
				if r.dest.Prefix() != 0 { // default routers: through gw6
					add(tcpip.Route{Destination: r.dest, Gateway: r.router, NIC: n.id})
				}
			}
		}
		add(tcpip.Route{Destination: header.IPv6LinkLocalPrefix.Subnet(), NIC: n.id})
		if n.gw6.IsValid() {
			defaults = append(defaults, tcpip.Route{Destination: header.IPv6EmptySubnet, Gateway: addrOf(n.gw6), NIC: n.id})
		}
		n.mu.Unlock()
	}
	sort.SliceStable(subnets, func(i, j int) bool { return subnets[i].Destination.Prefix() > subnets[j].Destination.Prefix() })
	st.s.SetRouteTable(append(subnets, defaults...))
}

// requestRoutes asks the route worker for a rebuild and returns at once.
// It is for callers that may not call the stack (NDP callbacks).
func (st *Stack) requestRoutes() {
	st.routesDue.Store(true)
	st.requestWork()
}

// requestWork wakes the route worker, unless a wake-up is pending.
func (st *Stack) requestWork() {
	st.requested.Add(1)
	select {
	case st.kick <- struct{}{}:
	default:
	}
}

// routeWorker does what requestRoutes and requestWork ask, until Close.
func (st *Stack) routeWorker() {
	defer close(st.workerDone)
	for {
		select {
		case <-st.workerQuit:
			return
		case <-st.kick:
		}
		seen := st.requested.Load()
		st.mu.Lock()
		type refusal struct {
			n *NIC
			l *ndpLearnt
		}
		var rs []refusal
		for id, n := range st.nics {
			if l := st.ndp[id]; l != nil {
				rs = append(rs, refusal{n, l})
			}
		}
		st.mu.Unlock()
		for _, r := range rs {
			r.n.removeRefused(r.l)
		}
		if st.routesDue.Swap(false) {
			st.updateRoutes()
		}
		st.served.Store(seen)
	}
}

// learnt returns the NDP state of a NIC (nil once it is removed).
func (st *Stack) learnt(id tcpip.NICID) *ndpLearnt {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.ndp[id]
}

func addrOf(a netip.Addr) tcpip.Address {
	if a.Is4() {
		b := a.As4()
		return tcpip.AddrFrom4(b)
	}
	b := a.As16()
	return tcpip.AddrFrom16(b)
}

func netipOf(a tcpip.Address) netip.Addr {
	ip, _ := netip.AddrFromSlice(a.AsSlice())
	return ip
}

func subnetOf(p netip.Prefix) tcpip.Subnet {
	p = p.Masked()
	s, _ := tcpip.NewSubnet(addrOf(p.Addr()), tcpip.MaskFromBytes(net.CIDRMask(p.Bits(), p.Addr().BitLen())))
	return s
}
