package guest_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/abi/guest/guesttest"
)

// recorder is a LAN driver with the required methods only: the SDK must
// answer connect(), disconnect(), scan() and class-specific calls itself.
type recorder struct {
	env      *guest.Env
	got      []any
	failWith error
}

func (r *recorder) Describe() abi.Description {
	return abi.Description{Class: abi.ClassLAN, Name: "rec", Interfaces: []string{"eth"}}
}
func (r *recorder) Start(env *guest.Env) error     { r.env = env; return nil }
func (r *recorder) Active(int) bool                { return true }
func (r *recorder) SetActive(_ int, up bool) error { r.got = append(r.got, up); return r.failWith }
func (r *recorder) IsConnected(int) bool           { return true }
func (r *recorder) Status(_ int, p string) (any, error) {
	r.got = append(r.got, p)
	return 2, nil
}
func (r *recorder) ConfigGet(_ int, name string) (any, error) { return name, nil }
func (r *recorder) ConfigSet(_ int, kv map[string]any) error  { r.got = append(r.got, kv); return nil }
func (r *recorder) Poll(abi.Event) error                      { return nil }
func (r *recorder) Transmit(_ int, f []byte) error {
	if len(f) == 0 {
		return guest.ErrBusy
	}
	return r.failWith
}

// caller adds class-specific methods to recorder: Call echoes its
// arguments.
type caller struct{ recorder }

func (c *caller) Call(_ int, name string, a guest.Args) (any, error) {
	return abi.Tuple{name, a.Pos, a.KW}, nil
}

func TestModule_ArgumentShapes(t *testing.T) {
	h := guesttest.New(t, &caller{}, guesttest.Options{})
	none := map[string]any{}
	tests := []struct {
		name   string
		method string
		args   []any
		want   any    // decoded reply, when no error
		errMsg string // TypeError message part, when an error
	}{
		{"active()", "active", nil, true, ""},
		{"active(True)", "active", []any{true}, nil, ""},
		{"active(1)", "active", []any{1}, nil, "active: expected bool, got int"},
		{"active(True, False)", "active", []any{true, false}, nil, "active() takes at most 1 argument, got 2"},
		{"active(up=True)", "active", []any{guesttest.KW{"up": true}}, nil, "active() takes no keyword arguments"},
		{"status()", "status", nil, int64(2), ""},
		{"status('rssi')", "status", []any{"rssi"}, int64(2), ""},
		{"status(5)", "status", []any{5}, nil, "status: expected str, got int"},
		{"status(p='x')", "status", []any{guesttest.KW{"p": "x"}}, nil, "status() takes no keyword arguments"},
		{"config('mac')", "config", []any{"mac"}, "mac", ""},
		{"config(mac=..)", "config", []any{guesttest.KW{"mac": []byte{1}}}, nil, ""},
		{"config()", "config", nil, nil, "either one parameter name or keyword arguments"},
		{"config('a', b=1)", "config", []any{"a", guesttest.KW{"b": 1}}, nil, "either one parameter name"},
		{"config(5)", "config", []any{5}, nil, "config: expected str, got int"},
		{"disconnect(1)", "disconnect", []any{1}, nil, "disconnect() takes no arguments"},
		{"isconnected()", "isconnected", nil, true, ""},
		{"isconnected(x=1)", "isconnected", []any{guesttest.KW{"x": 1}}, nil, "isconnected() takes no arguments"},
		{"regs(1, k=2)", "regs", []any{1, guesttest.KW{"k": 2}}, abi.Tuple{"regs", []any{int64(1)}, map[string]any{"k": int64(2)}}, ""},
		{"regs()", "regs", nil, abi.Tuple{"regs", []any{}, none}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := h.Call(tt.method, tt.args...)
			if tt.errMsg != "" {
				if !errors.Is(err, abi.ErrType) || !strings.Contains(err.Error(), tt.errMsg) {
					t.Fatalf("got %v, %v; want a TypeError containing %q", got, err, tt.errMsg)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, %v; want %#v", got, err, tt.want)
			}
		})
	}
}

// rawHost hands the Module arguments that no host would encode, which
// guesttest cannot: the SDK must refuse them with a TypeError.
type rawHost struct {
	abi.Imports // calls the test does not expect panic
	args        []byte
	raised      *abi.Error
}

