package ipaddr

import (
	"net/netip"
	"testing"
)

func TestProblem(t *testing.T) {
	for a, want := range map[string]string{
		"0.0.0.0": Unspecified, "::": Unspecified, "127.0.0.9": Loopback, "::1": Loopback,
		"224.0.0.1": Multicast, "ff02::1": Multicast, "255.255.255.255": Broadcast,
		"10.0.0.1": "", "169.254.1.1": "", "fd00::1": "", "fe80::1": "",
		"::ffff:0.0.0.0": Unspecified, "::ffff:255.255.255.255": Broadcast, "::ffff:127.0.0.1": Loopback,
	} {
		if got := Problem(netip.MustParseAddr(a)); got != want {
			t.Errorf("Problem(%s) = %q, want %q", a, got, want)
		}
	}
}

func TestSubnetProblem(t *testing.T) {
	for p, want := range map[string]string{
		"10.0.0.0/24": SubnetNetwork, "10.0.0.255/24": SubnetBroadcast, "10.0.0.7/24": "",
		"10.0.0.3/30": SubnetBroadcast, "10.0.0.0/31": "", "10.0.0.1/31": "", "10.0.0.0/32": "",
		"10.255.255.255/8": SubnetBroadcast, "fd00::/64": "",
	} {
		if got := SubnetProblem(netip.MustParsePrefix(p)); got != want {
			t.Errorf("SubnetProblem(%s) = %q, want %q", p, got, want)
		}
	}
}

func TestMaskBits(t *testing.T) {
	for _, c := range []struct {
		mask [4]byte
		ones int
		ok   bool
	}{
		{[4]byte{255, 255, 255, 0}, 24, true}, {[4]byte{255, 255, 255, 255}, 32, true},
		{[4]byte{0, 0, 0, 0}, 0, true}, {[4]byte{255, 255, 255, 252}, 30, true},
		{[4]byte{255, 0, 255, 0}, 8, false}, {[4]byte{0, 0, 0, 255}, 0, false},
	} {
		if ones, ok := MaskBits(c.mask); ones != c.ones || ok != c.ok {
			t.Errorf("MaskBits(%v) = %d, %v; want %d, %v", c.mask, ones, ok, c.ones, c.ok)
		}
	}
}
