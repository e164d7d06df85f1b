package guest_test

import (
	"errors"
	"io"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest/guesttest"
	"github.com/nichost/nichost/host/bus/sim"
)

// serialDriver is a recorder that needs a UART named "serial".
type serialDriver struct{ recorder }

func (d *serialDriver) Describe() abi.Description {
	desc := d.recorder.Describe()
	desc.Buses = []abi.BusNeed{{Name: "serial", Kind: abi.BusUART}}
	return desc
}

func TestUART_Write(t *testing.T) {
	tests := []struct {
		name     string
		writeMax int // bytes the host takes per uart_write; 0: all
		data     string
		wantN    int
		wantErr  error
	}{
		{"all taken", 0, "AT+CGDCONT\r", 11, nil},
		{"nothing to send", 0, "", 0, nil},
		{"short near the deadline", 4, "AT+CGDCONT\r", 4, io.ErrShortWrite},
		{"exactly the host's share", 4, "ATZ\r", 4, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			drv := &serialDriver{}
			port, modem := sim.NewUARTPair()
			guesttest.New(t, drv, guesttest.Options{Buses: map[string]any{"serial": port}, UARTWriteMax: tt.writeMax})
			u, err := drv.env.UART("serial")
			if err != nil {
				t.Fatal(err)
			}
			n, err := u.Write([]byte(tt.data))
			if n != tt.wantN || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Write = %d, %v; want %d, %v", n, err, tt.wantN, tt.wantErr)
			}
			// One host call per Write: the rest is the driver's to send.
			got := make([]byte, 64)
			if m, _ := modem.Read(got); string(got[:m]) != tt.data[:tt.wantN] {
				t.Fatalf("the modem received %q, want %q", got[:m], tt.data[:tt.wantN])
			}
		})
	}
}

func TestUART_WriteHostError(t *testing.T) {
	drv := &serialDriver{}
	port, _ := sim.NewUARTPair()
	guesttest.New(t, drv, guesttest.Options{Buses: map[string]any{"serial": port}})
	u, err := drv.env.UART("serial")
	if err != nil {
		t.Fatal(err)
	}
	port.Close()
	n, err := u.Write([]byte("AT\r"))
	if n != 0 || !errors.Is(err, abi.OSError(abi.EIO, "")) {
		t.Fatalf("Write on a closed port = %d, %v; want 0 and OSError EIO", n, err)
	}
	var e *abi.Error
	if !errors.As(err, &e) || e.Msg != "uart_write: bus or device I/O error" {
		t.Fatalf("error %v does not name the host call", err)
	}
}
