package bus

import (
	"fmt"
	"sync"
	"time"
)

// FrameStats counts the traffic of one frame port.
type FrameStats struct {
	TxFrames uint64 // frames accepted by WriteFrame
	TxBytes  uint64
	RxFrames uint64 // frames returned by ReadFrame
	RxBytes  uint64
	Dropped  uint64 // frames dropped because the receive queue was full
	TooLong  uint64 // frames dropped because the ReadFrame buffer was too small
}

// SimFramePort is a port attached to a simulated Segment; it implements
// FramePort. Written frames are copied, so the caller keeps its buffer.
// Received frames wait in a bounded queue (SegmentOptions.QueueLen).
// A SimFramePort is safe for concurrent use.
type SimFramePort struct {
	seg  *Segment
	name string

	mu     sync.Mutex
	rx     frameQueue
	notify func()
	closed bool
	stats  FrameStats
}

var _ FramePort = (*SimFramePort)(nil)

// String returns the name given to Attach.
func (p *SimFramePort) String() string { return p.name }

// MTU implements FramePort.
func (p *SimFramePort) MTU() int { return p.seg.opts.MTU }

// WriteFrame implements FramePort: it delivers frame to the other ports of
// the segment. Loss on the segment is not reported to the writer.
func (p *SimFramePort) WriteFrame(frame []byte) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	if err := checkFrame(frame, p.MTU()); err != nil {
		p.mu.Unlock()
		return err
	}
	p.stats.TxFrames++
	p.stats.TxBytes += uint64(len(frame))
	p.mu.Unlock()
	p.seg.send(p, frame)
	return nil
}

// ReadFrame implements FramePort. With SegmentOptions.Delay, a frame is
// queued at once but readable only once its delay has passed.
func (p *SimFramePort) ReadFrame(buf []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, ErrClosed
	}
	f, ok := p.rx.front()
	if !ok || (!f.ready.IsZero() && time.Now().Before(f.ready)) {
		return 0, nil
	}
	p.rx.drop()
	if len(f.data) > len(buf) {
		p.stats.TooLong++
		return 0, fmt.Errorf("%w: %d-byte frame dropped, buffer holds %d", ErrFrameTooLong, len(f.data), len(buf))
	}
	p.stats.RxFrames++
	p.stats.RxBytes += uint64(len(f.data))
	return copy(buf, f.data), nil
}

// Notify implements FramePort.
func (p *SimFramePort) Notify(fn func()) {
	p.mu.Lock()
	p.notify = fn
	p.mu.Unlock()
}

// Close implements FramePort: the port leaves the segment and its queued
// frames are discarded.
func (p *SimFramePort) Close() error {
	p.seg.detach(p)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.notify = nil
	p.rx.clear()
	return nil
}

// Queued returns how many received frames wait in the queue, readable or
// still delayed.
func (p *SimFramePort) Queued() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rx.len()
}

// Stats returns the counters of the port.
func (p *SimFramePort) Stats() FrameStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// enqueueResult tells the segment what enqueue did.
type enqueueResult struct {
	dropped   bool
	reordered bool
	notify    func() // to call with no lock held; nil if none is due now
}

// enqueue queues data (shared, read-only) to become readable at ready (zero:
// now). With reorder, the frame overtakes the one queued before it if any.
// It is called by the segment with the segment lock held.
func (p *SimFramePort) enqueue(data []byte, ready time.Time, reorder bool) enqueueResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return enqueueResult{dropped: true}
	}
	if !p.rx.push(queuedFrame{data: data, ready: ready}) {
		p.stats.Dropped++
		return enqueueResult{dropped: true}
	}
	r := enqueueResult{reordered: reorder && p.rx.swapLast()}
	if ready.IsZero() {
		r.notify = p.notify
	} else {
		time.AfterFunc(time.Until(ready), p.readyNow)
	}
	return r
}

// readyNow runs when a delayed frame becomes readable.
func (p *SimFramePort) readyNow() {
	p.mu.Lock()
	fn := p.notify
	if p.closed {
		fn = nil
	}
	p.mu.Unlock()
	if fn != nil {
		fn()
	}
}

// checkFrame checks the length of a frame to send.
func checkFrame(frame []byte, mtu int) error {
	if len(frame) < EthernetHeaderLen {
		return fmt.Errorf("bus: frame: %d bytes is shorter than the %d-byte Ethernet header", len(frame), EthernetHeaderLen)
	}
	if len(frame) > mtu+EthernetHeaderLen {
		return fmt.Errorf("%w: %d-byte frame exceeds MTU %d + %d-byte header", ErrFrameTooLong, len(frame), mtu, EthernetHeaderLen)
	}
	return nil
}
