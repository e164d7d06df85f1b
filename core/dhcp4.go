package core

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/soypat/seqs/eth/dhcp"

	"github.com/nichost/nichost/internal/dhcpwire"
	"github.com/nichost/nichost/internal/ipaddr"
)

// The DHCPv4 client (RFC 2131): INIT -> SELECTING -> REQUESTING -> BOUND,
// then RENEWING at T1 (unicast to the server), REBINDING at T2 (broadcast),
// back to INIT when the lease expires or a NAK arrives. A link that comes
// back up with a lease goes through INIT-REBOOT (ask for the same address).
// It never blocks a caller: ipconfig(dhcp4=True) starts it and has_dhcp4
// reports the lease.
//
// A reply is checked before anything of it is used, the way a static
// configuration is (checkLease): DHCP has no authentication, and any
// station on the segment can answer with the client's xid. An OFFER or ACK
// with a mask that is not contiguous or shorter than /dhcpMinPrefix, or an
// address that is not a unicast address of its subnet, is refused; so is
// an ACK for another address than the one asked for, or from another
// server than the one asked. A refused reply is counted in the NIC's drops
// ("dhcp: refused ACK: <reason>"), logged once per reason and exchange, and
// otherwise ignored: nothing of the lease held changes, and the client goes
// on as if no reply had come (it retransmits with its back-off and, after
// dhcpMaxRequest REQUESTs, starts over from INIT). It sends no DHCPDECLINE:
// that message says an address is in use by another host (RFC 2131 4.4.1),
// which is not what was found, and ignoring the reply leaves room for the
// ACK of a real server in the same exchange. Within an accepted ACK, a
// router outside the subnet and unusable DNS servers are dropped (logged),
// at most dhcpMaxDNS servers are kept, and the lease time is raised to
// dhcpMinLease, with T1 and T2 put back to RFC 2131's defaults unless
// 0 < T1 < T2 < lease.

type dhcpState int

const (
	dhcpInit dhcpState = iota
	dhcpSelecting
	dhcpRequesting
	dhcpBound
	dhcpRenewing
	dhcpRebinding
	dhcpRebooting
)

func (s dhcpState) String() string {
	return [...]string{"init", "selecting", "requesting", "bound", "renewing", "rebinding", "rebooting"}[s]
}

// Retransmission: RFC 2131 suggests 4 s doubling to 64 s; a LAN answers in
// milliseconds, so nichost starts at 1 s and stops doubling at 16 s.
const (
	dhcpRetryMin   = time.Second
	dhcpRetryMax   = 16 * time.Second
	dhcpMaxRequest = 4 // REQUESTs before starting over
)

// Limits on what a DHCP server may configure. A reply outside them is
// refused or trimmed (see checkLease).
const (
	// dhcpMinPrefix is the shortest prefix a subnet mask (option 1) may
	// give. The subnet becomes an on-link route, and on-link routes sort
	// ahead of every NIC's default route: a /0 from one NIC's server took
	// all traffic from the other NICs' gateways, and a /1 to /7 takes as
	// much as half of it. The widest blocks ever assigned as one network
	// are /8s (the old class A; 10/8 among the private ones), so /8 to /32
	// are accepted, /31 (RFC 3021 point-to-point) and /32 included.
	dhcpMinPrefix = 8
	// dhcpDefaultPrefix is the prefix of an ACK without a subnet mask.
	dhcpDefaultPrefix = 24
	// dhcpMaxDNS is how many DNS servers of option 6 are kept, the first
	// usable ones: resolv.conf's MAXNS, which resolvers stop at.
	dhcpMaxDNS = 3
	// dhcpDefaultLease is the lease of an ACK without a lease time
	// (option 51, which RFC 2131 requires).
	dhcpDefaultLease = time.Hour
	// dhcpMinLease is the shortest lease taken; a shorter one (0 included)
	// is raised to it. A lease of 0 s expired as soon as it was taken: the
	// client removed its address, went back to INIT and took the lease
	// again, over and over. With 60 s and the default T1 the client first
	// renews after 30 s; a T1 the server sets itself, below T2, is kept
	// (RFC 2131 4.4.5), and a renewal is retransmitted no faster than
	// once a second.
	dhcpMinLease = 60 * time.Second
)

