package tests

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/build"
	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/hosttest"
	"github.com/nichost/nichost/internal/testenv"
	"github.com/nichost/nichost/internal/valuevectors"
)

// The C SDK (abi/c/nic.c) is held to ABI.md through its exports: the probe
// driver of abi/c/testdata/sdkprobe, whose callbacks reach every path of the
// SDK, runs in a real host (TestCSDK_*), and, for the argument shapes and
// hostile messages no host sends, in a bare wazero runtime whose "nic"
// module records what the SDK hands it (TestCSDK_Raw*, FuzzCSDK_Exports).
// Whatever the driver gets wrong, the SDK must turn it into an error for
// the caller: the host never sees an ABI violation, so the instance is
// never discarded.

var probeDir = filepath.Join("..", "abi", "c", "testdata", "sdkprobe")

// needClang skips (or fails under NICHOST_E2E=require) without clang.
func needClang(t testing.TB) {
	t.Helper()
	testenv.NeedTool(t, "clang", "clang, with lld, wasi-libc and libclang-rt-14-dev-wasm32")
}

// probeRig is the probe in a host, its NIC on a recording Link.
type probeRig struct {
	*hosttest.Rig
	ctx context.Context
}

func newProbeRig(t *testing.T, opts map[string]any) *probeRig {
	t.Helper()
	needClang(t)
	r := hosttest.NewRig(t, probeConfig(opts))
	p := &probeRig{Rig: r, ctx: hosttest.Context(t)}
	t.Cleanup(func() { p.checkHealthy(t) }) // runs before the rig closes the host
	return p
}

func probeConfig(opts map[string]any) hosttest.RigConfig {
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1})
	return hosttest.RigConfig{
		Hostname: "probe-host",
		Sims:     map[string]any{"port": seg.Attach("nic"), "mdio": sim.NewMDIO()},
		Plugin: config.PluginConfig{Name: "probe", Source: probeDir, Class: abi.ClassLAN, Options: opts,
			Buses: map[string]config.BusGrant{"port": {Kind: "frame", Sim: "port"}, "mdio": {Kind: "mdio", Sim: "mdio"}}},
	}
}

// checkHealthy fails the test if the host ever discarded the instance: an
// ABI violation, a trap, anything the SDK should have turned into an error.
func (p *probeRig) checkHealthy(t testing.TB) {
	t.Helper()
	st := p.Plugin.State()
	if st.Faults != 0 || st.Restarts != 0 || !st.Up || p.Plugin.Stats().Faults != 0 {
		t.Errorf("the instance was discarded: %d faults, %d restarts, up %v, last fault: %v", st.Faults, st.Restarts, st.Up, st.LastFault)
	}
	if log := p.Log.String(); strings.Contains(log, "plugin instance failed") {
		t.Errorf("the host discarded the instance:\n%s", log)
	}
}

func (p *probeRig) call(t testing.TB, method string, args ...any) any {
	t.Helper()
	v, err := p.NIC.Call(p.ctx, method, args...)
	if err != nil {
		t.Fatalf("call(%q): %v", method, err)
	}
	return v
}

// callErr calls method and returns the error it raised, failing the test
// if it raised none.
func (p *probeRig) callErr(t testing.TB, method string, args ...any) *abi.Error {
	t.Helper()
	v, err := p.NIC.Call(p.ctx, method, args...)
	return asABIError(t, fmt.Sprintf("call(%q)", method), v, err)
}

func asABIError(t testing.TB, what string, v any, err error) *abi.Error {
	t.Helper()
	var e *abi.Error
	if !errors.As(err, &e) {
		t.Fatalf("%s = %#v, %v; want an error the driver raised", what, v, err)
	}
	return e
}

func wantError(t testing.TB, what string, got *abi.Error, want abi.Error) {
	t.Helper()
	if *got != want {
		t.Errorf("%s raised %s %d %q; want %s %d %q", what, abi.KindName(got.Kind), got.Errno, got.Msg, abi.KindName(want.Kind), want.Errno, want.Msg)
	}
}

func (p *probeRig) set(t testing.TB, kw host.KW) {
	t.Helper()
	if err := p.NIC.SetConfig(p.ctx, host.KW(kw)); err != nil {
		t.Fatalf("config(%v): %v", kw, err)
	}
}

// The description nic.c builds from the driver's table, and the start info
// it hands the driver, read through the SDK's accessors.
func TestCSDK_DescriptionAndStartInfo(t *testing.T) {
	p := newProbeRig(t, map[string]any{"n": 3, "name": "abc"})
	d := p.Plugin.Description()
	want := abi.Description{ABI: abi.Version, Class: abi.ClassLAN, Name: "probe", Version: "1", Interfaces: []string{"eth"},
		Buses: []abi.BusNeed{{Name: "port", Kind: abi.BusFrame}, {Name: "mdio", Kind: abi.BusMDIO}}}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("description %+v; want %+v", d, want)
	}

	info, ok := p.call(t, "start_info").(map[string]any)
	if !ok {
		t.Fatalf("start_info() = %#v, want the start info's dict", info)
	}
	mac := []byte(p.NIC.MAC())
	if ifs, _ := info["interfaces"].([]any); len(ifs) != 1 || !reflect.DeepEqual(ifs[0], map[string]any{"name": "eth", "mac": mac}) {
		t.Errorf("start info interfaces %#v; want eth with the NIC's MAC %x", info["interfaces"], mac)
	}
	if !reflect.DeepEqual(info["options"], map[string]any{"n": int64(3), "name": "abc"}) {
		t.Errorf("start info options %#v", info["options"])
	}
	buses, _ := info["buses"].(map[string]any)
	port, mdio := buses["port"], buses["mdio"]

	acc, ok := p.call(t, "accessors").(map[string]any)
	if !ok {
		t.Fatalf("accessors() = %#v", acc)
	}
	for k, want := range map[string]any{
		"port": port, "mdio": mdio, "nope": int64(-abi.EBADF), "mac": mac, "mac1": nil,
		"hostname": "probe-host", "country": info["country"], "phy_mode": int64(0),
		"tx_batch": true, "rx_batch": true, "blob": true, "options": int64(2),
	} {
		if !reflect.DeepEqual(acc[k], want) {
			t.Errorf("accessor %s = %#v; want %#v", k, acc[k], want)
		}
	}
	if h, _ := port.(int64); h <= 0 {
		t.Errorf("nic_bus_handle(\"port\") = %v; want a handle", port)
	}
	if c, _ := info["country"].(string); len(c) != 2 {
		t.Errorf("country %q", c)
	}
	polls := p.call(t, "polls").([]any)
	if polls[0].(int64) < 1 || polls[1].(int64)&int64(abi.EventStart) == 0 {
		t.Errorf("polls() = %v; want the first poll to carry EVENT_START", polls)
	}
}

// A driver's start refuses bad options; the load fails with its error.
func TestCSDK_StartFails(t *testing.T) {
	needClang(t)
	for _, tt := range []struct {
		opts map[string]any
		want abi.Error
	}{
		{map[string]any{"fail": "no chip"}, abi.Error{Kind: abi.KindOSError, Errno: abi.ENODEV, Msg: "probe: told to fail: no chip"}},
		{map[string]any{"n": "three"}, abi.Error{Kind: abi.KindTypeError, Msg: "options.n: expected int, got str"}},
		{map[string]any{"n": true}, abi.Error{Kind: abi.KindTypeError, Msg: "options.n: expected int, got bool"}},
		{map[string]any{"name": "a name far too long"}, abi.Error{Kind: abi.KindValueError, Msg: "options.name: a str of 19 bytes is longer than the 15 this driver takes"}},
		{map[string]any{"phy": 1}, abi.Error{Kind: abi.KindValueError, Msg: `options: unknown option "phy" (known: n, name, fail)`}},
	} {
		t.Run(fmt.Sprint(tt.opts), func(t *testing.T) {
			r := hosttest.NewHost(t, probeConfig(tt.opts))
			err := r.Load(t)
			e := asABIError(t, "load", nil, err)
			wantError(t, "start", e, tt.want)
			if !strings.Contains(err.Error(), "start") {
				t.Errorf("load error %q does not say the start failed", err)
			}
		})
	}
}

// richValue holds every type of the value model, nested.
func richValue() any {
	return map[string]any{
		"none": nil, "t": true, "f": false,
		"ints":   []any{int64(0), int64(23), int64(24), int64(-1), int64(-25), int64(math.MaxInt64), int64(math.MinInt64), int64(1) << 32},
		"floats": []any{0.5, -1e300, math.Inf(1), math.Inf(-1), math.SmallestNonzeroFloat64},
		"str":    "é€𝄞 and a \x00 NUL", "bytes": []byte{0, 1, 255}, "empty": []byte{},
		"tuple": abi.Tuple{"a", int64(1), abi.Tuple{}}, "list": []any{[]any{}, map[string]any{}},
		"": "an empty key",
	}
}

