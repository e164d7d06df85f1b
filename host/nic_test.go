package host_test

import (
	"errors"
	"reflect"
	"syscall"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
)

func TestNIC_AbstractNIC(t *testing.T) {
	r := newRig(t, config.Limits{})
	p := r.load(t, "full", plugin("full"))
	nic := p.NICs()[0]
	ctx := ctxT(t)

	if up, err := nic.Active(ctx); err != nil || up {
		t.Fatalf("Active() = %v, %v; want false before activation", up, err)
	}
	if st, err := nic.Status(ctx); err != nil || st != int64(0) {
		t.Fatalf("Status() = %v, %v; want 0 while inactive", st, err)
	}
	// connect() on an inactive interface is the driver's OSError.
	if err := nic.Connect(ctx, "net"); !errors.Is(err, syscall.EPERM) {
		t.Fatalf("Connect on inactive NIC: %v, want EPERM", err)
	}
	if err := nic.SetActive(ctx, true); err != nil {
		t.Fatal(err)
	}
	if up, err := nic.Active(ctx); err != nil || !up {
		t.Fatalf("Active() = %v, %v after SetActive(true)", up, err)
	}
	if st := nic.LinkState(); !st.Up || st.Type != host.LinkEthernet || st.MTU != 1500 {
		t.Fatalf("link state after activation = %+v", st)
	}
	if err := nic.Connect(ctx, "net", "secret", host.KW{"bssid": []byte{1, 2, 3, 4, 5, 6}}); err != nil {
		t.Fatal(err)
	}
	// A LAN interface is connected once the driver says so and it has an
	// address, as MicroPython reports it: no DHCP server answers here.
	if ok, err := nic.IsConnected(ctx); err != nil || ok {
		t.Fatalf("IsConnected() = %v, %v after Connect with no address", ok, err)
	}
	if err := nic.SetIPConfig(ctx, host.KW{"addr4": "192.0.2.7/24"}); err != nil {
		t.Fatal(err)
	}
	if ok, err := nic.IsConnected(ctx); err != nil || !ok {
		t.Fatalf("IsConnected() = %v, %v after Connect and a static address", ok, err)
	}
	if err := nic.Connect(ctx, 42); !errors.Is(err, abi.ErrType) || !contains(err.Error(), "ssid: expected str, got int") {
		t.Fatalf("Connect(42) = %v, want a TypeError naming ssid", err)
	}
	if err := nic.Disconnect(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, _ := nic.IsConnected(ctx); ok {
		t.Fatal("IsConnected after Disconnect")
	}
	nets, err := nic.Scan(ctx, nil)
	if err != nil || len(nets) != 1 {
		t.Fatalf("Scan() = %v, %v", nets, err)
	}
	want := abi.Tuple{"testnet", []byte{2, 0, 0, 0, 0, 1}, int64(6), int64(-42), int64(3), false}
	if !reflect.DeepEqual(nets[0], want) {
		t.Fatalf("scan tuple = %#v, want %#v", nets[0], want)
	}
	if v, err := nic.StatusParam(ctx, "iface"); err != nil || v != int64(0) {
		t.Fatalf("status('iface') = %v, %v", v, err)
	}
	if v, err := p.NICs()[1].StatusParam(ctx, "iface"); err != nil || v != int64(1) {
		t.Fatalf("second interface: status('iface') = %v, %v; the interface index did not cross", v, err)
	}
	if _, err := nic.StatusParam(ctx, "rssi"); !errors.Is(err, abi.ErrValue) || !contains(err.Error(), `"rssi"`) {
		t.Fatalf("status('rssi') = %v, want a ValueError naming it", err)
	}
}

func TestNIC_Config(t *testing.T) {
	r := newRig(t, config.Limits{})
	nic := r.load(t, "full", plugin("full")).NICs()[0]
	ctx := ctxT(t)
	newMAC := []byte{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee}

	tests := []struct {
		name    string
		kw      host.KW
		wantErr error
		wantMsg string
	}{
		{"five-byte mac", host.KW{"mac": []byte{1, 2, 3, 4, 5}}, abi.ErrValue, "a MAC address is 6 bytes, got 5"},
		{"mac as str", host.KW{"mac": "02:00:00:00:00:01"}, abi.ErrType, "mac: expected bytes, got str"},
		{"unknown param", host.KW{"colour": "red"}, abi.ErrValue, `unknown config param "colour"`},
		{"wrong type", host.KW{"label": 5}, abi.ErrType, "label: expected str, got int"},
		{"one bad of two changes nothing", host.KW{"label": "changed", "busy": "yes"}, abi.ErrType, "busy: expected bool"},
		{"unencodable value", host.KW{"label": struct{}{}}, abi.ErrType, "cannot carry"},
		{"nothing to set", host.KW{}, abi.ErrType, "needs at least one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := nic.SetConfig(ctx, tt.kw)
			if !errors.Is(err, tt.wantErr) || !contains(err.Error(), tt.wantMsg) {
				t.Fatalf("SetConfig(%v) = %v; want %v containing %q", tt.kw, err, tt.wantErr, tt.wantMsg)
			}
		})
	}
	if v, err := nic.Config(ctx, "label"); err != nil || v != "" {
		t.Fatalf("label after refused calls = %q, %v; want unchanged", v, err)
	}
	if err := nic.SetConfig(ctx, host.KW{"mac": newMAC, "label": "uplink"}); err != nil {
		t.Fatal(err)
	}
	if v, _ := nic.Config(ctx, "mac"); !reflect.DeepEqual(v, newMAC) {
		t.Fatalf("config('mac') = %v, want %v", v, newMAC)
	}
	if got := nic.MAC(); !reflect.DeepEqual([]byte(got), newMAC) {
		t.Fatalf("host's MAC for the NIC = %v, want the configured %v", got, newMAC)
	}
	if _, err := nic.Config(ctx, "colour"); !errors.Is(err, abi.ErrValue) || !contains(err.Error(), `"colour"`) {
		t.Fatalf("config('colour') = %v, want a ValueError naming it", err)
	}
}