func (f *rawHost) Args(dst []byte) int32 {
	if len(dst) >= len(f.args) {
		copy(dst, f.args)
	}
	return int32(len(f.args))
}
func (f *rawHost) Raise(kind, errno int32, msg []byte) int32 {
	f.raised = &abi.Error{Kind: int(kind), Errno: int(errno), Msg: string(msg)}
	return 0
}

func TestModule_MalformedArguments(t *testing.T) {
	h := &rawHost{}
	m := guest.NewModule(&caller{}, h)
	tests := []struct {
		name   string
		export func(int32) int32
		args   any
		errMsg string
	}{
		{"control args not a list", m.Active, map[string]any{}, "arguments must be [args, kwargs], got dict"},
		{"positional not a list", m.Status, []any{"x", map[string]any{}}, "positional arguments must be a list, got str"},
		{"keywords not a map", m.Config, []any{[]any{}, []any{}}, "keyword arguments must be a map, got list"},
		{"call without name", m.Call, []any{[]any{}, map[string]any{}}, "[name, args, kwargs]"},
		{"call name not a str", m.Call, []any{1, []any{}, map[string]any{}}, "method name must be str, got int"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := abi.Marshal(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			h.args, h.raised = b, nil
			if rc := tt.export(0); rc != abi.StatusError || h.raised == nil || h.raised.Kind != abi.KindTypeError || !strings.Contains(h.raised.Msg, tt.errMsg) {
				t.Fatalf("rc %d, raised %v; want a TypeError containing %q", rc, h.raised, tt.errMsg)
			}
		})
	}
}

// The SDK answers for the optional interfaces a driver lacks, naming the
// class of its description.
func TestModule_Unsupported(t *testing.T) {
	tests := []struct {
		name   string
		driver guest.Driver
		method string
		args   []any
		want   string
	}{
		{"connect", &recorder{}, "connect", []any{"ssid"}, "connect() is not supported by LAN"},
		{"disconnect", &recorder{}, "disconnect", nil, "disconnect() is not supported by LAN"},
		{"scan", &recorder{}, "scan", nil, "scan() is not supported by LAN"},
		{"no Caller", &recorder{}, "regs", nil, "LAN has no method regs()"},
		{"a Caller gets the call", &caller{}, "regs", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := guesttest.New(t, tt.driver, guesttest.Options{})
			_, err := h.Call(tt.method, tt.args...)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("%s() with a Caller: %v", tt.method, err)
				}
				return
			}
			want := &abi.Error{Kind: abi.KindUnsupported, Msg: tt.want}
			if e, ok := err.(*abi.Error); !ok || *e != *want {
				t.Fatalf("%s() = %v; want %v", tt.method, err, want)
			}
		})
	}
}

func TestModule_Errors(t *testing.T) {
	d := &recorder{}
	h := guesttest.New(t, d, guesttest.Options{})
	d.failWith = abi.OSError(abi.ETIMEDOUT, "no chip answers")
	if _, err := h.Call("active", true); !errors.Is(err, abi.OSError(abi.ETIMEDOUT, "no chip answers")) {
		t.Fatalf("active(True) = %v; want the driver's OSError", err)
	}
	d.failWith = errors.New("plain Go error")
	_, err := h.Call("active", true)
	if e, ok := err.(*abi.Error); !ok || e.Kind != abi.KindOSError || e.Errno != abi.EIO || e.Msg != "plain Go error" {
		t.Fatalf("a plain error should cross as OSError EIO, got %v", err)
	}
	if err := h.Transmit(nil); !errors.Is(err, guest.ErrBusy) {
		t.Fatalf("ErrBusy gave %v, want busy", err)
	}
	d.failWith = nil
	if err := h.Transmit(make([]byte, guest.TxBufferSize+1)); err == nil {
		t.Fatalf("a frame larger than the %d-byte transmit buffer was offered", guest.TxBufferSize)
	}
}

func TestModule_Describe(t *testing.T) {
	h := guesttest.New(t, &recorder{}, guesttest.Options{})
	d := h.Description()
	if d.ABI != abi.Version || d.Class != abi.ClassLAN || d.Validate() != nil {
		t.Fatalf("description %+v", d)
	}
	if m := guest.NewModule(&recorder{}, &rawHost{}); m.ABIVersion() != abi.Version {
		t.Fatalf("ABIVersion = %#x, want %#x", m.ABIVersion(), abi.Version)
	}
}
