package host_test

import (
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
	"github.com/nichost/nichost/host/hosttest"
)

// A plugin cannot make the host work or hold memory for it past its
// bounds: WASI output, the receive queues, the engine's call stack.

// The WASI output bounds (host/internal/engine/wasi.go) and the log limit.
const (
	outputPerCall = 64 << 10
	logBurst      = 50
	logRate       = 20 // lines a second
)

func TestContainment_FdWriteBomb(t *testing.T) {
	r := newRig(t, config.Limits{})
	const deadline = 500 * time.Millisecond
	bad := r.load(t, "bad", plugin("hostile/fdwrite"), noBuses, func(c *config.PluginConfig) { c.Limits.CallTimeout = deadline })
	nic := bad.NICs()[0]
	ctx := ctxT(t)

	// Each fd_write offers 16 GiB; the host takes 64 KiB of the first and
	// refuses the rest, so the guest's loop runs on into the deadline.
	t0 := time.Now()
	err := nic.SetActive(ctx, true)
	took := time.Since(t0)
	if !errors.Is(err, host.ErrTimeout) || !contains(err.Error(), "call deadline exceeded in nic_active") {
		t.Fatalf("SetActive(true) = %v, want the call deadline exceeded", err)
	}
	if took > deadline+2*time.Second {
		t.Fatalf("the call ran %v under a deadline of %v", took, deadline)
	}
	if up, err := nic.Active(ctx); err != nil || up {
		t.Fatalf("after the fault: Active() = %v, %v; want the restarted instance's false", up, err)
	}
	// At least one: on a loaded machine the fresh instance's own nic_start
	// may also run past the short deadline this test sets, which is a
	// second timeout and restart, not a failure of containment.
	if st := bad.State(); st.Restarts < 1 || st.Faults < 1 || !errors.Is(st.LastFault, host.ErrTimeout) {
		t.Fatalf("state %+v, want a timeout and a restart", st)
	}
	t1 := time.Now()
	r.h.Close()
	closed := time.Since(t1)
	if closed > 5*time.Second {
		t.Fatalf("Host.Close took %v", closed)
	}
	t.Logf("fd_write bomb: faulted after %v (deadline %v); Host.Close took %v", took, deadline, closed)
}

func TestContainment_StdoutFlood(t *testing.T) {
	r := newRig(t, config.Limits{})
	bad := r.load(t, "bad", plugin("hostile/stdout"), noBuses, func(c *config.PluginConfig) { c.Limits.CallTimeout = time.Minute })
	logged := func() []string {
		var out []string
		for _, l := range strings.Split(r.log.String(), "\n") {
			if contains(l, `msg="plugin output"`) && contains(l, "plugin=bad") {
				out = append(out, l)
			}
		}
		return out
	}
	before := len(logged())
	t0 := time.Now()
	if err := bad.NICs()[0].SetActive(ctxT(t), true); err != nil {
		t.Fatalf("SetActive(true) = %v: output refused is no fault", err)
	}
	took := time.Since(t0)
	lines := logged()[before:]
	// The first 64 KiB (5461 lines of 12 bytes) are taken; of them the log
	// gets the burst and what the rate refills during the call.
	most := logBurst + int(took.Seconds()*logRate) + 1
	if len(lines) == 0 || len(lines) > most {
		t.Fatalf("%d lines logged of 100,000 printed in %v, want 1..%d", len(lines), took, most)
	}
	if !contains(lines[0], "line=\"line 000000\"") {
		t.Fatalf("first line logged: %s", lines[0])
	}
	// The lines taken but not logged are counted.
	if got, want := bad.Stats().OutputDropped, uint64(outputPerCall/12-len(lines)); got != want {
		t.Fatalf("OutputDropped = %d, want %d (%d lines taken, %d logged)", got, want, outputPerCall/12, len(lines))
	}
	t.Logf("stdout flood: 100,000 lines in %v; %d logged, %d taken", took, len(lines), outputPerCall/12)
}

// stuckLink is a network core that takes no frame until released.
type stuckLink struct {
	hosttest.Link
	release   chan struct{}
	delivered atomic.Int64
}

func (l *stuckLink) DeliverFrame([]byte) error {
	<-l.release
	l.delivered.Add(1)
	return nil
}

func heapInuse() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

