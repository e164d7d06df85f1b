package host_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
)

func TestHost_LoadFullPlugin(t *testing.T) {
	r := newRig(t, config.Limits{})
	p, info, err := r.loadErr(t, "full", plugin("full"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Build == nil || info.Build.Path == "" {
		t.Fatalf("LoadInfo.Build = %+v, want the built module", info.Build)
	}
	d := p.Description()
	if d.Class != abi.ClassLAN || d.Name != "testdriver" || len(d.Interfaces) != 2 {
		t.Fatalf("description = %+v", d)
	}
	nics := p.NICs()
	if len(nics) != 2 || nics[0].Name() != "full.eth0" || nics[1].Name() != "full.eth1" {
		t.Fatalf("NICs = %v", nics)
	}
	mac := nics[0].MAC()
	if len(mac) != 6 || mac[0]&0x02 == 0 || mac[0]&0x01 != 0 {
		t.Fatalf("MAC %v is not a locally administered unicast address", mac)
	}
	if bytes.Equal(mac, nics[1].MAC()) {
		t.Fatalf("both interfaces got MAC %v", mac)
	}
	if !bytes.Equal(mac, host.DeriveMAC("full", "eth0")) {
		t.Fatalf("MAC %v is not the derived, stable one %v", mac, host.DeriveMAC("full", "eth0"))
	}
	got, err := nics[0].Config(ctxT(t), "mac")
	if err != nil || !bytes.Equal(got.([]byte), mac) {
		t.Fatalf("config('mac') = %v, %v; want the host-assigned %v", got, err, mac)
	}
	if _, ok := r.h.NIC("full.eth1"); !ok {
		t.Fatal("host does not find NIC full.eth1")
	}
	// A second plugin of the same name is refused, and the first keeps
	// working.
	if _, _, err := r.loadErr(t, "full", plugin("full")); err == nil || !contains(err.Error(), "already loaded") {
		t.Fatalf("second load with the same name: %v", err)
	}
	if _, err := nics[0].Active(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	_ = errors.Is
}