// Values cross both ways intact: nic_put_value copies them, the nic_put_*
// functions rebuild them, and the accessors name their types.
func TestCSDK_Values(t *testing.T) {
	p := newProbeRig(t, nil)
	v := richValue()
	for _, m := range []string{"echo", "roundtrip"} {
		if got := p.call(t, m, v); !reflect.DeepEqual(got, v) {
			t.Errorf("%s(v) = %#v; want %#v", m, got, v)
		}
	}
	// NaN is no value DeepEqual finds equal to itself.
	for _, m := range []string{"echo", "roundtrip"} {
		if got, ok := p.call(t, m, math.NaN()).(float64); !ok || !math.IsNaN(got) {
			t.Errorf("%s(nan) = %v", m, got)
		}
	}
	// 14 lists deep, in [name, [v], {}]: the deepest the host sends.
	var deep any = []any{}
	for range 13 {
		deep = []any{deep}
	}
	if got := p.call(t, "roundtrip", deep); !reflect.DeepEqual(got, deep) {
		t.Errorf("roundtrip of 14 nested lists = %#v", got)
	}
	got := p.call(t, "echo_args", int64(1), "two", host.KW{"k": []byte{3}, "z": nil})
	if want := (abi.Tuple{[]any{int64(1), "two"}, map[string]any{"k": []byte{3}, "z": nil}}); !reflect.DeepEqual(got, want) {
		t.Errorf("echo_args = %#v; want %#v", got, want)
	}
	got = p.call(t, "types", nil, false, int64(1), 1.5, "s", []byte{1}, []any{}, abi.Tuple{}, map[string]any{})
	if want := []any{"NoneType", "bool", "int", "float", "str", "bytes", "list", "tuple", "dict"}; !reflect.DeepEqual(got, want) {
		t.Errorf("types = %#v; want %#v", got, want)
	}
	p.checkHealthy(t)
}

// The SDK's checked reads raise the Go SDK's TypeErrors: the parameter, the
// type wanted, the type given; a bool is not an int.
func TestCSDK_CheckedReads(t *testing.T) {
	p := newProbeRig(t, nil)
	for _, tt := range []struct {
		args []any
		want any
		err  abi.Error
	}{
		{[]any{"int", int64(-7)}, int64(-7), abi.Error{}},
		{[]any{"int", true}, nil, abi.Error{Kind: abi.KindTypeError, Msg: "v: expected int, got bool"}},
		{[]any{"int", 1.0}, nil, abi.Error{Kind: abi.KindTypeError, Msg: "v: expected int, got float"}},
		{[]any{"int"}, nil, abi.Error{Kind: abi.KindTypeError, Msg: "missing argument v"}},
		{[]any{"bool", false}, false, abi.Error{}},
		{[]any{"bool", int64(0)}, nil, abi.Error{Kind: abi.KindTypeError, Msg: "v: expected bool, got int"}},
		{[]any{"bytes", []byte{9}}, []byte{9}, abi.Error{}},
		{[]any{"bytes", "s"}, nil, abi.Error{Kind: abi.KindTypeError, Msg: "v: expected bytes, got str"}},
		{[]any{"bytes", nil}, nil, abi.Error{Kind: abi.KindTypeError, Msg: "v: expected bytes, got NoneType"}},
		{[]any{"str", "abc", int64(4)}, "abc", abi.Error{}},
		{[]any{"str", "abcd", int64(4)}, nil, abi.Error{Kind: abi.KindValueError, Msg: "v: a str of 4 bytes is longer than the 3 this driver takes"}},
		{[]any{"str", "a\x00b", int64(8)}, nil, abi.Error{Kind: abi.KindValueError, Msg: "v: the str holds a NUL character"}},
		{[]any{"str", "a", int64(0)}, nil, abi.Error{Kind: abi.KindValueError, Msg: "v: no room for a str (nic_want_str with cap 0)"}},
		{[]any{"str", abi.Tuple{}, int64(8)}, nil, abi.Error{Kind: abi.KindTypeError, Msg: "v: expected str, got tuple"}},
	} {
		v, err := p.NIC.Call(p.ctx, "want", tt.args...)
		if tt.err.Kind == 0 {
			if err != nil || !reflect.DeepEqual(v, tt.want) {
				t.Errorf("want%v = %#v, %v; want %#v", tt.args, v, err, tt.want)
			}
			continue
		}
		wantError(t, fmt.Sprint("want", tt.args), asABIError(t, fmt.Sprint("want", tt.args), v, err), tt.err)
	}
	p.checkHealthy(t)
}

// Errors a driver raises reach the caller as it raised them; its mistakes
// (no error set, a result that is no status, a kind that does not exist, a
// negated errno) become errors that say so, never a violation.
func TestCSDK_Errors(t *testing.T) {
	p := newProbeRig(t, nil)
	for _, tt := range []struct {
		args []any
		want abi.Error
	}{
		{[]any{"raise", abi.KindValueError, 0, "bad value"}, abi.Error{Kind: abi.KindValueError, Msg: "bad value"}},
		{[]any{"raise", abi.KindTypeError, abi.EIO, "bad type"}, abi.Error{Kind: abi.KindTypeError, Msg: "bad type"}},
		{[]any{"raise", abi.KindOSError, abi.ETIMEDOUT, "no chip answers"}, abi.Error{Kind: abi.KindOSError, Errno: abi.ETIMEDOUT, Msg: "no chip answers"}},
		{[]any{"raise", abi.KindOSError, -abi.ENODEV, "negated"}, abi.Error{Kind: abi.KindOSError, Errno: abi.ENODEV, Msg: "negated"}},
		{[]any{"raise", abi.KindUnsupported, 0, "nope"}, abi.Error{Kind: abi.KindUnsupported, Msg: "nope"}},
		{[]any{"raise", 9, 0, "odd"}, abi.Error{Kind: abi.KindOSError, Errno: abi.EIO, Msg: "error kind 9 is not a NIC_*_ERROR kind: odd"}},
		{[]any{"raise", 0, 0, "zero"}, abi.Error{Kind: abi.KindOSError, Errno: abi.EIO, Msg: "error kind 0 is not a NIC_*_ERROR kind: zero"}},
		{[]any{"errno_error", -abi.ETIMEDOUT}, abi.Error{Kind: abi.KindOSError, Errno: abi.ETIMEDOUT, Msg: "probe: op: ETIMEDOUT"}},
		{[]any{"errno_error", -200}, abi.Error{Kind: abi.KindOSError, Errno: 200, Msg: "probe: op: errno 200"}},
		{[]any{"errno_error", math.MinInt32}, abi.Error{Kind: abi.KindOSError, Errno: abi.EIO, Msg: "probe: op: EIO"}},
		{[]any{"silent"}, abi.Error{Kind: abi.KindOSError, Errno: abi.EIO, Msg: "probe: the driver failed without saying why"}},
		{[]any{"weird"}, abi.Error{Kind: abi.KindOSError, Errno: abi.EIO, Msg: "probe: a callback returned 7 (0, or -1 with an error)"}},
	} {
		wantError(t, fmt.Sprint(tt.args), p.callErr(t, tt.args[0].(string), tt.args[1:]...), tt.want)
	}
	if got := p.call(t, "recover"); got != "recovered" {
		t.Errorf("recover() = %#v: an error a callback set and then returned 0 must be forgotten", got)
	}
	p.checkHealthy(t)
}

// A result the driver got wrong is an OSError naming what is wrong, not a
// reply the host would refuse.
func TestCSDK_BadReplies(t *testing.T) {
	p := newProbeRig(t, nil)
	for what, want := range map[string]string{
		"count": "invalid value encoding: value: the message ends inside the value (fewer values were written than a nic_put_list, nic_put_tuple or nic_put_dict count declared)",
		"extra": "invalid value encoding: 1 bytes after the value (more values were written than a nic_put_list, nic_put_tuple or nic_put_dict count declared, or two values at the top)",
		"utf8":  "a str is not valid UTF-8",
		"key":   "invalid value encoding: value: key 0 is an int, not a str",
		"dup":   `invalid value encoding: value: key "a" appears twice`,
		"deep":  "invalid value encoding: value[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: nests deeper than 16",
		"big":   "the value does not fit in the message (at most 65536 bytes)",
		"items": "a list holds at most 4096 items",
		"pairs": "a dict holds at most 1024 pairs",
		"null":  `nic_put_str of NULL (a str is "" or a value, not NULL)`,
	} {
		e := p.callErr(t, "badreply", what)
		wantError(t, "badreply("+what+")", e, abi.Error{Kind: abi.KindOSError, Errno: abi.EIO, Msg: "probe: driver result: " + want})
	}
	p.checkHealthy(t)
}

// longText is the probe's long_text: pad 'x's, then "é€𝄞a" while it fits
// in 2000 bytes.
func longText(pad int) string {
	s := strings.Repeat("x", pad)
	for len(s)+len("é€𝄞a") <= 2000 {
		s += "é€𝄞a"
	}
	return s
}

