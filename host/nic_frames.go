package host

import (
	"context"
	"fmt"
	"maps"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host/internal/seam"
)

// Frames between the driver and the network core.

func init() {
	seam.Attach = func(nic, link any) {
		l, _ := link.(Link)
		nic.(*NIC).attach(l)
	}
	seam.Transmit = func(nic any, frame []byte) error { return nic.(*NIC).transmit(frame) }
}

// attach connects the NIC to another Link than the host's core (tests do,
// through hosttest.Attach, to see frames themselves); nil detaches it. The Link gets frames the
// driver receives and link changes (starting with the current state); it
// sends with transmit. Like every Link call, the first
// report comes from the plugin's goroutine, so it cannot overtake a newer
// one. Do not call Attach from inside a Link method.
func (n *NIC) attach(l Link) {
	attach := func() (any, error) {
		n.mu.Lock()
		n.link = l
		st, info := n.state, maps.Clone(n.info)
		n.mu.Unlock()
		// The plugin's goroutine delivers a frame or two itself only to
		// the host's core, whose DeliverFrame never blocks; another Link
		// (a test's) may, so its frames go by the queue's goroutine.
		n.rx.SetInline(l == Link(n.core))
		if l != nil {
			l.LinkChanged(st)
			if info != nil {
				l.Reported(info)
			}
		}
		return nil, nil
	}
	if _, err := n.p.doAlways(context.Background(), "attach", attach); err != nil {
		attach() // the plugin is closed: nothing else calls the Link
	}
}

// transmit queues a frame for the driver to send (the core's transmit
// function, and hosttest.Transmit's). frame is copied. It
// returns ErrTxQueueFull (the frame is dropped and counted) when the driver
// falls behind.
func (n *NIC) transmit(frame []byte) error {
	if len(frame) > abi.MaxFrame {
		n.stats.drop(dropTooLong)
		return fmt.Errorf("host: %s: frame of %d bytes is larger than %d", n.name, len(frame), abi.MaxFrame)
	}
	if err := n.p.enqueue(n.index, frame); err != nil {
		n.stats.drop(dropQueueFull)
		return err
	}
	return nil
}

// deliver hands a received frame to the core (plugin goroutine).
func (n *NIC) deliver(frame []byte) int32 {
	n.stats.rxFrames.Add(1)
	n.stats.rxBytes.Add(uint64(len(frame)))
	n.traceFrame(frame, true)
	if !n.rx.Push(frame) {
		n.stats.drop(dropQueueFull)
		return -abi.ENOBUFS
	}
	return 0
}

// toLink hands one received frame to the Link (the rx goroutine).
func (n *NIC) toLink(frame []byte) {
	n.mu.Lock()
	l := n.link
	n.mu.Unlock()
	if l == nil {
		n.stats.drop(dropNoCore)
		return
	}
	if err := l.DeliverFrame(frame); err != nil {
		n.stats.drop(coreDropReason(err))
	}
}

// setLink applies a link report: the Link first, then the state LinkState
// returns, so that once LinkState says up the core has enabled the
// interface and a Dial can find a route. Every caller runs on the plugin's
// goroutine (as attach does), so two reports cannot interleave. While the
// link is held for the plugin's next instance (hooks.Hold), a report of
// the link down waits for the hold's end, and one of the link up ends it.
func (n *NIC) setLink(st LinkState) {
	n.mu.Lock()
	if n.held {
		if !st.Up {
			n.pended = &st
			n.mu.Unlock()
			return
		}
		n.held, n.pended = false, nil
	}
	l := n.link
	n.mu.Unlock()
	if l != nil {
		l.LinkChanged(st)
	}
	n.mu.Lock()
	prev := n.state
	n.state = st
	n.mu.Unlock()
	if prev.Up != st.Up {
		n.linkEvent(st)
	}
}

func (n *NIC) report(info map[string]any) {
	if l, ok := info["stations"].([]any); ok {
		n.stationsReported(l)
		return
	}
	n.mu.Lock()
	if n.info == nil {
		n.info = map[string]any{}
	}
	maps.Copy(n.info, info)
	l := n.link
	n.mu.Unlock()
	if l != nil {
		l.Reported(info)
	}
}
