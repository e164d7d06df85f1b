package sim

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"periph.io/x/conn/v3/spi"
)

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

func TestSPI_TxPackets(t *testing.T) {
	tests := []struct {
		name    string
		calls   [][]spi.Packet
		log     string
		stats   SPIStats
		held    bool   // CS asserted after the last call
		wantErr string // substring of the error of the last call
	}{
		{
			name:  "one packet frames CS",
			calls: [][]spi.Packet{{{W: []byte{1, 2}}}},
			log:   "S 0102 D",
			stats: SPIStats{Transactions: 1, Bytes: 2},
		},
		{
			name:  "KeepCS joins packets into one transaction",
			calls: [][]spi.Packet{{{W: []byte{1}, KeepCS: true}, {W: []byte{2}, KeepCS: true}, {R: make([]byte, 2)}}},
			log:   "S 01 02 0000 D",
			stats: SPIStats{Transactions: 1, Bytes: 4},
		},
		{
			name:  "no KeepCS between packets blips CS",
			calls: [][]spi.Packet{{{W: []byte{1}}, {W: []byte{2}}}},
			log:   "S 01 D S 02 D",
			stats: SPIStats{Transactions: 2, Bytes: 2},
		},
		{
			name:  "KeepCS on the last packet holds CS into the next call",
			calls: [][]spi.Packet{{{W: []byte{1}, KeepCS: true}}, {{W: []byte{2}}}},
			log:   "S 01 02 D",
			stats: SPIStats{Transactions: 1, Bytes: 2},
		},
		{
			name:  "KeepCS on the last packet leaves CS asserted",
			calls: [][]spi.Packet{{{W: []byte{1}, KeepCS: true}}},
			log:   "S 01",
			stats: SPIStats{Transactions: 1, Bytes: 1},
			held:  true,
		},
		{
			name:    "length mismatch is refused before CS moves",
			calls:   [][]spi.Packet{{{W: []byte{1}, KeepCS: true}, {W: []byte{1, 2}, R: make([]byte, 3)}}},
			wantErr: "packet 1: w has 2 bytes and r has 3",
		},
		{
			name:    "empty transaction is refused",
			calls:   [][]spi.Packet{{{KeepCS: true}}},
			wantErr: "empty transaction",
		},
		{
			name:    "9-bit words are refused",
			calls:   [][]spi.Packet{{{W: []byte{1}, BitsPerWord: 9}}},
			wantErr: "9 bits per word",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dev := &logDevice{}
			s := NewSPI(dev)
			var err error
			for _, c := range tt.calls {
				err = s.TxPackets(c)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "bus: spi: ") {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				if len(dev.log) != 0 {
					t.Fatalf("device saw %v after a refused call", dev.log)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(dev.log, " "); got != tt.log {
				t.Errorf("device log = %q, want %q", got, tt.log)
			}
			if got := s.Stats(); got != tt.stats {
				t.Errorf("Stats() = %+v, want %+v", got, tt.stats)
			}
			if got := s.Selected(); got != tt.held {
				t.Errorf("Selected() = %t, want %t", got, tt.held)
			}
		})
	}
}

func TestSPI_Tx(t *testing.T) {
	tests := []struct {
		name  string
		w, r  []byte
		wantR []byte
		dev   string
	}{
		{"full duplex", []byte{1, 2, 3}, make([]byte, 3), []byte{2, 3, 4}, "S 010203 D"},
		{"write only", []byte{7}, nil, nil, "S 07 D"},
		{"read only clocks zeros", nil, make([]byte, 2), []byte{1, 1}, "S 0000 D"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dev := &logDevice{}
			s := NewSPI(dev)
			if err := s.Tx(tt.w, tt.r); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(tt.r, tt.wantR) {
				t.Errorf("r = %x, want %x", tt.r, tt.wantR)
			}
			if got := strings.Join(dev.log, " "); got != tt.dev {
				t.Errorf("device log = %q, want %q", got, tt.dev)
			}
		})
	}
}

// silentDevice never drives MISO.
type silentDevice struct{}

func (silentDevice) Select()              {}
func (silentDevice) Deselect()            {}
func (silentDevice) Transfer(_, _ []byte) {}

func TestSPI_Tx_undrivenMISOReadsFF(t *testing.T) {
	s := NewSPI(silentDevice{})
	buf := []byte{1, 2}
	if err := s.Tx(buf, buf); err != nil { // w and r alias
		t.Fatal(err)
	}
	if !bytes.Equal(buf, []byte{0xFF, 0xFF}) {
		t.Fatalf("r = %x, want ffff", buf)
	}
}