// Reasons a reply is refused, as they appear in the drop counters
// ("dhcp: refused ACK: <reason>") and the log. They are a fixed set: the
// offending values go to the log only, so a server cannot grow the
// counters' map.
const (
	refusedMaskMalformed = "netmask option malformed"
	refusedMaskNotContig = "netmask not contiguous"
	refusedThisNetwork   = "address in 0.0.0.0/8"
	refusedLoopback      = ipaddr.Loopback
	refusedMulticast     = ipaddr.Multicast
	refusedBroadcast     = ipaddr.Broadcast
	refusedLinkLocal     = "link-local address"
	refusedSubnetNetwork = ipaddr.SubnetNetwork
	refusedSubnetBcast   = ipaddr.SubnetBroadcast
	refusedNotOffered    = "address not the one offered"
	refusedNotRequested  = "address not the one requested"
	refusedOtherServer   = "reply from another server"
	refusedNoServerID    = "no server identifier"
)

// refusedShortPrefix is the reason for a mask shorter than dhcpMinPrefix
// (0.0.0.0 among them).
var refusedShortPrefix = "prefix shorter than /" + strconv.Itoa(dhcpMinPrefix)

type dhcpClient struct {
	n *NIC

	mu        sync.Mutex
	state     dhcpState
	xid       uint32
	started   time.Time // of the current exchange, for the secs field
	retry     time.Duration
	next      time.Time // when to (re)transmit or move on
	tries     int
	offered   netip.Addr
	server    netip.Addr
	serverMAC []byte
	lease     netip.Prefix
	t1, t2    time.Time
	expiry    time.Time
	said      map[string]bool // warnings logged in this exchange

	kick chan struct{}
	done chan struct{}
	wg   sync.WaitGroup
}

func newDHCPClient(n *NIC) *dhcpClient {
	c := &dhcpClient{n: n, kick: make(chan struct{}, 1), done: make(chan struct{})}
	c.restart(dhcpInit)
	c.wg.Add(1)
	go c.run()
	c.poke()
	return c
}

func (c *dhcpClient) poke() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// bound reports whether a lease is held.
func (c *dhcpClient) bound() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lease.IsValid()
}

func (c *dhcpClient) run() {
	defer c.wg.Done()
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		c.mu.Lock()
		c.step(time.Now())
		wait := time.Until(c.next)
		c.mu.Unlock()
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(max(wait, time.Millisecond))
		select {
		case <-c.done:
			return
		case <-c.kick:
		case <-t.C:
		}
	}
}

// restart begins a new exchange in state s.
func (c *dhcpClient) restart(s dhcpState) {
	c.state, c.xid, c.tries = s, rand.Uint32(), 0
	c.started, c.next, c.retry = time.Now(), time.Time{}, dhcpRetryMin
	c.said = nil
}

// once reports whether the warning key is new in this exchange, and
// remembers it (caller holds c.mu).
func (c *dhcpClient) once(key string) bool {
	if c.said[key] {
		return false
	}
	if c.said == nil {
		c.said = map[string]bool{}
	}
	c.said[key] = true
	return true
}

// step does what is due at now (caller holds c.mu).
func (c *dhcpClient) step(now time.Time) {
	if !c.n.linkUp() {
		c.next = now.Add(time.Hour) // linkUp pokes us
		return
	}
	if now.Before(c.next) {
		return
	}
	switch c.state {
	case dhcpInit, dhcpSelecting:
		c.state = dhcpSelecting
		c.send(dhcp.MsgDiscover, true)
		c.backoff(now)
	case dhcpRequesting, dhcpRebooting:
		if c.tries >= dhcpMaxRequest {
			c.restart(dhcpInit)
			c.next = now
			return
		}
		c.tries++
		c.send(dhcp.MsgRequest, true)
		c.backoff(now)
	case dhcpBound:
		c.state = dhcpRenewing
		c.said = nil // a renewal is a new exchange
		c.next = now
		c.step(now)
	case dhcpRenewing, dhcpRebinding:
		switch {
		case !now.Before(c.expiry):
			c.n.st.log.Info("DHCP lease expired", "nic", c.n.name, "addr", c.lease)
			c.drop()
			c.report("expired", netip.Prefix{}, netip.Addr{})
			c.restart(dhcpInit)
			c.next = now
			return
		case c.state == dhcpRenewing && !now.Before(c.t2):
			c.state = dhcpRebinding
		}
		c.send(dhcp.MsgRequest, c.state == dhcpRebinding)
		// RFC 2131 4.4.5: retry after half the time left to T2 (or to
		// expiry when rebinding), at least a second here.
		until := c.t2
		if c.state == dhcpRebinding {
			until = c.expiry
		}
		c.next = now.Add(max(until.Sub(now)/2, time.Second))
		if c.next.After(until) {
			c.next = until
		}
	}
}

