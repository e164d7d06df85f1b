package linux

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/bus/internal/queue"
	"golang.org/x/sys/unix"
)

// rxBufSize is the read buffer of a link port: the largest frame a Linux
// interface passes up (65535 bytes), room for an 802.1Q tag put back in
// front of it, and one byte to spare.
const rxBufSize = 65536 + vlanTagLen

// vlanTagLen is the length of an 802.1Q tag (TPID and TCI).
const vlanTagLen = 4

// errSkipFrame, returned by a recvFunc, makes the reader count the frame as
// dropped: it was truncated or could not be used.
var errSkipFrame = errors.New("bus: frame skipped")

// recvFunc reads one frame from the non-blocking fd into buf and returns it
// as a slice of buf. It returns nil, nil for a packet to ignore silently,
// errSkipFrame for a frame to drop and count, and unix.EAGAIN when nothing
// is readable.
type recvFunc func(fd int, buf []byte) ([]byte, error)

// linkPort is what TAP and Packet share: a non-blocking descriptor in the
// runtime's poller, a goroutine that reads frames from it into a bounded
// queue, and the FramePort methods on that queue.
// writeWait is how long WriteFrame waits for a device whose transmit queue
// is full.
const writeWait = 20 * time.Millisecond

type linkPort struct {
	what string // "tap" or "packet", for errors
	name string // interface name
	mtu  int
	f    *os.File
	rc   syscall.RawConn
	recv recvFunc
	done chan struct{} // closed when the reader goroutine returns

	mu      sync.Mutex
	rx      queue.Frames
	notify  func()
	closed  bool
	readErr error // why the reader stopped, if it did before Close
	stats   bus.FrameStats
}

// newLinkPort takes ownership of fd, which must be in non-blocking mode, and
// starts the reader. On error fd is closed.
func newLinkPort(what, name string, fd, mtu, queueLen int, recv recvFunc) (*linkPort, error) {
	f := os.NewFile(uintptr(fd), what+":"+name)
	rc, err := f.SyscallConn()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("bus: %s: %s: %w", what, name, err)
	}
	p := &linkPort{
		what: what, name: name, mtu: mtu, f: f, rc: rc, recv: recv,
		done: make(chan struct{}),
		rx:   queue.NewFrames(queueLen),
	}
	go p.readLoop()
	return p, nil
}

func (p *linkPort) readLoop() {
	defer close(p.done)
	buf := make([]byte, rxBufSize)
	for {
		var frame []byte
		var rerr error
		err := p.rc.Read(func(fd uintptr) bool {
			frame, rerr = p.recv(int(fd), buf)
			return rerr != unix.EAGAIN
		})
		if err == nil {
			err = rerr
		}
		switch {
		case err == nil:
			if frame != nil {
				p.deliver(frame)
			}
			continue
		case err == errSkipFrame:
			p.mu.Lock()
			p.stats.Dropped++
			p.mu.Unlock()
			continue
		case err == unix.EINTR, err == unix.ENETDOWN, err == unix.ENOBUFS:
			// ENETDOWN is reported once when the interface goes down; the
			// port works again when it comes back up.
			continue
		}
		p.fail(err)
		return
	}
}

// deliver queues a copy of frame and notifies.
func (p *linkPort) deliver(frame []byte) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	if !p.rx.Push(queue.Frame{Data: slices.Clone(frame)}) {
		p.stats.Dropped++
		p.mu.Unlock()
		return
	}
	fn := p.notify
	p.mu.Unlock()
	if fn != nil {
		fn()
	}
}

// fail records why the reader stopped and notifies, so that the owner calls
// ReadFrame and sees the error.
func (p *linkPort) fail(err error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.readErr = err
	fn := p.notify
	p.mu.Unlock()
	if fn != nil {
		fn()
	}
}