// A message over 1024 bytes is cut by the SDK on a character boundary: the
// host gets at most 1024 bytes of valid UTF-8 and has nothing to replace.
func TestCSDK_LongError(t *testing.T) {
	p := newProbeRig(t, nil)
	for pad := range 10 { // the cut falls at each byte of the 10-byte pattern
		full := longText(pad)
		e := p.callErr(t, "long_error", pad)
		switch {
		case e.Kind != abi.KindOSError || e.Errno != abi.EIO:
			t.Errorf("pad %d: %s %d", pad, abi.KindName(e.Kind), e.Errno)
		case len(e.Msg) > abi.MaxText || len(e.Msg) < abi.MaxText-3:
			t.Errorf("pad %d: a message of %d bytes; want the 1021..1024 bytes before the cut", pad, len(e.Msg))
		case !utf8.ValidString(e.Msg) || strings.ContainsRune(e.Msg, utf8.RuneError):
			t.Errorf("pad %d: the message is cut inside a character: ...%q", pad, e.Msg[len(e.Msg)-8:])
		case !strings.HasPrefix(full, e.Msg):
			t.Errorf("pad %d: the message is not the start of the driver's", pad)
		}
		if _, err := p.NIC.Call(p.ctx, "long_log", pad); err != nil {
			t.Fatal(err)
		}
	}
	// The log lines were cut the same way: none holds U+FFFD.
	hosttest.Eventually(t, "the long log lines in the host's log", func() bool { return strings.Contains(p.Log.String(), "xxxxxxxxxé€𝄞a") })
	if strings.ContainsRune(p.Log.String(), utf8.RuneError) {
		t.Errorf("a log line was cut inside a character:\n%s", p.Log)
	}
	p.checkHealthy(t)
}

// The shapes of calls that reach the driver through the host's API: the
// SDK answers for the methods the driver left NULL, nic_takes words its
// TypeErrors as the Go SDK's Args.Takes, and names that are no C string
// are refused as names the driver does not know.
func TestCSDK_CallShapes(t *testing.T) {
	p := newProbeRig(t, nil)
	ctx := p.ctx
	unsupported := func(m string) abi.Error {
		return abi.Error{Kind: abi.KindUnsupported, Msg: m + "() is not supported by LAN"}
	}
	typeErr := func(m string) abi.Error { return abi.Error{Kind: abi.KindTypeError, Msg: m} }
	type shapeCase struct {
		name string
		err  error
		want abi.Error
	}
	cases := []shapeCase{
		{"connect()", p.NIC.Connect(ctx), unsupported("connect")},
		{"connect('ssid', key='k')", p.NIC.Connect(ctx, "ssid", host.KW{"key": "k"}), unsupported("connect")},
		{"disconnect()", p.NIC.Disconnect(ctx), unsupported("disconnect")},
		{"scan(ssid='x')", second(p.NIC.Scan(ctx, host.KW{"ssid": "x"})), unsupported("scan")},
		{"call('x', kw=1)", second(p.NIC.Call(ctx, "x", host.KW{"kw": 1})), abi.Error{Kind: abi.KindUnsupported, Msg: "LAN has no method x()"}},
		{"call('re\\0gs')", second(p.NIC.Call(ctx, "re\x00gs")), abi.Error{Kind: abi.KindUnsupported, Msg: `LAN has no method re\0gs()`}},
		{"noargs(1)", second(p.NIC.Call(ctx, "noargs", 1)), typeErr("noargs() takes no arguments")},
		{"noargs(k=1)", second(p.NIC.Call(ctx, "noargs", host.KW{"k": 1})), typeErr("noargs() takes no arguments")},
		{"nokw(k=1)", second(p.NIC.Call(ctx, "nokw", host.KW{"k": 1})), typeErr("nokw() takes no keyword arguments")},
		{"nokw(1, 2)", second(p.NIC.Call(ctx, "nokw", 1, 2)), typeErr("nokw() takes at most 1 argument, got 2")},
		{"takes(1, 2, 3)", second(p.NIC.Call(ctx, "takes", 1, 2, 3)), typeErr("takes() takes at most 2 arguments, got 3")},
		// The first unexpected keyword in sorted order, as the Go SDK names it.
		{"takes(zeta=1, delta=2, alpha=3)", second(p.NIC.Call(ctx, "takes", host.KW{"zeta": 1, "delta": 2, "alpha": 3})), typeErr("takes() got an unexpected keyword argument 'delta'")},
		{"takes(al=1)", second(p.NIC.Call(ctx, "takes", host.KW{"al": 1, "alphabet": 2})), typeErr("takes() got an unexpected keyword argument 'al'")},
		{"status('rssi')", second(p.NIC.StatusParam(ctx, "rssi")), abi.Error{Kind: abi.KindValueError, Msg: `unknown status parameter "rssi"`}},
		{"status('a\\0b')", second(p.NIC.StatusParam(ctx, "a\x00b")), abi.Error{Kind: abi.KindValueError, Msg: `unknown status parameter "a\0b"`}},
		{"config('speed')", second(p.NIC.Config(ctx, "speed")), abi.Error{Kind: abi.KindValueError, Msg: `unknown config parameter "speed" (known: mac, tx, take, batch, poll, trace)`}},
		{"config('a\\0b')", second(p.NIC.Config(ctx, "a\x00b")), abi.Error{Kind: abi.KindValueError, Msg: `unknown config parameter "a\0b"`}},
		{"config(speed=1)", p.NIC.SetConfig(ctx, host.KW{"speed": 1}), abi.Error{Kind: abi.KindValueError, Msg: `unknown config parameter "speed" (known: mac, tx, take, batch, poll, trace)`}},
		{"config(tx=1)", p.NIC.SetConfig(ctx, host.KW{"tx": 1}), typeErr("tx: expected str, got int")},
		{"config(take=True)", p.NIC.SetConfig(ctx, host.KW{"take": true}), typeErr("take: expected int, got bool")},
		{"config(trace=True)", p.NIC.SetConfig(ctx, host.KW{"trace": true}), typeErr("trace: expected int, got bool")},
		{"config(trace=16)", p.NIC.SetConfig(ctx, host.KW{"trace": 16}), abi.Error{Kind: abi.KindValueError, Msg: "trace: 16 is not a set of flags (1 events, 2 tx, 4 rx, 8 full data), or a file name for the host"}},
	}
	for _, c := range cases {
		wantError(t, c.name, asABIError(t, c.name, nil, c.err), c.want)
	}

	// Those that succeed.
	if v := p.call(t, "takes", 1, host.KW{"alpha": 1, "beta": 2}); v != nil {
		t.Errorf("takes(1, alpha=1, beta=2) = %#v; want None", v)
	}
	if v, err := p.NIC.StatusParam(ctx, ""); err != nil || v != int64(0) {
		t.Errorf("status('') = %#v, %v; want status()'s 0", v, err)
	}
	p.set(t, host.KW{"trace": 15, "tx": "busy"})
	if v, err := p.NIC.Config(ctx, "trace"); err != nil || v != int64(15) {
		t.Errorf("config('trace') = %#v, %v after config(trace=15)", v, err)
	}
	if v, err := p.NIC.Config(ctx, "tx"); err != nil || v != "busy" {
		t.Errorf("config('tx') = %#v, %v", v, err)
	}
	// A long name is the driver's to refuse, whole: it reaches config_get
	// and call, which name it (and an error over 1024 bytes is cut).
	name := strings.Repeat("é", 150)
	wantError(t, "config(300-byte name)", asABIError(t, "config", nil, second(p.NIC.Config(ctx, name))),
		abi.Error{Kind: abi.KindValueError, Msg: `unknown config parameter "` + name + `" (known: mac, tx, take, batch, poll, trace)`})
	wantError(t, "call(300-byte name)", p.callErr(t, name), abi.Error{Kind: abi.KindUnsupported, Msg: "LAN has no method " + name + "()"})
	long := strings.Repeat("é", 600)
	e := asABIError(t, "config(long)", nil, second(p.NIC.Config(ctx, long)))
	if e.Kind != abi.KindValueError || !strings.HasPrefix(e.Msg, `unknown config parameter "`+long[:900]) || len(e.Msg) > abi.MaxText || !utf8.ValidString(e.Msg) {
		t.Errorf("config(%d-byte name) raised %v", len(long), e)
	}
	e = p.callErr(t, long)
	if e.Kind != abi.KindUnsupported || !strings.HasPrefix(e.Msg, "LAN has no method "+long[:900]) || len(e.Msg) > abi.MaxText || !utf8.ValidString(e.Msg) {
		t.Errorf("call(%d-byte name) raised %v", len(long), e)
	}
	p.checkHealthy(t)
}

func second(_ any, err error) error { return err }

// testFrame is a frame for the probe to send: EtherType 0x88b5, seq at
// offset 14, then byte i is seq+i.
func testFrame(seq uint32, size int) []byte {
	f := make([]byte, size)
	copy(f, []byte{0x02, 0, 0, 0, 0, 0x99, 0x02, 0, 0, 0, 0, 0x98})
	binary.BigEndian.PutUint16(f[12:], 0x88b5)
	binary.BigEndian.PutUint32(f[14:], seq)
	for i := 18; i < size; i++ {
		f[i] = byte(seq + uint32(i))
	}
	return f
}