func (c *dhcpClient) backoff(now time.Time) {
	jitter := time.Duration(rand.Int64N(int64(c.retry / 4)))
	c.next = now.Add(c.retry + jitter)
	c.retry = min(2*c.retry, dhcpRetryMax)
}

// send transmits a DISCOVER or REQUEST for the current state.
func (c *dhcpClient) send(typ dhcp.MessageType, broadcast bool) {
	n := c.n
	mac := n.MAC()
	hdr := dhcp.HeaderV4{OP: dhcp.OpRequest, HType: 1, HLen: 6, Xid: c.xid,
		Secs: uint16(min(time.Since(c.started)/time.Second, 0xffff))}
	copy(hdr.CHAddr[:], mac)
	opts := []dhcp.Option{
		{Num: dhcp.OptMessageType, Data: []byte{byte(typ)}},
		{Num: dhcp.OptClientIdentifier1, Data: append([]byte{1}, mac...)},
		{Num: dhcp.OptMaximumMessageSize, Data: []byte{0x05, 0xdc}},
		{Num: dhcp.OptParameterRequestList, Data: []byte{1, 3, 6, 15, 26, 51, 58, 59}},
	}
	if h := n.st.opts.Hostname(); h != "" {
		opts = append(opts, dhcp.Option{Num: dhcp.OptHostName, Data: []byte(h)})
	}
	src, dst := netip.IPv4Unspecified(), netip.AddrFrom4([4]byte{255, 255, 255, 255})
	dstMAC := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	switch c.state {
	case dhcpRequesting:
		opts = append(opts, dhcp.Option{Num: dhcp.OptRequestedIPaddress, Data: c.offered.AsSlice()},
			dhcp.Option{Num: dhcp.OptServerIdentification, Data: c.server.AsSlice()})
	case dhcpRebooting:
		opts = append(opts, dhcp.Option{Num: dhcp.OptRequestedIPaddress, Data: c.lease.Addr().AsSlice()})
	case dhcpRenewing, dhcpRebinding:
		hdr.CIAddr = c.lease.Addr().As4()
		src = c.lease.Addr()
		if !broadcast {
			dst, dstMAC = c.server, c.serverMAC
		}
	}
	msg := dhcpwire.Encode(hdr, opts)
	if err := n.ep.tx(dhcpwire.UDPFrame(dstMAC, mac, src, dst, dhcp.DefaultClientPort, dhcp.DefaultServerPort, msg)); err != nil {
		n.stats.drop("dhcp: " + err.Error())
	}
}

// wants takes a received frame if it is a DHCP reply for this client.
func (c *dhcpClient) wants(frame []byte) bool {
	d, ok := dhcpwire.ParseUDP(frame)
	if !ok || d.DstPort != dhcp.DefaultClientPort || d.SrcPort != dhcp.DefaultServerPort {
		return false
	}
	m, err := dhcpwire.Decode(d.Payload)
	if err != nil {
		c.n.stats.drop("dhcp: " + err.Error())
		return true
	}
	c.handle(m, d.SrcMAC)
	return true
}

