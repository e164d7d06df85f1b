package guest_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
)

func TestArgs_At(t *testing.T) {
	a := guest.Args{Pos: []any{int64(7), true, "s", []byte{1, 2}, nil}}
	tests := []struct {
		name string
		get  func() (any, error)
		want any
		err  string // the TypeError's message, when one is wanted
	}{
		{"int", func() (any, error) { return a.At(0, "n").Int() }, int64(7), ""},
		{"bool", func() (any, error) { return a.At(1, "on").Bool() }, true, ""},
		{"str", func() (any, error) { return a.At(2, "code").Str() }, "s", ""},
		{"bytes", func() (any, error) { return a.At(3, "data").Bytes() }, []byte{1, 2}, ""},
		{"None is given", func() (any, error) { return a.At(4, "v").Any() }, nil, ""},
		{"bool for int", func() (any, error) { return a.At(1, "n").Int() }, int64(0), "n: expected int, got bool"},
		{"int for bool", func() (any, error) { return a.At(0, "on").Bool() }, false, "on: expected bool, got int"},
		{"bytes for str", func() (any, error) { return a.At(3, "code").Str() }, "", "code: expected str, got bytes"},
		{"str for bytes", func() (any, error) { return a.At(2, "data").Bytes() }, []byte(nil), "data: expected bytes, got str"},
		{"missing", func() (any, error) { return a.At(5, "phy").Int() }, int64(0), "missing argument 5 (phy)"},
		{"missing, any type", func() (any, error) { return a.At(5, "info").Any() }, nil, "missing argument 5 (info)"},
		{"negative index", func() (any, error) { return a.At(-1, "x").Str() }, "", "missing argument -1 (x)"},
		{"missing with a default", func() (any, error) { return a.At(5, "n").Or(1).Int() }, int64(1), ""},
		{"given beats the default", func() (any, error) { return a.At(0, "n").Or(1).Int() }, int64(7), ""},
		{"a default of the wrong type", func() (any, error) { return a.At(5, "n").Or("1").Int() }, int64(0), "n: expected int, got str"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.get()
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("value %#v, want %#v", got, tt.want)
			}
			checkTypeError(t, err, tt.err)
		})
	}
}

func TestArgs_Key(t *testing.T) {
	a := guest.Args{KW: map[string]any{"ssid": "net", "key": 5}}
	if s, err := a.Key("ssid").Str(); s != "net" || err != nil {
		t.Errorf(`Key("ssid").Str() = %q, %v`, s, err)
	}
	_, err := a.Key("key").Str()
	checkTypeError(t, err, "key: expected str, got int")
	v := a.Key("bssid")
	if v.Given {
		t.Error(`Key("bssid") is given, but the call has no such keyword`)
	}
	_, err = v.Bytes()
	checkTypeError(t, err, `missing keyword argument "bssid"`)
}

func TestArgs_Takes(t *testing.T) {
	tests := []struct {
		name     string
		args     guest.Args
		maxPos   int
		keywords []string
		err      string
	}{
		{"none for none", guest.Args{}, 0, nil, ""},
		{"a positional for none", guest.Args{Pos: []any{1}}, 0, nil, "m() takes no arguments"},
		{"a keyword for none", guest.Args{KW: map[string]any{"k": 1}}, 0, nil, "m() takes no arguments"},
		{"within the limit", guest.Args{Pos: []any{1}}, 1, nil, ""},
		{"one too many", guest.Args{Pos: []any{1, 2}}, 1, nil, "m() takes at most 1 argument, got 2"},
		{"three for two", guest.Args{Pos: []any{1, 2, 3}}, 2, nil, "m() takes at most 2 arguments, got 3"},
		{"no keywords taken", guest.Args{KW: map[string]any{"k": 1}}, 1, nil, "m() takes no keyword arguments"},
		{"a known keyword", guest.Args{KW: map[string]any{"key": 1}}, 1, []string{"key", "bssid"}, ""},
		{"an unknown keyword", guest.Args{KW: map[string]any{"ky": 1}}, 1, []string{"key"}, "m() got an unexpected keyword argument 'ky'"},
		{"keywords only", guest.Args{Pos: []any{1}, KW: map[string]any{"key": 1}}, 0, []string{"key"}, "m() takes at most 0 arguments, got 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkTypeError(t, tt.args.Takes("m", tt.maxPos, tt.keywords...), tt.err)
		})
	}
}

// checkTypeError checks that err is nil when want is empty, and otherwise
// a TypeError whose message is want.
func checkTypeError(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Errorf("error %v, want none", err)
		}
		return
	}
	var e *abi.Error
	if !errors.As(err, &e) || e.Kind != abi.KindTypeError || e.Msg != want {
		t.Errorf("error %v, want TypeError: %s", err, want)
	}
}
