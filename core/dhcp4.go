package core

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"

	"github.com/soypat/seqs/eth/dhcp"

	"github.com/nichost/nichost/internal/dhcpwire"
)

// The DHCPv4 client (RFC 2131): INIT -> SELECTING -> REQUESTING -> BOUND,
// then RENEWING at T1 (unicast to the server), REBINDING at T2 (broadcast),
// back to INIT when the lease expires or a NAK arrives. A link that comes
// back up with a lease goes through INIT-REBOOT (ask for the same address).
// It never blocks a caller: ipconfig(dhcp4=True) starts it and has_dhcp4
// reports the lease.

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
		c.next = now
		c.step(now)
	case dhcpRenewing, dhcpRebinding:
		switch {
		case !now.Before(c.expiry):
			c.n.st.log.Info("DHCP lease expired", "nic", c.n.name, "addr", c.lease)
			c.drop()
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
		server := m.Addr(dhcp.OptServerIdentification)
		yi := netip.AddrFrom4(m.Header.YIAddr)
		if !server.IsValid() || !yi.IsGlobalUnicast() {
			return
		}
		c.offered, c.server = yi, server
		c.state, c.tries, c.next, c.retry = dhcpRequesting, 0, time.Time{}, dhcpRetryMin
		c.poke()
	case m.Type == dhcp.MsgAck && (c.state == dhcpRequesting || c.state == dhcpRebooting || c.state == dhcpRenewing || c.state == dhcpRebinding):
		c.bind(m, srcMAC)
	case m.Type == dhcp.MsgNak && c.state != dhcpSelecting && c.state != dhcpInit:
		c.n.st.log.Info("DHCP server refused the address", "nic", c.n.name, "server", m.Addr(dhcp.OptServerIdentification))
		c.drop()
		c.restart(dhcpInit)
		c.poke()
	}
}

// bind applies an ACK.
func (c *dhcpClient) bind(m *dhcpwire.Message, srcMAC []byte) {
	yi := netip.AddrFrom4(m.Header.YIAddr)
	bits := 24
	if mask := m.Options[dhcp.OptSubnetMask]; len(mask) == 4 {
		ones := 0
		for v := binary.BigEndian.Uint32(mask); v&(1<<31) != 0; v <<= 1 {
			ones++
		}
		bits = ones
	}
	lease := m.Seconds(dhcp.OptIPAddressLeaseTime, 3600)
	now := time.Now()
	sec := func(s uint32) time.Duration { return time.Duration(s) * time.Second }
	c.t1 = now.Add(sec(m.Seconds(dhcp.OptRenewTimeValue, lease/2)))
	c.t2 = now.Add(sec(m.Seconds(dhcp.OptRebindingTimeValue, lease/8*7)))
	c.expiry = now.Add(sec(lease))
	if s := m.Addr(dhcp.OptServerIdentification); s.IsValid() {
		c.server = s
	}
	c.serverMAC = append([]byte(nil), srcMAC...)
	gw := m.Addr(dhcp.OptRouter)
	prefix := netip.PrefixFrom(yi, bits)
	renewed := c.lease == prefix
	c.lease = prefix
	c.state, c.next = dhcpBound, c.t1
	if err := c.n.setAddr4(prefix, gw, false); err != nil {
		c.n.st.log.Warn("DHCP: applying the lease failed", "nic", c.n.name, "err", err)
	}
	c.n.mu.Lock()
	c.n.dns = m.Addrs(dhcp.OptDNSServers)
	c.n.mu.Unlock()
	if !renewed {
		c.n.st.log.Info("DHCP lease", "nic", c.n.name, "addr", prefix, "gateway", gw, "lease", sec(lease))
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

// stop ends the client; with release it gives the lease back to the server.
func (c *dhcpClient) stop(release bool) {
	c.mu.Lock()
	if release && c.lease.IsValid() && c.serverMAC != nil && c.n.linkUp() {
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
	c.mu.Unlock()
	close(c.done)
	c.wg.Wait()
}
