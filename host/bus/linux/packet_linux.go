package linux

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/nichost/nichost/host/bus"
	"golang.org/x/sys/unix"
)

// Packet is an existing Linux network interface reached through an
// AF_PACKET socket: the plugin reads every frame the interface receives and
// writes frames that leave through it, beside the host's own network stack.
// It implements bus.FramePort. A Packet is safe for concurrent use.
//
// Frames the host itself sends out of the interface are not read, nor are
// the plugin's own. The kernel moves the 802.1Q tag of a received frame out
// of it; the port puts the tag back, so a tagged frame read can be up to
// MTU()+18 bytes long. WriteFrame takes at most MTU()+14 bytes, tag included.
// Offloads change what the socket sees: with GRO or LRO on, received frames
// can be merged beyond the MTU (turn them off with `ethtool -K IF gro off lro
// off`), and on a veth the peer's frames can carry unfinished checksums
// unless its checksum offload is off (`ethtool -K PEER tx off`).
type Packet struct {
	port *linkPort
}

var _ bus.FramePort = (*Packet)(nil)

// sizeofAuxdata is the size of struct tpacket_auxdata.
const sizeofAuxdata = 20

// OpenPacket opens an AF_PACKET socket bound to the interface
// cfg.Interface for all protocols (ETH_P_ALL), in promiscuous mode when
// cfg.Promiscuous. It needs CAP_NET_RAW. A reader goroutine moves received
// frames into a queue of cfg.QueueLen frames; Close stops it and closes the
// socket, which also ends the promiscuous mode it asked for.
func OpenPacket(cfg PacketConfig) (*Packet, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	fd, mtu, err := openPacketSocket(cfg)
	if err != nil {
		return nil, fmt.Errorf("bus: packet: %s: %w", cfg.Interface, err)
	}
	oob := make([]byte, unix.CmsgSpace(sizeofAuxdata))
	recv := func(fd int, buf []byte) ([]byte, error) { return readPacket(fd, buf, oob) }
	port, err := newLinkPort("packet", cfg.Interface, fd, mtu, queueLen(cfg.QueueLen), recv)
	if err != nil {
		return nil, err
	}
	return &Packet{port: port}, nil
}

// openPacketSocket returns a non-blocking AF_PACKET socket bound to the
// interface, and the interface's MTU.
func openPacketSocket(cfg PacketConfig) (fd, mtu int, err error) {
	index, err := linkIndex(cfg.Interface)
	if err != nil {
		return -1, 0, err
	}
	if mtu, err = linkMTU(cfg.Interface); err != nil {
		return -1, 0, err
	}
	// Protocol 0: the socket receives nothing until it is bound to the
	// interface, so frames of other interfaces never reach the queue.
	fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.EPERM) {
			return -1, 0, fmt.Errorf("socket: %w (an AF_PACKET socket needs CAP_NET_RAW)", err)
		}
		return -1, 0, fmt.Errorf("socket: %w", err)
	}
	defer func() {
		if err != nil {
			_ = unix.Close(fd)
			fd = -1
		}
	}()
	if err = unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_AUXDATA, 1); err != nil {
		return fd, 0, fmt.Errorf("PACKET_AUXDATA: %w", err)
	}
	// Linux 4.20 and later skip outgoing frames in the kernel; readPacket
	// skips them on older kernels.
	if e := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1); e != nil && !errors.Is(e, unix.ENOPROTOOPT) {
		return fd, 0, fmt.Errorf("PACKET_IGNORE_OUTGOING: %w", e)
	}
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: index}
	if err = unix.Bind(fd, sa); err != nil {
		return fd, 0, fmt.Errorf("bind: %w", err)
	}
	if cfg.Promiscuous {
		mreq := &unix.PacketMreq{Ifindex: int32(index), Type: unix.PACKET_MR_PROMISC}
		if err = unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, mreq); err != nil {
			return fd, 0, fmt.Errorf("PACKET_ADD_MEMBERSHIP promiscuous: %w", err)
		}
	}
	return fd, mtu, nil
}

