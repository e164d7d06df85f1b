package guest_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
)

// fakeHost is the host side for a natively run Module: it feeds arguments
// and records replies and raised errors. The real host is tested in
// package host; this checks the SDK's own argument handling.
type fakeHost struct {
	abi.Imports // unused imports panic
	args        []byte
	reply       []byte
	raised      *abi.Error
	txbuf       []byte
}

func (f *fakeHost) Args(dst []byte) int32 {
	if len(dst) >= len(f.args) {
		copy(dst, f.args)
	}
	return int32(len(f.args))
}
func (f *fakeHost) Reply(b []byte) int32 { f.reply = append([]byte(nil), b...); return 0 }
func (f *fakeHost) Raise(kind, errno int32, msg []byte) int32 {
	f.raised = &abi.Error{Kind: int(kind), Errno: int(errno), Msg: string(msg)}
	return 0
}
func (f *fakeHost) TxBuffer(b []byte) int32 { f.txbuf = b; return 0 }

// recorder is a driver that records what the SDK passed it.
type recorder struct {
	guest.AlwaysConnected
	got      []any
	failWith error
}

func (r *recorder) Describe() abi.Description {
	return abi.Description{Class: abi.ClassLAN, Name: "rec", Interfaces: []string{"eth"}}
}
func (r *recorder) Start(*guest.Env) error         { return nil }
func (r *recorder) Active(int) bool                { return true }
func (r *recorder) SetActive(_ int, up bool) error { r.got = append(r.got, up); return r.failWith }
func (r *recorder) IsConnected(int) bool           { return true }
func (r *recorder) Status(_ int, p string) (any, error) {
	r.got = append(r.got, p)
	return 2, nil
}
func (r *recorder) ConfigGet(_ int, name string) (any, error) { return name, nil }
func (r *recorder) ConfigSet(_ int, kv map[string]any) error  { r.got = append(r.got, kv); return nil }
func (r *recorder) Call(_ int, name string, a guest.Args) (any, error) {
	return abi.Tuple{name, a.Pos, a.KW}, nil
}
func (r *recorder) Poll(abi.Event) error { return nil }
func (r *recorder) Transmit(_ int, f []byte) error {
	if len(f) == 0 {
		return guest.ErrBusy
	}
	return r.failWith
}

func setup(t *testing.T) (*guest.Module, *fakeHost, *recorder) {
	t.Helper()
	h, d := &fakeHost{}, &recorder{AlwaysConnected: guest.AlwaysConnected{Class: "LAN"}}
	m := guest.NewModule(d, h)
	h.args, _ = abi.MarshalStruct(abi.StartInfo{Hostname: "h", Country: "XX"})
	if rc := m.Start(); rc != abi.StatusOK {
		t.Fatalf("Start = %d, %v", rc, h.raised)
	}
	if len(h.txbuf) != guest.TxBufferSize {
		t.Fatalf("transmit buffer of %d bytes registered", len(h.txbuf))
	}
	return m, h, d
}