func (c *dhcpClient) handle(m *dhcpwire.Message, srcMAC []byte) {
	mac := c.n.MAC()
	c.mu.Lock()
	defer c.mu.Unlock()
	if m.Header.OP != dhcp.OpReply || m.Header.Xid != c.xid || string(m.Header.CHAddr[:6]) != string(mac) {
		return
	}
	switch {
	case m.Type == dhcp.MsgOffer && c.state == dhcpSelecting:
		l, reason, detail := c.checkLease(m, false)
		if reason != "" {
			c.refuse("OFFER", reason, detail, m)
			return
		}
		c.offered, c.server = l.prefix.Addr(), l.server
		c.state, c.tries, c.next, c.retry = dhcpRequesting, 0, time.Time{}, dhcpRetryMin
		c.poke()
	case m.Type == dhcp.MsgAck && (c.state == dhcpRequesting || c.state == dhcpRebooting || c.state == dhcpRenewing || c.state == dhcpRebinding):
		l, reason, detail := c.checkLease(m, true)
		if reason != "" {
			// Not applied: the state, its timers and the lease held stay
			// as they are, so the client retransmits as if nothing came.
			c.refuse("ACK", reason, detail, m)
			return
		}
		c.bind(l, srcMAC)
	case m.Type == dhcp.MsgNak && c.state != dhcpSelecting && c.state != dhcpInit && c.state != dhcpBound:
		// A NAK answers a REQUEST: none is outstanding while bound. In
		// REQUESTING and RENEWING the REQUEST went to one server; a NAK
		// naming another is not its answer (it would drop the lease).
		nakServer := m.Addr(dhcp.OptServerIdentification)
		if (c.state == dhcpRequesting || c.state == dhcpRenewing) && nakServer.IsValid() && nakServer != c.server {
			c.refuse("NAK", refusedOtherServer, nakServer.String()+", asked "+c.server.String(), m)
			return
		}
		c.n.st.log.Info("DHCP server refused the address", "nic", c.n.name, "server", nakServer)
		held := c.lease.IsValid()
		c.drop()
		if held {
			c.report("refused", netip.Prefix{}, netip.Addr{})
		}
		c.restart(dhcpInit)
		c.poke()
	}
}

// refuse counts a refused OFFER or ACK and logs it, once per reason in an
// exchange (caller holds c.mu).
func (c *dhcpClient) refuse(typ, reason, detail string, m *dhcpwire.Message) {
	if c.once("refused " + typ + ": " + reason) {
		c.n.st.log.Warn("DHCP: refused a reply", "nic", c.n.name, "type", typ, "reason", reason, "detail", detail,
			"server", m.Addr(dhcp.OptServerIdentification), "addr", netip.AddrFrom4(m.Header.YIAddr), "state", c.state)
	}
	c.n.stats.drop("dhcp: refused " + typ + ": " + reason)
}

// dhcpLease is what an OFFER or ACK proposes, once checked.
type dhcpLease struct {
	prefix               netip.Prefix // our address and subnet
	gw                   netip.Addr   // invalid: none usable
	dns                  []netip.Addr // usable ones, at most dhcpMaxDNS
	server               netip.Addr   // option 54 (invalid if absent from an ACK)
	lease, renew, rebind time.Duration
}

// checkLease reads the lease m proposes. It returns the reason to refuse
// m, with details for the log, or "" and the lease. An OFFER (ack false)
// is checked for its server identifier, mask and address; an ACK also for
// being the answer to what was asked, and its router, DNS servers and
// times are made usable (caller holds c.mu).
func (c *dhcpClient) checkLease(m *dhcpwire.Message, ack bool) (dhcpLease, string, string) {
	var l dhcpLease
	l.server = m.Addr(dhcp.OptServerIdentification)
	if !ack && !l.server.IsValid() {
		return l, refusedNoServerID, ""
	}
	plen, maskGiven := dhcpDefaultPrefix, false
	if raw, ok := m.Options[dhcp.OptSubnetMask]; ok {
		if len(raw) != 4 {
			return l, refusedMaskMalformed, strconv.Itoa(len(raw)) + " bytes"
		}
		mask := netip.AddrFrom4([4]byte(raw))
		ones, contiguous := ipaddr.MaskBits([4]byte(raw))
		switch {
		case !contiguous:
			return l, refusedMaskNotContig, mask.String()
		case ones < dhcpMinPrefix:
			return l, refusedShortPrefix, mask.String()
		}
		plen, maskGiven = ones, true
	}
	yi := netip.AddrFrom4(m.Header.YIAddr)
	// An OFFER without a mask says nothing of the subnet yet; its ACK is
	// checked against the subnet it gives.
	if r := dhcpAddrProblem(yi, plen, ack || maskGiven); r != "" {
		return l, r, yi.String()
	}
	l.prefix = netip.PrefixFrom(yi, plen)
	if !ack {
		return l, "", ""
	}
	switch c.state {
	case dhcpRequesting:
		if yi != c.offered {
			return l, refusedNotOffered, yi.String() + ", offered " + c.offered.String()
		}
	default: // rebooting, renewing, rebinding: the lease held was asked for
		if yi != c.lease.Addr() {
			return l, refusedNotRequested, yi.String() + ", requested " + c.lease.Addr().String()
		}
	}
	// The REQUEST named its server (REQUESTING) or went to it alone
	// (RENEWING); another one answering is not the server asked.
	// REBOOTING and REBINDING ask every server.
	if (c.state == dhcpRequesting || c.state == dhcpRenewing) && l.server.IsValid() && l.server != c.server {
		return l, refusedOtherServer, l.server.String() + ", asked " + c.server.String()
	}
	l.gw = c.usableRouter(m, l.prefix)
	l.dns = c.usableDNS(m, l.prefix)
	l.lease, l.renew, l.rebind = c.leaseTimes(m)
	return l, "", ""
}

