package simnet

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/netip"
	"sync"

	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/bus/sim"
)

// IPPort is a point-to-point link's attachment to the LAN, the routed side
// of a simulated PPP access server: the far end of the link holds an
// address of the LAN's subnet, and the IPPort answers ARP for it on the
// segment (proxy ARP, RFC 1027), so the router and the LAN's hosts reach
// that end as if it were on the segment. IPv4 packets from the link go out
// as Ethernet frames to their destination on the subnet, or to the router
// for any other; frames on the segment for the far end's address go to the
// link as bare IPv4 packets. Nothing but IPv4 and ARP crosses.
type IPPort struct {
	port *sim.FramePort
	mac  net.HardwareAddr
	addr netip.Addr
	send func(pkt []byte) error

	mu      sync.Mutex
	arp     map[netip.Addr]net.HardwareAddr
	pending map[netip.Addr][][]byte // packets waiting for an ARP reply
	stats   IPPortStats
	stop    func()
}

// IPPortStats counts what crossed an IPPort.
type IPPortStats struct {
	ToLAN, ToLink uint64 // IPv4 packets passed each way
	Dropped       uint64 // packets from the link it could not place (not IPv4, no ARP reply yet and the queue full)
}

// maxPending is how many packets an IPPort holds for one destination while
// it waits for the ARP reply.
const maxPending = 8

