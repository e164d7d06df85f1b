package spitrace

import (
	"bytes"
	"fmt"
	"io"
	"sync"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/spi"
)

// Recorder is an spi.Conn that passes every call to another conn and
// writes it to a trace (see Format). Make one with Record.
//
// A transaction whose trace line cannot be written still reaches the conn;
// the call then returns the write error (if the conn itself did not fail),
// Err keeps it, and no further line is written: every later call returns it
// too. Recorder is safe for concurrent use; the
// calls are serialised so the trace order is the bus order. The recorder does
// not close or flush w.
type Recorder struct {
	conn spi.Conn

	mu  sync.Mutex
	w   io.Writer
	n   int   // index of the next transaction
	err error // first trace write error
}

var (
	_ spi.Conn    = (*Recorder)(nil)
	_ conn.Limits = (*Recorder)(nil)
)

// Record returns c wrapped so that every transaction is also written to w
// as one JSON line. It writes the trace header at once.
func Record(c spi.Conn, w io.Writer) *Recorder {
	r := &Recorder{conn: c, w: w}
	h := Header{Format: Format, Version: Version, Conn: c.String(), Duplex: c.Duplex().String()}
	if _, err := writeJSONLine(w, h); err != nil {
		r.err = err
	}
	return r
}

// String implements conn.Conn.
func (r *Recorder) String() string { return "record(" + r.conn.String() + ")" }

// Duplex implements conn.Conn.
func (r *Recorder) Duplex() conn.Duplex { return r.conn.Duplex() }

// MaxTxSize implements conn.Limits with the wrapped conn's limit, 0 if it
// states none.
func (r *Recorder) MaxTxSize() int {
	if l, ok := r.conn.(conn.Limits); ok {
		return l.MaxTxSize()
	}
	return 0
}

// Tx implements conn.Conn; it is recorded with op "tx".
func (r *Recorder) Tx(w, rd []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := Tx{Op: TraceOpTx, Packets: []Packet{{W: bytes.Clone(w)}}}
	err := r.conn.Tx(w, rd)
	rec.Packets[0].R = bytes.Clone(rd)
	return r.finish(rec, err)
}

// TxPackets implements spi.Conn; it is recorded with op "packets".
func (r *Recorder) TxPackets(p []spi.Packet) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := Tx{Op: TraceOpPackets, Packets: make([]Packet, len(p))}
	for i := range p {
		// Copy W before the transfer: R may alias it.
		rec.Packets[i] = Packet{W: bytes.Clone(p[i].W), KeepCS: p[i].KeepCS, Bits: p[i].BitsPerWord}
	}
	err := r.conn.TxPackets(p)
	for i := range p {
		rec.Packets[i].R = bytes.Clone(p[i].R)
	}
	return r.finish(rec, err)
}

// Err returns the first error met writing the trace, nil if none.
func (r *Recorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Transactions returns how many transactions were recorded.
func (r *Recorder) Transactions() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// finish writes rec with the conn's error txErr and returns what the call
// should return; r.mu is held.
func (r *Recorder) finish(rec Tx, txErr error) error {
	rec.Index = r.n
	r.n++
	if txErr != nil {
		rec.Err = txErr.Error()
	}
	// After a failed write the trace is broken: stop writing, keep failing.
	werr := r.err
	if werr == nil {
		_, werr = writeJSONLine(r.w, rec)
		r.err = werr
	}
	switch {
	case txErr != nil:
		return txErr
	case werr != nil:
		return fmt.Errorf("bus: spi record: transaction %d: %w", rec.Index, werr)
	}
	return nil
}