func (p *linkPort) writeFrame(frame []byte) error {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return bus.ErrClosed
	}
	if err := bus.CheckFrame(frame, p.mtu); err != nil {
		return err
	}
	// A host call must not outlast its deadline: a device whose transmit
	// queue stays full drops the frame instead of holding the plugin.
	p.f.SetWriteDeadline(time.Now().Add(writeWait))
	var n int
	var werr error
	err := p.rc.Write(func(fd uintptr) bool {
		for {
			n, werr = unix.Write(int(fd), frame)
			if werr != unix.EINTR {
				return werr != unix.EAGAIN
			}
		}
	})
	if err == nil {
		err = werr
	}
	if err != nil {
		// A Close during the write fails it with the poller's own error.
		p.mu.Lock()
		closed = p.closed
		p.mu.Unlock()
	}
	switch {
	case closed:
		return bus.ErrClosed
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("%w: %s %s: the device took no frame for %v", bus.ErrFull, p.what, p.name, writeWait)
	case err != nil:
		return fmt.Errorf("bus: %s: %s: write: %w", p.what, p.name, err)
	case n != len(frame):
		return fmt.Errorf("bus: %s: %s: write: %d of %d bytes: %w", p.what, p.name, n, len(frame), io.ErrShortWrite)
	}
	p.mu.Lock()
	p.stats.TxFrames++
	p.stats.TxBytes += uint64(n)
	p.mu.Unlock()
	return nil
}

func (p *linkPort) readFrame(buf []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, bus.ErrClosed
	}
	if _, ok := p.rx.Front(); !ok {
		if p.readErr != nil {
			return 0, fmt.Errorf("bus: %s: %s: read: %w", p.what, p.name, p.readErr)
		}
		return 0, nil
	}
	return p.rx.Read(buf, &p.stats)
}

func (p *linkPort) setNotify(fn func()) {
	p.mu.Lock()
	if !p.closed {
		p.notify = fn
	}
	p.mu.Unlock()
}

// close closes the descriptor, which wakes the reader, and waits for the
// reader to return.
func (p *linkPort) close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.notify = nil
	p.rx.Clear()
	p.mu.Unlock()
	err := p.f.Close()
	<-p.done
	if err != nil {
		return fmt.Errorf("bus: %s: %s: close: %w", p.what, p.name, err)
	}
	return nil
}

func (p *linkPort) getStats() bus.FrameStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// ifreqIoctl runs one SIOC*IF* ioctl on interface name through a throwaway
// socket. set, when not nil, fills the request before the call.
func ifreqIoctl(name string, req uint, set func(*unix.Ifreq)) (*unix.Ifreq, error) {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return nil, err
	}
	if set != nil {
		set(ifr)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.IoctlIfreq(fd, req, ifr); err != nil {
		return nil, err
	}
	return ifr, nil
}

// linkMTU returns the MTU of interface name.
func linkMTU(name string) (int, error) {
	ifr, err := ifreqIoctl(name, unix.SIOCGIFMTU, nil)
	if err != nil {
		return 0, fmt.Errorf("SIOCGIFMTU: %w", err)
	}
	return int(ifr.Uint32()), nil
}

// setLinkMTU sets the MTU of interface name.
func setLinkMTU(name string, mtu int) error {
	_, err := ifreqIoctl(name, unix.SIOCSIFMTU, func(ifr *unix.Ifreq) { ifr.SetUint32(uint32(mtu)) })
	if err != nil {
		return fmt.Errorf("SIOCSIFMTU %d: %w", mtu, err)
	}
	return nil
}

// setLinkUp sets IFF_UP on interface name.
func setLinkUp(name string) error {
	ifr, err := ifreqIoctl(name, unix.SIOCGIFFLAGS, nil)
	if err != nil {
		return fmt.Errorf("SIOCGIFFLAGS: %w", err)
	}
	flags := ifr.Uint16()
	if flags&unix.IFF_UP != 0 {
		return nil
	}
	if _, err := ifreqIoctl(name, unix.SIOCSIFFLAGS, func(r *unix.Ifreq) { r.SetUint16(flags | unix.IFF_UP) }); err != nil {
		return fmt.Errorf("SIOCSIFFLAGS up: %w", err)
	}
	return nil
}

// linkIndex returns the index of interface name.
func linkIndex(name string) (int, error) {
	ifr, err := ifreqIoctl(name, unix.SIOCGIFINDEX, nil)
	if err != nil {
		return 0, fmt.Errorf("SIOCGIFINDEX: %w", err)
	}
	return int(ifr.Uint32()), nil
}

// queueLen returns the receive queue length for a validated queue_len.
func queueLen(n int) int {
	if n == 0 {
		return bus.DefaultFrameQueue
	}
	return n
}
