package spitrace

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nichost/nichost/host/bus/sim"
	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/spi"
)

// failingConn fails every call after the first ok ones.
type failingConn struct {
	spi.Conn
	ok int
}

func (f *failingConn) TxPackets(p []spi.Packet) error {
	if f.ok == 0 {
		return errors.New("spidev: transfer failed")
	}
	f.ok--
	return f.Conn.TxPackets(p)
}

func (f *failingConn) Tx(w, r []byte) error { return f.TxPackets([]spi.Packet{{W: w, R: r}}) }

// session is a small driver session: a register read as one Tx, a batched
// read with KeepCS, and a write.
func session(c spi.Conn) ([]byte, error) {
	r1 := make([]byte, 3)
	if err := c.Tx([]byte{0x00, 0x39, 0x00}, r1); err != nil {
		return nil, err
	}
	r2 := make([]byte, 2)
	if err := c.TxPackets([]spi.Packet{{W: []byte{0x00, 0x28, 0x00}, KeepCS: true}, {R: r2}}); err != nil {
		return nil, err
	}
	if err := c.Tx([]byte{0x00, 0x00, 0x04, 0x80}, nil); err != nil {
		return nil, err
	}
	return append(r1, r2...), nil
}

func TestRecord_roundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w5500.spi.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	rec := Record(sim.NewSPI(&logDevice{}), f)
	want, err := session(rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil || rec.Err() != nil || rec.Transactions() != 3 {
		t.Fatalf("close %v, recorder err %v, %d transactions", err, rec.Err(), rec.Transactions())
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	wantLines := []string{
		`{"format":"nichost-spi-trace","version":1,"conn":"sim.SPI","duplex":"Full"}`,
		`{"i":0,"op":"tx","packets":[{"w":"003900","r":"013a01"}]}`,
		`{"i":1,"op":"packets","packets":[{"w":"002800","keep_cs":true},{"r":"0101"}]}`,
		`{"i":2,"op":"tx","packets":[{"w":"00000480"}]}`,
	}
	if strings.Join(lines, "\n") != strings.Join(wantLines, "\n") {
		t.Fatalf("trace:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(wantLines, "\n"))
	}

	f, err = os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rp, err := Replay(f, ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rp.Duplex() != conn.Full || rp.String() != "replay(sim.SPI)" {
		t.Errorf("replay conn is %s, %v", rp, rp.Duplex())
	}
	got, err := session(rp)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("replayed reads %x, recorded %x", got, want)
	}
	if err := rp.Close(); err != nil {
		t.Errorf("Close after a full replay: %v", err)
	}
}

func TestRecord_connError(t *testing.T) {
	var buf bytes.Buffer
	rec := Record(&failingConn{Conn: sim.NewSPI(&logDevice{}), ok: 1}, &buf)
	if _, err := session(rec); err == nil || !strings.Contains(err.Error(), "transfer failed") {
		t.Fatalf("session error = %v, want the conn's", err)
	}
	rp, err := Replay(&buf, ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = session(rp)
	if err == nil || err.Error() != "bus: spi replay: transaction 1: recorded error: spidev: transfer failed" {
		t.Fatalf("replayed error = %v", err)
	}
}

// brokenWriter fails every write.
type brokenWriter struct{}

func (brokenWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRecord_writeError(t *testing.T) {
	dev := &logDevice{}
	rec := Record(sim.NewSPI(dev), brokenWriter{})
	err := rec.Tx([]byte{1}, nil)
	if err == nil || !strings.Contains(err.Error(), "disk full") || !strings.HasPrefix(err.Error(), "bus: spi record: transaction 0") {
		t.Fatalf("Tx error = %v, want the trace write error", err)
	}
	if len(dev.log) == 0 {
		t.Fatal("the transfer did not reach the conn")
	}
	if rec.Err() == nil {
		t.Fatal("Err() = nil after a failed write")
	}
}

func TestSPIReplay_TxPackets(t *testing.T) {
	trace := &Trace{
		Header: Header{Format: Format, Version: Version, Conn: "SPI0.0", Duplex: "Full"},
		Tx: []Tx{
			{Index: 0, Op: TraceOpTx, Packets: []Packet{{W: HexBytes{0x00, 0x39, 0x00}, R: HexBytes{0, 0, 4}}}},
			{Index: 1, Op: TraceOpPackets, Packets: []Packet{{W: HexBytes{0x00, 0x28}, KeepCS: true}, {R: HexBytes{1, 2}}}},
		},
	}
	tests := []struct {
		name string
		opts ReplayOptions
		call []spi.Packet
		want string // error, "" for success
	}{
		{"exact match", ReplayOptions{}, []spi.Packet{{W: []byte{0x00, 0x39, 0x00}, R: make([]byte, 3)}}, ""},
		{"payload differs", ReplayOptions{}, []spi.Packet{{W: []byte{0x00, 0x3a, 0x00}, R: make([]byte, 3)}},
			"bus: spi replay: transaction 0 packet 0: wrote 003a00, recording has 003900 (first difference at byte 1: 0x3a, recording 0x39)"},
		{"payload differs, lengths compared", ReplayOptions{CompareWrites: CompareLength}, []spi.Packet{{W: []byte{0x00, 0x3a, 0x00}, R: make([]byte, 3)}}, ""},
		{"write length differs", ReplayOptions{CompareWrites: CompareLength}, []spi.Packet{{W: []byte{0x00, 0x3a}, R: make([]byte, 3)}},
			"bus: spi replay: transaction 0 packet 0: wrote 2 bytes, recording has 3"},
		{"read length differs", ReplayOptions{CompareWrites: CompareLength}, []spi.Packet{{W: []byte{0x00, 0x39, 0x00}, R: make([]byte, 2)}},
			"bus: spi replay: transaction 0 packet 0: reads 2 bytes, recording has 3"},
		{"read missing", ReplayOptions{}, []spi.Packet{{W: []byte{0x00, 0x39, 0x00}}},
			"transaction 0 packet 0: reads 0 bytes, recording has 3"},
		{"extra packet", ReplayOptions{}, []spi.Packet{{W: []byte{0x00, 0x39, 0x00}, R: make([]byte, 3)}, {W: []byte{1}}},
			"transaction 0: 2 packets, recording has 1"},
		{"keep_cs differs", ReplayOptions{}, []spi.Packet{{W: []byte{0x00, 0x39, 0x00}, R: make([]byte, 3), KeepCS: true}},
			"transaction 0 packet 0: keep_cs true, recording has false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rp := NewReplayer(trace, tt.opts)
			err := rp.TxPackets(tt.call)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if r := tt.call[0].R; !bytes.Equal(r, []byte{0, 0, 4}) {
					t.Errorf("read %x, want the recorded 000004", r)
				}
				if rp.Remaining() != 1 {
					t.Errorf("Remaining() = %d, want 1", rp.Remaining())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v\nwant one containing %q", err, tt.want)
			}
			if rp.Remaining() != 2 {
				t.Errorf("a mismatch consumed the transaction: Remaining() = %d", rp.Remaining())
			}
		})
	}
}

func TestSPIReplay_Close(t *testing.T) {
	trace := &Trace{Header: Header{Format: Format, Version: Version},
		Tx: []Tx{{Op: TraceOpTx, Packets: []Packet{{W: HexBytes{1}}}}}}
	rp := NewReplayer(trace, ReplayOptions{})
	if err := rp.Close(); err == nil || !strings.Contains(err.Error(), "1 of 1 recorded transactions not replayed") {
		t.Fatalf("Close before replay = %v", err)
	}
	if err := rp.Tx([]byte{1}, nil); err != nil {
		t.Fatal(err)
	}
	if err := rp.Tx([]byte{1}, nil); err == nil || !strings.Contains(err.Error(), "transaction 1: the recording ends after 1 transactions") {
		t.Fatalf("Tx past the end = %v", err)
	}
}

func TestReadTrace(t *testing.T) {
	const header = `{"format":"nichost-spi-trace","version":1}` + "\n"
	tests := []struct {
		name string
		in   string
		want string // error substring, "" for success
		txs  int
	}{
		{"header only", header, "", 0},
		{"blank lines skipped", "\n" + header + "\n" + `{"i":0,"op":"tx","packets":[{"w":"01"}]}` + "\n\n", "", 1},
		{"no final newline", header + `{"i":0,"op":"tx","packets":[{"w":"01"}]}`, "", 1},
		{"empty", "", "empty input", 0},
		{"wrong format", `{"format":"pcap","version":1}`, `line 1: format "pcap"`, 0},
		{"wrong version", `{"format":"nichost-spi-trace","version":2}`, "line 1: version 2 not supported", 0},
		{"bad hex", header + `{"i":0,"op":"tx","packets":[{"w":"0g"}]}`, "line 2: bus: trace: bad hex", 0},
		{"index gap", header + `{"i":1,"op":"tx","packets":[{"w":"01"}]}`, "line 2: transaction index 1, want 0", 0},
		{"no packets", header + `{"i":0,"op":"tx","packets":[]}`, "line 2: transaction 0 has no packets", 0},
		{"unknown field", header + `{"i":0,"op":"tx","packets":[{"w":"01"}],"x":1}`, `line 2: json: unknown field "x"`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := ReadTrace(strings.NewReader(tt.in))
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("ReadTrace = %v, want an error containing %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(tr.Tx) != tt.txs {
				t.Fatalf("%d transactions, want %d", len(tr.Tx), tt.txs)
			}
		})
	}
}

func TestTrace_WriteTo(t *testing.T) {
	in := &Trace{Tx: []Tx{{Op: TraceOpPackets, Packets: []Packet{{W: HexBytes{0xab}, R: HexBytes{0xcd}, KeepCS: true, Bits: 16}}}}}
	var buf bytes.Buffer
	n, err := in.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("WriteTo = %d, %v (wrote %d)", n, err, buf.Len())
	}
	out, err := ReadTrace(&buf)
	if err != nil {
		t.Fatal(err)
	}
	p := out.Tx[0].Packets[0]
	if out.Header.Format != Format || !bytes.Equal(p.W, []byte{0xab}) || !bytes.Equal(p.R, []byte{0xcd}) || !p.KeepCS || p.Bits != 16 {
		t.Fatalf("read back %+v", out)
	}
}

// logDevice records CS activity and transfers, and answers each byte with
// the byte it received plus one.
type logDevice struct {
	log []string
}

func (d *logDevice) Select()   { d.log = append(d.log, "S") }
func (d *logDevice) Deselect() { d.log = append(d.log, "D") }
func (d *logDevice) Transfer(w, r []byte) {
	d.log = append(d.log, fmt.Sprintf("%x", w))
	for i := range w {
		r[i] = w[i] + 1
	}
}
