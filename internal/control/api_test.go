package control

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/internal/wait"
)

// wantRemote checks that err is a RemoteError of the type and status, whose
// message holds every part.
func wantRemote(t *testing.T, err error, typ string, status int, parts ...string) *RemoteError {
	t.Helper()
	var re *RemoteError
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T), want a RemoteError %s", err, err, typ)
	}
	if re.Type != typ || re.Status != status {
		t.Fatalf("error %q with status %d, want %s with %d", re, re.Status, typ, status)
	}
	for _, p := range parts {
		if !strings.Contains(re.Message, p) {
			t.Fatalf("error %q does not say %q", re, p)
		}
	}
	return re
}

func TestServer_Status(t *testing.T) {
	r := newRig(t, nil)
	st, err := r.c.Status(wait.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	if st.Version != "test" || st.ABI != "1.1" || st.ABIVersion != abi.Version || st.Hostname != "board-7" ||
		st.PID != os.Getpid() || st.Plugins != 2 || st.NICs != 3 || st.UptimeSeconds < 0 {
		t.Fatalf("status %+v", st)
	}
}

func TestServer_NICs(t *testing.T) {
	r := newRig(t, nil)
	ctx := wait.Context(t)
	nics, err := r.c.NICs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range nics {
		names = append(names, n.Name)
	}
	if !slices.Equal(names, []string{"lan0", "t0.eth0", "t0.eth1"}) {
		t.Fatalf("NICs %v", names)
	}
	lan, _ := r.h.NIC("lan0")
	n := nics[0]
	if n.Class != "LAN" || n.Plugin != "lan0" || n.Index != 0 || n.MAC != lan.MAC().String() ||
		n.Active == nil || *n.Active || n.Link.Up || n.Generation != 1 || n.Addr4 != "" {
		t.Fatalf("lan0 before active(True): %+v", n)
	}
	if nics[2].Index != 1 || nics[2].Plugin != "t0" {
		t.Fatalf("t0.eth1: %+v", nics[2])
	}

	r.up(t)
	wait.For(t, "lan0 listed up with its lease", func() bool {
		n, err = r.c.NIC(ctx, "lan0")
		return err == nil && n.Link.Up && n.Addr4 != ""
	})
	a4, _ := lan.Addr4()
	if n.Active == nil || !*n.Active || n.Link.Type != "ethernet" || n.Addr4 != a4.String() || n.Stats.RxFrames == 0 || n.Stats.TxFrames == 0 {
		t.Fatalf("lan0 after active(True): %+v (host says addr4 %s)", n, a4)
	}

	_, err = r.c.NIC(ctx, "eth9")
	wantRemote(t, err, TypeNotFound, http.StatusNotFound, `"eth9"`, "lan0, t0.eth0, t0.eth1")
	_, err = r.c.Call(ctx, "eth9", "active", nil, nil)
	wantRemote(t, err, TypeNotFound, http.StatusNotFound, `"eth9"`, "lan0")
}

func TestServer_Plugins(t *testing.T) {
	r := newRig(t, nil)
	ctx := wait.Context(t)
	ps, err := r.c.Plugins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 {
		t.Fatalf("%d plugins, want 2", len(ps))
	}
	p := ps[0]
	if p.Name != "lan0" || p.Class != "LAN" || p.Driver.Name != "lan" || p.Source != r.source || !p.Up ||
		p.Generation != 1 || !slices.Equal(p.NICs, []string{"lan0"}) || !strings.HasPrefix(p.Digest, "sha256:") ||
		p.Stats.Calls == 0 || p.Stats.Memory == 0 || p.LastFault != "" {
		t.Fatalf("lan0: %+v", p)
	}
	if ps[1].Driver != (DriverInfo{Name: "testdriver", Version: "1"}) || !slices.Equal(ps[1].NICs, []string{"t0.eth0", "t0.eth1"}) {
		t.Fatalf("t0: %+v", ps[1])
	}
	_, err = r.c.Plugin(ctx, "nope")
	wantRemote(t, err, TypeNotFound, http.StatusNotFound, `"nope"`, "lan0, t0")
	_, err = r.c.ReloadPlugin(ctx, "nope")
	wantRemote(t, err, TypeNotFound, http.StatusNotFound, `"nope"`)
}

// The AbstractNIC methods with MicroPython's argument rules, on the LAN
// driver over simulated hardware.
func TestServer_NICMethods(t *testing.T) {
	r := newRig(t, nil)
	ctx := wait.Context(t)
	if v := r.call(t, "active", nil, nil); v != false {
		t.Fatalf("active() = %#v, want False", v)
	}
	r.up(t)
	if v := r.call(t, "active", nil, nil); v != true {
		t.Fatalf("active() after active(True) = %#v", v)
	}
	if _, ok := r.call(t, "status", nil, nil).(int64); !ok {
		t.Fatal("status() is not an int")
	}

	lan, _ := r.h.NIC("lan0")
	if v := r.call(t, "config", []any{"mac"}, nil); !bytes.Equal(v.([]byte), lan.MAC()) {
		t.Fatalf("config('mac') = %x, want %s", v, lan.MAC())
	}
	mac := []byte{2, 0, 0, 0, 0, 0x42}
	if v := r.call(t, "config", nil, map[string]any{"mac": mac}); v != nil {
		t.Fatalf("config(mac=...) = %#v, want None", v)
	}
	if v := r.call(t, "config", []any{"mac"}, nil); !bytes.Equal(v.([]byte), mac) || !bytes.Equal(lan.MAC(), mac) {
		t.Fatalf("config('mac') after setting = %x (host %s), want %x", v, lan.MAC(), mac)
	}

	a4 := r.call(t, "ipconfig", []any{"addr4"}, nil)
	tup, ok := a4.(abi.Tuple)
	if !ok || len(tup) != 2 {
		t.Fatalf("ipconfig('addr4') = %#v, want a tuple (ip, netmask)", a4)
	}
	addr, _ := lan.Addr4()
	if tup[0] != addr.Addr().String() {
		t.Fatalf("ipconfig('addr4') = %v, host says %s", tup, addr)
	}
	if ifc, ok := r.call(t, "ifconfig", nil, nil).(abi.Tuple); !ok || len(ifc) != 4 || ifc[0] != tup[0] {
		t.Fatalf("ifconfig() = %#v", ifc)
	}
	if regs, ok := r.call(t, "regs", nil, nil).(map[string]any); !ok || len(regs) == 0 {
		t.Fatalf("regs() (class-specific) = %#v, want the PHY's registers", regs)
	}

	for _, c := range []struct {
		method string
		args   []any
		kw     map[string]any
		typ    string
		status int
		says   string
	}{
		{"active", []any{"yes"}, nil, TypeTypeError, 400, "expected bool, got str"},
		{"active", []any{true, false}, nil, TypeTypeError, 400, "at most 1"},
		{"active", nil, map[string]any{"up": true}, TypeTypeError, 400, "no keyword"},
		{"config", []any{"mac"}, map[string]any{"mac": mac}, TypeTypeError, 400, "not both"},
		{"config", []any{"mac", "trace"}, nil, TypeTypeError, 400, "only one"},
		{"config", nil, map[string]any{"mac": "02:00:00:00:00:01"}, TypeTypeError, 400, "mac"},
		{"config", nil, map[string]any{"mac": []byte{1, 2, 3}}, TypeValueError, 400, "mac"},
		{"ipconfig", []any{"addr4"}, map[string]any{"dhcp4": true}, TypeTypeError, 400, "not both"},
		{"ipconfig", []any{5}, nil, TypeTypeError, 400, "expected str, got int"},
		{"status", []any{1}, nil, TypeTypeError, 400, "expected str"},
		{"isconnected", []any{1}, nil, TypeTypeError, 400, "no arguments"},
		{"scan", []any{1}, nil, TypeTypeError, 400, "keyword arguments only"},
		{"connect", nil, nil, TypeNotImplementedError, 501, "connect"},
		{"frobnicate", nil, nil, TypeNotImplementedError, 501, "frobnicate"},
		{"no-such", nil, nil, TypeNotFound, 404, "active, config"},
	} {
		_, err := r.c.Call(ctx, "lan0", c.method, c.args, c.kw)
		re := wantRemote(t, err, c.typ, c.status, c.says)
		if a := re.AsABI(); (a != nil) != strings.HasSuffix(c.typ, "Error") {
			t.Errorf("%s: AsABI %v", re, a)
		}
	}
	// Nothing the refused calls asked for happened.
	if !bytes.Equal(lan.MAC(), mac) {
		t.Fatalf("MAC %s after refused calls, want %x", lan.MAC(), mac)
	}
	if v := r.call(t, "active", nil, nil); v != true {
		t.Fatal("a refused active() call changed active()")
	}
}

// Every kind of value crosses the API and the ABI to the driver and back
// unchanged: echo() returns (args, kwargs).
func TestServer_ValuesRoundTrip(t *testing.T) {
	r := newRig(t, nil)
	args := []any{
		nil, true, int64(-7), int64(math.MaxInt64), 1.0, -0.5, 1e300, math.Inf(-1), "héllo\n\"q\"",
		[]byte{0, 1, 0xfe}, []byte{}, abi.Tuple{int64(1), abi.Tuple{}}, []any{[]any{[]any{"deep"}}},
		map[string]any{"$ref": "x", "a": []byte("b")}, map[string]any{},
	}
	kw := map[string]any{"ssid": "net", "key": []byte("k"), "t": abi.Tuple{1.5, int64(2)}}
	v, err := r.c.Call(wait.Context(t), "t0.eth0", "echo", args, kw)
	if err != nil {
		t.Fatal(err)
	}
	want := abi.Tuple{args, kw}
	if !reflect.DeepEqual(v, want) {
		t.Fatalf("echo returned\n%#v\nwant\n%#v", v, want)
	}
}

// A driver's exceptions come back with their kind, errno and message.
func TestServer_DriverErrors(t *testing.T) {
	r := newRig(t, nil)
	ctx := wait.Context(t)
	for _, c := range []struct {
		kind, errno int
		typ         string
		status      int
		line        string
	}{
		{abi.KindValueError, 0, TypeValueError, 400, "ValueError: boom"},
		{abi.KindTypeError, 0, TypeTypeError, 400, "TypeError: boom"},
		{abi.KindOSError, abi.ETIMEDOUT, TypeOSError, 500, "OSError: [Errno 110] boom"},
		{abi.KindUnsupported, 0, TypeNotImplementedError, 501, "NotImplementedError: boom"},
	} {
		_, err := r.c.Call(ctx, "t0.eth0", "raise", []any{int64(c.kind), int64(c.errno), "boom"}, nil)
		re := wantRemote(t, err, c.typ, c.status, "boom")
		if err.Error() != c.line {
			t.Errorf("error reads %q, want %q", err, c.line)
		}
		var ae *abi.Error
		if !errors.As(err, &ae) || ae.Kind != c.kind || ae.Errno != c.errno || ae.Msg != "boom" {
			t.Errorf("errors.As(%v) = %+v", re, ae)
		}
	}
	_, err := r.c.Call(ctx, "t0.eth0", "raise", []any{int64(abi.KindOSError), int64(abi.EIO), "x"}, nil)
	if !errors.Is(err, abi.ErrOS) || errors.Is(err, abi.ErrValue) {
		t.Fatalf("errors.Is(%v, abi.ErrOS) does not tell the kind", err)
	}
}

// A call that makes the plugin fault is answered 503 with the fault, and
// the plugin comes back.
func TestServer_Fault(t *testing.T) {
	r := newRig(t, nil)
	ctx := wait.Context(t)
	_, err := r.c.Call(ctx, "t0.eth0", "crash", nil, nil)
	re := wantRemote(t, err, TypeOSError, http.StatusServiceUnavailable, "t0")
	if re.Errno != abi.EIO {
		t.Fatalf("fault errno %d, want EIO", re.Errno)
	}
	wait.For(t, "t0 to be restarted", func() bool {
		p, err := r.c.Plugin(ctx, "t0")
		return err == nil && p.Up && p.Generation == 2 && p.Faults == 1 && p.LastFault != ""
	})
}

func TestServer_Network(t *testing.T) {
	r := newRig(t, nil)
	ctx := wait.Context(t)
	net := func(fn string, args []any, kw map[string]any) any {
		t.Helper()
		v, err := r.c.Network(ctx, fn, args, kw)
		if err != nil {
			t.Fatalf("network.%s(%v, %v): %v", fn, args, kw, err)
		}
		return v
	}
	if v := net("hostname", nil, nil); v != "board-7" {
		t.Fatalf("hostname() = %#v", v)
	}
	long := strings.Repeat("a", 33)
	_, err := r.c.Network(ctx, "hostname", []any{long}, nil)
	var ae *abi.Error
	errors.As(config.CheckHostname(long), &ae)
	re := wantRemote(t, err, TypeValueError, 400, ae.Msg)
	if re.Error() != "ValueError: "+ae.Msg {
		t.Fatalf("error reads %q, want nichost's message %q", re, ae.Msg)
	}
	if v := net("hostname", nil, nil); v != "board-7" || r.h.Hostname() != "board-7" {
		t.Fatalf("hostname() = %#v after a refused one", v)
	}
	_, err = r.c.Network(ctx, "hostname", []any{int64(5)}, nil)
	wantRemote(t, err, TypeTypeError, 400, "expected str, got int")
	if v := net("hostname", []any{"board-8"}, nil); v != nil || r.h.Hostname() != "board-8" {
		t.Fatalf("hostname('board-8') = %#v, host has %q", v, r.h.Hostname())
	}

	if v := net("country", nil, nil); v != "XX" {
		t.Fatalf("country() = %#v", v)
	}
	net("country", []any{"DE"}, nil)
	if v := net("country", nil, nil); v != "DE" {
		t.Fatalf("country() = %#v after country('DE')", v)
	}

	if v := net("ipconfig", []any{"prefer"}, nil); v != int64(4) {
		t.Fatalf("ipconfig('prefer') = %#v", v)
	}
	net("ipconfig", nil, map[string]any{"prefer": int64(6), "dns": "192.0.2.53"})
	if v := net("ipconfig", []any{"prefer"}, nil); v != int64(6) {
		t.Fatalf("ipconfig('prefer') = %#v after setting 6", v)
	}
	if v := net("ipconfig", []any{"dns"}, nil); v != "192.0.2.53" {
		t.Fatalf("ipconfig('dns') = %#v", v)
	}
	_, err = r.c.Network(ctx, "ipconfig", []any{"dns"}, map[string]any{"prefer": int64(4)})
	wantRemote(t, err, TypeTypeError, 400, "not both")
	_, err = r.c.Network(ctx, "ipconfig", nil, map[string]any{"prefer": int64(5)})
	wantRemote(t, err, TypeValueError, 400, "4 or 6")

	if v := net("phy_mode", nil, nil); v != int64(0) {
		t.Fatalf("phy_mode() = %#v", v)
	}
	net("phy_mode", []any{int64(2)}, nil) // t0 declares phy_mode
	if v := net("phy_mode", nil, nil); v != int64(2) {
		t.Fatalf("phy_mode() = %#v after phy_mode(2)", v)
	}
	_, err = r.c.Network(ctx, "phy_mode", []any{int64(9)}, nil)
	wantRemote(t, err, TypeValueError, 400, "MODE_11B")

	_, err = r.c.Network(ctx, "route", nil, nil)
	wantRemote(t, err, TypeNotFound, 404, "route", "country, hostname, ipconfig, phy_mode")
}

// Every call runs under the server's call timeout; one that cannot start
// in time is answered 504 and changes nothing.
func TestServer_CallTimeout(t *testing.T) {
	r := newRig(t, func(o *ServerOptions) { o.CallTimeout = time.Nanosecond })
	_, err := r.c.Call(wait.Context(t), "lan0", "active", []any{true}, nil)
	re := wantRemote(t, err, TypeOSError, http.StatusGatewayTimeout, "deadline")
	if re.Errno != abi.ETIMEDOUT {
		t.Fatalf("errno %d, want ETIMEDOUT", re.Errno)
	}
	lan, _ := r.h.NIC("lan0")
	if up, err := lan.Active(wait.Context(t)); err != nil || up {
		t.Fatalf("active() = %v, %v after the timed-out active(True)", up, err)
	}
}

// classify answers each kind of error the host returns with its status
// and type.
func TestClassify(t *testing.T) {
	pe := func(err error) error { return &host.PluginError{Plugin: "p", Op: "p.active()", Err: err} }
	for _, c := range []struct {
		err    error
		status int
		typ    string
		errno  int
		msg    string
	}{
		{pe(abi.ValueError("bad %s", "x")), 400, TypeValueError, 0, "bad x"},
		{fmt.Errorf("host: network.hostname(): %w", abi.TypeError("t")), 400, TypeTypeError, 0, "t"},
		{pe(abi.OSError(abi.EIO, "io")), 500, TypeOSError, abi.EIO, "io"},
		{pe(abi.Unsupported("no")), 501, TypeNotImplementedError, 0, "no"},
		{pe(host.ErrClosed), 503, TypeOSError, abi.ENODEV, `plugin "p"`},
		{pe(context.DeadlineExceeded), 504, TypeOSError, abi.ETIMEDOUT, "deadline exceeded"},
		{notFound("no NIC"), 404, TypeNotFound, 0, "no NIC"},
		{fmt.Errorf("x: %w", ErrValue), 400, TypeBadRequest, 0, "bad JSON value"},
		{errors.New("surprise"), 500, TypeInternal, 0, "surprise"},
	} {
		e := classify(c.err)
		if e.status != c.status || e.e.Type != c.typ || e.e.Errno != c.errno || !strings.Contains(e.e.Message, c.msg) {
			t.Errorf("classify(%v) = %d %+v, want %d %s errno %d saying %q", c.err, e.status, e.e, c.status, c.typ, c.errno, c.msg)
		}
	}
}
