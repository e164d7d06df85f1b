package host_test

import (
	"errors"
	"testing"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/hosttest"
)

func TestPlugin_Reload(t *testing.T) {
	r := newRig(t, config.Limits{})
	p := r.load(t, "full", plugin("full"))
	nic := p.NICs()[0]
	ctx := ctxT(t)
	link := &hosttest.Link{}
	hosttest.Attach(nic, link)
	if err := nic.SetConfig(ctx, host.KW{"label": "kept"}); err != nil {
		t.Fatal(err)
	}
	if err := nic.SetActive(ctx, true); err != nil {
		t.Fatal(err)
	}

	// A module whose needs are not granted is refused; the old one runs on.
	_, err := p.Reload(ctx, plugin("needy"))
	if !errors.Is(err, host.ErrNotGranted) || !contains(err.Error(), "reset (gpio)") {
		t.Fatalf("Reload(needy) = %v, want ErrNotGranted naming reset", err)
	}
	if up, err := nic.Active(ctx); err != nil || !up {
		t.Fatalf("after the refused reload: Active() = %v, %v; want the old module, still active", up, err)
	}

	// A module with the same class and interfaces replaces it and gets the
	// state back.
	if _, err := p.Reload(ctx, plugin("hostile/badhandle")); err != nil {
		t.Fatal(err)
	}
	if v, err := nic.Config(ctx, "label"); err != nil || v != "kept" {
		t.Fatalf("label after reload = %v, %v", v, err)
	}
	// badhandle's active(True) now fails: the new code is what runs (and
	// its failed replay of active(True) was logged, not fatal).
	if err := nic.SetActive(ctx, true); err == nil || !contains(err.Error(), "gpio_write on handles 99") {
		t.Fatalf("SetActive after reload = %v, want the new module's error", err)
	}
	if st := p.State(); st.Reloads != 1 || st.Faults != 0 || !st.Up {
		t.Fatalf("state %+v", st)
	}
	if nic.Name() != "full.eth0" {
		t.Fatalf("NIC renamed to %s", nic.Name())
	}
	// The link went down with the old module, and the new one (whose
	// active(True) fails) never brought it up.
	if st := link.States()[len(link.States())-1]; st.Up {
		t.Fatalf("core's link states %+v; want down after the swap", link.States())
	}
}
