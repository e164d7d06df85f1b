package spitrace

import (
	"fmt"
	"io"
	"sync"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/spi"
)

// WriteCompare decides whether the bytes a driver wrote in one packet match
// the recording. tx is the transaction index. It returns nil on a match, or
// an error describing the difference, which Replayer wraps with the
// transaction and packet index.
type WriteCompare func(tx int, want, got []byte) error

// CompareExact is the default WriteCompare: the bytes must be equal.
func CompareExact(_ int, want, got []byte) error {
	if len(want) != len(got) {
		return fmt.Errorf("wrote %d bytes %s, recording has %d bytes %s", len(got), hexAbbrev(got), len(want), hexAbbrev(want))
	}
	for i := range want {
		if want[i] != got[i] {
			return fmt.Errorf("wrote %s, recording has %s (first difference at byte %d: %#02x, recording %#02x)",
				hexAbbrev(got), hexAbbrev(want), i, got[i], want[i])
		}
	}
	return nil
}

// CompareLength is a WriteCompare for payloads that vary between runs (MAC
// addresses, sequence numbers, frame contents): only the lengths must match.
func CompareLength(_ int, want, got []byte) error {
	if len(want) != len(got) {
		return fmt.Errorf("wrote %d bytes, recording has %d", len(got), len(want))
	}
	return nil
}

// ReplayOptions tune an Replayer. The zero value compares writes exactly.
type ReplayOptions struct {
	// CompareWrites compares each packet's written bytes; nil means
	// CompareExact.
	CompareWrites WriteCompare
}

// Replayer is an spi.Conn that plays a trace back: each call must match the
// next recorded transaction, and gets the recorded read bytes and error.
//
// The shape is always checked: number of packets, KeepCS, bits per word,
// which sides are nil and the length of R. Written bytes are checked by
// ReplayOptions.CompareWrites. A mismatch returns an error naming the
// transaction and packet, and does not consume the transaction. Replayer is
// safe for concurrent use.
type Replayer struct {
	trace *Trace
	cmp   WriteCompare

	mu   sync.Mutex
	next int
}

var _ spi.Conn = (*Replayer)(nil)

// Replay reads a whole trace from r and returns a conn that replays it.
func Replay(r io.Reader, opts ReplayOptions) (*Replayer, error) {
	t, err := ReadTrace(r)
	if err != nil {
		return nil, err
	}
	return NewReplayer(t, opts), nil
}

// NewReplayer returns a conn that replays t. It does not modify t.
func NewReplayer(t *Trace, opts ReplayOptions) *Replayer {
	cmp := opts.CompareWrites
	if cmp == nil {
		cmp = CompareExact
	}
	return &Replayer{trace: t, cmp: cmp}
}

// String implements conn.Conn.
func (p *Replayer) String() string { return "replay(" + p.trace.Header.Conn + ")" }

// Duplex implements conn.Conn with the recorded conn's duplex.
func (p *Replayer) Duplex() conn.Duplex {
	switch p.trace.Header.Duplex {
	case conn.Half.String():
		return conn.Half
	case conn.Full.String():
		return conn.Full
	}
	return conn.DuplexUnknown
}

// Tx implements conn.Conn as TxPackets with the one packet {W: w, R: r}.
func (p *Replayer) Tx(w, r []byte) error {
	return p.TxPackets([]spi.Packet{{W: w, R: r}})
}

// TxPackets implements spi.Conn.
func (p *Replayer) TxPackets(pkts []spi.Packet) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	idx := p.next
	if idx >= len(p.trace.Tx) {
		return fmt.Errorf("bus: spi replay: transaction %d: the recording ends after %d transactions", idx, len(p.trace.Tx))
	}
	rec := &p.trace.Tx[idx]
	if len(pkts) != len(rec.Packets) {
		return fmt.Errorf("bus: spi replay: transaction %d: %d packets, recording has %d", idx, len(pkts), len(rec.Packets))
	}
	for i := range pkts {
		if err := p.check(idx, &rec.Packets[i], &pkts[i]); err != nil {
			return fmt.Errorf("bus: spi replay: transaction %d packet %d: %w", idx, i, err)
		}
	}
	p.next++
	for i := range pkts {
		copy(pkts[i].R, rec.Packets[i].R)
	}
	if rec.Err != "" {
		return fmt.Errorf("bus: spi replay: transaction %d: recorded error: %s", idx, rec.Err)
	}
	return nil
}

// check compares one packet with its recording.
func (p *Replayer) check(idx int, want *Packet, got *spi.Packet) error {
	switch {
	case want.KeepCS != got.KeepCS:
		return fmt.Errorf("keep_cs %t, recording has %t", got.KeepCS, want.KeepCS)
	case want.Bits != got.BitsPerWord:
		return fmt.Errorf("%d bits per word, recording has %d", got.BitsPerWord, want.Bits)
	case len(want.R) != len(got.R):
		return fmt.Errorf("reads %d bytes, recording has %d", len(got.R), len(want.R))
	case (len(want.W) == 0) != (len(got.W) == 0):
		return fmt.Errorf("writes %d bytes, recording has %d", len(got.W), len(want.W))
	}
	if err := p.cmp(idx, want.W, got.W); err != nil {
		return err
	}
	return nil
}

// Remaining returns how many recorded transactions have not been replayed.
func (p *Replayer) Remaining() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.trace.Tx) - p.next
}

// Close reports an error if recorded transactions were not replayed, so a
// test can check that the driver did everything the recording did.
func (p *Replayer) Close() error {
	if n := p.Remaining(); n > 0 {
		return fmt.Errorf("bus: spi replay: %d of %d recorded transactions not replayed", n, len(p.trace.Tx))
	}
	return nil
}

// hexAbbrev formats b as hex, shortened for error messages.
func hexAbbrev(b []byte) string {
	return abbrev(fmt.Sprintf("%x", b), 64)
}
