package host_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/hosttest"
)

// next waits for the next event of one of kinds on ch, skipping others.
func next(t *testing.T, ch <-chan host.Event, kinds ...string) host.Event {
	t.Helper()
	ctx := ctxT(t)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatal("event channel closed")
			}
			for _, k := range kinds {
				if ev.Kind == k {
					return ev
				}
			}
		case <-ctx.Done():
			t.Fatalf("no %v event", kinds)
		}
	}
}

// The event stream tells an operator what happened, in order, with the
// instance generation: link up, a fault, the restart after it, an
// operator's restart and a reload.
func TestHost_EventsAndGenerations(t *testing.T) {
	r := newRig(t, config.Limits{})
	p := r.load(t, "full", plugin("full"))
	nic := p.NICs()[0]
	hosttest.Attach(nic, &hosttest.Link{})
	ctx := ctxT(t)
	ch, stop := r.h.Subscribe(64)
	defer stop()
	if g := p.Generation(); g != 1 {
		t.Fatalf("first instance's generation = %d, want 1", g)
	}

	if err := nic.SetActive(ctx, true); err != nil {
		t.Fatal(err)
	}
	ev := next(t, ch, host.EventLink)
	if ev.NIC != nic.Name() || ev.Plugin != "full" || ev.Data["up"] != true || ev.Generation != 1 {
		t.Fatalf("link event %+v", ev)
	}

	if _, err := nic.Call(ctx, "crash"); !errors.Is(err, host.ErrCrashed) {
		t.Fatalf("crash: %v", err)
	}
	f := next(t, ch, host.EventFault)
	if f.Generation != 1 || !contains(f.Message, "crash requested") || f.Seq <= ev.Seq {
		t.Fatalf("fault event %+v after %d", f, ev.Seq)
	}
	rs := next(t, ch, host.EventRestart)
	if rs.Generation != 2 || p.Generation() != 2 {
		t.Fatalf("restart event %+v, generation %d; want 2", rs, p.Generation())
	}

	if err := p.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	op := next(t, ch, host.EventRestart)
	if op.Generation != 3 || !contains(op.Message, "operator") {
		t.Fatalf("operator restart event %+v", op)
	}
	if up, err := nic.Active(ctx); err != nil || !up {
		t.Fatalf("after Restart: active() = %v, %v; want the state replayed", up, err)
	}
	if st := p.State(); st.Restarts != 2 || st.Faults != 1 {
		t.Fatalf("state %+v, want 2 restarts after 1 fault", st)
	}

	if _, err := p.Reload(ctx, plugin("full")); err != nil {
		t.Fatal(err)
	}
	rl := next(t, ch, host.EventReload)
	if rl.Generation != 4 || p.Generation() != 4 {
		t.Fatalf("reload event %+v, generation %d; want 4", rl, p.Generation())
	}
}

// A subscriber that does not read loses events, is told how many, and
// holds nobody up.
func TestHost_SubscribeSlowReader(t *testing.T) {
	r := newRig(t, config.Limits{})
	ch, stop := r.h.Subscribe(1)
	for i := range 5 {
		r.h.Publish(host.Event{Kind: host.EventConfig, Message: fmt.Sprint(i)})
	}
	first := <-ch
	if first.Message != "0" || first.Missed != 0 {
		t.Fatalf("first event %+v", first)
	}
	r.h.Publish(host.Event{Kind: host.EventConfig, Message: "5"})
	if ev := <-ch; ev.Message != "5" || ev.Missed != 4 || ev.Seq != 6 {
		t.Fatalf("event after the gap %+v, want message 5, 4 missed, seq 6", ev)
	}
	stop()
	stop() // twice is harmless
	if _, ok := <-ch; ok {
		t.Fatal("channel open after stop")
	}
	r.h.Publish(host.Event{Kind: host.EventConfig}) // no subscriber: no panic
}

// The statistics an operator's metrics show: host calls, memory and call
// latencies, measured on the running instance.
func TestPlugin_StatsMeasureTheInstance(t *testing.T) {
	r := newRig(t, config.Limits{})
	p := r.load(t, "full", plugin("full"))
	nic := p.NICs()[0]
	ctx := ctxT(t)
	if err := nic.SetActive(ctx, true); err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	if st.HostCalls == 0 || st.Memory < 64<<10 {
		t.Fatalf("host calls %d, memory %d bytes: want both measured", st.HostCalls, st.Memory)
	}
	h, ok := st.Latency["nic_active"]
	if !ok || h.Count == 0 || len(h.Counts) != len(h.Bounds)+1 || h.Sum <= 0 {
		t.Fatalf("nic_active latency %+v (have %v)", h, st.Latency)
	}
	var sum uint64
	for _, c := range h.Counts {
		sum += c
	}
	if sum != h.Count {
		t.Fatalf("bucket counts add to %d, count %d", sum, h.Count)
	}
	before := st.HostCalls
	if _, err := nic.Call(ctx, "crash"); err == nil {
		t.Fatal("crash did not fault")
	}
	eventually(t, "the restart", func() bool { return p.State().Up })
	if err := nic.SetActive(ctx, true); err != nil {
		t.Fatal(err)
	}
	if after := p.Stats().HostCalls; after <= before {
		t.Fatalf("host calls went from %d to %d across a restart; want them summed", before, after)
	}
}

// Close ends the subscriptions, so that a stream of events (the daemon's
// /v1/events) ends with the host.
func TestHost_CloseEndsSubscriptions(t *testing.T) {
	r := newRig(t, config.Limits{})
	ch, stop := r.h.Subscribe(4)
	defer stop()
	r.h.Close()
	if _, ok := <-ch; ok {
		t.Fatal("an event after Close; want the channel closed")
	}
	late, _ := r.h.Subscribe(4)
	if _, ok := <-late; ok {
		t.Fatal("Subscribe after Close gave an open channel")
	}
}

// The digest says which module runs, so a daemon can tell a reload that
// changes the module from one that would not.
func TestPlugin_DigestFollowsTheModule(t *testing.T) {
	r := newRig(t, config.Limits{})
	p := r.load(t, "full", plugin("full"))
	ctx := ctxT(t)
	full, err := r.h.ModuleDigest(ctx, plugin("full"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Digest() != full || len(full) != len("sha256:")+64 {
		t.Fatalf("digest %q, ModuleDigest %q", p.Digest(), full)
	}
	other, err := r.h.ModuleDigest(ctx, plugin("hostile/badhandle"))
	if err != nil || other == full {
		t.Fatalf("another module's digest %q, %v; want a different one", other, err)
	}
	if _, err := p.Reload(ctx, plugin("hostile/badhandle")); err != nil {
		t.Fatal(err)
	}
	if p.Digest() != other {
		t.Fatalf("digest after reload %q, want %q", p.Digest(), other)
	}
	if _, err := r.h.ModuleDigest(ctx, "no/such/dir"); err == nil {
		t.Fatal("ModuleDigest of a missing source succeeded")
	}
}
