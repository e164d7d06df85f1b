//go:build !wasip1

package main_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/spi"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/bus/spitrace"
	"github.com/nichost/nichost/plugins/wiznet/driver"
	"github.com/nichost/nichost/plugins/wiznet/w5500"
)

// The driver alone against a recorded SPI session: a session with the
// simulated chip (reset, configure, three frames each way) is recorded to
// testdata/session.trace, and replayed with the chip's recorded answers fed
// back. The replay compares the shape of the driver's traffic: every
// transaction's packets, chip-select framing and read lengths, the bytes of
// register accesses, and the lengths of frame data, whose bytes may differ.
//
// Regenerate the trace after a deliberate change of the driver's traffic:
//
//	NICHOST_RECORD=1 go test -run TestTrace ./plugins/wiznet/

const tracePath = "testdata/session.trace"

// directHost runs the driver natively with nothing but an SPI bus, an
// optional reset line and a fake clock: each call into the driver is made
// by the test, so the SPI traffic depends only on the chip's answers.
type directHost struct {
	spi    spi.Conn
	rst    gpio.PinOut // nil when replaying
	now    time.Duration
	wake   int64
	args   []byte
	reply  []byte
	raised *abi.Error
	frames [][]byte
	link   bool
}

var start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func (h *directHost) clock() time.Time { return start.Add(h.now) }

func (h *directHost) Args(dst []byte) int32 {
	if len(dst) >= len(h.args) {
		copy(dst, h.args)
	}
	return int32(len(h.args))
}
func (h *directHost) Reply(b []byte) int32 { h.reply = append(h.reply[:0], b...); return 0 }
func (h *directHost) Raise(kind, errno int32, msg []byte) int32 {
	h.raised = &abi.Error{Kind: int(kind), Errno: int(errno), Msg: string(msg)}
	return 0
}
func (h *directHost) Log(int32, []byte) int32 { return 0 }
func (h *directHost) Now() int64              { return int64(h.now) }
func (h *directHost) Sleep(ns int64) int32    { h.now += time.Duration(ns); return 0 }
func (h *directHost) WakeAt(ns int64) int32   { h.wake = ns; return 0 }
func (h *directHost) TxBuffer([]byte) int32   { return 0 }
func (h *directHost) RxPush(_ int32, f []byte) int32 {
	h.frames = append(h.frames, bytes.Clone(f))
	return 0
}
func (h *directHost) Link(_, up, _, _ int32) int32 { h.link = up == 1; return 0 }
func (h *directHost) Report(int32, []byte) int32   { return 0 }
func (h *directHost) SPITransact(handle uint32, ops []abi.SPIOp) int32 {
	if handle != 1 {
		return -abi.EBADF
	}
	pkts := make([]spi.Packet, len(ops))
	for i, op := range ops {
		w := op.W
		if len(w) == 0 {
			w = make([]byte, len(op.R))
		}
		pkts[i] = spi.Packet{W: w, R: op.R, KeepCS: op.KeepCS}
	}
	if err := h.spi.TxPackets(pkts); err != nil {
		h.raised = &abi.Error{Kind: abi.KindOSError, Errno: abi.EIO, Msg: err.Error()}
		return -abi.EIO
	}
	return 0
}
func (h *directHost) GPIORead(uint32) int32 { return 1 }
func (h *directHost) GPIOWrite(handle uint32, level int32) int32 {
	if handle != 2 {
		return -abi.EBADF
	}
	if h.rst != nil {
		h.rst.Out(gpio.Level(level == 1))
	}
	return 0
}
func (h *directHost) GPIOWatch(uint32, int32) int32               { return -abi.EBADF }
func (h *directHost) GPIOEdges(uint32) int32                      { return -abi.EBADF }
func (h *directHost) UARTRead(uint32, []byte) int32               { return -abi.EBADF }
func (h *directHost) UARTWrite(uint32, []byte) int32              { return -abi.EBADF }
func (h *directHost) FrameRead(uint32, []byte) int32              { return -abi.EBADF }
func (h *directHost) FrameWrite(uint32, []byte) int32             { return -abi.EBADF }
func (h *directHost) MDIORead(uint32, int32, int32) int32         { return -abi.EBADF }
func (h *directHost) MDIOWrite(uint32, int32, int32, int32) int32 { return -abi.EBADF }

