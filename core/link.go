package core

import (
	"sync"

	"github.com/nichost/nichost/abi"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// LinkType is how frames are framed on a link: the ABI's link types.
type LinkType = abi.LinkType

// Link types.
const (
	LinkEthernet = abi.LinkEthernet // frames start with an Ethernet header
	LinkIP       = abi.LinkIP       // frames are bare IP packets (PPP)
)

// LinkState is what a driver reports about its link.
type LinkState struct {
	Up   bool
	Type LinkType
	MTU  int // 0: the default (1500)
}

// endpoint is the raw side of a NIC's link: it hands frames the driver
// received to the stack and frames the stack sends to the driver. For an
// Ethernet link it is wrapped in gVisor's ethernet endpoint, which adds and
// strips the Ethernet header; for an IP link the frames are IP packets.
type endpoint struct {
	mu         sync.RWMutex
	dispatcher stack.NetworkDispatcher
	mtu        uint32
	addr       tcpip.LinkAddress
	ipOnly     bool
	tx         func([]byte) error
	onClose    func()
	onTxError  func(error)

	txMu  sync.Mutex
	txBuf []byte
}

var _ stack.LinkEndpoint = (*endpoint)(nil)

func (e *endpoint) MTU() uint32 {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.mtu
}

func (e *endpoint) SetMTU(mtu uint32) {
	e.mu.Lock()
	e.mtu = mtu
	e.mu.Unlock()
}

func (e *endpoint) MaxHeaderLength() uint16 { return 0 }

func (e *endpoint) LinkAddress() tcpip.LinkAddress {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.addr
}

func (e *endpoint) SetLinkAddress(addr tcpip.LinkAddress) {
	e.mu.Lock()
	e.addr = addr
	e.mu.Unlock()
}

func (e *endpoint) Capabilities() stack.LinkEndpointCapabilities { return 0 }

func (e *endpoint) Attach(d stack.NetworkDispatcher) {
	e.mu.Lock()
	e.dispatcher = d
	e.mu.Unlock()
}

func (e *endpoint) IsAttached() bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.dispatcher != nil
}

func (e *endpoint) Wait() {}

func (e *endpoint) ARPHardwareType() header.ARPHardwareType { return header.ARPHardwareNone }

func (e *endpoint) AddHeader(*stack.PacketBuffer) {}

func (e *endpoint) ParseHeader(*stack.PacketBuffer) bool { return true }

func (e *endpoint) Close() {
	e.mu.Lock()
	f := e.onClose
	e.dispatcher = nil
	e.mu.Unlock()
	if f != nil {
		f()
	}
}

func (e *endpoint) SetOnCloseAction(f func()) {
	e.mu.Lock()
	e.onClose = f
	e.mu.Unlock()
}

// WritePackets sends each packet as one frame through the driver.
func (e *endpoint) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	e.txMu.Lock()
	defer e.txMu.Unlock()
	n := 0
	for _, pkt := range pkts.AsSlice() {
		e.txBuf = e.txBuf[:0]
		for _, s := range pkt.AsSlices() {
			e.txBuf = append(e.txBuf, s...)
		}
		if err := e.tx(e.txBuf); err != nil {
			if e.onTxError != nil {
				e.onTxError(err)
			}
			if n == 0 {
				return 0, &tcpip.ErrWouldBlock{}
			}
			break
		}
		n++
	}
	return n, nil
}

// deliver hands one received frame to the stack. frame is copied.
func (e *endpoint) deliver(frame []byte) bool {
	e.mu.RLock()
	d := e.dispatcher
	e.mu.RUnlock()
	if d == nil {
		return false
	}
	proto := tcpip.NetworkProtocolNumber(0) // the Ethernet wrapper reads the EtherType
	if e.ipOnly {
		switch header.IPVersion(frame) {
		case header.IPv4Version:
			proto = ipv4.ProtocolNumber
		case header.IPv6Version:
			proto = ipv6.ProtocolNumber
		default:
			return false
		}
	}
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(append([]byte(nil), frame...))})
	d.DeliverNetworkPacket(proto, pkt)
	pkt.DecRef()
	return true
}