// AttachIP attaches a point-to-point link to the LAN as port name: addr is
// the address of the link's far end, in Subnet but neither the router's
// nor in the DHCP pool; send takes the packets for it. Packets from the
// far end go to IPPort.Send.
func (r *Router) AttachIP(name string, addr netip.Addr, send func(pkt []byte) error) (*IPPort, error) {
	switch {
	case !Subnet.Contains(addr) || addr == RouterAddr || addr == Subnet.Addr() || addr == broadcast4(Subnet):
		return nil, fmt.Errorf("simnet: point-to-point address %v: want a host address of %v other than the router's", addr, Subnet)
	case addr.Compare(poolFirst) >= 0 && addr.Compare(poolLast) <= 0:
		return nil, fmt.Errorf("simnet: point-to-point address %v is in the DHCP pool %v-%v", addr, poolFirst, poolLast)
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	var mac net.HardwareAddr = binary.BigEndian.AppendUint32([]byte{0x02, 0x65}, h.Sum32())
	p := &IPPort{
		port: r.Attach(name), mac: mac, addr: addr, send: send,
		arp: map[netip.Addr]net.HardwareAddr{}, pending: map[netip.Addr][][]byte{},
	}
	p.stop = bus.Forward(p.port, p.fromLAN)
	return p, nil
}

// MAC is the address the IPPort answers ARP with.
func (p *IPPort) MAC() net.HardwareAddr { return p.mac }

// Stats returns the counters.
func (p *IPPort) Stats() IPPortStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Close detaches the IPPort from the LAN.
func (p *IPPort) Close() {
	p.stop()
	p.port.Close()
}

// Send puts an IPv4 packet from the far end on the LAN.
func (p *IPPort) Send(pkt []byte) error {
	if len(pkt) < 20 || pkt[0]>>4 != 4 {
		p.count(func(s *IPPortStats) { s.Dropped++ })
		return errors.New("simnet: not an IPv4 packet")
	}
	dst := netip.AddrFrom4([4]byte(pkt[16:20]))
	hop := dst
	switch {
	case dst == broadcast4(Subnet) || dst == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return p.write(bcastMAC, pkt)
	case dst.IsMulticast():
		return p.write(net.HardwareAddr{0x01, 0x00, 0x5e, pkt[17] & 0x7f, pkt[18], pkt[19]}, pkt)
	case !Subnet.Contains(dst):
		hop = RouterAddr
	}
	p.mu.Lock()
	mac, ok := p.arp[hop]
	if !ok {
		q := p.pending[hop]
		if len(q) >= maxPending {
			p.stats.Dropped++
			p.mu.Unlock()
			return nil
		}
		p.pending[hop] = append(q, append([]byte(nil), pkt...))
		p.mu.Unlock()
		return p.port.WriteFrame(p.arpFrame(1, nil, hop))
	}
	p.mu.Unlock()
	return p.write(mac, pkt)
}

var bcastMAC = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

func (p *IPPort) count(f func(*IPPortStats)) {
	p.mu.Lock()
	f(&p.stats)
	p.mu.Unlock()
}

// write sends pkt to dst in an Ethernet frame.
func (p *IPPort) write(dst net.HardwareAddr, pkt []byte) error {
	f := make([]byte, 14+len(pkt))
	copy(f, dst)
	copy(f[6:], p.mac)
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	copy(f[14:], pkt)
	p.count(func(s *IPPortStats) { s.ToLAN++ })
	return p.port.WriteFrame(f)
}

// arpFrame is an ARP packet from the IPPort, which speaks for the far
// end's address: a request for tpa (broadcast, tha nil) or a reply to
// tha, tpa.
func (p *IPPort) arpFrame(op uint16, tha net.HardwareAddr, tpa netip.Addr) []byte {
	f := make([]byte, 14+28)
	copy(f, bcastMAC)
	if tha != nil {
		copy(f, tha)
	}
	copy(f[6:], p.mac)
	binary.BigEndian.PutUint16(f[12:], 0x0806)
	a := f[14:]
	binary.BigEndian.PutUint16(a[0:], 1)      // Ethernet
	binary.BigEndian.PutUint16(a[2:], 0x0800) // IPv4
	a[4], a[5] = 6, 4
	binary.BigEndian.PutUint16(a[6:], op)
	copy(a[8:], p.mac)
	spa := p.addr.As4()
	copy(a[14:], spa[:])
	copy(a[18:], tha)
	t := tpa.As4()
	copy(a[24:], t[:])
	return f
}

// fromLAN handles a frame from the segment.
func (p *IPPort) fromLAN(f []byte) {
	if len(f) < 14 {
		return
	}
	switch binary.BigEndian.Uint16(f[12:]) {
	case 0x0806:
		p.arpIn(f[14:])
	case 0x0800:
		pkt := f[14:]
		if len(pkt) < 20 || !bytes.Equal(f[:6], p.mac) || netip.AddrFrom4([4]byte(pkt[16:20])) != p.addr {
			return
		}
		if n := int(binary.BigEndian.Uint16(pkt[2:])); n >= 20 && n < len(pkt) {
			pkt = pkt[:n] // Ethernet padding is not part of the packet
		}
		p.count(func(s *IPPortStats) { s.ToLink++ })
		_ = p.send(pkt)
	}
}

// arpIn learns the sender of every ARP packet, answers requests for the
// far end's address, and sends what waited for the sender's address.
func (p *IPPort) arpIn(a []byte) {
	if len(a) < 28 || binary.BigEndian.Uint16(a[0:]) != 1 || binary.BigEndian.Uint16(a[2:]) != 0x0800 || a[4] != 6 || a[5] != 4 {
		return
	}
	sha := net.HardwareAddr(append([]byte(nil), a[8:14]...))
	spa := netip.AddrFrom4([4]byte(a[14:18]))
	tpa := netip.AddrFrom4([4]byte(a[24:28]))
	p.mu.Lock()
	var waiting [][]byte
	if Subnet.Contains(spa) && spa != p.addr {
		p.arp[spa] = sha
		waiting = p.pending[spa]
		delete(p.pending, spa)
	}
	p.mu.Unlock()
	if binary.BigEndian.Uint16(a[6:]) == 1 && tpa == p.addr {
		_ = p.port.WriteFrame(p.arpFrame(2, sha, spa))
	}
	for _, pkt := range waiting {
		_ = p.write(sha, pkt)
	}
}

// broadcast4 is the directed broadcast address of an IPv4 prefix.
func broadcast4(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	v := binary.BigEndian.Uint32(a[:]) | (1<<(32-p.Bits()) - 1)
	return netip.AddrFrom4([4]byte(binary.BigEndian.AppendUint32(nil, v)))
}
