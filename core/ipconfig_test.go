package core_test

import (
	"testing"

	"github.com/nichost/nichost/host/bus/sim"
)

// Replacing the static addr6 replaces its on-link route too: the route
// table does not grow with each address the interface once had.
func TestIPConfig_Addr6ReplacesItsRoute(t *testing.T) {
	seg := sim.NewSegment(sim.SegmentOptions{Seed: 1})
	a := newNode(t, "a")
	nic := a.attach(t, seg, "eth0", mac(1))
	if err := nic.SetIPConfig(map[string]any{"addr6": "2001:db8:1::5/64", "autoconf6": false}); err != nil {
		t.Fatal(err)
	}
	routes := a.st.RouteCount()
	for _, p := range []string{"2001:db8:2::5/64", "2001:db8:3::5/64", "2001:db8:3::5/48"} {
		if err := nic.SetIPConfig(map[string]any{"addr6": p}); err != nil {
			t.Fatal(err)
		}
		if n := a.st.RouteCount(); n != routes {
			t.Errorf("after addr6=%s: %d routes, want %d (the old subnet's route stays)", p, n, routes)
		}
	}
}