// readPacket receives one frame into buf, leaving room in front for an
// 802.1Q tag to put back, and skips outgoing frames. oob holds the
// tpacket_auxdata control message.
func readPacket(fd int, buf, oob []byte) ([]byte, error) {
	n, oobn, flags, from, err := unix.Recvmsg(fd, buf[vlanTagLen:], oob, unix.MSG_TRUNC)
	if err != nil {
		return nil, err
	}
	if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
		return nil, nil
	}
	if flags&unix.MSG_TRUNC != 0 || n > len(buf)-vlanTagLen || n < bus.EthernetHeaderLen {
		return nil, errSkipFrame
	}
	aux, _ := packetAuxdata(oob[:oobn])
	return restoreVLAN(buf, n, aux), nil
}

// restoreVLAN returns the n-byte frame received at buf[vlanTagLen:] with the
// 802.1Q tag that aux reports the driver stripped put back: the MAC
// addresses move 4 bytes to the front and the tag goes after them.
func restoreVLAN(buf []byte, n int, aux unix.TpacketAuxdata) []byte {
	frame := buf[vlanTagLen : vlanTagLen+n]
	// Old kernels report a tag by a non-zero TCI alone, as libpcap knows.
	if aux.Status&unix.TP_STATUS_VLAN_VALID == 0 && aux.Vlan_tci == 0 {
		return frame
	}
	tpid := uint16(unix.ETH_P_8021Q)
	if aux.Status&unix.TP_STATUS_VLAN_TPID_VALID != 0 {
		tpid = aux.Vlan_tpid
	}
	copy(buf[:12], frame[:12])
	binary.BigEndian.PutUint16(buf[12:], tpid)
	binary.BigEndian.PutUint16(buf[14:], aux.Vlan_tci)
	return buf[:vlanTagLen+n]
}

// packetAuxdata finds the PACKET_AUXDATA control message in oob.
func packetAuxdata(oob []byte) (unix.TpacketAuxdata, bool) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return unix.TpacketAuxdata{}, false
	}
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_PACKET && m.Header.Type == unix.PACKET_AUXDATA &&
			len(m.Data) >= sizeofAuxdata {
			d, ne := m.Data, binary.NativeEndian
			return unix.TpacketAuxdata{
				Status:    ne.Uint32(d[0:]),
				Len:       ne.Uint32(d[4:]),
				Snaplen:   ne.Uint32(d[8:]),
				Mac:       ne.Uint16(d[12:]),
				Net:       ne.Uint16(d[14:]),
				Vlan_tci:  ne.Uint16(d[16:]),
				Vlan_tpid: ne.Uint16(d[18:]),
			}, true
		}
	}
	return unix.TpacketAuxdata{}, false
}

// htons converts a 16-bit value to network byte order.
func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}

// Name returns the interface name.
func (p *Packet) Name() string { return p.port.name }

// String returns "packet:" and the interface name.
func (p *Packet) String() string { return "packet:" + p.port.name }

// MTU implements FramePort: the interface MTU when the port was opened.
func (p *Packet) MTU() int { return p.port.mtu }

// WriteFrame implements FramePort: the frame leaves through the interface,
// bypassing the host's network stack, with one write(2).
func (p *Packet) WriteFrame(frame []byte) error { return p.port.writeFrame(frame) }

// ReadFrame implements bus.FramePort. Once the queue is drained after the socket
// failed, ReadFrame returns that failure.
func (p *Packet) ReadFrame(buf []byte) (int, error) { return p.port.readFrame(buf) }

// Notify implements bus.FramePort.
func (p *Packet) Notify(fn func()) { p.port.setNotify(fn) }

// Close implements FramePort: it stops the reader and closes the socket.
func (p *Packet) Close() error { return p.port.close() }

// Stats returns the counters of the port. Dropped counts frames lost to a
// full queue and frames too long for the reader's 64 KiB buffer.
func (p *Packet) Stats() bus.FrameStats { return p.port.getStats() }
