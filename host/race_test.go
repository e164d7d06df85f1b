package host_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
)

// A plugin restarted after faults, reloaded with other modules and finally
// closed, while other goroutines keep reading what the host says about it:
// every read sees a consistent plugin (run under -race, as CI does, this is
// also the check that those reads do not race with the plugin goroutine).
func TestPlugin_RestartAndReloadWhileReading(t *testing.T) {
	r := newRig(t, config.Limits{RestartBackoff: time.Millisecond, RestartBackoffMax: 5 * time.Millisecond})
	p := r.load(t, "full", plugin("full"))
	nic := p.NICs()[0]

	stop := make(chan struct{})
	var reads atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var bad []string
	fail := func(s string) {
		mu.Lock()
		if len(bad) < 5 {
			bad = append(bad, s)
		}
		mu.Unlock()
	}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if c := nic.Class(); c != abi.ClassLAN {
					fail("NIC.Class() = " + c)
				}
				if d := p.Description(); d.Class != abi.ClassLAN || len(d.Interfaces) != 2 {
					fail("Plugin.Description() = " + d.Class)
				}
				for _, n := range r.h.NICs() {
					if n.Plugin() != p || n.Name() == "" {
						fail("Host.NICs() holds " + n.Name())
					}
				}
				_ = r.h.Plugins()
				_ = p.NICs()
				_ = p.State()
				_ = p.Stats()
				_ = p.Config().Source
				_ = nic.LinkState()
				_ = nic.Stats()
				reads.Add(1)
			}
		}()
	}

	up := func(what string) {
		eventually(t, what, func() bool { return p.State().Up })
	}
	for i := range 3 {
		// Each step has the wait bound of its own: under the race detector
		// on a busy machine a restart or a reload takes seconds.
		if _, err := nic.Call(ctxT(t), "crash"); err == nil {
			t.Fatalf("crash %d: no error", i)
		}
		up("the plugin to restart")
	}
	for _, src := range []string{plugin("hostile/badhandle"), plugin("full"), plugin("hostile/badhandle"), plugin("full")} {
		if _, err := p.Reload(ctxT(t), src); err != nil {
			t.Fatalf("reload %s: %v", src, err)
		}
	}
	// The host answers to a module-level setting that fans out to the
	// plugins by feature while the readers run.
	_ = r.h.SetPhyMode(ctxT(t), host.Mode11G)
	at := reads.Load()
	eventually(t, "the readers to keep reading", func() bool { return reads.Load() > at })
	p.Close()
	eventually(t, "the closed plugin's NICs to leave the host", func() bool { return len(r.h.NICs()) == 0 })
	close(stop)
	wg.Wait()

	for _, b := range bad {
		t.Error(b)
	}
	if st := p.State(); st.Restarts != 3 || st.Reloads != 4 {
		t.Fatalf("state after 3 crashes and 4 reloads: %+v", st)
	}
	if _, ok := r.h.Plugin("full"); ok {
		t.Fatal("the closed plugin is still listed")
	}
}
