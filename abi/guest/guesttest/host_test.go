package guesttest_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/abi/guest/guesttest"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/internal/testdriver"
)

// needy is the test driver with a bus it cannot work without.
type needy struct{ *testdriver.Driver }

func (d needy) Describe() abi.Description {
	desc := d.Driver.Describe()
	desc.Buses = append(desc.Buses, abi.BusNeed{Name: "reset", Kind: abi.BusGPIO})
	return desc
}

// misnamed declares a driver name the ABI does not allow.
type misnamed struct{ *testdriver.Driver }

func (d misnamed) Describe() abi.Description {
	desc := d.Driver.Describe()
	desc.Name = "Test Driver"
	return desc
}

func newTestDriver() *testdriver.Driver { return testdriver.New().(*testdriver.Driver) }

// Start refuses what the host would refuse, saying what is wrong.
func TestStart_Refuses(t *testing.T) {
	tests := []struct {
		name   string
		driver guest.Driver
		opts   guesttest.Options
		kind   error  // an abi sentinel the error matches, if it comes from the driver
		want   string // part of the message
	}{
		{"undeclared bus", newTestDriver(), guesttest.Options{Buses: map[string]any{"i2c": sim.NewPin("x", 0)}}, nil,
			`grants "i2c", which the description does not declare`},
		{"bus of another kind", newTestDriver(), guesttest.Options{Buses: map[string]any{"spi": sim.NewPin("x", 0)}}, nil,
			`bus "spi" is declared spi, and Options.Buses gives a *sim.Pin`},
		{"required bus missing", needy{newTestDriver()}, guesttest.Options{}, nil,
			`the driver needs bus "reset" (gpio)`},
		{"bad description", misnamed{newTestDriver()}, guesttest.Options{}, nil,
			`driver name "Test Driver"`},
		{"MAC of 5 bytes", newTestDriver(), guesttest.Options{MACs: [][]byte{{2, 0, 0, 0, 1}}}, nil,
			"Options.MACs[0] has 5 bytes, not 6"},
		{"the driver refuses an option", newTestDriver(), guesttest.Options{Options: map[string]any{"bridge": "yes"}}, abi.ErrType,
			"nic_start: TypeError: options.bridge: expected bool, got str"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := guesttest.Start(tt.driver, tt.opts)
			if err == nil {
				h.Close()
				t.Fatalf("Start succeeded; want an error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) || (tt.kind != nil && !errors.Is(err, tt.kind)) {
				t.Fatalf("Start = %v; want an error containing %q", err, tt.want)
			}
		})
	}
}

// The start info says what Options say, and the first poll is EventStart.
func TestNew_StartInfo(t *testing.T) {
	mac := []byte{0x02, 0xaa, 0, 0, 0, 1}
	d := newTicker(0)
	h := guesttest.New(t, d, guesttest.Options{MACs: [][]byte{mac}, Hostname: "board", Country: "DE", PhyMode: 3})
	info, err := h.Call("info")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"hostname": "board", "country": "DE", "phy_mode": int64(0), "polls": int64(1), "events": int64(abi.EventStart)}
	if !reflect.DeepEqual(info, want) {
		t.Errorf("info() = %v, want %v", info, want)
	}
	if d.env.Info().PhyMode != 3 {
		t.Errorf("start info phy_mode %d, want 3", d.env.Info().PhyMode)
	}
	for iface, want := range [][]byte{mac, {2, 0, 0, 0, 0, 2}} {
		if got, err := h.CallOn(iface, "config", "mac"); err != nil || !bytes.Equal(got.([]byte), want) {
			t.Errorf("interface %d: config('mac') = %x, %v; want %x", iface, got, err, want)
		}
	}
}

// Call encodes arguments as the host does and decodes the result.
func TestHost_Call(t *testing.T) {
	h := guesttest.New(t, newTestDriver(), guesttest.Options{})
	tests := []struct {
		name   string
		method string
		args   []any
		want   any
		err    string
	}{
		{"positional and keywords", "echo", []any{1, "a", []byte{2}, guesttest.KW{"k": true}},
			abi.Tuple{[]any{int64(1), "a", []byte{2}}, map[string]any{"k": true}}, ""},
		{"no arguments", "echo", nil, abi.Tuple{[]any{}, map[string]any{}}, ""},
		{"a control method", "status", nil, int64(0), ""},
		{"an unknown method", "nope", nil, nil, "NotImplementedError: testdriver has no method nope()"},
		{"an argument the ABI cannot carry", "echo", []any{struct{}{}}, nil, "TypeError: "},
		{"a raised OSError", "raise", []any{abi.KindOSError, abi.ETIMEDOUT, "no chip"}, nil, "OSError: [Errno 110] no chip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := h.Call(tt.method, tt.args...)
			if tt.err != "" {
				if _, ok := err.(*abi.Error); !ok || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("%s() = %v, %v; want an *abi.Error containing %q", tt.method, got, err, tt.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("%s() = %#v, %v; want %#v", tt.method, got, err, tt.want)
			}
		})
	}
}

