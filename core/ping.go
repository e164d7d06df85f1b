package core

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// Answering pings needs nothing: the stack replies to echo requests. These
// send them.

// Ping sends one ICMP (or ICMPv6) echo request to addr with size bytes of
// payload and waits for the reply until ctx ends. It returns the round-trip
// time.
func (st *Stack) Ping(ctx context.Context, addr netip.Addr, size int) (time.Duration, error) {
	return st.ping(ctx, 0, addr, size)
}

// Ping is Stack.Ping from this NIC.
func (n *NIC) Ping(ctx context.Context, addr netip.Addr, size int) (time.Duration, error) {
	return n.st.ping(ctx, n.id, addr, size)
}

func (st *Stack) ping(ctx context.Context, nic tcpip.NICID, addr netip.Addr, size int) (time.Duration, error) {
	if size < 0 || size > 65000 {
		return 0, fmt.Errorf("core: ping: payload of %d bytes", size)
	}
	addr = addr.Unmap()
	tp, np, hdrLen := icmp.ProtocolNumber4, ipv4.ProtocolNumber, header.ICMPv4MinimumSize
	if addr.Is6() {
		tp, np, hdrLen = icmp.ProtocolNumber6, ipv6.ProtocolNumber, header.ICMPv6MinimumSize
	}
	var wq waiter.Queue
	ep, terr := st.s.NewEndpoint(tp, np, &wq)
	if terr != nil {
		return 0, fmt.Errorf("core: ping: %s", terr)
	}
	defer ep.Close()
	if terr := ep.Connect(tcpip.FullAddress{NIC: nic, Addr: addrOf(addr)}); terr != nil {
		return 0, fmt.Errorf("core: ping %s: %s", addr, terr)
	}
	we, ready := waiter.NewChannelEntry(waiter.EventIn)
	wq.EventRegister(&we)
	defer wq.EventUnregister(&we)

	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(i)
	}
	req := make([]byte, hdrLen+size)
	copy(req[hdrLen:], payload)
	if addr.Is4() {
		h := header.ICMPv4(req)
		h.SetType(header.ICMPv4Echo)
		h.SetSequence(1)
	} else {
		h := header.ICMPv6(req)
		h.SetType(header.ICMPv6EchoRequest)
		h.SetSequence(1)
	}
	start := time.Now()
	// The first write may find the neighbour unresolved: retry while it
	// resolves, until ctx ends.
	for {
		_, terr := ep.Write(bytes.NewReader(req), tcpip.WriteOptions{})
		if terr == nil {
			break
		}
		if _, ok := terr.(*tcpip.ErrWouldBlock); !ok {
			return 0, fmt.Errorf("core: ping %s: %s", addr, terr)
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("core: ping %s: %w", addr, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	var buf bytes.Buffer
	for {
		buf.Reset()
		_, terr := ep.Read(&buf, tcpip.ReadOptions{})
		if terr == nil {
			b := buf.Bytes()
			if len(b) >= hdrLen && bytes.Equal(b[hdrLen:], payload) && isEchoReply(b, addr.Is4()) {
				return time.Since(start), nil
			}
			continue
		}
		if _, ok := terr.(*tcpip.ErrWouldBlock); !ok {
			return 0, fmt.Errorf("core: ping %s: %s", addr, terr)
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("core: ping %s: no reply: %w", addr, ctx.Err())
		case <-ready:
		}
	}
}

func isEchoReply(b []byte, v4 bool) bool {
	if v4 {
		return header.ICMPv4(b).Type() == header.ICMPv4EchoReply
	}
	return header.ICMPv6(b).Type() == header.ICMPv6EchoReply
}
