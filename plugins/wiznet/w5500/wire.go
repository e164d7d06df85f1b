package w5500

import (
	"bytes"
	"errors"
	"time"

	"github.com/nichost/nichost/host/bus"
)

// Attach connects the chip's Ethernet side to port (nil: disconnects). A
// goroutine woken by the port's Notify reads every frame the port queues
// and offers it to socket 0; frames SEND produces are written to the port.
// Attaching a new port detaches the previous one; the chip never closes a
// port.
func (c *Chip) Attach(port bus.FramePort) {
	c.attachMu.Lock()
	defer c.attachMu.Unlock()
	c.mu.Lock()
	old, stop, done := c.port, c.stop, c.done
	c.port, c.stop, c.done = nil, nil, nil
	c.mu.Unlock()
	if old != nil {
		old.Notify(nil)
		close(stop)
		<-done
	}
	if port == nil {
		return
	}
	wake := make(chan struct{}, 1)
	stop, done = make(chan struct{}), make(chan struct{})
	c.mu.Lock()
	c.port, c.stop, c.done = port, stop, done
	c.mu.Unlock()
	port.Notify(func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	select { // take what is already queued (Notify may have filled wake)
	case wake <- struct{}{}:
	default:
	}
	go c.run(port, wake, stop, done)
}

// wireBitTime is one bit at 100 Mb/s, the W5500 PHY's fastest mode, and
// wireOverhead the bytes a frame costs on the wire besides its own:
// preamble and SFD (8), FCS (4), inter-frame gap (12).
const (
	wireBitTime  = 10 * time.Nanosecond
	wireOverhead = 24
)

// run is the receive goroutine of one attached port. It takes frames no
// faster than a 100 Mb/s wire delivers them: a port (a TAP, a simulated
// segment) can hand over a burst at once, and a real chip's 16 KiB receive
// buffer never sees a burst faster than its wire.
func (c *Chip) run(port bus.FramePort, wake, stop, done chan struct{}) {
	defer close(done)
	buf := make([]byte, max(port.MTU()+bus.EthernetHeaderLen, maxFrame+1))
	var next time.Time // when the wire is free for the next frame
	for {
		select {
		case <-stop:
			return
		case <-wake:
		}
		for {
			n, err := port.ReadFrame(buf)
			if errors.Is(err, bus.ErrClosed) {
				c.log.Info("frame port closed")
				break
			}
			if err != nil { // a frame too long for buf: dropped by the port
				c.log.Warn("frame port read failed", "err", err)
				c.mu.Lock()
				c.stats.RxDropped++
				c.mu.Unlock()
				continue
			}
			if n == 0 {
				break
			}
			c.mu.Lock()
			c.wireFrames++
			c.input(buf[:n])
			c.mu.Unlock()
			if c.opts.Unpaced {
				continue
			}
			now := time.Now()
			if next.Before(now) {
				next = now
			}
			next = next.Add(time.Duration(n+wireOverhead) * 8 * wireBitTime)
			// Sleep only when a burst has run ahead: timers are coarse.
			if wait := next.Sub(now); wait > 500*time.Microsecond {
				select {
				case <-stop:
					return
				case <-time.After(wait):
				}
			}
		}
	}
}

// input offers a frame from the wire to the chip; the tear hook may hold it
// back. frame is not retained. Caller holds mu.
func (c *Chip) input(frame []byte) {
	if c.tearArmed {
		c.held = append(c.held, bytes.Clone(frame))
		return
	}
	c.receive(frame)
}

// tear stores the held frames: called right after S0_RX_RSR's high byte is
// read. Caller holds mu.
func (c *Chip) tear() {
	if len(c.held) == 0 {
		return
	}
	held := c.held
	c.held, c.tearArmed = nil, false
	for _, f := range held {
		c.receive(f)
	}
}

// receive stores a frame from the wire in socket 0's RX buffer as a MACRAW
// record, if the link is up, the socket is open in MACRAW, the filter
// accepts it and it fits. Caller holds mu.
func (c *Chip) receive(frame []byte) {
	s := &c.sockets[0]
	switch {
	case len(frame) < minFrame:
		c.log.Warn("frame shorter than an Ethernet header ignored", "len", len(frame))
		return
	case !c.linkUp(c.now()):
		c.log.Debug("frame lost: link down", "len", len(frame))
		return
	case s.regs[snSR] != srMACRAW:
		c.log.Debug("frame ignored: socket 0 not open in MACRAW", "len", len(frame))
		return
	case !accept(frame, s.regs[snMR], c.common[regSHAR:regSHAR+6]):
		c.log.Debug("frame filtered", "len", len(frame), "mr", s.regs[snMR])
		return
	}
	base, size := c.layout(0, false)
	need := len(frame) + 2
	if len(frame) > maxFrame || need > size-int(s.rsr()) {
		c.stats.RxDropped++
		c.log.Debug("frame dropped: no room in the RX buffer", "len", len(frame), "rsr", s.rsr(), "size", size)
		return
	}
	mem := c.rxMem[base : base+size]
	copyIn(mem, []byte{byte(need >> 8), byte(need)}, int(s.rxWR))
	copyIn(mem, frame, int(s.rxWR)+2)
	s.rxWR += uint16(need)
	c.stats.FramesIn++
	c.log.Debug("frame in", "len", len(frame), "rx_wr", s.rxWR)
	c.raise(0, sirRecv)
}

// accept applies socket 0's MACRAW filter flags from Sn_MR. With MFEN, only
// frames to SHAR, broadcast and multicast pass; without it every frame
// does. BCASTB, MMB and MIP6B block broadcast, multicast and IPv6 frames
// whether or not MFEN is set (guess: the datasheet describes them as
// MACRAW options of their own).
func accept(frame []byte, mr byte, shar []byte) bool {
	dst := frame[:6]
	bcast := bytes.Equal(dst, []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF})
	mcast := !bcast && dst[0]&1 != 0
	switch {
	case bcast && mr&mrBCASTB != 0,
		mcast && mr&mrMMB != 0,
		mr&mrMIP6B != 0 && frame[12] == 0x86 && frame[13] == 0xDD:
		return false
	case mr&mrMFEN == 0:
		return true
	}
	return bcast || mcast || bytes.Equal(dst, shar)
}