func TestContainment_RxFlood(t *testing.T) {
	const (
		limit  = 64 << 20
		margin = 32 << 20
		rounds = 2100 // frames rxflood offers each interface
	)
	r := newRig(t, config.Limits{})
	bad := r.load(t, "bad", plugin("hostile/rxflood"), noBuses, func(c *config.PluginConfig) {
		c.Limits.MemoryLimit = limit
		c.Limits.CallTimeout = time.Minute
	})
	nics := bad.NICs()
	if len(nics) != abi.MaxInterfaces {
		t.Fatalf("%d NICs, want %d", len(nics), abi.MaxInterfaces)
	}
	links := make([]*stuckLink, len(nics))
	release := make(chan struct{})
	var once sync.Once
	unstick := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unstick)
	for i, n := range nics {
		links[i] = &stuckLink{release: release}
		hosttest.Attach(n, links[i])
	}
	base := heapInuse()
	if err := nics[0].SetActive(ctxT(t), true); err != nil {
		t.Fatalf("SetActive(true) = %v", err)
	}
	// 16,800 frames of 64 KiB (1.1 GB) were offered to cores that take
	// none: the host holds at most its budget for the plugin (limit/8).
	grew := heapInuse() - base
	if grew > limit+margin {
		t.Fatalf("the host heap grew by %d MiB during the flood, want at most the limit (%d MiB) + %d MiB", grew>>20, limit>>20, margin>>20)
	}
	unstick()
	var delivered, dropped uint64
	for i, n := range nics {
		l := links[i]
		eventually(t, "the queued frames delivered", func() bool {
			st := n.Stats()
			return st.RxFrames == rounds && uint64(l.delivered.Load())+st.Drops["queue full"] == rounds
		})
		delivered += uint64(l.delivered.Load())
		dropped += n.Stats().Drops["queue full"]
	}
	if most := uint64(limit / 8 / 65536); delivered > most || delivered == 0 {
		t.Fatalf("%d frames of 64 KiB were queued, want 1..%d (limit/8)", delivered, most)
	}
	t.Logf("rx flood: %d frames offered, %d queued, %d dropped; heap grew %.1f MiB", rounds*len(nics), delivered, dropped, float64(grew)/(1<<20))
}

func TestContainment_DeepRecursion(t *testing.T) {
	r := newRig(t, config.Limits{})
	p := r.load(t, "deep", plugin("hostile/recurse"), noBuses, func(c *config.PluginConfig) {
		c.Limits.CallTimeout = time.Minute
		c.Limits.MemoryLimit = 128 << 20
	})
	nic := p.NICs()[0]
	ctx := ctxT(t)
	depth := int64(500_000)
	if p.Engine() == "wasmtime" {
		// wasmtime runs a call on the thread's own stack, at most 512 KiB
		// of it (6,500 calls of this plugin's recursion; ABI.md 7.2): a
		// deeper recursion is a stack overflow, contained as any trap.
		_, err := nic.Call(ctx, "recurse", depth)
		if !errors.Is(err, host.ErrTrap) || !contains(err.Error(), "wasm error: stack overflow") || !host.IsFault(err) {
			t.Fatalf("recurse(%d) on wasmtime = %v, want a trap fault: stack overflow", depth, err)
		}
		depth = 3_000
	}
	// The first recursion grows the guest's memory, where its goroutine's
	// stack lives, under the limit.
	if got, err := nic.Call(ctx, "recurse", depth); err != nil || got != depth {
		t.Fatalf("recurse(%d) = %v, %v", depth, got, err)
	}
	// The same recursion through another export needs no more guest
	// memory, but grows that export's wazero call stack to ~40 MiB, which
	// the engine must not keep once the call is over (wasmtime's is the
	// thread's stack, outside the heap).
	base := heapInuse()
	if got, err := nic.Scan(ctx, host.KW{"n": depth}); err != nil || len(got) != 1 || got[0] != depth {
		t.Fatalf("scan(n=%d) = %v, %v", depth, got, err)
	}
	kept := heapInuse() - base
	if kept > 4<<20 {
		t.Fatalf("after a recursion %d deep the heap holds %.1f MiB more, want at most 4 MiB", depth, float64(kept)/(1<<20))
	}
	t.Logf("recursion %d deep: heap %+.1f MiB after the call", depth, float64(kept)/(1<<20))
}