// active(True) reaches the driver, which reports its link.
func TestHost_Link(t *testing.T) {
	h := guesttest.New(t, newTestDriver(), guesttest.Options{})
	if l := h.Link(0); l.Up {
		t.Fatalf("link %+v before active(True)", l)
	}
	for _, up := range []bool{true, false, true} {
		if _, err := h.Call("active", up); err != nil {
			t.Fatal(err)
		}
	}
	up := guesttest.LinkState{Up: true, Type: abi.LinkEthernet, MTU: 1500}
	down := guesttest.LinkState{Type: abi.LinkEthernet, MTU: 1500}
	want := []guesttest.LinkState{up, down, up}
	if got := h.Links(0); !reflect.DeepEqual(got, want) || h.Link(0) != want[2] || len(h.Links(1)) != 0 {
		t.Fatalf("links %v (interface 1: %v), want %v on interface 0", got, h.Links(1), want)
	}
	imp := h.Imports()
	for _, tt := range []struct {
		iface, up, kind, mtu int32
		want                 int32
	}{
		{2, 1, 1, 0, -abi.ENODEV},
		{0, 2, 1, 0, -abi.EINVAL},
		{0, 1, 3, 0, -abi.EINVAL},
		{0, 1, 1, 67, -abi.EINVAL},
		{1, 1, int32(abi.LinkIP), 1400, 0},
	} {
		if rc := imp.Link(tt.iface, tt.up, tt.kind, tt.mtu); rc != tt.want {
			t.Errorf("link(%d, %d, %d, %d) = %d, want %d", tt.iface, tt.up, tt.kind, tt.mtu, rc, tt.want)
		}
	}
}

// Frames the driver hands to the core are kept per interface.
func TestHost_Frames(t *testing.T) {
	h := guesttest.New(t, newTestDriver(), guesttest.Options{})
	f0, f1 := bytes.Repeat([]byte{0xa0}, 60), bytes.Repeat([]byte{0xa1}, 1514)
	if _, err := h.Call("deliver", f0, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := h.CallOn(1, "deliver", f1); err != nil {
		t.Fatal(err)
	}
	if got := h.Frames(0); len(got) != 2 || !bytes.Equal(got[0], f0) || !bytes.Equal(got[1], f0) {
		t.Errorf("interface 0 got %d frames, want 2 copies of the 60-byte frame", len(got))
	}
	if got := h.Frames(1); len(got) != 1 || !bytes.Equal(got[0], f1) {
		t.Errorf("interface 1 got %d frames, want the 1514-byte frame", len(got))
	}
	imp := h.Imports()
	if rc := imp.RxPush(2, f0); rc != -abi.ENODEV {
		t.Errorf("rx_push on interface 2 = %d, want -ENODEV", rc)
	}
	if rc := imp.RxPush(0, make([]byte, abi.MaxFrame+1)); rc != -abi.EMSGSIZE {
		t.Errorf("rx_push of %d bytes = %d, want -EMSGSIZE", abi.MaxFrame+1, rc)
	}
}

// Transmit hands frames over through the transmit buffer, and reports
// busy as guest.ErrBusy.
func TestHost_Transmit(t *testing.T) {
	h := guesttest.New(t, newTestDriver(), guesttest.Options{})
	f := bytes.Repeat([]byte{0x5a}, 100)
	if err := h.Transmit(f); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Call("config", guesttest.KW{"busy": true}); err != nil {
		t.Fatal(err)
	}
	if err := h.Transmit(f); !errors.Is(err, guest.ErrBusy) {
		t.Fatalf("Transmit while busy = %v, want guest.ErrBusy", err)
	}
	if err := h.Transmit(make([]byte, guest.TxBufferSize+1)); err == nil || !strings.Contains(err.Error(), "does not fit") {
		t.Fatalf("a frame larger than the transmit buffer: %v", err)
	}
	sent, err := h.Call("sent")
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := sent.([]any); !ok || len(l) != 1 || !bytes.Equal(l[0].([]byte), f) {
		t.Fatalf("the driver kept %v, want the one frame it took", sent)
	}
}

// Report merges the driver's report() maps and refuses what the host
// refuses; log lines are kept.
func TestHost_ReportAndLogs(t *testing.T) {
	h := guesttest.New(t, newTestDriver(), guesttest.Options{})
	for _, m := range []map[string]any{{"addr4": "10.0.0.2", "dns": []any{"10.0.0.1"}}, {"peer4": "10.0.0.1"}} {
		if _, err := h.Call("report", m); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]any{"addr4": "10.0.0.2", "peer4": "10.0.0.1", "dns": []any{"10.0.0.1"}}
	if got := h.Reported(0); !reflect.DeepEqual(got, want) || h.Reported(1) != nil {
		t.Fatalf("reported %v (interface 1: %v), want %v", got, h.Reported(1), want)
	}
	_, err := h.Call("report", map[string]any{"gw4": "10.0.0.1"})
	checkErrno(t, err, abi.EINVAL)
	if _, err := h.Call("log", "hello"); err != nil {
		t.Fatal(err)
	}
	if got := h.Logs(); len(got) != 1 || got[0] != (guesttest.LogLine{Level: abi.LogInfo, Msg: "hello"}) || got[0].String() != "INFO hello" {
		t.Fatalf("logs %v, want the one INFO line", got)
	}
}
