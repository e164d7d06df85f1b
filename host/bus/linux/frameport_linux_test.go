package linux

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/internal/wait"
	"golang.org/x/sys/unix"
)

// newPairPort returns a link port over one end of a SOCK_SEQPACKET socket
// pair, which keeps message boundaries as a TAP does, and the other end,
// through which the test plays the device. No privilege is needed.
func newPairPort(t *testing.T, qlen int) (*linkPort, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Close(fds[1]) })
	p, err := newLinkPort("test", "pair0", fds[0], bus.DefaultMTU, queueLen(qlen), readTAP)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.close() })
	return p, fds[1]
}

// sizedFrame returns an n-byte frame whose bytes after the header count from
// seq.
func sizedFrame(n int, seq byte) []byte {
	f := make([]byte, n)
	copy(f, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5})
	for i := bus.EthernetHeaderLen; i < n; i++ {
		f[i] = seq + byte(i)
	}
	return f
}

// notifyChan registers, through the Notify method given, a callback that
// signals the returned channel without blocking.
func notifyChan(notify func(func())) <-chan struct{} {
	ch := make(chan struct{}, 1)
	notify(func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	})
	return ch
}

func TestLinkPort_frames(t *testing.T) {
	p, peer := newPairPort(t, 0)
	ready := notifyChan(p.setNotify)

	// Out: one write(2) per frame.
	out := sizedFrame(60, 1)
	if err := p.writeFrame(out); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2000)
	wait.For(t, "the written frame", func() bool {
		n, err := unix.Read(peer, buf)
		if err == nil && !bytes.Equal(buf[:n], out) {
			t.Fatalf("peer read % x, want % x", buf[:n], out)
		}
		return err == nil
	})

	// In: frames arrive whole and in order, with a notification.
	in := [][]byte{sizedFrame(bus.EthernetHeaderLen, 2), sizedFrame(1514, 3), sizedFrame(100, 4)}
	for _, f := range in {
		if _, err := unix.Write(peer, f); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range in {
		n, err := p.readFrame(buf)
		for n == 0 && err == nil {
			select {
			case <-ready:
			case <-time.After(wait.Limit):
				t.Fatalf("frame %d: no notification; stats %+v", i, p.getStats())
			}
			n, err = p.readFrame(buf)
		}
		if err != nil || !bytes.Equal(buf[:n], want) {
			t.Fatalf("frame %d: ReadFrame = %d, %v; want the %d-byte frame", i, n, err, len(want))
		}
	}
	if n, err := p.readFrame(buf); n != 0 || err != nil {
		t.Fatalf("ReadFrame on an empty queue = %d, %v; want 0, nil", n, err)
	}
	want := bus.FrameStats{TxFrames: 1, TxBytes: 60, RxFrames: 3, RxBytes: 14 + 1514 + 100}
	if got := p.getStats(); got != want {
		t.Errorf("stats = %+v, want %+v", got, want)
	}
}

func TestLinkPort_writeErrors(t *testing.T) {
	p, _ := newPairPort(t, 0)
	tests := []struct {
		name  string
		frame []byte
		want  error
		text  string
	}{
		{"runt", make([]byte, 13), nil, "shorter than the 14-byte Ethernet header"},
		{"too long", make([]byte, bus.DefaultMTU+bus.EthernetHeaderLen+1), bus.ErrFrameTooLong, "exceeds MTU 1500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.writeFrame(tt.frame)
			if err == nil || !strings.Contains(err.Error(), tt.text) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("WriteFrame = %v, want an error containing %q", err, tt.text)
			}
		})
	}
	if s := p.getStats(); s.TxFrames != 0 {
		t.Errorf("rejected frames were counted: %+v", s)
	}
}

