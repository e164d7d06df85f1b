package pyval

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/nichost/nichost/abi"
)

func TestParseAndRepr(t *testing.T) {
	for _, c := range []struct {
		src  string
		want any
		repr string
	}{
		{`'board-7'`, "board-7", `'board-7'`},
		{`"it's"`, "it's", `"it's"`},
		{`b'\x02\x00\x00\x00\x00\x01'`, []byte{2, 0, 0, 0, 0, 1}, `b'\x02\x00\x00\x00\x00\x01'`},
		{`b''`, []byte{}, `b''`},
		{`42`, int64(42), `42`},
		{`-0x10`, int64(-16), `-16`},
		{`1_000`, int64(1000), `1000`},
		{`1.5`, 1.5, `1.5`},
		{`2.0`, 2.0, `2.0`},
		{`1e3`, 1000.0, `1000.0`},
		{`True`, true, `True`},
		{`None`, nil, `None`},
		{`(1,)`, abi.Tuple{int64(1)}, `(1,)`},
		{`()`, abi.Tuple{}, `()`},
		{`('10.0.0.2', '255.255.255.0')`, abi.Tuple{"10.0.0.2", "255.255.255.0"}, `('10.0.0.2', '255.255.255.0')`},
		{`(5)`, int64(5), `5`},
		{`[1, 'a', [None]]`, []any{int64(1), "a", []any{nil}}, `[1, 'a', [None]]`},
		{`{'b': 2, 'a': (1, 2)}`, map[string]any{"a": abi.Tuple{int64(1), int64(2)}, "b": int64(2)}, `{'a': (1, 2), 'b': 2}`},
		{`'tab\there\n'`, "tab\there\n", `'tab\there\n'`},
		{`'\u00e9'`, "é", `'é'`},
		{`'both \' and "'`, `both ' and "`, `'both \' and "'`},
		{`b'a\tb\\\x7f\xff'`, []byte("a\tb\\\x7f\xff"), `b'a\tb\\\x7f\xff'`},
		{`'\x01'`, "\x01", `'\x01'`},
		// Floats as MicroPython's %.16g repr: positional from 1e-4 up to
		// 1e16, exponent form outside, ".0" on integral values.
		{`1e6`, 1e6, `1000000.0`},
		{`1234567.5`, 1234567.5, `1234567.5`},
		{`1e15`, 1e15, `1000000000000000.0`},
		{`1e16`, 1e16, `1e+16`},
		{`-2.5e20`, -2.5e20, `-2.5e+20`},
		{`0.0001`, 0.0001, `0.0001`},
		{`0.00001`, 0.00001, `1e-05`},
		{`-0.0`, math.Copysign(0, -1), `-0.0`},
		{`0.1`, 0.1, `0.1`},
		{`0o17`, int64(15), `15`},
		{`0b101`, int64(5), `5`},
		{`000`, int64(0), `0`},
		{`-9223372036854775808`, int64(math.MinInt64), `-9223372036854775808`},
		{`[]`, []any{}, `[]`},
		{`{}`, map[string]any{}, `{}`},
		{`((1,), [()])`, abi.Tuple{abi.Tuple{int64(1)}, []any{abi.Tuple{}}}, `((1,), [()])`},
	} {
		got, err := Parse(c.src)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("Parse(%s) = %#v, %v; want %#v", c.src, got, err, c.want)
			continue
		}
		if r := Repr(got); r != c.repr {
			t.Errorf("Repr(%#v) = %s, want %s", got, r, c.repr)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{`'open`, "not closed"},
		{`{1: 2}`, "TypeError: dict keys must be str"},
		{`board`, `name "board" isn't a value`},
		{`[1 2]`, "want , or ]"},
		{`99999999999999999999`, "out of the 64-bit range"},
		{strings.Repeat("[", 40), "nest deeper"},
		{`b'é'`, "ASCII"},
		{`1 2`, "after the value"},
		{`010`, "leading zeros"},
		{`0x`, "not a number"},
		{`1e`, "not a number"},
		{`b'\u00e9'`, "in a str"},
		{`'\x4'`, "two hex digits"},
		{`{'a' 1}`, "want :"},
		{`(1, 2`, "want , or )"},
		{`inf`, `name "inf" isn't a value`},
	} {
		if _, err := Parse(c.src); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%s) error %v, want %q", c.src, err, c.want)
		}
	}
}

func TestParseCall(t *testing.T) {
	c, err := ParseCall(`eth0.config(mac=b'\x02\x00\x00\x00\x00\x01', hidden=True)`)
	if err != nil || c.Target != "eth0" || c.Method != "config" || len(c.Args) != 0 ||
		!reflect.DeepEqual(c.KW, map[string]any{"mac": []byte{2, 0, 0, 0, 0, 1}, "hidden": true}) {
		t.Fatalf("ParseCall = %+v, %v", c, err)
	}
	c, err = ParseCall(`network.hostname()`)
	if err != nil || c.Target != "network" || c.Method != "hostname" || c.Args != nil || c.KW != nil {
		t.Fatalf("ParseCall = %+v, %v", c, err)
	}
	c, err = ParseCall(`eth0.ipconfig( 'addr4' )`)
	if err != nil || !reflect.DeepEqual(c.Args, []any{"addr4"}) {
		t.Fatalf("ParseCall = %+v, %v", c, err)
	}
	for _, bad := range []string{`eth0`, `eth0.config(mac=1, 2)`, `eth0.x(a=1, a=2)`, `eth0.x(1) + 1`, `.x()`} {
		if _, err := ParseCall(bad); err == nil {
			t.Errorf("ParseCall(%s) succeeded", bad)
		}
	}
}

// Whatever Repr prints, Parse reads back as the same value.
func FuzzParse(f *testing.F) {
	for _, s := range []string{`'a'`, `b'\x00'`, `(1, [2.5, None], {'k': True})`, `-7`, `"q'"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		v, err := Parse(src)
		if err != nil {
			return
		}
		again, err := Parse(Repr(v))
		if err != nil || !reflect.DeepEqual(norm(again), norm(v)) {
			t.Fatalf("Parse(%q) = %#v; Repr %s reads back as %#v, %v", src, v, Repr(v), again, err)
		}
	})
}

// norm makes NaN comparable.
func norm(v any) any {
	if f, ok := v.(float64); ok && f != f {
		return "nan"
	}
	return v
}

// Constants parse to their values, dotted as MicroPython code writes them;
// an unknown one names itself.
func TestParseCall_Constants(t *testing.T) {
	c, err := ParseCall("wlan.init(mode=WLAN.AP, ssid='x', auth=(WLAN.WPA2, 'key'), channel=network.WLAN.SEC_WPA2)")
	if err != nil {
		t.Fatal(err)
	}
	if c.KW["mode"] != int64(2) || c.KW["channel"] != int64(3) {
		t.Errorf("mode=WLAN.AP, channel=network.WLAN.SEC_WPA2 parsed as %v, %v; want 2, 3", c.KW["mode"], c.KW["channel"])
	}
	if a, ok := c.KW["auth"].(abi.Tuple); !ok || len(a) != 2 || a[0] != int64(3) || a[1] != "key" {
		t.Errorf("auth=(WLAN.WPA2, 'key') parsed as %#v", c.KW["auth"])
	}
	if _, err := ParseCall("wlan.init(mode=WLAN.BOGUS)"); err == nil || !strings.Contains(err.Error(), "WLAN.BOGUS") {
		t.Errorf("an unknown constant: %v, want an error naming WLAN.BOGUS", err)
	}
}
