package host_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/host/config"
)

// FuzzHostCalls: a plugin makes any host calls with any handles,
// pointers, lengths and values (hostile/rawcalls runs the calls the input
// spells out, bypassing the SDK). Whatever it does, the host stays up:
// the call returns a result or an error of the ABI's kinds, a plugin that
// broke the contract is faulted and restarted, and the host still lists
// it and serves its NIC afterwards. Each record is 20 bytes: the import's
// number and four 32-bit arguments (see the plugin).
func FuzzHostCalls(f *testing.F) {
	r := newRig(f, config.Limits{})
	cfg := config.PluginConfig{Name: "raw", Source: plugin("hostile/rawcalls"), Buses: r.buses}
	p, _, err := r.h.Load(f.Context(), cfg)
	if err != nil {
		f.Fatal(err)
	}
	nic := p.NICs()[0]
	rec := func(n uint32, args ...uint32) []byte {
		b := binary.LittleEndian.AppendUint32(nil, n)
		for i := range 4 {
			var v uint32
			if i < len(args) {
				v = args[i]
			}
			b = binary.LittleEndian.AppendUint32(b, v)
		}
		return b
	}
	f.Add(rec(3, 1, 0, 0))                                   // log, empty
	f.Add(rec(3, 1, 0xfff00000, 64))                         // log, out of bounds
	f.Add(rec(11, 1, 0, 1))                                  // spi_transact with ops at 0
	f.Add(rec(11, 99, 16, 0xffffffff))                       // a forged handle, a huge count
	f.Add(append(rec(7, 0, 1024, 1600), rec(7, 7, 0, 0)...)) // rx_push over the MTU, to an interface that is not there
	f.Add(rec(9, 0, 1, 1, 0x7fffffff))                       // link with an absurd MTU
	f.Add(rec(10, 0, 64, 40000))                             // report, a long garbage record
	f.Add(rec(1, 0, 0xffffffff))                             // reply with a length past memory
	f.Add(rec(23, 5, 0xffffffff, 0, 16))                     // blob_read from a negative offset
	f.Add(rec(18, 4, 1<<31, 0xffff))                         // frame_read into memory it does not have
	f.Fuzz(func(t *testing.T, b []byte) {
		ctx := ctxT(t)
		if !p.State().Up {
			if err := p.Restart(ctx); err != nil {
				t.Fatalf("the operator's restart after a fault: %v", err)
			}
		}
		_, err := nic.Call(ctx, "raw", b)
		var ae *abi.Error
		var pe *host.PluginError
		if err != nil && !errors.As(err, &ae) && !errors.As(err, &pe) {
			t.Fatalf("raw: an error of no ABI kind: %T %v", err, err)
		}
		if q, ok := r.h.Plugin("raw"); !ok || q != p {
			t.Fatal("the host lost the plugin")
		}
	})
}