// IP configuration goes to the host's core, never to the driver.
func TestNIC_IPConfigGoesToCore(t *testing.T) {
	r := newRig(t, config.Limits{})
	p := r.load(t, "full", plugin("full"))
	nic := p.NICs()[0]
	ctx := ctxT(t)
	calls := p.Stats().Calls
	if err := nic.SetIPConfig(ctx, host.KW{"addr4": "192.0.2.2/24", "gw4": "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	if v, err := nic.IPConfig(ctx, "addr4"); err != nil || !reflect.DeepEqual(v, abi.Tuple{"192.0.2.2", "255.255.255.0"}) {
		t.Fatalf("ipconfig('addr4') = %v, %v", v, err)
	}
	if err := nic.SetIfConfig(ctx, abi.Tuple{"192.0.2.3", "255.255.255.0", "192.0.2.1", "192.0.2.53"}); err != nil {
		t.Fatal(err)
	}
	if v, _ := nic.IfConfig(ctx); !reflect.DeepEqual(v, abi.Tuple{"192.0.2.3", "255.255.255.0", "192.0.2.1", "192.0.2.53"}) {
		t.Fatalf("ifconfig() = %v", v)
	}
	if v, _ := r.h.IPConfig("dns"); v != "192.0.2.53" {
		t.Fatalf("ifconfig's DNS server did not become the global one: %v", v)
	}
	if _, err := nic.IPConfig(ctx, "colour"); !errors.Is(err, abi.ErrValue) {
		t.Fatalf("unknown ipconfig parameter: %v", err)
	}
	if got := p.Stats().Calls; got != calls {
		t.Fatalf("IP configuration made %d calls into the driver", got-calls)
	}
}

func TestNIC_Call(t *testing.T) {
	r := newRig(t, config.Limits{})
	nic := r.load(t, "full", plugin("full")).NICs()[0]
	ctx := ctxT(t)
	v, err := nic.Call(ctx, "echo", 1, "two", []byte{3}, 4.5, nil, true, []any{abi.Tuple{int64(6)}}, host.KW{"k": map[string]any{"n": -7}})
	if err != nil {
		t.Fatal(err)
	}
	want := abi.Tuple{
		[]any{int64(1), "two", []byte{3}, 4.5, nil, true, []any{abi.Tuple{int64(6)}}},
		map[string]any{"k": map[string]any{"n": int64(-7)}},
	}
	if !reflect.DeepEqual(v, want) {
		t.Fatalf("echo = %#v\nwant %#v", v, want)
	}
	if _, err := nic.Call(ctx, "frobnicate"); !errors.Is(err, abi.ErrUnsupported) || !contains(err.Error(), "frobnicate") {
		t.Fatalf("unknown method: %v", err)
	}
	// Every error kind crosses with its errno and message.
	for _, e := range []*abi.Error{
		abi.ValueError("bad value"), abi.TypeError("bad type"), abi.OSError(abi.ETIMEDOUT, "late"), abi.Unsupported("nope"),
	} {
		_, err := nic.Call(ctx, "raise", e.Kind, e.Errno, e.Msg)
		var got *abi.Error
		if !errors.As(err, &got) || *got != *e {
			t.Errorf("raise %v: got %v", e, err)
		}
	}
}
