package host

import (
	"bytes"
	"testing"
)

func TestDeriveMAC(t *testing.T) {
	a := deriveMAC("machine-1", "eth0", "eth")
	if !bytes.Equal(a, deriveMAC("machine-1", "eth0", "eth")) {
		t.Fatal("the same inputs gave different MACs")
	}
	for _, other := range [][3]string{{"machine-2", "eth0", "eth"}, {"machine-1", "eth1", "eth"}, {"machine-1", "eth0", "ap"}} {
		if bytes.Equal(a, deriveMAC(other[0], other[1], other[2])) {
			t.Fatalf("%v gave the same MAC as machine-1/eth0/eth", other)
		}
	}
	for _, name := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		m := deriveMAC("m", name, "eth")
		if m[0]&0x01 != 0 || m[0]&0x02 == 0 {
			t.Fatalf("%v is not unicast and locally administered", m)
		}
	}
}