// call runs one control export with [args, kwargs].
func (h *directHost) call(t *testing.T, what string, export func(int32) int32, args ...any) {
	t.Helper()
	b, err := abi.Marshal([]any{args, map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	h.args, h.raised = b, nil
	if rc := export(0); rc != abi.StatusOK {
		t.Fatalf("%s: %v", what, h.raised)
	}
}

// poll advances the fake clock to the driver's requested wake-up and polls.
func (h *directHost) poll(t *testing.T, m *guest.Module) {
	t.Helper()
	if h.wake > int64(h.now) {
		h.now = time.Duration(h.wake)
	}
	h.wake = -1
	if rc := m.Poll(uint32(abi.EventTimer)); rc != abi.StatusOK {
		t.Fatalf("poll: %v", h.raised)
	}
}

var traceMAC = []byte{0x02, 0x55, 0x00, 0x00, 0x00, 0x01}

// session drives the driver through reset, configuration, link, three
// frames out and three in. inject, when not nil, puts the incoming frames
// on the chip's wire.
func session(t *testing.T, h *directHost, inject func([][]byte)) {
	m := guest.NewModule(driver.New(), h)
	info, _ := abi.MarshalStruct(abi.StartInfo{
		Buses: map[string]uint32{"spi": 1, "rst": 2}, Hostname: "trace", Country: "XX",
		Interfaces: []abi.InterfaceInfo{{Name: "eth", MAC: traceMAC}},
	})
	h.args = info
	if rc := m.Start(); rc != abi.StatusOK {
		t.Fatalf("start: %v", h.raised)
	}
	h.wake = -1
	m.Poll(uint32(abi.EventStart))
	h.call(t, "active(True)", m.Active, true)
	for i := 0; !h.link; i++ {
		if i == 100 {
			t.Fatal("no link after 100 polls")
		}
		h.poll(t, m)
	}
	for i := range 3 {
		f := bytes.Repeat([]byte{byte(0x10 + i)}, 100+i*400)
		copy(f, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
		copy(f[6:], traceMAC)
		if rc := m.Transmit(0, f); rc != abi.StatusOK {
			t.Fatalf("transmit %d: rc %d %v", i, rc, h.raised)
		}
		h.poll(t, m)
	}
	in := make([][]byte, 3)
	for i := range in {
		in[i] = bytes.Repeat([]byte{byte(0x20 + i)}, 64+i*700)
		copy(in[i], traceMAC)
		copy(in[i][6:], []byte{0x02, 0, 0, 0, 0, 0x99})
	}
	if inject != nil {
		inject(in)
	}
	for i := 0; len(h.frames) < 3; i++ {
		if i == 100 {
			t.Fatalf("received %d of 3 frames after 100 polls", len(h.frames))
		}
		h.poll(t, m)
	}
	for i, f := range h.frames {
		if !bytes.Equal(f, in[i]) {
			t.Fatalf("frame %d: got %d bytes, want %d", i, len(f), len(in[i]))
		}
	}
	h.call(t, "active(False)", m.Active, false)
}

func record(t *testing.T) {
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1})
	peer := seg.Attach("peer")
	h := &directHost{wake: -1}
	chip := w5500.New(w5500.Options{Strict: true, Now: h.clock, RelinkDelay: time.Millisecond})
	defer chip.Close()
	chip.Attach(seg.Attach("chip"))
	var buf bytes.Buffer
	rec := spitrace.Record(sim.NewSPI(chip), &buf)
	h.spi, h.rst = rec, chip.RST()
	session(t, h, func(frames [][]byte) {
		for _, f := range frames {
			peer.WriteFrame(f)
		}
		deadline := time.Now().Add(5 * time.Second)
		for chip.Stats().FramesIn < 3 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	})
	if err := rec.Err(); err != nil {
		t.Fatal(err)
	}
	for _, err := range chip.Errors() {
		t.Errorf("the chip saw a misuse while recording: %v", err)
	}
	if err := os.WriteFile(tracePath, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded %d SPI transactions to %s", rec.Transactions(), tracePath)
}

// shape compares register accesses (up to 8 bytes) exactly and frame data
// by length only.
func shape(_ int, want, got []byte) error {
	if len(want) <= 8 {
		return spitrace.CompareExact(0, want, got)
	}
	return spitrace.CompareLength(0, want, got)
}

func TestTrace_ReplayDriverAlone(t *testing.T) {
	if os.Getenv("NICHOST_RECORD") != "" {
		os.MkdirAll(filepath.Dir(tracePath), 0o755)
		record(t)
	}
	f, err := os.Open(tracePath)
	if err != nil {
		t.Fatalf("%v (record it with NICHOST_RECORD=1)", err)
	}
	defer f.Close()
	replay, err := spitrace.Replay(f, spitrace.ReplayOptions{CompareWrites: shape})
	if err != nil {
		t.Fatal(err)
	}
	h := &directHost{wake: -1, spi: replay}
	session(t, h, nil)
	if err := replay.Close(); err != nil {
		t.Fatalf("the driver did not replay the whole session: %v", err)
	}
}

// A driver that changes its traffic fails the replay, naming where.
func TestTrace_ReplayDetectsChange(t *testing.T) {
	f, err := os.Open(tracePath)
	if err != nil {
		t.Skip("no trace recorded")
	}
	defer f.Close()
	replay, err := spitrace.Replay(f, spitrace.ReplayOptions{CompareWrites: shape})
	if err != nil {
		t.Fatal(err)
	}
	// Read VERSIONR before anything else: not what the recording did.
	err = replay.TxPackets([]spi.Packet{{W: []byte{0x00, 0x39, 0x00, 0x00}, R: make([]byte, 4)}})
	if err == nil {
		t.Fatal("a transaction the recording does not have was accepted")
	}
	if !bytes.Contains([]byte(err.Error()), []byte("transaction 0")) {
		t.Fatalf("the mismatch does not name the transaction: %v", err)
	}
}