func enc(t *testing.T, v any) []byte {
	b, err := abi.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestModule_ArgumentShapes(t *testing.T) {
	m, h, _ := setup(t)
	none := map[string]any{}
	tests := []struct {
		name   string
		export func(int32) int32
		args   any
		want   any    // decoded reply, when no error
		errMsg string // TypeError message part, when an error
	}{
		{"active()", m.Active, []any{[]any{}, none}, true, ""},
		{"active(True)", m.Active, []any{[]any{true}, none}, nil, ""},
		{"active(1)", m.Active, []any{[]any{1}, none}, nil, "active: expected bool, got int"},
		{"active(True, False)", m.Active, []any{[]any{true, false}, none}, nil, "at most 1 argument, got 2"},
		{"active(up=True)", m.Active, []any{[]any{}, map[string]any{"up": true}}, nil, "no keyword arguments"},
		{"status()", m.Status, []any{[]any{}, none}, int64(2), ""},
		{"status(5)", m.Status, []any{[]any{5}, none}, nil, "status: expected str, got int"},
		{"config('mac')", m.Config, []any{[]any{"mac"}, none}, "mac", ""},
		{"config(mac=..)", m.Config, []any{[]any{}, map[string]any{"mac": []byte{1}}}, nil, ""},
		{"config()", m.Config, []any{[]any{}, none}, nil, "either one parameter name or keyword arguments"},
		{"config('a', b=1)", m.Config, []any{[]any{"a"}, map[string]any{"b": 1}}, nil, "either one parameter name"},
		{"disconnect(1)", m.Disconnect, []any{[]any{1}, none}, nil, "takes no arguments"},
		{"isconnected()", m.IsConnected, []any{[]any{}, none}, true, ""},
		{"not a list", m.Active, map[string]any{}, nil, "arguments must be [args, kwargs]"},
		{"call", m.Call, []any{"regs", []any{1}, none}, abi.Tuple{"regs", []any{int64(1)}, none}, ""},
		{"call without name", m.Call, []any{[]any{}, none}, nil, "[name, args, kwargs]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.args, h.reply, h.raised = enc(t, tt.args), nil, nil
			rc := tt.export(0)
			if tt.errMsg != "" {
				if rc != abi.StatusError || h.raised == nil || h.raised.Kind != abi.KindTypeError || !contains(h.raised.Msg, tt.errMsg) {
					t.Fatalf("rc %d, raised %v; want TypeError containing %q", rc, h.raised, tt.errMsg)
				}
				return
			}
			if rc != abi.StatusOK {
				t.Fatalf("rc %d, raised %v", rc, h.raised)
			}
			got, err := abi.Unmarshal(h.reply)
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("reply %#v, %v; want %#v", got, err, tt.want)
			}
		})
	}
}

func TestModule_Errors(t *testing.T) {
	m, h, d := setup(t)
	h.args = enc(t, []any{[]any{true}, map[string]any{}})
	d.failWith = abi.OSError(abi.ETIMEDOUT, "no chip answers")
	if rc := m.Active(0); rc != abi.StatusError || *h.raised != *abi.OSError(abi.ETIMEDOUT, "no chip answers") {
		t.Fatalf("rc %d, raised %v", rc, h.raised)
	}
	d.failWith = errors.New("plain Go error")
	m.Active(0)
	if h.raised.Kind != abi.KindOSError || h.raised.Errno != abi.EIO || h.raised.Msg != "plain Go error" {
		t.Fatalf("a plain error should cross as OSError EIO: %v", h.raised)
	}
	h.args = enc(t, []any{[]any{}, map[string]any{}})
	if rc := m.Connect(0); rc != abi.StatusError || h.raised.Kind != abi.KindUnsupported || h.raised.Msg != "connect() is not supported by LAN" {
		t.Fatalf("AlwaysConnected.Connect: rc %d, %v", rc, h.raised)
	}
	if rc := m.Transmit(0, nil); rc != abi.TransmitBusy {
		t.Fatalf("ErrBusy gave %d, want TransmitBusy", rc)
	}
	d.failWith = nil
	if rc := m.Transmit(0, []byte{1}); rc != abi.StatusOK {
		t.Fatalf("Transmit = %d", rc)
	}
}

func TestModule_Describe(t *testing.T) {
	m, h, _ := setup(t)
	if rc := m.Describe(); rc != abi.StatusOK {
		t.Fatal(rc)
	}
	var d abi.Description
	if err := abi.UnmarshalInto(h.reply, &d); err != nil {
		t.Fatal(err)
	}
	if d.ABI != abi.Version || d.Class != abi.ClassLAN || d.Validate() != nil {
		t.Fatalf("description %+v", d)
	}
	if m.ABIVersion() != abi.Version {
		t.Fatal("ABIVersion")
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