func TestLinkPort_drops(t *testing.T) {
	p, peer := newPairPort(t, 2)
	// A runt and five frames into a queue of two: the runt and three frames
	// are dropped and counted, the first two frames wait.
	frames := [][]byte{sizedFrame(5, 0)}
	for i := range 5 {
		frames = append(frames, sizedFrame(60+i, byte(i)))
	}
	for _, f := range frames {
		if _, err := unix.Write(peer, f); err != nil {
			t.Fatal(err)
		}
	}
	wait.For(t, "4 dropped frames", func() bool { return p.getStats().Dropped == 4 })

	// A buffer too small drops the frame at the head of the queue.
	small := make([]byte, 59)
	if n, err := p.readFrame(small); n != 0 || !errors.Is(err, bus.ErrFrameTooLong) ||
		!strings.Contains(err.Error(), "60-byte frame dropped, buffer holds 59") {
		t.Fatalf("ReadFrame(59 bytes) = %d, %v; want bus.ErrFrameTooLong for the 60-byte frame", n, err)
	}
	buf := make([]byte, 100)
	if n, err := p.readFrame(buf); err != nil || !bytes.Equal(buf[:n], frames[2]) {
		t.Fatalf("ReadFrame = %d, %v; want the second frame (61 bytes)", n, err)
	}
	if n, err := p.readFrame(buf); n != 0 || err != nil {
		t.Fatalf("ReadFrame = %d, %v; want an empty queue", n, err)
	}
	want := bus.FrameStats{RxFrames: 1, RxBytes: 61, Dropped: 4, TooLong: 1}
	if got := p.getStats(); got != want {
		t.Errorf("stats = %+v, want %+v", got, want)
	}
}

func TestLinkPort_close(t *testing.T) {
	p, peer := newPairPort(t, 0)
	ready := notifyChan(p.setNotify)
	if _, err := unix.Write(peer, sizedFrame(60, 0)); err != nil {
		t.Fatal(err)
	}
	<-ready
	for i := range 2 {
		if err := p.close(); err != nil {
			t.Fatalf("Close #%d = %v", i+1, err)
		}
	}
	select {
	case <-p.done:
	default:
		t.Fatal("the reader goroutine is still running after Close")
	}
	if err := p.writeFrame(sizedFrame(60, 0)); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("WriteFrame after Close = %v, want bus.ErrClosed", err)
	}
	if _, err := p.readFrame(make([]byte, 100)); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("ReadFrame after Close = %v, want bus.ErrClosed (the queued frame is discarded)", err)
	}
	p.setNotify(func() { t.Error("notified after Close") })
	if _, err := unix.Write(peer, sizedFrame(60, 0)); err == nil {
		t.Error("the descriptor is still open after Close")
	}
}

func TestLinkPort_readerFails(t *testing.T) {
	p, peer := newPairPort(t, 0)
	ready := notifyChan(p.setNotify)
	if _, err := unix.Write(peer, sizedFrame(60, 0)); err != nil {
		t.Fatal(err)
	}
	// The device goes away: the queued frame is still read, then the error.
	_ = unix.Close(peer)
	buf := make([]byte, 100)
	var got []error
	wait.For(t, "the reader's error", func() bool {
		select {
		case <-ready:
		case <-time.After(10 * time.Millisecond):
		}
		n, err := p.readFrame(buf)
		if n > 0 {
			got = append(got, nil)
		}
		if err != nil {
			got = append(got, err)
		}
		return err != nil
	})
	if len(got) != 2 || got[0] != nil || !errors.Is(got[1], io.EOF) || !strings.HasPrefix(got[1].Error(), "bus: test: pair0: read: ") {
		t.Fatalf("ReadFrame results %v, want a frame then a bus: test: pair0: read: EOF error", got)
	}
}

func TestRestoreVLAN(t *testing.T) {
	frame := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x08, 0x06, 0xaa}
	tests := []struct {
		name string
		aux  unix.TpacketAuxdata
		want []byte
	}{
		{"untagged", unix.TpacketAuxdata{}, frame},
		{"tag", unix.TpacketAuxdata{Status: unix.TP_STATUS_VLAN_VALID, Vlan_tci: 0x2007},
			[]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x81, 0x00, 0x20, 0x07, 0x08, 0x06, 0xaa}},
		{"VID 0 priority tag", unix.TpacketAuxdata{Status: unix.TP_STATUS_VLAN_VALID},
			[]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x81, 0x00, 0, 0, 0x08, 0x06, 0xaa}},
		{"old kernel", unix.TpacketAuxdata{Vlan_tci: 5},
			[]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x81, 0x00, 0, 5, 0x08, 0x06, 0xaa}},
		{"802.1ad", unix.TpacketAuxdata{Status: unix.TP_STATUS_VLAN_VALID | unix.TP_STATUS_VLAN_TPID_VALID, Vlan_tci: 9, Vlan_tpid: 0x88a8},
			[]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x88, 0xa8, 0, 9, 0x08, 0x06, 0xaa}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := make([]byte, 64)
			copy(buf[vlanTagLen:], frame)
			if got := restoreVLAN(buf, len(frame), tt.aux); !bytes.Equal(got, tt.want) {
				t.Fatalf("restoreVLAN = % x, want % x", got, tt.want)
			}
		})
	}
}
