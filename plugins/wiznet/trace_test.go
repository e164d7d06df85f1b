//go:build !wasip1

package main_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"periph.io/x/conn/v3/spi"

	"github.com/nichost/nichost/abi/guest/guesttest"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/bus/spitrace"
	"github.com/nichost/nichost/internal/wait"
	"github.com/nichost/nichost/plugins/wiznet/driver"
	"github.com/nichost/nichost/plugins/wiznet/w5500"
)

// The driver alone against a recorded SPI session, on guesttest's fake
// host: a session with the simulated chip (reset, configure, three frames
// each way) is recorded to testdata/session.trace, and replayed with the
// chip's recorded answers fed back. The replay compares the shape of the
// driver's traffic: every transaction's packets, chip-select framing and
// read lengths, the bytes of register accesses, and the lengths of frame
// data, whose bytes may differ.
//
// This is a change detector for the driver's bus traffic, not a proof of
// correctness: the trace was recorded against our own W5500 simulator
// (plugins/wiznet/w5500), not against silicon, so it shows that the
// driver still talks to the chip as it did when the trace was made, and
// nothing more. Regenerate the trace after a deliberate change of the
// driver's traffic, and review the diff:
//
//	NICHOST_RECORD=1 go test -run TestTrace ./plugins/wiznet/

const tracePath = "testdata/session.trace"

var traceMAC = []byte{0x02, 0x55, 0x00, 0x00, 0x00, 0x01}

// start runs the driver on a fake host with spi and rst granted. Each call
// into the driver is made by the session, on the host's fake clock, so the
// SPI traffic depends only on the chip's answers.
func start(t *testing.T, clock *guesttest.Clock, spiConn spi.Conn, rst *sim.Pin) *guesttest.Host {
	return guesttest.New(t, driver.New(), guesttest.Options{
		Buses:    map[string]any{"spi": spiConn, "rst": rst},
		MACs:     [][]byte{traceMAC},
		Hostname: "trace",
		Clock:    clock,
	})
}

// session drives the driver through reset, configuration, link, three
// frames out and three in. inject, when not nil, puts the incoming frames
// on the chip's wire.
func session(t *testing.T, h *guesttest.Host, inject func([][]byte)) {
	t.Helper()
	if _, err := h.Call("active", true); err != nil {
		t.Fatalf("active(True): %v", err)
	}
	for i := 0; !h.Link(0).Up; i++ {
		if i == 100 {
			t.Fatal("no link after 100 polls")
		}
		next(t, h)
	}
	for i := range 3 {
		f := bytes.Repeat([]byte{byte(0x10 + i)}, 100+i*400)
		copy(f, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
		copy(f[6:], traceMAC)
		if err := h.Transmit(f); err != nil {
			t.Fatalf("transmit %d: %v", i, err)
		}
		next(t, h)
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
	for i := 0; len(h.Frames(0)) < 3; i++ {
		if i == 100 {
			t.Fatalf("received %d of 3 frames after 100 polls", len(h.Frames(0)))
		}
		next(t, h)
	}
	for i, f := range h.Frames(0) {
		if !bytes.Equal(f, in[i]) {
			t.Fatalf("frame %d: got %d bytes, want %d", i, len(f), len(in[i]))
		}
	}
	if _, err := h.Call("active", false); err != nil {
		t.Fatalf("active(False): %v", err)
	}
}

// next makes the driver's next poll: the clock moves to the wake-up it
// asked for.
func next(t *testing.T, h *guesttest.Host) {
	t.Helper()
	if err := h.Next(); err != nil {
		t.Fatalf("poll at %v: %v", h.Now(), err)
	}
}

func record(t *testing.T) {
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1})
	peer := seg.Attach("peer")
	clock := new(guesttest.Clock)
	chip := w5500.New(w5500.Options{Strict: true, Now: clock.Time, RelinkDelay: time.Millisecond})
	defer chip.Close()
	chip.Attach(seg.Attach("chip"))
	var buf bytes.Buffer
	rec := spitrace.Record(sim.NewSPI(chip), &buf)
	h := start(t, clock, rec, chip.RST())
	session(t, h, func(frames [][]byte) {
		for _, f := range frames {
			peer.WriteFrame(f)
		}
		wait.For(t, "the chip to receive 3 frames", func() bool { return chip.Stats().FramesIn >= 3 })
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

// openTrace opens the recorded session for replay.
func openTrace(t *testing.T) *spitrace.Replayer {
	t.Helper()
	f, err := os.Open(tracePath)
	if err != nil {
		t.Fatalf("%v (record it with NICHOST_RECORD=1 go test -run TestTrace ./plugins/wiznet/)", err)
	}
	defer f.Close()
	replay, err := spitrace.Replay(f, spitrace.ReplayOptions{CompareWrites: shape})
	if err != nil {
		t.Fatal(err)
	}
	return replay
}

func TestTrace_ReplayDriverAlone(t *testing.T) {
	if os.Getenv("NICHOST_RECORD") != "" {
		os.MkdirAll(filepath.Dir(tracePath), 0o755)
		record(t)
	}
	replay := openTrace(t)
	// RSTn goes nowhere: the recorded chip answers as it did after its
	// reset.
	h := start(t, new(guesttest.Clock), replay, sim.NewPin("rst", 0))
	session(t, h, nil)
	if err := replay.Close(); err != nil {
		t.Fatalf("the driver did not replay the whole session: %v", err)
	}
}

// A driver that changes its traffic fails the replay, naming where.
func TestTrace_ReplayDetectsChange(t *testing.T) {
	replay := openTrace(t)
	// Read VERSIONR before anything else: not what the recording did.
	err := replay.TxPackets([]spi.Packet{{W: []byte{0x00, 0x39, 0x00, 0x00}, R: make([]byte, 4)}})
	if err == nil {
		t.Fatal("a transaction the recording does not have was accepted")
	}
	if !bytes.Contains([]byte(err.Error()), []byte("transaction 0")) {
		t.Fatalf("the mismatch does not name the transaction: %v", err)
	}
}
