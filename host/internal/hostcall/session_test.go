package hostcall

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/core"
	"github.com/nichost/nichost/host/bus"
	"github.com/nichost/nichost/host/internal/grant"
)

// owner is a plugin with one NIC and the grants given to it.
type owner struct {
	grants  map[uint32]*grant.Grant
	nic     *nic
	link    abi.LinkType
	class   string
	denied  []string
	dropped atomic.Uint64
}

func (o *owner) Grant(h uint32, k bus.Kind) *grant.Grant {
	if g := o.grants[h]; g != nil && g.Kind == k {
		return g
	}
	return nil
}
func (o *owner) NIC(iface int32) NIC {
	if iface == 0 {
		return o.nic
	}
	return nil
}
func (o *owner) Notify(abi.Event)              {}
func (o *owner) WakeAt(int64)                  {}
func (o *owner) Logger() *slog.Logger          { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
func (o *owner) AllowLog() bool                { return true }
func (o *owner) CountSPI(int)                  {}
func (o *owner) LinkType() abi.LinkType        { return o.link }
func (o *owner) Class() string                 { return o.class }
func (o *owner) Deny(call, why string)         { o.denied = append(o.denied, call) }
func (o *owner) OutputDropped() *atomic.Uint64 { return &o.dropped }
func (n *nic) SetLink(st core.LinkState)       { n.links = append(n.links, st) }
func (n *nic) Report(info map[string]any)      { n.reports = append(n.reports, info) }
func (n *nic) Role() string                    { return n.role }

// nic is an interface whose receive queue holds room frames.
type nic struct {
	frames  [][]byte
	room    int
	links   []core.LinkState
	reports []map[string]any
	role    string
}

func (n *nic) Deliver(frame []byte) int32 {
	if len(n.frames) == n.room {
		return -abi.ENOBUFS
	}
	n.frames = append(n.frames, append([]byte(nil), frame...))
	return 0
}

func newSession(t *testing.T, link abi.LinkType) (*Session, *owner) {
	t.Helper()
	o := &owner{grants: map[uint32]*grant.Grant{}, nic: &nic{room: 3}, link: link}
	return New(o, time.Now()), o
}

func TestSession_RxPushBatch(t *testing.T) {
	s, o := newSession(t, abi.LinkEthernet)
	var b []byte
	for i := range 4 {
		b = abi.AppendFrame(b, bytes.Repeat([]byte{byte(i)}, 60))
	}
	// The queue has room for 3: the 4th is dropped, and the answer says 3.
	if rc := s.RxPushBatch(0, b); rc != 3 {
		t.Fatalf("rx_push_batch of 4 frames with room for 3 = %d, want 3", rc)
	}
	if len(o.nic.frames) != 3 || o.nic.frames[2][0] != 2 {
		t.Fatalf("core got %d frames", len(o.nic.frames))
	}
	if rc := s.RxPushBatch(1, b); rc != -abi.ENODEV {
		t.Fatalf("bad iface = %d, want -ENODEV", rc)
	}
	o.nic.frames, o.nic.room = nil, 100
	for name, bad := range map[string][]byte{
		"truncated record":  b[:len(b)-1],
		"short header":      append(abi.AppendFrame(nil, []byte{1}), 0, 0),
		"zero-length frame": abi.AppendFrame(abi.AppendFrame(nil, []byte{1}), nil),
		"oversized length":  {0xff, 0xff, 0x01, 0x00, 1},
	} {
		if rc := s.RxPushBatch(0, bad); rc != -abi.EINVAL || len(o.nic.frames) != 0 {
			t.Errorf("%s: rx_push_batch = %d with %d frames delivered; want -EINVAL and none", name, rc, len(o.nic.frames))
		}
	}
	var many []byte
	for range abi.MaxRxBatch + 1 {
		many = abi.AppendFrame(many, []byte{1})
	}
	if rc := s.RxPushBatch(0, many); rc != -abi.EINVAL || len(o.nic.frames) != 0 {
		t.Errorf("%d records: rx_push_batch = %d, want -EINVAL", abi.MaxRxBatch+1, rc)
	}
}

func TestSession_EthernetCannotReportOrChangeLinkType(t *testing.T) {
	s, o := newSession(t, abi.LinkEthernet)
	rep, _ := abi.Marshal(map[string]any{"addr4": "10.9.9.9"})
	if rc := s.Report(0, rep); rc != -abi.EPERM || len(o.nic.reports) != 0 {
		t.Fatalf("report on Ethernet = %d (%d reports reached the NIC), want -EPERM", rc, len(o.nic.reports))
	}
	if rc := s.Link(0, 1, int32(abi.LinkIP), 1500); rc != -abi.EPERM || len(o.nic.links) != 0 {
		t.Fatalf("link(type=IP) on Ethernet = %d, want -EPERM", rc)
	}
	if rc := s.Link(0, 1, int32(abi.LinkEthernet), 1500); rc != 0 || len(o.nic.links) != 1 {
		t.Fatalf("link(type=Ethernet) = %d", rc)
	}
	if len(o.denied) != 2 || o.denied[0] != abi.ImportReport || o.denied[1] != abi.ImportLink {
		t.Fatalf("denied %v", o.denied)
	}

	s, o = newSession(t, abi.LinkIP)
	if rc := s.Report(0, rep); rc != 0 || len(o.nic.reports) != 1 {
		t.Fatalf("report on an IP-only link = %d", rc)
	}
	if rc := s.Link(0, 1, int32(abi.LinkEthernet), 0); rc != -abi.EPERM {
		t.Fatalf("link(type=Ethernet) on an IP-only class = %d, want -EPERM", rc)
	}
}

func TestSession_SPIReleasesChipSelect(t *testing.T) {
	s, o := newSession(t, abi.LinkEthernet)
	rec := &packets{}
	g, err := grant.New("spi", bus.KindSPI, rec)
	if err != nil {
		t.Fatal(err)
	}
	o.grants[1] = g
	if rc := s.SPITransact(1, []abi.SPIOp{{W: []byte{1}, KeepCS: true}, {W: []byte{2}, KeepCS: true}}); rc != 0 {
		t.Fatalf("spi_transact = %d", rc)
	}
	ps := rec.got
	if len(ps) != 2 || !ps[0].KeepCS || ps[1].KeepCS {
		t.Fatalf("packets the bus got: %+v; want KeepCS true, then false (released at the end)", ps)
	}
}

// packets is a spi.Conn that records the packets of TxPackets.
type packets struct{ got []spi.Packet }

var _ spi.Conn = (*packets)(nil)

func (p *packets) String() string                                            { return "packets" }
func (p *packets) Duplex() conn.Duplex                                       { return conn.Full }
func (p *packets) Tx(w, r []byte) error                                      { return p.TxPackets([]spi.Packet{{W: w, R: r}}) }
func (p *packets) TxPackets(ps []spi.Packet) error                           { p.got = append(p.got, ps...); return nil }
func (p *packets) Connect(physic.Frequency, spi.Mode, int) (spi.Conn, error) { return p, nil }

func TestSession_BlobRead(t *testing.T) {
	s, o := newSession(t, abi.LinkEthernet)
	data := bytes.Repeat([]byte("firmware"), 1000)
	g, err := grant.New("fw", bus.KindBlob, data)
	if err != nil {
		t.Fatal(err)
	}
	o.grants[2] = g
	if n := s.BlobSize(2); n != int64(len(data)) {
		t.Fatalf("blob_size = %d, want %d", n, len(data))
	}
	p := make([]byte, 100)
	if rc := s.BlobRead(2, int64(len(data))-10, p); rc != 10 || !bytes.Equal(p[:10], data[len(data)-10:]) {
		t.Fatalf("blob_read at the tail = %d", rc)
	}
	for _, c := range []struct {
		h    uint32
		off  int64
		n    int
		want int32
	}{
		{2, int64(len(data)), 10, 0},
		{2, -1, 10, -abi.EINVAL},
		{2, 0, abi.MaxBlobRead + 1, -abi.E2BIG},
		{1, 0, 10, -abi.EBADF},
	} {
		if rc := s.BlobRead(c.h, c.off, make([]byte, c.n)); rc != c.want {
			t.Errorf("blob_read(h=%d, off=%d, len=%d) = %d, want %d", c.h, c.off, c.n, rc, c.want)
		}
	}
	if n := s.BlobSize(9); n != -abi.EBADF {
		t.Errorf("blob_size of no grant = %d", n)
	}
}

func TestSession_SleepLeavesTheGuestTimeToAct(t *testing.T) {
	s, _ := newSession(t, abi.LinkEthernet)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Millisecond)
	defer cancel()
	s.Begin(ctx, nil)
	// 10 ms of sleep and the 10 ms margin do not fit in 15 ms: ETIMEDOUT
	// at once (a sleep that ran would have ended before the deadline).
	if rc := s.Sleep(int64(10 * time.Millisecond)); rc != -abi.ETIMEDOUT {
		t.Fatalf("sleep near the deadline = %d, want -ETIMEDOUT", rc)
	}
}

// A Wi-Fi access point may report its stations, and nothing else; a
// station (or any other Ethernet interface) may not report at all.
func TestSession_AccessPointReportsStations(t *testing.T) {
	s, o := newSession(t, abi.LinkEthernet)
	o.class = abi.ClassWLAN
	o.nic.role = "ap"
	good, _ := abi.Marshal(map[string]any{"stations": []any{[]byte{2, 1, 2, 3, 4, 5}}})
	if rc := s.Report(0, good); rc != 0 || len(o.nic.reports) != 1 {
		t.Fatalf("stations report on a WLAN ap = %d (%d reports), want 0 and 1", rc, len(o.nic.reports))
	}
	addr, _ := abi.Marshal(map[string]any{"addr4": "10.9.9.9"})
	if rc := s.Report(0, addr); rc != -abi.EINVAL || len(o.nic.reports) != 1 {
		t.Fatalf("addr4 report on a WLAN ap = %d, want -EINVAL and nothing recorded", rc)
	}
	o.nic.role = "sta"
	if rc := s.Report(0, good); rc != -abi.EPERM || len(o.nic.reports) != 1 {
		t.Fatalf("stations report on a WLAN sta = %d, want -EPERM", rc)
	}
}