// dhcpAddrProblem reports why a cannot be a host's own unicast address
// ("" if it can): the rule of a static address (package ipaddr), and
// 0.0.0.0/8 and link-local addresses, which no DHCP server hands out. With
// subnet, the network and broadcast addresses of its /plen subnet are
// refused too, where the subnet has them.
func dhcpAddrProblem(a netip.Addr, plen int, subnet bool) string {
	switch {
	case a.As4()[0] == 0: // RFC 1122 3.2.1.3: "this network", only a source while booting
		return refusedThisNetwork
	case a.IsLinkLocalUnicast(): // RFC 3927 1.6: not for DHCP to configure
		return refusedLinkLocal
	}
	if r := ipaddr.Problem(a); r != "" {
		return r
	}
	if subnet {
		return ipaddr.SubnetProblem(netip.PrefixFrom(a, plen))
	}
	return ""
}

// usableRouter returns the first router of option 3 that can be a gateway
// of prefix: an address in the subnet, not ours and not its network or
// broadcast address. Others are ignored, and logged.
func (c *dhcpClient) usableRouter(m *dhcpwire.Message, prefix netip.Prefix) netip.Addr {
	routers := m.Addrs(dhcp.OptRouter)
	for _, r := range routers {
		if prefix.Contains(r) && r != prefix.Addr() && dhcpAddrProblem(r, prefix.Bits(), true) == "" {
			return r
		}
	}
	if len(routers) > 0 && c.once("router") {
		c.n.st.log.Warn("DHCP: ignored the router: not a host of the subnet other than us; the lease has no gateway",
			"nic", c.n.name, "routers", joinAddrs(routers), "addr", prefix)
	}
	return netip.Addr{}
}

// usableDNS returns the first dhcpMaxDNS DNS servers of option 6 that can
// be sent a query: not 0.0.0.0/8, loopback, multicast or a broadcast
// address, and not repeated. What is left out is logged.
func (c *dhcpClient) usableDNS(m *dhcpwire.Message, prefix netip.Prefix) []netip.Addr {
	all := m.Addrs(dhcp.OptDNSServers)
	var out []netip.Addr
	dropped := 0
	for _, a := range all {
		// A link-local server (169.254/16) can be reached on the link;
		// the subnet's network and broadcast addresses are checked only
		// for a server inside it.
		r := dhcpAddrProblem(a, prefix.Bits(), prefix.Contains(a))
		switch {
		case slices.Contains(out, a):
		case (r != "" && r != refusedLinkLocal) || len(out) == dhcpMaxDNS:
			dropped++
		default:
			out = append(out, a)
		}
	}
	if dropped > 0 && c.once("dns") {
		c.n.st.log.Warn("DHCP: ignored DNS servers: unusable, or more than "+strconv.Itoa(dhcpMaxDNS),
			"nic", c.n.name, "offered", joinAddrs(all), "kept", joinAddrs(out))
	}
	return out
}

// leaseTimes returns the lease time, T1 and T2 of an ACK: a lease below
// dhcpMinLease is raised to it, and T2 (T1) is put back to RFC 2131's
// default of 7/8 (1/2) of the lease unless 0 < T1 < T2 < lease.
func (c *dhcpClient) leaseTimes(m *dhcpwire.Message) (lease, t1, t2 time.Duration) {
	sec := func(n dhcp.OptNum) time.Duration { return time.Duration(m.Seconds(n, 0)) * time.Second }
	lease = dhcpDefaultLease
	if _, ok := m.Options[dhcp.OptIPAddressLeaseTime]; ok {
		lease = sec(dhcp.OptIPAddressLeaseTime)
	}
	if lease < dhcpMinLease {
		if c.once("lease") {
			c.n.st.log.Warn("DHCP: lease time below the minimum, raised to it", "nic", c.n.name, "lease", lease, "min", dhcpMinLease)
		}
		lease = dhcpMinLease
	}
	t1, t2 = sec(dhcp.OptRenewTimeValue), sec(dhcp.OptRebindingTimeValue)
	if t2 <= 0 || t2 >= lease {
		t2 = lease / 8 * 7
	}
	if t1 <= 0 || t1 >= t2 {
		t1 = lease / 2
		if t1 >= t2 {
			t2 = lease / 8 * 7
		}
	}
	return lease, t1, t2
}

