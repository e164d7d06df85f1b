package host_test

import (
	"strings"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
)

// ParseScan types scan()'s tuples, and names the first that is not one.
func TestParseScan(t *testing.T) {
	bssid := []byte{2, 0, 0, 0, 0, 1}
	good := abi.Tuple{"net", bssid, int64(6), int64(-45), int64(host.SecWPA2), false}
	l, err := host.ParseScan([]any{good, abi.Tuple{"", bssid, int64(3), int64(-70), int64(host.SecWPA3), true}})
	if err != nil {
		t.Fatal(err)
	}
	if w := l[0]; w.SSID != "net" || w.BSSID.String() != "02:00:00:00:00:01" || w.Channel != 6 || w.RSSI != -45 || w.Security != host.SecWPA2 || w.Hidden {
		t.Errorf("ParseScan[0] = %+v", w)
	}
	if w := l[1]; w.SSID != "" || !w.Hidden || w.Security != host.SecWPA3 {
		t.Errorf("ParseScan[1] = %+v", w)
	}
	bssid[5] = 9
	if l[0].BSSID[5] != 1 {
		t.Error("the BSSID shares the tuple's bytes")
	}
	for _, c := range []struct {
		v    any
		want string
	}{
		{[]any{"net"}, "not list"},
		{abi.Tuple{"net", bssid, int64(6)}, "6-tuple"},
		{abi.Tuple{"net", bssid[:5], int64(6), int64(-45), int64(3), false}, "bytes(6)"},
		{abi.Tuple{"net", bssid, "6", int64(-45), int64(3), false}, "(str, bytes, str, int, int, bool)"},
	} {
		_, err := host.ParseScan([]any{good, c.v})
		if err == nil || !strings.Contains(err.Error(), "scan()[1]") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseScan(..., %#v) = %v; want an error on scan()[1] saying %q", c.v, err, c.want)
		}
	}
}