// checkProbeFrame reports what is wrong with frame n of a delivery.
func checkProbeFrame(f []byte, seq uint32, size int, mac []byte) error {
	switch {
	case len(f) != size:
		return fmt.Errorf("%d bytes, want %d", len(f), size)
	case !bytes.Equal(f[:6], []byte{255, 255, 255, 255, 255, 255}) || !bytes.Equal(f[6:12], mac):
		return fmt.Errorf("addresses % x", f[:12])
	case binary.BigEndian.Uint32(f[14:]) != seq:
		return fmt.Errorf("sequence number %d, want %d", binary.BigEndian.Uint32(f[14:]), seq)
	}
	for i := 18; i < size; i++ {
		if f[i] != byte(seq+uint32(i)) {
			return fmt.Errorf("byte %d is %#x", i, f[i])
		}
	}
	return nil
}

// Frames the driver delivers in one export reach the core intact and in
// order, however many: more than one rx_push_batch holds (256) and more
// than one batch's 64 KiB, and frames of the largest size.
func TestCSDK_Deliver(t *testing.T) {
	p := newProbeRig(t, nil)
	mac := []byte(p.NIC.MAC())
	if got := p.call(t, "deliver_bad"); !reflect.DeepEqual(got, []any{int64(-abi.EINVAL), int64(-abi.EMSGSIZE), int64(-abi.ENODEV)}) {
		t.Errorf("nic_deliver of 0 bytes, 65536 bytes, interface 5 = %v; want -EINVAL, -EMSGSIZE, -ENODEV", got)
	}
	total := 0
	for _, tt := range []struct{ n, size int }{{600, 200}, {513, 60}, {40, 3000}, {3, 65535}, {1, 18}} {
		before := p.Link.Count()
		if got := p.call(t, "deliver", tt.n, tt.size); !reflect.DeepEqual(got, []any{int64(0), int64(0)}) {
			t.Fatalf("deliver(%d, %d) = %v; want no failures", tt.n, tt.size, got)
		}
		total += tt.n
		hosttest.Eventually(t, fmt.Sprintf("%d frames at the core", total), func() bool { return p.Link.Count() >= total })
		frames := p.Link.Frames()[before:]
		if len(frames) != tt.n {
			t.Fatalf("deliver(%d, %d): %d frames reached the core", tt.n, tt.size, len(frames))
		}
		for i, f := range frames {
			if err := checkProbeFrame(f, uint32(i), tt.size, mac); err != nil {
				t.Fatalf("deliver(%d, %d): frame %d: %v", tt.n, tt.size, i, err)
			}
		}
	}
	if st := p.NIC.Stats(); len(st.Drops) != 0 || st.RxFrames != uint64(total) {
		t.Errorf("NIC stats %+v; want %d frames received, none dropped", st, total)
	}
	if strings.Contains(p.Log.String(), "frames lost") {
		t.Errorf("the SDK lost frames:\n%s", p.Log)
	}
	p.checkHealthy(t)
}

// txLog is the probe's transmit log.
type txLog struct {
	calls   [][]any // [kind, n, rc]
	taken   []int64
	corrupt int64
}

func (p *probeRig) txlog(t testing.TB) txLog {
	t.Helper()
	m := p.call(t, "txlog").(map[string]any)
	if m["lost"] != false {
		t.Fatal("the probe's transmit log overflowed")
	}
	var l txLog
	for _, c := range m["calls"].([]any) {
		l.calls = append(l.calls, c.([]any))
	}
	for _, s := range m["taken"].([]any) {
		l.taken = append(l.taken, s.(int64))
	}
	l.corrupt = m["corrupt"].(int64)
	return l
}

func (l txLog) String() string {
	return fmt.Sprintf("calls %v, taken %v, corrupt %d", l.calls, l.taken, l.corrupt)
}

func calls(kind string, rows ...[2]int) [][]any {
	var out [][]any
	for _, r := range rows {
		out = append(out, []any{kind, int64(r[0]), int64(r[1])})
	}
	return out
}

func seqs(from, to int) []int64 {
	var out []int64
	for i := from; i < to; i++ {
		out = append(out, int64(i))
	}
	return out
}

func refused(nic *host.NIC) uint64 { return nic.Stats().Drops["the driver refused it"] }

// queueWhileBusy holds the driver busy while n frames of size bytes queue,
// so that the host offers them together once the driver answers otherwise.
func (p *probeRig) queueWhileBusy(t testing.TB, from, n, size int) {
	t.Helper()
	p.set(t, host.KW{"tx": "busy"})
	for i := from; i < from+n; i++ {
		if err := hosttest.Transmit(p.NIC, testFrame(uint32(i), size)); err != nil {
			t.Fatal(err)
		}
	}
}

// The results of nic_transmit_batch through the host, each as ABI.md §4
// gives it: k of n taken (the rest offered again at once), busy (kept for
// the next poll), -1 refusing the first; and the driver's mistakes (k
// above count, -1 without an error) refuse frames instead of breaking the
// ABI. Then the same with transmit_batch NULL, served by transmit.
func TestCSDK_TransmitBatch(t *testing.T) {
	p := newProbeRig(t, nil)
	const size = 100
	type step struct {
		name    string
		set     host.KW
		n       int     // frames queued while the driver is busy
		calls   [][]any // the driver's log: [kind, frames offered or bytes, result]
		taken   []int64
		refused int
	}
	batch := []step{
		{"take", host.KW{"tx": "take"}, 5, calls("batch", [2]int{5, 5}), seqs(0, 5), 0},
		{"partial", host.KW{"tx": "partial", "take": 3}, 10, calls("batch", [2]int{10, 3}, [2]int{7, 3}, [2]int{4, 3}, [2]int{1, 1}), seqs(0, 10), 0},
		{"budget", host.KW{"tx": "budget", "take": 2}, 5, calls("batch", [2]int{5, 2}, [2]int{3, -1}, [2]int{2, -1}, [2]int{1, -1}), seqs(0, 2), 3},
		{"refuse", host.KW{"tx": "refuse"}, 4, calls("batch", [2]int{4, -1}, [2]int{3, -1}, [2]int{2, -1}, [2]int{1, -1}), nil, 4},
		{"bogus", host.KW{"tx": "bogus"}, 3, calls("batch", [2]int{3, 4}, [2]int{2, 3}, [2]int{1, 2}), nil, 3},
		{"silent", host.KW{"tx": "silent"}, 2, calls("batch", [2]int{2, -1}, [2]int{1, -1}), nil, 2},
	}
	// Without transmit_batch the SDK calls transmit per frame, stopping at
	// the first not taken: a row per frame offered, n its length.
	ok, no, bogus := [2]int{size, 0}, [2]int{size, -1}, [2]int{size, 7}
	perFrame := []step{
		{"take", host.KW{"tx": "take"}, 3, calls("one", ok, ok, ok), seqs(0, 3), 0},
		{"budget", host.KW{"tx": "budget", "take": 2}, 5, calls("one", ok, ok, no, no, no, no), seqs(0, 2), 3},
		{"refuse", host.KW{"tx": "refuse"}, 2, calls("one", no, no), nil, 2},
		{"bogus", host.KW{"tx": "bogus"}, 2, calls("one", bogus, bogus), nil, 2},
		{"silent", host.KW{"tx": "silent"}, 2, calls("one", no, no), nil, 2},
	}
	run := func(t *testing.T, hasBatch bool, s step) {
		p.set(t, host.KW{"batch": hasBatch})
		before, sentBefore := refused(p.NIC), p.NIC.Stats().TxFrames
		p.queueWhileBusy(t, 0, s.n, size)
		p.set(t, s.set) // clears the log and asks for a poll: the host offers the queue
		var l txLog
		hosttest.Eventually(t, "every frame taken or refused", func() bool {
			// The count first: the host counts a refusal after the export
			// the log records, so a log read after it holds that export.
			n := int(refused(p.NIC) - before)
			l = p.txlog(t)
			return len(l.taken)+n >= s.n
		})
		if !reflect.DeepEqual(l.calls, s.calls) || !reflect.DeepEqual(l.taken, s.taken) || l.corrupt != 0 {
			t.Errorf("%v\nwant calls %v, taken %v", l, s.calls, s.taken)
		}
		if got := refused(p.NIC) - before; got != uint64(s.refused) {
			t.Errorf("%d frames refused; want %d", got, s.refused)
		}
		if got := p.NIC.Stats().TxFrames - sentBefore; got != uint64(len(s.taken)) {
			t.Errorf("the host counts %d frames sent; want %d", got, len(s.taken))
		}
		p.checkHealthy(t)
	}
	for _, s := range batch {
		t.Run("batch/"+s.name, func(t *testing.T) { run(t, true, s) })
	}
	for _, s := range perFrame {
		t.Run("per-frame/"+s.name, func(t *testing.T) { run(t, false, s) })
	}
	// Busy keeps the frames (none is refused) until the next poll.
	for _, hasBatch := range []bool{true, false} {
		t.Run(fmt.Sprintf("busy/batch=%v", hasBatch), func(t *testing.T) {
			p.set(t, host.KW{"batch": hasBatch})
			before := refused(p.NIC)
			p.queueWhileBusy(t, 0, 3, size)
			want := []any{"batch", int64(3), int64(0)}
			if !hasBatch {
				want = []any{"one", int64(size), int64(abi.TransmitBusy)}
			}
			hosttest.Eventually(t, "a busy answer for the 3 frames", func() bool {
				l := p.txlog(t)
				return len(l.calls) > 0 && reflect.DeepEqual(l.calls[len(l.calls)-1], want)
			})
			p.set(t, host.KW{"tx": "take"})
			hosttest.Eventually(t, "the kept frames taken", func() bool { return len(p.txlog(t).taken) == 3 })
			if l := p.txlog(t); !reflect.DeepEqual(l.taken, seqs(0, 3)) || refused(p.NIC) != before {
				t.Errorf("after busy: %v, %d refused", l, refused(p.NIC)-before)
			}
		})
	}
	p.checkHealthy(t)
}