// bind applies a checked ACK (caller holds c.mu).
func (c *dhcpClient) bind(l dhcpLease, srcMAC []byte) {
	now := time.Now()
	c.t1, c.t2, c.expiry = now.Add(l.renew), now.Add(l.rebind), now.Add(l.lease)
	if l.server.IsValid() {
		c.server = l.server
	}
	c.serverMAC = append([]byte(nil), srcMAC...)
	renewed := c.lease == l.prefix
	c.lease = l.prefix
	c.state, c.next = dhcpBound, c.t1
	// The DNS servers go in before the address: isconnected() turns true
	// with the address, and a caller that sees it may ask for them at once.
	c.n.mu.Lock()
	c.n.dns = l.dns
	c.n.mu.Unlock()
	if err := c.n.setAddr4(l.prefix, l.gw, false); err != nil {
		c.n.st.log.Warn("DHCP: applying the lease failed", "nic", c.n.name, "err", err)
	}
	if !renewed {
		c.n.st.log.Info("DHCP lease", "nic", c.n.name, "addr", l.prefix, "gateway", l.gw, "dns", joinAddrs(l.dns),
			"lease", l.lease, "renew", l.renew, "rebind", l.rebind)
		c.report("bound", l.prefix, l.gw)
	}
}

// report tells Options.OnLease of a change of the lease (caller holds
// c.mu).
func (c *dhcpClient) report(event string, addr netip.Prefix, gw netip.Addr) {
	if f := c.n.st.opts.OnLease; f != nil {
		f(c.n.name, event, addr, gw)
	}
}

// drop forgets the lease and removes the address (caller holds c.mu).
func (c *dhcpClient) drop() {
	if c.lease.IsValid() {
		c.n.setAddr4(netip.Prefix{}, netip.Addr{}, false)
		c.n.mu.Lock()
		c.n.dns = nil
		c.n.mu.Unlock()
	}
	c.lease = netip.Prefix{}
}

// linkUp restarts after the link came back: INIT-REBOOT with a lease,
// else a fresh DISCOVER.
func (c *dhcpClient) linkUp() {
	c.mu.Lock()
	if c.lease.IsValid() {
		c.restart(dhcpRebooting)
	} else {
		c.restart(dhcpInit)
	}
	c.mu.Unlock()
	c.poke()
}

// linkBack resumes the client after a flap (flap.go): the lease and the
// exchange under way stay as they were, and what fell due while the link
// was down is done now.
func (c *dhcpClient) linkBack() {
	c.mu.Lock()
	if c.state == dhcpBound {
		c.next = c.t1
	} else {
		c.next = time.Time{}
	}
	c.mu.Unlock()
	c.poke()
}

// stop ends the client; with release it gives the lease back to the server.
func (c *dhcpClient) stop(release bool) {
	c.mu.Lock()
	event := ""
	if c.lease.IsValid() {
		event = "stopped"
	}
	if release && c.lease.IsValid() && c.serverMAC != nil && c.n.linkUp() {
		event = "released"
		hdr := dhcp.HeaderV4{OP: dhcp.OpRequest, HType: 1, HLen: 6, Xid: rand.Uint32(), CIAddr: c.lease.Addr().As4()}
		mac := c.n.MAC()
		copy(hdr.CHAddr[:], mac)
		msg := dhcpwire.Encode(hdr, []dhcp.Option{
			{Num: dhcp.OptMessageType, Data: []byte{byte(dhcp.MsgRelease)}},
			{Num: dhcp.OptServerIdentification, Data: c.server.AsSlice()},
			{Num: dhcp.OptClientIdentifier1, Data: append([]byte{1}, mac...)},
		})
		c.n.ep.tx(dhcpwire.UDPFrame(c.serverMAC, mac, c.lease.Addr(), c.server, dhcp.DefaultClientPort, dhcp.DefaultServerPort, msg))
	}
	c.drop()
	if event != "" {
		c.report(event, netip.Prefix{}, netip.Addr{})
	}
	c.mu.Unlock()
	close(c.done)
	c.wg.Wait()
}
