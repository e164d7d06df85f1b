package sim

import (
	"bytes"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/nichost/nichost/host/bus"
)

func TestUART_Write(t *testing.T) {
	tests := []struct {
		name     string
		writes   [][]byte
		want     int // bytes readable at the other end
		overruns uint64
		notifies int32
	}{
		{"one write", [][]byte{[]byte("AT\r\n")}, 4, 0, 1},
		{"writes accumulate", [][]byte{[]byte("AT"), []byte("\r\n")}, 4, 0, 2},
		{"empty write notifies nobody", [][]byte{{}}, 0, 0, 0},
		{"overflow drops and counts", [][]byte{make([]byte, bus.DefaultUARTBuffer-10), make([]byte, 30)}, bus.DefaultUARTBuffer, 20, 2},
		{"full buffer drops everything", [][]byte{make([]byte, bus.DefaultUARTBuffer), {1, 2, 3}}, bus.DefaultUARTBuffer, 3, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := NewUARTPair()
			var notified atomic.Int32
			b.Notify(func() { notified.Add(1) })
			for _, w := range tt.writes {
				n, err := a.Write(w)
				if err != nil || n != len(w) {
					t.Fatalf("Write(%d bytes) = %d, %v", len(w), n, err)
				}
			}
			if got := b.Buffered(); got != tt.want {
				t.Errorf("Buffered() = %d, want %d", got, tt.want)
			}
			if got := b.Stats().Overruns; got != tt.overruns {
				t.Errorf("Overruns = %d, want %d", got, tt.overruns)
			}
			if got := notified.Load(); got != tt.notifies {
				t.Errorf("Notify ran %d times, want %d", got, tt.notifies)
			}
		})
	}
}

func TestUART_Read(t *testing.T) {
	a, b := NewUARTPair()
	buf := make([]byte, 8)
	if n, err := b.Read(buf); n != 0 || err != nil {
		t.Fatalf("Read on empty = %d, %v; want 0, nil", n, err)
	}
	// Bytes cross the ring's end and come out in order, both directions.
	var sent, got []byte
	for i := range 3000 {
		chunk := bytes.Repeat([]byte{byte(i)}, 1+i%50)
		if _, err := a.Write(chunk); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, chunk...)
		for {
			n, err := b.Read(buf)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
			got = append(got, buf[:n]...)
		}
	}
	if !bytes.Equal(got, sent) {
		t.Fatalf("received %d bytes that differ from the %d sent", len(got), len(sent))
	}
	if _, err := b.Write([]byte("ok")); err != nil {
		t.Fatal(err)
	}
	if n, _ := a.Read(buf); string(buf[:n]) != "ok" {
		t.Fatalf("a read %q, want \"ok\"", buf[:n])
	}
	st := a.Stats()
	if st.TxBytes != uint64(len(sent)) || st.RxBytes != 2 {
		t.Fatalf("a.Stats() = %+v", st)
	}
}

func TestUART_Close(t *testing.T) {
	a, b := NewUARTPair()
	if _, err := a.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Read(make([]byte, 1)); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("Read after Close: %v, want bus.ErrClosed", err)
	}
	if _, err := b.Write([]byte("x")); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("Write after Close: %v, want bus.ErrClosed", err)
	}
	// The open end still writes; the bytes vanish, as on a real line.
	if n, err := a.Write([]byte("lost")); n != 4 || err != nil {
		t.Errorf("Write towards a closed end = %d, %v; want 4, nil", n, err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
