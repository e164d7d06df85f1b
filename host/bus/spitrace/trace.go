package spitrace

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// SPI trace files are JSON lines, written by Record and read by ReadTrace
// and Replay. The first line is a Header, every further line one
// Tx, in the order the transactions happened:
//
//	{"format":"nichost-spi-trace","version":1,"conn":"SPI0.0","duplex":"Full"}
//	{"i":0,"op":"tx","packets":[{"w":"0f0000","r":"00ff12"}]}
//	{"i":1,"op":"packets","packets":[{"w":"0028","keep_cs":true},{"r":"0000"}]}
//	{"i":2,"op":"tx","packets":[{"w":"ff"}],"err":"sysfs-spi: Tx() failed: ..."}
//
// Bytes are lowercase hex strings. In a packet, "w" is what the driver wrote
// and "r" what it read back; a side the driver left nil is omitted. keep_cs
// and bits (bits per word, when not the conn's default) are omitted when
// zero. "err" is the error the conn returned, if any.
const (
	Format  = "nichost-spi-trace"
	Version = 1
)

// Trace is a whole SPI trace file in memory.
type Trace struct {
	Header Header
	Tx     []Tx
}

// Header is the first line of a trace.
type Header struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	Conn    string `json:"conn,omitempty"`   // String() of the recorded conn
	Duplex  string `json:"duplex,omitempty"` // Duplex() of the recorded conn
}

// Tx is one transaction: one Tx or TxPackets call.
type Tx struct {
	Index   int      `json:"i"`
	Op      string   `json:"op"` // "tx" or "packets"
	Packets []Packet `json:"packets"`
	Err     string   `json:"err,omitempty"`
}

// Packet is one spi.Packet of a transaction.
type Packet struct {
	W      HexBytes `json:"w,omitempty"`
	R      HexBytes `json:"r,omitempty"`
	KeepCS bool     `json:"keep_cs,omitempty"`
	Bits   uint8    `json:"bits,omitempty"`
}

// Trace operations.
const (
	TraceOpTx      = "tx"
	TraceOpPackets = "packets"
)

// HexBytes is a byte slice written to JSON as a hex string.
type HexBytes []byte

// MarshalJSON implements json.Marshaler.
func (b HexBytes) MarshalJSON() ([]byte, error) {
	out := make([]byte, 0, 2*len(b)+2)
	out = append(out, '"')
	out = hex.AppendEncode(out, b)
	return append(out, '"'), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (b *HexBytes) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("bus: trace: bytes must be a hex string: %w", err)
	}
	v, err := hex.DecodeString(s)
	if err != nil {
		return fmt.Errorf("bus: trace: bad hex %q: %w", abbrev(s, 16), err)
	}
	*b = v
	return nil
}

// ReadTrace reads a whole trace; blank lines are skipped. Errors name the
// offending line.
func ReadTrace(r io.Reader) (*Trace, error) {
	br := bufio.NewReader(r)
	t := &Trace{}
	for line := 1; ; line++ {
		data, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("bus: trace: line %d: %w", line, err)
		}
		if data = bytes.TrimSpace(data); len(data) > 0 {
			if perr := t.parseLine(line, data); perr != nil {
				return nil, perr
			}
		}
		if err != nil {
			break
		}
	}
	if t.Header.Format == "" {
		return nil, errors.New("bus: trace: empty input, want a trace header line")
	}
	return t, nil
}

func (t *Trace) parseLine(line int, data []byte) error {
	if t.Header.Format == "" {
		if err := json.Unmarshal(data, &t.Header); err != nil {
			return fmt.Errorf("bus: trace: line %d: header: %w", line, err)
		}
		if t.Header.Format != Format {
			return fmt.Errorf("bus: trace: line %d: format %q, want %q", line, t.Header.Format, Format)
		}
		if t.Header.Version != Version {
			return fmt.Errorf("bus: trace: line %d: version %d not supported, want %d", line, t.Header.Version, Version)
		}
		return nil
	}
	var tx Tx
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&tx); err != nil {
		return fmt.Errorf("bus: trace: line %d: %w", line, err)
	}
	if tx.Index != len(t.Tx) {
		return fmt.Errorf("bus: trace: line %d: transaction index %d, want %d", line, tx.Index, len(t.Tx))
	}
	if len(tx.Packets) == 0 {
		return fmt.Errorf("bus: trace: line %d: transaction %d has no packets", line, tx.Index)
	}
	t.Tx = append(t.Tx, tx)
	return nil
}

// WriteTo writes t as a trace file: the header, then one line per
// transaction. A header with no Format gets Format and Version.
func (t *Trace) WriteTo(w io.Writer) (int64, error) {
	h := t.Header
	if h.Format == "" {
		h.Format, h.Version = Format, Version
	}
	total, err := writeJSONLine(w, h)
	for i := 0; i < len(t.Tx) && err == nil; i++ {
		var n int64
		n, err = writeJSONLine(w, t.Tx[i])
		total += n
	}
	return total, err
}

// writeJSONLine writes v and a newline with a single Write call, so lines
// from one writer never interleave.
func writeJSONLine(w io.Writer, v any) (int64, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("bus: trace: %w", err)
	}
	n, err := w.Write(append(data, '\n'))
	if err != nil {
		return int64(n), fmt.Errorf("bus: trace: %w", err)
	}
	return int64(n), nil
}

// abbrev shortens s to at most n bytes for error messages.
func abbrev(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
