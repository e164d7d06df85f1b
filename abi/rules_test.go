package abi

import (
	"strings"
	"testing"
)

func TestCheckSPIOps(t *testing.T) {
	b := func(n int) []byte { return make([]byte, n) }
	tests := []struct {
		name  string
		ops   []SPIOp
		total int
		errno int32
	}{
		{"write only", []SPIOp{{W: b(3)}}, 3, 0},
		{"read only", []SPIOp{{R: b(4)}}, 4, 0},
		{"full duplex", []SPIOp{{W: b(2), R: b(2)}, {W: b(5), KeepCS: true}}, 7, 0},
		{"no records", nil, 0, -EINVAL},
		{"too many records", make([]SPIOp, SPIMaxOps+1), 0, -EINVAL},
		{"empty record", []SPIOp{{W: b(1)}, {}}, 0, -EINVAL},
		{"lengths differ", []SPIOp{{W: b(2), R: b(3)}}, 0, -EINVAL},
		{"over the transfer limit", []SPIOp{{W: b(SPIMaxTransfer)}, {R: b(1)}}, 0, -E2BIG},
		{"at the transfer limit", []SPIOp{{W: b(SPIMaxTransfer - 1)}, {R: b(1)}}, SPIMaxTransfer, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			total, errno := CheckSPIOps(tt.ops)
			if total != tt.total || errno != tt.errno {
				t.Fatalf("CheckSPIOps = %d, %d; want %d, %d", total, errno, tt.total, tt.errno)
			}
		})
	}
}

func TestRaised(t *testing.T) {
	if _, ok := Raised(0, 0, []byte("x")); ok {
		t.Fatal("kind 0 accepted")
	}
	if _, ok := Raised(KindUnsupported+1, 0, nil); ok {
		t.Fatal("an unknown kind accepted")
	}
	e, ok := Raised(KindValueError, EIO, []byte("bad"))
	if !ok || e.Kind != KindValueError || e.Errno != 0 || e.Msg != "bad" {
		t.Fatalf("ValueError with an errno: %+v, %v; want the errno dropped", e, ok)
	}
	e, _ = Raised(KindOSError, ETIMEDOUT, []byte("slow"))
	if e.Errno != ETIMEDOUT {
		t.Fatalf("OSError lost its errno: %+v", e)
	}
}

func TestText(t *testing.T) {
	if got := Text([]byte(strings.Repeat("é", MaxText))); len(got) > MaxText+3 || !strings.HasPrefix(got, "éé") {
		t.Fatalf("a long message kept %d bytes, want about %d", len(got), MaxText)
	}
	if got := Text([]byte{'o', 0xff, 'k'}); got != "o\uFFFDk" {
		t.Fatalf("Text(invalid UTF-8) = %q", got)
	}
}

func TestValidReport(t *testing.T) {
	dns := func(n int) []any {
		l := make([]any, n)
		for i := range l {
			l[i] = "192.0.2.1"
		}
		return l
	}
	tests := []struct {
		m    map[string]any
		want bool
	}{
		{map[string]any{"addr4": "10.0.0.2", "peer4": "10.0.0.1", "dns": dns(2)}, true},
		{map[string]any{"addr6": "fe80::1", "peer6": "fe80::2"}, true},
		{map[string]any{}, true},
		{map[string]any{"gw4": "10.0.0.1"}, false},
		{map[string]any{"addr4": []byte{10, 0, 0, 2}}, false},
		{map[string]any{"dns": "10.0.0.1"}, false},
		{map[string]any{"dns": []any{int64(1)}}, false},
		{map[string]any{"dns": dns(MaxReportDNS)}, true},
		{map[string]any{"dns": dns(MaxReportDNS + 1)}, false},
	}
	for _, tt := range tests {
		if got := ValidReport(tt.m); got != tt.want {
			t.Errorf("ValidReport(%v) = %v, want %v", tt.m, got, tt.want)
		}
	}
}

func TestValidStationsReport(t *testing.T) {
	mac := func(b byte) []byte { return []byte{0x02, 0, 0, 0, 0, b} }
	many := make([]any, MaxStations+1)
	for i := range many {
		many[i] = mac(byte(i))
	}
	for name, c := range map[string]struct {
		m    map[string]any
		want bool
	}{
		"two stations":       {map[string]any{"stations": []any{mac(1), mac(2)}}, true},
		"none":               {map[string]any{"stations": []any{}}, true},
		"the limit":          {map[string]any{"stations": many[:MaxStations]}, true},
		"over the limit":     {map[string]any{"stations": many}, false},
		"a duplicate":        {map[string]any{"stations": []any{mac(1), mac(1)}}, false},
		"a group address":    {map[string]any{"stations": []any{[]byte{1, 0, 0x5e, 0, 0, 1}}}, false},
		"a short MAC":        {map[string]any{"stations": []any{[]byte{2, 0, 0}}}, false},
		"a str MAC":          {map[string]any{"stations": []any{"02:00:00:00:00:01"}}, false},
		"not a list":         {map[string]any{"stations": mac(1)}, false},
		"an address as well": {map[string]any{"stations": []any{}, "addr4": "10.0.0.2"}, false},
		"no key":             {map[string]any{}, false},
	} {
		if got := ValidStationsReport(c.m); got != c.want {
			t.Errorf("%s: ValidStationsReport(%v) = %v, want %v", name, c.m, got, c.want)
		}
	}
}