// nic_transmit, which the host calls for a frame that fits the transmit
// buffer but not as a batch record: 0, busy (1) and -1 with an error, and
// the driver's mistakes turned into refusals.
func TestCSDK_Transmit(t *testing.T) {
	p := newProbeRig(t, nil)
	const size = 65534 // 64 KiB buffer: no room for a record's header
	send := func(seq uint32) {
		if err := hosttest.Transmit(p.NIC, testFrame(seq, size)); err != nil {
			t.Fatal(err)
		}
	}
	p.set(t, host.KW{"tx": "take"})
	send(1)
	hosttest.Eventually(t, "the frame taken", func() bool { return len(p.txlog(t).taken) == 1 })
	if l := p.txlog(t); !reflect.DeepEqual(l.calls, calls("one", [2]int{size, 0})) || l.taken[0] != 1 || l.corrupt != 0 {
		t.Errorf("nic_transmit: %v", l)
	}

	p.set(t, host.KW{"tx": "busy"})
	send(2)
	hosttest.Eventually(t, "a busy answer", func() bool { return len(p.txlog(t).calls) > 0 })
	if l := p.txlog(t); !reflect.DeepEqual(l.calls[0], []any{"one", int64(size), int64(abi.TransmitBusy)}) {
		t.Errorf("busy: %v", l)
	}
	p.set(t, host.KW{"tx": "take"})
	hosttest.Eventually(t, "the kept frame taken after the poll", func() bool { return len(p.txlog(t).taken) == 1 })
	if l := p.txlog(t); l.taken[0] != 2 {
		t.Errorf("after busy: %v", l)
	}

	for i, mode := range []string{"refuse", "bogus", "silent"} {
		before := refused(p.NIC)
		p.set(t, host.KW{"tx": mode})
		send(uint32(3 + i))
		hosttest.Eventually(t, mode+": the frame refused", func() bool { return refused(p.NIC) == before+1 })
		rc := map[string]int64{"refuse": -1, "bogus": 7, "silent": -1}[mode]
		if l := p.txlog(t); !reflect.DeepEqual(l.calls, [][]any{{"one", int64(size), rc}}) || len(l.taken) != 0 {
			t.Errorf("%s: %v", mode, l)
		}
	}
	// The host logs why it dropped them: the SDK's words for the driver's
	// mistakes.
	for _, want := range []string{"probe: frame refused (tx=refuse)", "probe: transmit returned 7 (0, NIC_TX_BUSY or -1)", "probe: the driver failed without saying why"} {
		if !strings.Contains(p.Log.String(), want) {
			t.Errorf("the host's log does not say %q", want)
		}
	}
	p.checkHealthy(t)
}

// nic_poll: an error, or a result that is no status, is the host's to log;
// the instance stays.
func TestCSDK_Poll(t *testing.T) {
	p := newProbeRig(t, nil)
	for mode, want := range map[string]string{
		"raise":  "probe: poll told to fail",
		"silent": "probe: the driver failed without saying why",
		"weird":  "probe: a callback returned 3 (0, or -1 with an error)",
	} {
		p.set(t, host.KW{"poll": mode}) // asks for a poll
		hosttest.Eventually(t, "the poll's error in the log", func() bool {
			return strings.Contains(p.Log.String(), "poll failed") && strings.Contains(p.Log.String(), want)
		})
	}
	p.set(t, host.KW{"poll": "ok"})
	p.checkHealthy(t)
}

// ---------------------------------------------------------------------
// The probe without a host: arguments no host sends.

var probeWASM = sync.OnceValues(func() ([]byte, error) {
	res, err := (&build.Builder{}).Build(context.Background(), probeDir)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(res.Path)
})

// rawProbe is the probe in a bare runtime: its "nic" module serves args
// from the test and records replies, errors and frames.
type rawProbe struct {
	t       testing.TB
	mod     api.Module
	args    []byte
	argsLen int32 // when not 0: the length args reports, whatever args holds

	reply   []byte
	replied bool
	raised  *abi.Error
	badKind int32 // a raise with a kind ABI.md does not have

	txPtr, txCap uint32
	rxBatches    [][][]byte // the frames of each rx_push_batch call
	rxBadBatch   error
	rxPushes     [][]byte
}

