package host

import (
	"context"
	"sync"

	"github.com/nichost/nichost/host/internal/engine"
)

// warmKeep is how many compiled modules a host keeps after their plugins
// closed. A Go plugin's compiled module is about 6 MiB of heap; taking one
// from the engine's disk cache costs about 80 ms, most of it the engine
// validating the module's code again (wazero checks every function body
// before it looks in its cache), so the next load of the same module (a
// reload that changes only settings, a plugin closed and loaded again,
// `nichost test` and the conformance suite loading one driver many times)
// takes the kept one instead.
const warmKeep = 2

// warmModule is a compiled module whose plugin closed, in its runtime,
// with no instance open.
type warmModule struct {
	digest string
	limit  uint64 // the runtime's memory limit
	rt     engine.Runtime
	mod    engine.Module
}

func (w warmModule) close() {
	ctx := context.Background()
	w.mod.Close(ctx)
	w.rt.Close(ctx)
}

// warmModules are a host's kept modules, the most recently kept last.
type warmModules struct {
	mu     sync.Mutex
	closed bool
	kept   []warmModule
}

// take returns the kept module of digest with memory limit limit, if there
// is one; it is the caller's until it is put back or closed.
func (k *warmModules) take(digest string, limit uint64) (warmModule, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for i := len(k.kept) - 1; i >= 0; i-- {
		if w := k.kept[i]; w.digest == digest && w.limit == limit {
			k.kept = append(k.kept[:i], k.kept[i+1:]...)
			return w, true
		}
	}
	return warmModule{}, false
}

// put keeps w for a later load, or closes it: when an instance of its
// runtime is still open (a runtime is one plugin's alone), when the host
// is closed, and the oldest kept module when more than warmKeep are.
func (k *warmModules) put(w warmModule) {
	if w.rt.Live() != 0 {
		w.close()
		return
	}
	k.mu.Lock()
	if k.closed {
		k.mu.Unlock()
		w.close()
		return
	}
	k.kept = append(k.kept, w)
	var evict []warmModule
	if n := len(k.kept) - warmKeep; n > 0 {
		evict = append(evict, k.kept[:n]...)
		k.kept = append([]warmModule(nil), k.kept[n:]...)
	}
	k.mu.Unlock()
	for _, e := range evict {
		e.close()
	}
}

// closeAll closes every kept module; later puts close theirs at once.
func (k *warmModules) closeAll() {
	k.mu.Lock()
	k.closed = true
	kept := k.kept
	k.kept = nil
	k.mu.Unlock()
	for _, w := range kept {
		w.close()
	}
}
