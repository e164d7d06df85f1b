package core

import (
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
)

// Stateless DHCPv6 (RFC 8415 section 18.2.6): Information-Request to all
// DHCP servers and relays, for DNS servers only (MicroPython's dhcp6 does
// not obtain addresses). Messages use insomniacslk/dhcp's dhcpv6 codec and
// travel over the stack's own UDP, from the link-local address.

const (
	dhcp6IRT     = time.Second      // initial retransmission time
	dhcp6MRT     = time.Hour        // its maximum
	dhcp6Refresh = 24 * time.Hour   // information refresh time (RFC 8415 21.23)
	dhcp6MinWait = 10 * time.Minute // shortest refresh accepted
)

var allDHCPServers = net.ParseIP("ff02::1:2")

type dhcp6Client struct {
	n    *NIC
	done chan struct{}
	wg   sync.WaitGroup
}

func newDHCP6Client(n *NIC) *dhcp6Client {
	c := &dhcp6Client{n: n, done: make(chan struct{})}
	c.wg.Add(1)
	go c.run()
	return c
}

func (c *dhcp6Client) stop() {
	close(c.done)
	c.wg.Wait()
	c.n.mu.Lock()
	c.n.dnsDHCP6 = nil
	c.n.mu.Unlock()
}

func (c *dhcp6Client) sleep(d time.Duration) bool {
	select {
	case <-c.done:
		return false
	case <-time.After(d):
		return true
	}
}

func (c *dhcp6Client) run() {
	defer c.wg.Done()
	n := c.n
	var conn *gonet.UDPConn
	for conn == nil {
		var err error
		conn, err = gonet.DialUDP(n.st.s, &tcpip.FullAddress{NIC: n.id, Port: dhcpv6.DefaultClientPort}, nil, ipv6.ProtocolNumber)
		if err != nil && !c.sleep(time.Second) {
			return
		}
	}
	defer conn.Close()
	go func() { <-c.done; conn.Close() }()
	rt := dhcp6IRT
	buf := make([]byte, 1500)
	for {
		if !n.linkUp() {
			if !c.sleep(time.Second) {
				return
			}
			continue
		}
		msg, err := dhcpv6.NewMessage()
		if err != nil {
			return
		}
		msg.MessageType = dhcpv6.MessageTypeInformationRequest
		msg.AddOption(dhcpv6.OptClientID(&dhcpv6.DUIDLL{HWType: 1, LinkLayerAddr: n.MAC()}))
		msg.AddOption(dhcpv6.OptRequestedOption(dhcpv6.OptionDNSRecursiveNameServer, dhcpv6.OptionInformationRefreshTime))
		msg.AddOption(dhcpv6.OptElapsedTime(0))
		conn.SetWriteDeadline(time.Now().Add(time.Second))
		if _, err := conn.WriteTo(msg.ToBytes(), &net.UDPAddr{IP: allDHCPServers, Port: dhcpv6.DefaultServerPort}); err != nil {
			// The link-local address may still be tentative.
			if !c.sleep(time.Second) {
				return
			}
			continue
		}
		wait := rt
		if reply := c.await(conn, buf, msg.TransactionID, rt); reply != nil {
			var dns []netip.Addr
			for _, ip := range reply.Options.DNS() {
				if a, ok := netip.AddrFromSlice(ip); ok {
					dns = append(dns, a.Unmap())
				}
			}
			n.mu.Lock()
			n.dnsDHCP6 = dns
			n.mu.Unlock()
			wait, rt = dhcp6Refresh, dhcp6IRT
			if irt := reply.Options.InformationRefreshTime(dhcp6Refresh); irt >= dhcp6MinWait {
				wait = irt
			}
		} else {
			rt = min(2*rt, dhcp6MRT)
		}
		if !c.sleep(wait - min(wait, rt)) {
			return
		}
	}
}

// await reads until a Reply for xid arrives or d passes.
func (c *dhcp6Client) await(conn *gonet.UDPConn, buf []byte, xid dhcpv6.TransactionID, d time.Duration) *dhcpv6.Message {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		conn.SetReadDeadline(deadline)
		k, _, err := conn.ReadFrom(buf)
		if err != nil {
			return nil
		}
		m, err := dhcpv6.MessageFromBytes(buf[:k])
		if err != nil {
			c.n.stats.drop("dhcp6: malformed message")
			continue
		}
		if m.MessageType == dhcpv6.MessageTypeReply && m.TransactionID == xid {
			return m
		}
	}
	return nil
}