// loadRaw instantiates the probe and starts it with a start info listing
// the host features features.
func loadRaw(t testing.TB, features []string) *rawProbe {
	t.Helper()
	needClang(t)
	wasm, err := probeWASM()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { rt.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	compiled, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	r := &rawProbe{t: t}
	hb := rt.NewHostModuleBuilder(abi.ImportModule)
	for _, f := range compiled.ImportedFunctions() {
		if mod, name, _ := f.Import(); mod == abi.ImportModule {
			hb.NewFunctionBuilder().WithGoModuleFunction(r.imp(name, f.ResultTypes()), f.ParamTypes(), f.ResultTypes()).Export(name)
		}
	}
	if _, err := hb.Instantiate(ctx); err != nil {
		t.Fatal(err)
	}
	if r.mod, err = rt.InstantiateModule(ctx, compiled, wazero.NewModuleConfig().WithStartFunctions("_initialize")); err != nil {
		t.Fatal(err)
	}
	if v := r.export(abi.ExportABIVersion); v != abi.Version {
		t.Fatalf("nic_abi_version = %#x", v)
	}
	if _, e := r.control(abi.ExportDescribe, nil); e != nil {
		t.Fatalf("nic_describe: %v", e)
	}
	info := map[string]any{
		"buses":      map[string]any{"port": 1, "mdio": 2},
		"interfaces": []any{map[string]any{"name": "eth", "mac": []byte{2, 0, 0, 0, 0, 1}}},
		"hostname":   "raw", "country": "XX", "features": features,
	}
	if _, e := r.control(abi.ExportStart, info); e != nil {
		t.Fatalf("nic_start: %v", e)
	}
	if r.txCap < 1514 {
		t.Fatalf("nic_start registered a transmit buffer of %d bytes", r.txCap)
	}
	return r
}

func (r *rawProbe) imp(name string, results []api.ValueType) api.GoModuleFunc {
	mem := func(m api.Module, ptr, n uint64) []byte {
		b, ok := m.Memory().Read(uint32(ptr), uint32(n))
		if !ok {
			r.t.Errorf("%s: (%d, %d) is outside the guest's memory", name, ptr, n)
		}
		return bytes.Clone(b)
	}
	ret := func(stack []uint64, v int32) { stack[0] = api.EncodeI32(v) }
	switch name {
	case abi.ImportArgs:
		return func(_ context.Context, m api.Module, s []uint64) {
			if uint64(len(r.args)) <= uint64(uint32(s[1])) {
				m.Memory().Write(uint32(s[0]), r.args)
			}
			n := int32(len(r.args))
			if r.argsLen != 0 {
				n = r.argsLen
			}
			ret(s, n)
		}
	case abi.ImportReply:
		return func(_ context.Context, m api.Module, s []uint64) {
			r.reply, r.replied = mem(m, s[0], s[1]), true
			ret(s, 0)
		}
	case abi.ImportRaise:
		return func(_ context.Context, m api.Module, s []uint64) {
			kind := api.DecodeI32(s[0])
			e, ok := abi.Raised(kind, api.DecodeI32(s[1]), mem(m, s[2], s[3]))
			if !ok {
				r.badKind = kind
			}
			r.raised = e
			ret(s, 0)
		}
	case abi.ImportTxBuffer:
		return func(_ context.Context, _ api.Module, s []uint64) {
			r.txPtr, r.txCap = uint32(s[0]), uint32(s[1])
			ret(s, 0)
		}
	case abi.ImportRxPush:
		return func(_ context.Context, m api.Module, s []uint64) {
			r.rxPushes = append(r.rxPushes, mem(m, s[1], s[2]))
			ret(s, 0)
		}
	case abi.ImportRxPushBatch:
		return func(_ context.Context, m api.Module, s []uint64) {
			var frames [][]byte
			n, err := abi.ForEachFrame(mem(m, s[1], s[2]), abi.MaxRxBatch, func(f []byte) { frames = append(frames, bytes.Clone(f)) })
			if err != nil {
				r.rxBadBatch = err
				ret(s, -abi.EINVAL)
				return
			}
			r.rxBatches = append(r.rxBatches, frames)
			ret(s, int32(n))
		}
	}
	return func(_ context.Context, _ api.Module, s []uint64) { // now, log, wake_at, the buses: nothing to do
		if len(results) == 1 {
			s[0] = 0
		}
	}
}

// export calls an export and returns its i32 result.
func (r *rawProbe) export(name string, params ...uint64) int32 {
	r.t.Helper()
	r.reply, r.replied, r.raised, r.badKind = nil, false, nil, 0
	res, err := r.mod.ExportedFunction(name).Call(context.Background(), params...)
	if err != nil {
		r.t.Fatalf("%s: %v", name, err)
	}
	return api.DecodeI32(res[0])
}

// control calls a control export (interface 0) with args, ABI values or
// raw bytes, and returns its reply or error, failing the test if the
// export broke ABI.md §2: a status other than 0 or -1, -1 without a raise,
// a raise of another kind, a reply that is no value.
func (r *rawProbe) control(export string, args any) (any, *abi.Error) {
	r.t.Helper()
	b, ok := args.([]byte)
	if !ok {
		var err error
		if b, err = abi.Marshal(args); err != nil {
			r.t.Fatal(err)
		}
	}
	r.args = b
	var rc int32
	switch export {
	case abi.ExportDescribe, abi.ExportStart:
		rc = r.export(export)
	default:
		rc = r.export(export, 0)
	}
	return r.outcome(export, rc)
}

func (r *rawProbe) outcome(export string, rc int32) (any, *abi.Error) {
	r.t.Helper()
	switch {
	case r.badKind != 0:
		r.t.Fatalf("%s raised an error of kind %d: an ABI violation", export, r.badKind)
	case rc == abi.StatusError && r.raised == nil:
		r.t.Fatalf("%s returned -1 without a raise: an ABI violation", export)
	case rc == abi.StatusError:
		return nil, r.raised
	case rc != abi.StatusOK:
		r.t.Fatalf("%s returned %d: an ABI violation", export, rc)
	case !r.replied:
		return nil, nil
	}
	v, err := abi.Unmarshal(r.reply)
	if err != nil {
		r.t.Fatalf("%s replied %x, no value (an ABI violation): %v", export, r.reply, err)
	}
	return v, nil
}

// goProbe is a Go SDK driver of the probe's class with the probe's
// status answer: the SDK-made errors of the two SDKs must read the same.
type goProbe struct{}

func (goProbe) Describe() abi.Description {
	return abi.Description{Class: abi.ClassLAN, Name: "probe", Interfaces: []string{"eth"}}
}
func (goProbe) Start(*guest.Env) error    { return nil }
func (goProbe) Active(int) bool           { return false }
func (goProbe) SetActive(int, bool) error { return nil }
func (goProbe) IsConnected(int) bool      { return false }
func (goProbe) Status(_ int, p string) (any, error) {
	if p != "" {
		return nil, abi.ValueError("unknown status parameter %q", p)
	}
	return 0, nil
}
func (goProbe) ConfigGet(int, string) (any, error)  { return nil, abi.ValueError("unknown") }
func (goProbe) ConfigSet(int, map[string]any) error { return nil }
func (goProbe) Poll(abi.Event) error                { return nil }
func (goProbe) Transmit(int, []byte) error          { return nil }
func (goProbe) Call(_ int, name string, a guest.Args) (any, error) {
	return nil, guest.NoMethod("LAN", name)
}

// goHost serves a guest.Module the test's arguments.
type goHost struct {
	abi.Imports // anything else is not called
	args        []byte
	raised      *abi.Error
}

func (h *goHost) Args(dst []byte) int32 {
	if len(dst) >= len(h.args) {
		copy(dst, h.args)
	}
	return int32(len(h.args))
}
func (h *goHost) Raise(kind, errno int32, msg []byte) int32 {
	h.raised, _ = abi.Raised(kind, errno, msg)
	return 0
}
func (h *goHost) Reply([]byte) int32 { return 0 }

// goError is the error the Go SDK raises for export with args, or nil.
func goError(t testing.TB, export string, args []byte) *abi.Error {
	h := &goHost{args: args}
	m := guest.NewModule(goProbe{}, h)
	fn := map[string]func(int32) int32{
		abi.ExportActive: m.Active, abi.ExportConnect: m.Connect, abi.ExportDisconnect: m.Disconnect,
		abi.ExportIsConnected: m.IsConnected, abi.ExportScan: m.Scan, abi.ExportStatus: m.Status,
		abi.ExportConfig: m.Config, abi.ExportCall: m.Call,
	}[export]
	if fn(0) == abi.StatusOK {
		return nil
	}
	return h.raised
}

// The shapes of calls the host's typed API cannot make (active(1),
// config()) and the malformed argument lists no host sends: the C SDK
// raises exactly what the Go SDK raises, and the errors read as ABI.md and
// MicroPython word them.
func TestCSDK_RawShapes(t *testing.T) {
	r := loadRaw(t, abi.HostFeatures())
	kw := func(k string, v any) map[string]any { return map[string]any{k: v} }
	none := map[string]any{}
	for _, tt := range []struct {
		export string
		args   any
		want   abi.Error // Kind 0: no error
	}{
		{abi.ExportActive, []any{[]any{}, none}, abi.Error{}},
		{abi.ExportActive, []any{[]any{true}, none}, abi.Error{}},
		{abi.ExportActive, []any{[]any{1}, none}, abi.Error{Kind: abi.KindTypeError, Msg: "active: expected bool, got int"}},
		{abi.ExportActive, []any{[]any{true, false}, none}, abi.Error{Kind: abi.KindTypeError, Msg: "active() takes at most 1 argument, got 2"}},
		{abi.ExportActive, []any{[]any{}, kw("up", true)}, abi.Error{Kind: abi.KindTypeError, Msg: "active() takes no keyword arguments"}},
		{abi.ExportIsConnected, []any{[]any{1}, none}, abi.Error{Kind: abi.KindTypeError, Msg: "isconnected() takes no arguments"}},
		{abi.ExportIsConnected, []any{[]any{}, kw("x", 1)}, abi.Error{Kind: abi.KindTypeError, Msg: "isconnected() takes no arguments"}},
		{abi.ExportStatus, []any{[]any{1}, none}, abi.Error{Kind: abi.KindTypeError, Msg: "status: expected str, got int"}},
		{abi.ExportStatus, []any{[]any{nil}, none}, abi.Error{Kind: abi.KindTypeError, Msg: "status: expected str, got NoneType"}},
		{abi.ExportStatus, []any{[]any{"a", "b"}, none}, abi.Error{Kind: abi.KindTypeError, Msg: "status() takes at most 1 argument, got 2"}},
		{abi.ExportStatus, []any{[]any{}, kw("p", "x")}, abi.Error{Kind: abi.KindTypeError, Msg: "status() takes no keyword arguments"}},
		{abi.ExportStatus, []any{[]any{"rssi"}, none}, abi.Error{Kind: abi.KindValueError, Msg: `unknown status parameter "rssi"`}},
		{abi.ExportConfig, []any{[]any{}, none}, abi.Error{Kind: abi.KindTypeError, Msg: "config() takes either one parameter name or keyword arguments"}},
		{abi.ExportConfig, []any{[]any{"a"}, kw("b", 1)}, abi.Error{Kind: abi.KindTypeError, Msg: "config() takes either one parameter name or keyword arguments"}},
		{abi.ExportConfig, []any{[]any{"a", "b"}, none}, abi.Error{Kind: abi.KindTypeError, Msg: "config() takes either one parameter name or keyword arguments"}},
		{abi.ExportConfig, []any{[]any{5}, none}, abi.Error{Kind: abi.KindTypeError, Msg: "config: expected str, got int"}},
		{abi.ExportDisconnect, []any{[]any{1}, none}, abi.Error{Kind: abi.KindTypeError, Msg: "disconnect() takes no arguments"}},
		{abi.ExportDisconnect, []any{[]any{}, none}, abi.Error{Kind: abi.KindUnsupported, Msg: "disconnect() is not supported by LAN"}},
		{abi.ExportConnect, []any{[]any{1}, kw("x", 1)}, abi.Error{Kind: abi.KindUnsupported, Msg: "connect() is not supported by LAN"}},
		{abi.ExportScan, []any{[]any{}, kw("ssid", "x")}, abi.Error{Kind: abi.KindUnsupported, Msg: "scan() is not supported by LAN"}},
		{abi.ExportActive, none, abi.Error{Kind: abi.KindTypeError, Msg: "arguments must be [args, kwargs], got dict"}},
		{abi.ExportActive, []any{[]any{}, none, none}, abi.Error{Kind: abi.KindTypeError, Msg: "arguments must be [args, kwargs], got list"}},
		{abi.ExportStatus, []any{"x", none}, abi.Error{Kind: abi.KindTypeError, Msg: "positional arguments must be a list, got str"}},
		{abi.ExportConfig, []any{[]any{}, []any{}}, abi.Error{Kind: abi.KindTypeError, Msg: "keyword arguments must be a map, got list"}},
		{abi.ExportCall, []any{[]any{}, none}, abi.Error{Kind: abi.KindTypeError, Msg: "nic_call: arguments must be [name, args, kwargs]"}},
		{abi.ExportCall, []any{1, []any{}, none}, abi.Error{Kind: abi.KindTypeError, Msg: "nic_call: method name must be str, got int"}},
		{abi.ExportCall, []any{"x", abi.Tuple{}, none}, abi.Error{Kind: abi.KindTypeError, Msg: "positional arguments must be a list, got tuple"}},
		{abi.ExportCall, []any{"x", []any{}, nil}, abi.Error{Kind: abi.KindTypeError, Msg: "keyword arguments must be a map, got NoneType"}},
		{abi.ExportCall, []any{"x", []any{}, kw("kw", 1)}, abi.Error{Kind: abi.KindUnsupported, Msg: "LAN has no method x()"}},
	} {
		b, err := abi.Marshal(tt.args)
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("%s%v", tt.export, tt.args)
		_, got := r.control(tt.export, b)
		goErr := goError(t, tt.export, b)
		switch {
		case tt.want.Kind == 0 && (got != nil || goErr != nil):
			t.Errorf("%s raised %v (the Go SDK: %v); want a reply", name, got, goErr)
		case tt.want.Kind == 0:
		case got == nil:
			t.Errorf("%s raised nothing; want %v", name, &tt.want)
		case goErr == nil || *goErr != *got:
			t.Errorf("%s raised %v; the Go SDK raises %v", name, got, goErr)
		default:
			wantError(t, name, got, tt.want)
		}
	}
}

// Hostile argument messages: every limit of ABI.md §3, each refused with
// an OSError (as the Go SDK raises a decoding error) naming the offending
// value's path; nesting far past the limit costs the checker nothing.
func TestCSDK_RawHostile(t *testing.T) {
	r := loadRaw(t, abi.HostFeatures())
	nest := func(n int) []byte { return append(bytes.Repeat([]byte{0x81}, n-1), 0x80) }
	for _, tt := range []struct {
		name string
		msg  []byte
		want string // the message's end, after "invalid value encoding: "
	}{
		{"17 deep", append([]byte{0x82}, append(nest(16), 0xa0)...), "value[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: nests deeper than 16"},
		{"64 KiB deep", nest(abi.MaxMessage), "value[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: nests deeper than 16"},
		{"16 dicts deep", append(bytes.Repeat([]byte{0xa1, 0x61, 'k'}, 16), 0xa0), "value.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k: nests deeper than 16"},
		{"indefinite list", []byte{0x82, 0x9f, 0xff, 0xa0}, "value[0]: indefinite-length items are not allowed"},
		{"break", []byte{0x82, 0x80, 0xff}, "value[1]: initial byte 0xff is not well-formed CBOR"},
		{"bad UTF-8", []byte{0x82, 0x81, 0x61, 0xff, 0xa0}, "value[0][0]: a str is not valid UTF-8"},
		{"surrogate", []byte{0x82, 0x81, 0x63, 0xed, 0xa0, 0x80, 0xa0}, "value[0][0]: a str is not valid UTF-8"},
		{"key twice", []byte{0x82, 0x80, 0xa2, 0x61, 'a', 0x01, 0x61, 'a', 0x02}, `value[1]: key "a" appears twice`},
		{"int key", []byte{0x82, 0x80, 0xa1, 0x01, 0x01}, "value[1]: key 0 is an int, not a str"},
		{"tag 55799", []byte{0xd9, 0xd9, 0xf7, 0x82, 0x80, 0xa0}, "value: tag 55799 is not part of the value model (only 32870, a tuple)"},
		{"undefined", []byte{0x82, 0x81, 0xf7, 0xa0}, "value[0][0]: simple value 23 is not part of the value model"},
		{"simple 32", []byte{0x82, 0x81, 0xf8, 0x20, 0xa0}, "value[0][0]: simple value 32 is not part of the value model"},
		{"uint64", []byte{0x82, 0x81, 0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xa0}, "value[0][0]: 18446744073709551615 does not fit a signed 64-bit int"},
		{"2^64 items", []byte{0x82, 0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "value[0]: 18446744073709551615 items exceed the limit of 4096"},
		{"2^32 pairs", []byte{0x82, 0x80, 0xba, 0xff, 0xff, 0xff, 0xff}, "value[1]: 4294967295 pairs exceed the limit of 1024"},
		{"4096 items, 1 byte", []byte{0x82, 0x99, 0x10, 0x00}, "value[0]: the message ends inside the value"},
		{"2^63-byte str", []byte{0x82, 0x81, 0x7b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "value[0][0]: the message ends inside the value"},
		{"2^32-byte bytes", []byte{0x82, 0x81, 0x5b, 0, 0, 0, 1, 0, 0, 0, 0}, "value[0][0]: the message ends inside the value"},
		{"truncated", []byte{0x82, 0x80}, "value: the message ends inside the value"},
		{"trailing", []byte{0x82, 0x80, 0xa0, 0x00}, "1 bytes after the value"},
		{"empty", nil, "value: the message ends inside the value"},
	} {
		for _, export := range []string{abi.ExportActive, abi.ExportConfig, abi.ExportCall} {
			_, e := r.control(export, tt.msg)
			goErr := goError(t, export, tt.msg)
			switch {
			case e == nil:
				t.Errorf("%s: %s accepted it", tt.name, export)
			case e.Kind != abi.KindOSError || e.Errno != abi.EIO || e.Msg != "invalid value encoding: "+tt.want:
				t.Errorf("%s: %s raised %v; want OSError EIO %q", tt.name, export, e, "invalid value encoding: "+tt.want)
			case goErr == nil || goErr.Kind != e.Kind || goErr.Errno != e.Errno:
				t.Errorf("%s: %s raised %v; the Go SDK raises %v", tt.name, export, e, goErr)
			}
		}
	}
	// The host says the arguments are longer than a message may be.
	r.argsLen = abi.MaxMessage + 1
	if _, e := r.control(abi.ExportActive, []any{[]any{}, map[string]any{}}); e == nil || *e != (abi.Error{Kind: abi.KindValueError, Msg: "arguments of 65537 bytes exceed the 65536-byte limit"}) {
		t.Errorf("args of 65537 bytes: %v", e)
	}
	r.argsLen = 0
	// And after all that the instance answers as before.
	if v, e := r.control(abi.ExportCall, []any{"echo", []any{"still here"}, map[string]any{}}); e != nil || v != "still here" {
		t.Errorf("echo after the hostile messages = %v, %v", v, e)
	}
}

// The shared value vectors as arguments of every control export: whatever
// a message holds, each export answers 0 with a valid reply or -1 with an
// error (control checks it), and the probe's echo gives back the host's
// canonical value for every message the host accepts.
func TestCSDK_RawVectors(t *testing.T) {
	r := loadRaw(t, abi.HostFeatures())
	vs, err := valuevectors.Read(filepath.Join("..", "abi", "testdata", "values"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		for _, export := range []string{abi.ExportActive, abi.ExportConnect, abi.ExportDisconnect, abi.ExportIsConnected, abi.ExportScan, abi.ExportStatus, abi.ExportConfig, abi.ExportCall} {
			_, e := r.control(export, v.Msg)
			if !v.OK && (e == nil || !strings.HasPrefix(e.Msg, "invalid value encoding: ") && !strings.HasSuffix(e.Msg, "exceed the 65536-byte limit")) {
				t.Errorf("%s: %s raised %v; want the decoding error", v, export, e)
			}
		}
		if !v.OK {
			continue
		}
		want, err := abi.Unmarshal(v.Canon)
		if err != nil || depth(want) > abi.MaxDepth-2 {
			continue // too deep to be an argument of call
		}
		args, err := abi.Marshal([]any{"roundtrip", []any{want}, map[string]any{}})
		if err != nil {
			continue // too long to be an argument of call
		}
		got, e := r.control(abi.ExportCall, args)
		if e != nil {
			t.Errorf("%s: roundtrip raised %v", v, e)
		} else if g, _ := abi.Marshal(got); !bytes.Equal(g, v.Canon) {
			t.Errorf("%s: roundtrip gave %x; want %x", v, g, v.Canon)
		}
	}
}

func depth(v any) int {
	d := 0
	switch v := v.(type) {
	case []any:
		for _, x := range v {
			d = max(d, depth(x))
		}
		return d + 1
	case abi.Tuple:
		return depth([]any(v))
	case map[string]any:
		for _, x := range v {
			d = max(d, depth(x))
		}
		return d + 1
	}
	return 0
}

// nic_deliver's batches: at most 256 records and 64 KiB each (a larger
// frame alone), in order, pushed by the end of the export; without the
// host feature, one rx_push per frame.
func TestCSDK_RawDeliverBatches(t *testing.T) {
	r := loadRaw(t, abi.HostFeatures())
	mac := []byte{2, 0, 0, 0, 0, 1}
	for _, tt := range []struct {
		n, size int
		batches []int // frames per rx_push_batch call
	}{
		{600, 200, []int{256, 256, 88}},
		{513, 60, []int{256, 256, 1}},
		{40, 3000, []int{21, 19}}, // 21 records of 3004 bytes fit in 64 KiB, 22 do not
		{3, 65535, []int{1, 1, 1}},
		{1, 18, []int{1}},
	} {
		r.rxBatches = nil
		if v, e := r.control(abi.ExportCall, []any{"deliver", []any{tt.n, tt.size}, map[string]any{}}); e != nil || !reflect.DeepEqual(v, []any{int64(0), int64(0)}) {
			t.Fatalf("deliver(%d, %d) = %v, %v", tt.n, tt.size, v, e)
		}
		var sizes []int
		seq := 0
		for _, b := range r.rxBatches {
			sizes = append(sizes, len(b))
			bytes := 0
			for _, f := range b {
				bytes += abi.FrameRecordHeader + len(f)
				if err := checkProbeFrame(f, uint32(seq), tt.size, mac); err != nil {
					t.Fatalf("deliver(%d, %d): frame %d: %v", tt.n, tt.size, seq, err)
				}
				seq++
			}
			if len(b) > 1 && bytes > 64<<10 {
				t.Errorf("deliver(%d, %d): a batch of %d records holds %d bytes, over 64 KiB", tt.n, tt.size, len(b), bytes)
			}
		}
		if !reflect.DeepEqual(sizes, tt.batches) || r.rxBadBatch != nil || len(r.rxPushes) != 0 {
			t.Errorf("deliver(%d, %d): batches of %v frames (bad: %v, single pushes %d); want %v", tt.n, tt.size, sizes, r.rxBadBatch, len(r.rxPushes), tt.batches)
		}
	}

	// A 1.0-style host, without rx_batch: one rx_push each.
	r = loadRaw(t, []string{abi.FeatureTxBatch})
	if _, e := r.control(abi.ExportCall, []any{"deliver", []any{300, 60}, map[string]any{}}); e != nil {
		t.Fatal(e)
	}
	if len(r.rxBatches) != 0 || len(r.rxPushes) != 300 {
		t.Errorf("without rx_batch: %d batches and %d rx_push calls; want 300 rx_push", len(r.rxBatches), len(r.rxPushes))
	}
	for i, f := range r.rxPushes {
		if err := checkProbeFrame(f, uint32(i), 60, mac); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
}

// Batches no host writes (ABI.md §4 bounds them): nic_transmit_batch
// refuses each with an OSError instead of reading past the buffer, and a
// well-formed one is the driver's.
func TestCSDK_RawTransmitBatch(t *testing.T) {
	r := loadRaw(t, abi.HostFeatures())
	write := func(b []byte) {
		if !r.mod.Memory().Write(r.txPtr, b) {
			t.Fatal("transmit buffer outside memory")
		}
	}
	rec := func(frames ...[]byte) []byte {
		var b []byte
		for _, f := range frames {
			b = abi.AppendFrame(b, f)
		}
		return b
	}
	good := rec(testFrame(0, 60), testFrame(1, 70))
	for _, tt := range []struct {
		name          string
		buf           []byte
		count, length int32
		want          string
	}{
		{"no frames", good, 0, int32(len(good)), "nic_transmit_batch: 0 frames in 138 bytes is no batch"},
		{"65 frames", good, 65, int32(len(good)), "nic_transmit_batch: 65 frames in 138 bytes is no batch"},
		{"past the buffer", good, 2, int32(r.txCap) + 1, fmt.Sprintf("nic_transmit_batch: 2 frames in %d bytes is no batch", r.txCap+1)},
		{"negative length", good, 2, -1, "nic_transmit_batch: 2 frames in -1 bytes is no batch"},
		{"a record too few", good, 3, int32(len(good)), "nic_transmit_batch: record 2 runs past the 138 bytes"},
		{"a record cut short", good, 2, int32(len(good)) - 1, "nic_transmit_batch: record 1 has length 70"},
		{"a header cut short", good, 2, 66, "nic_transmit_batch: record 1 runs past the 66 bytes"},
		{"length 0", rec([]byte{}), 1, 4, "nic_transmit_batch: record 0 has length 0"},
		{"length 2^32-1", []byte{0xff, 0xff, 0xff, 0xff, 0}, 1, 5, "nic_transmit_batch: record 0 has length 4294967295"},
	} {
		write(tt.buf)
		rc := r.export(abi.ExportTransmitBatch, 0, uint64(uint32(tt.count)), uint64(uint32(tt.length)))
		if _, e := r.outcome(abi.ExportTransmitBatch, rc); e == nil || *e != (abi.Error{Kind: abi.KindOSError, Errno: abi.EINVAL, Msg: tt.want}) {
			t.Errorf("%s: rc %d, raised %v; want OSError EINVAL %q", tt.name, rc, e, tt.want)
		}
	}
	write(good)
	if rc := r.export(abi.ExportTransmitBatch, 0, 2, uint64(len(good))); rc != 2 || r.raised != nil {
		t.Errorf("a good batch of 2: rc %d, raised %v", rc, r.raised)
	}
	if rc := r.export(abi.ExportTransmit, 0, uint64(r.txCap)+1); rc != abi.StatusError || r.raised == nil || r.raised.Errno != abi.EINVAL {
		t.Errorf("nic_transmit of a frame past the buffer: rc %d, raised %v", rc, r.raised)
	}
	if v, e := r.control(abi.ExportCall, []any{"txlog", []any{}, map[string]any{}}); e != nil || !reflect.DeepEqual(v.(map[string]any)["taken"], []any{int64(0), int64(1)}) {
		t.Errorf("txlog = %v, %v; want frames 0 and 1 taken", v, e)
	}
}

// FuzzCSDK_Exports hands arbitrary bytes to the control exports as their
// arguments: whatever they hold, each export returns 0 with a valid reply
// or -1 with an error of a kind ABI.md has, and never traps.
func FuzzCSDK_Exports(f *testing.F) {
	vs, err := valuevectors.Read(filepath.Join("..", "abi", "testdata", "values"))
	if err != nil {
		f.Fatal(err)
	}
	for _, v := range vs {
		f.Add(v.Msg)
	}
	for _, args := range []any{
		[]any{"echo", []any{richValue()}, map[string]any{}},
		[]any{"roundtrip", []any{richValue()}, map[string]any{}},
		[]any{"takes", []any{1}, map[string]any{"alpha": 1, "zz": 2}},
		[]any{[]any{"mac"}, map[string]any{}},
		[]any{[]any{}, map[string]any{"tx": "take", "trace": 3}},
	} {
		b, err := abi.Marshal(args)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	r := loadRaw(f, abi.HostFeatures())
	f.Fuzz(func(t *testing.T, msg []byte) {
		r.t = t
		for _, export := range []string{abi.ExportActive, abi.ExportStatus, abi.ExportConfig, abi.ExportCall, abi.ExportScan} {
			r.control(export, msg)
		}
	})
}

// A driver whose nic_driver lacks a required callback fails the load with
// an error naming the field, not with a trap when the host first calls it.
func TestCSDK_RequiredCallback(t *testing.T) {
	needClang(t)
	dir := t.TempDir()
	src := `#include "nic.h"
static int start(void) { return 0; }
static int active(int iface, bool *a) { *a = false; return 0; }
static int set_active(int iface, bool on) { return 0; }
static int isconnected(int iface, bool *c) { *c = false; return 0; }
static int status(int iface, const char *param, nic_enc *out) { nic_put_int(out, 0); return 0; }
static int config_get(int iface, const char *name, nic_enc *out) { return nic_value_error("no"); }
static int config_set(int iface, nic_val kw) { return nic_value_error("no"); }
static int transmit(int iface, const uint8_t *f, size_t n) { return 0; }
static const char *const interfaces[] = {"eth", NULL};
static const nic_bus buses[] = {{"port", "frame"}, {"mdio", "mdio"}, {0}};
static const nic_driver nopoll = {
	.class_name = "LAN", .name = "nopoll", .interfaces = interfaces, .buses = buses,
	.start = start, .active = active, .set_active = set_active, .isconnected = isconnected,
	.status = status, .config_get = config_get, .config_set = config_set, .transmit = transmit,
};
NIC_REGISTER(nopoll)
`
	for name, body := range map[string]string{"nichost-plugin.yaml": "language: c\n", "nopoll.c": src} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1})
	r := hosttest.NewHost(t, hosttest.RigConfig{
		Sims: map[string]any{"port": seg.Attach("nic"), "mdio": sim.NewMDIO()},
		Plugin: config.PluginConfig{Name: "nopoll", Source: dir, Buses: map[string]config.BusGrant{
			"port": {Kind: "frame", Sim: "port"}, "mdio": {Kind: "mdio", Sim: "mdio"}}},
	})
	const want = "driver nopoll: the nic_driver's .poll is NULL, and it is required"
	if err := r.Load(t); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("load = %v, want an error saying %q", err, want)
	}
}
