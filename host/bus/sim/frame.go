package sim

import (
	"sync"
	"time"

	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/bus/internal/queue"
)

// FramePort is a port attached to a simulated Segment; it implements
// FramePort. Written frames are copied, so the caller keeps its buffer.
// Received frames wait in a bounded queue (SegmentOptions.QueueLen).
// A FramePort is safe for concurrent use.
type FramePort struct {
	seg  *Segment
	name string

	mu     sync.Mutex
	rx     queue.Frames
	notify func()
	closed bool
	stats  bus.FrameStats
}

var _ bus.FramePort = (*FramePort)(nil)

// String returns the name given to Attach.
func (p *FramePort) String() string { return p.name }

// MTU implements bus.FramePort.
func (p *FramePort) MTU() int { return p.seg.opts.MTU }

// WriteFrame implements FramePort: it delivers frame to the other ports of
// the segment. Loss on the segment is not reported to the writer.
func (p *FramePort) WriteFrame(frame []byte) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return bus.ErrClosed
	}
	if err := bus.CheckFrame(frame, p.MTU()); err != nil {
		p.mu.Unlock()
		return err
	}
	p.stats.TxFrames++
	p.stats.TxBytes += uint64(len(frame))
	p.mu.Unlock()
	p.seg.send(p, frame)
	return nil
}

// ReadFrame implements bus.FramePort. With SegmentOptions.Delay, a frame is
// queued at once but readable only once its delay has passed.
func (p *FramePort) ReadFrame(buf []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, bus.ErrClosed
	}
	f, ok := p.rx.Front()
	if !ok || (!f.Ready.IsZero() && time.Now().Before(f.Ready)) {
		return 0, nil
	}
	return p.rx.Read(buf, &p.stats)
}

// Notify implements bus.FramePort.
func (p *FramePort) Notify(fn func()) {
	p.mu.Lock()
	p.notify = fn
	p.mu.Unlock()
}

// Close implements FramePort: the port leaves the segment and its queued
// frames are discarded.
func (p *FramePort) Close() error {
	p.seg.detach(p)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.notify = nil
	p.rx.Clear()
	return nil
}

// Queued returns how many received frames wait in the queue, readable or
// still delayed.
func (p *FramePort) Queued() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rx.Len()
}

// Stats returns the counters of the port.
func (p *FramePort) Stats() bus.FrameStats {
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
func (p *FramePort) enqueue(data []byte, ready time.Time, reorder bool) enqueueResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return enqueueResult{dropped: true}
	}
	if !p.rx.Push(queue.Frame{Data: data, Ready: ready}) {
		p.stats.Dropped++
		return enqueueResult{dropped: true}
	}
	r := enqueueResult{reordered: reorder && p.rx.SwapLast()}
	if ready.IsZero() {
		r.notify = p.notify
	} else {
		time.AfterFunc(time.Until(ready), p.readyNow)
	}
	return r
}

// readyNow runs when a delayed frame becomes readable.
func (p *FramePort) readyNow() {
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
