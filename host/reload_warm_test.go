package host_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/hosttest"
)

// The warm handover (ABI.md "Warm handover"), with the test driver of
// testdata/plugins/resume: it counts the handovers it took part in, which
// only a state handed from instance to instance can carry.

// warmRig is a host running plugins/resume/good, active, with a Link
// watching its first NIC.
type warmRig struct {
	*rig
	p    *host.Plugin
	nic  *host.NIC
	link *hosttest.Link
	b    string // a second build of resume/good: the same module with a custom section
}

func newWarmRig(t *testing.T) *warmRig {
	t.Helper()
	r := &warmRig{rig: newRig(t, config.Limits{})}
	r.p = r.load(t, "warm", plugin("resume/good"))
	r.nic = r.p.NICs()[0]
	r.link = &hosttest.Link{}
	hosttest.Attach(r.nic, r.link)
	if err := r.nic.SetActive(ctxT(t), true); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the link up", func() bool { return r.nic.LinkState().Up })
	res, err := r.h.Builder().Build(ctxT(t), plugin("resume/good"))
	if err != nil {
		t.Fatal(err)
	}
	wasm, err := os.ReadFile(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	// A custom section (id 0, name "b") makes another module of the same
	// code: another digest, another compilation.
	r.b = filepath.Join(t.TempDir(), "good-b.wasm")
	if err := os.WriteFile(r.b, append(wasm, 0, 3, 1, 'b', 'x'), 0o644); err != nil {
		t.Fatal(err)
	}
	return r
}

// handover returns what the running instance says of its start.
func (r *warmRig) handover(t *testing.T) abi.Tuple {
	t.Helper()
	v, err := r.nic.Call(ctxT(t), "handover")
	if err != nil {
		t.Fatal(err)
	}
	return v.(abi.Tuple)
}

// downs counts the link-down reports the core got after the first up.
func (r *warmRig) downs() int {
	ups := r.link.Ups()
	i := slices.Index(ups, true)
	if i < 0 {
		return 0
	}
	n := 0
	for _, up := range ups[i:] {
		if !up {
			n++
		}
	}
	return n
}

// transmitDuring sends n frames from the core while fn runs, and returns
// how many the host refused at once.
func (r *warmRig) transmitDuring(t *testing.T, n int, fn func()) int {
	t.Helper()
	var wg sync.WaitGroup
	refused := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range n {
			f := make([]byte, 60)
			copy(f, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
			f[14] = byte(i)
			if hosttest.Transmit(r.nic, f) != nil {
				refused++
			}
		}
	}()
	fn()
	wg.Wait()
	return refused
}

// Reloads alternating two builds hand the device from instance to
// instance: the link stays up, every frame the core sent meanwhile is
// sent, and each instance carries the count of handovers on.
func TestReload_WarmHandover(t *testing.T) {
	r := newWarmRig(t)
	ctx := ctxT(t)
	sources := []string{r.b, plugin("resume/good")}
	tx0 := r.nic.Stats().TxFrames
	const frames = 200
	for i := range 4 {
		var err error
		if refused := r.transmitDuring(t, frames, func() { _, err = r.p.Reload(ctx, sources[i%2]) }); refused != 0 {
			t.Fatalf("reload %d: the host refused %d frames the core sent during it", i+1, refused)
		}
		if err != nil {
			t.Fatalf("reload %d: %v", i+1, err)
		}
		if got := r.handover(t); got[0] != abi.ResumeReload || got[1] != int64(i+1) {
			t.Fatalf("after reload %d the instance says %v, want (reload, %d): the state was not handed over", i+1, got, i+1)
		}
	}
	if n := r.downs(); n != 0 {
		t.Fatalf("the core saw the link go down %d times during warm reloads: %v", n, r.link.Ups())
	}
	want := tx0 + 4*frames
	eventually(t, "every frame sent", func() bool { return r.nic.Stats().TxFrames == want })
	if d := r.nic.Stats().Drops; len(d) != 0 {
		t.Fatalf("frames dropped during warm reloads: %v", d)
	}
	if st := r.p.State(); st.Reloads != 4 || st.Faults != 0 || !st.Up || r.p.Generation() != 5 {
		t.Fatalf("state %+v, generation %d; want 4 reloads, no fault, generation 5", st, r.p.Generation())
	}
}

// A new module that fails to start is rolled back: the old one runs again,
// taken over from the state it handed over, with the link held up, and
// the error says what failed and how the old one came back.
func TestReload_RollsBackWhenTheNewModuleFailsToStart(t *testing.T) {
	r := newWarmRig(t)
	_, err := r.p.Reload(ctxT(t), plugin("resume/failstart"))
	if err == nil {
		t.Fatal("the reload to a module that never starts succeeded")
	}
	for _, want := range []string{"the new module failed to start", "failstart: this module never starts", "the previous module runs again, resumed from the state it handed over"} {
		if !contains(err.Error(), want) {
			t.Fatalf("Reload: %v\nwant it to say %q", err, want)
		}
	}
	if got := r.handover(t); got[0] != abi.ResumeReload || got[1] != int64(1) {
		t.Fatalf("after the rollback the instance says %v, want (reload, 1): the old module taken over from its own state", got)
	}
	if n := r.downs(); n != 0 {
		t.Fatalf("the core saw the link go down %d times during the rollback", n)
	}
	if st := r.p.State(); st.Reloads != 0 || !st.Up || r.p.Generation() != 3 {
		t.Fatalf("state %+v, generation %d; want no reload counted, up, generation 3 (failed 2, rollback 3)", st, r.p.Generation())
	}
}

// A module that fails before the swap (here: its description does not
// match the NICs) changes nothing: the running instance was never stopped.
func TestReload_RefusedModuleLeavesTheInstanceRunning(t *testing.T) {
	r := newWarmRig(t)
	_, err := r.p.Reload(ctxT(t), plugin("ppp"))
	if !errors.Is(err, host.ErrClassMismatch) || !contains(err.Error(), "the running one goes on") {
		t.Fatalf("Reload(ppp) = %v, want a class mismatch saying the running module goes on", err)
	}
	if got := r.handover(t); got[0] != "" || got[1] != int64(0) {
		t.Fatalf("the instance says %v: it was replaced", got)
	}
	if r.p.Generation() != 1 || r.downs() != 0 {
		t.Fatalf("generation %d, %d link downs: the running instance was disturbed", r.p.Generation(), r.downs())
	}
}

// After a fault the next instance is offered the device too, and the link
// is held meanwhile: the core never sees it go down, and what it sent
// while no instance ran is sent by the next one.
func TestRestart_AfterAFaultIsWarm(t *testing.T) {
	r := newWarmRig(t)
	ctx := ctxT(t)
	tx0 := r.nic.Stats().TxFrames
	const frames = 100
	refused := r.transmitDuring(t, frames, func() {
		if _, err := r.nic.Call(ctx, "crash"); !errors.Is(err, host.ErrCrashed) {
			t.Errorf("call(crash) = %v, want a crash", err)
		}
	})
	if refused != 0 {
		t.Fatalf("the host refused %d frames while the plugin restarted", refused)
	}
	eventually(t, "the restart", func() bool { return r.p.Generation() == 2 && r.p.State().Up })
	if got := r.handover(t); got[0] != abi.ResumeFault {
		t.Fatalf("the restarted instance says %v, want to have been offered the device after a fault", got)
	}
	eventually(t, "every frame sent", func() bool { return r.nic.Stats().TxFrames == tx0+frames })
	if n, d := r.downs(), r.nic.Stats().Drops; n != 0 || len(d) != 0 {
		t.Fatalf("%d link downs, drops %v: the restart was not warm", n, d)
	}
}

// A next instance that starts cold and never reports the link up: the
// hold runs out and the core is told the link is down, as without the
// warm handover.
func TestReload_LinkHoldRunsOut(t *testing.T) {
	r := newWarmRig(t)
	if _, err := r.p.Reload(ctxT(t), plugin("resume/cold")); err != nil {
		t.Fatal(err)
	}
	if !r.nic.LinkState().Up {
		t.Fatal("the link went down at once: it was not held for the next instance")
	}
	eventually(t, "the link reported down when the hold ran out", func() bool { return r.downs() == 1 })
	if !contains(r.log.String(), "did not take the link over in time") {
		t.Fatalf("the host did not log why the link went down:\n%s", r.log)
	}
}

// A module without the warm handover gets the cold path: the link goes
// down with the old instance, and the new one brings it up again.
func TestReload_ColdForAModuleWithoutResume(t *testing.T) {
	r := newWarmRig(t)
	if _, err := r.p.Reload(ctxT(t), plugin("full")); err != nil {
		t.Fatal(err)
	}
	if got := r.link.Ups(); !bytes.Equal(boolBytes(got[len(got)-2:]), []byte{0, 1}) {
		t.Fatalf("link states %v, want down with the old instance, then up from the replayed active(True)", got)
	}
}

func boolBytes(bs []bool) []byte {
	out := make([]byte, len(bs))
	for i, b := range bs {
		if b {
			out[i] = 1
		}
	}
	return out
}
