package engine

import (
	"context"
	"testing"
	"time"

	"github.com/nichost/nichost/abi"
)

// gpioImports answers gpio_read; the benchmarks call nothing else.
type gpioImports struct{ abi.Imports }

func (gpioImports) GPIORead(uint32) int32 { return 1 }

// hostCallMod's nic_poll(n) calls gpio_read(1) n times; nic_status(n)
// loops n times.
func hostCallMod() wasmMod {
	// (n) -> i32: block { loop { if n == 0 break; n--; drop gpio_read(1) } }; n
	body := cat([]byte{opBlock, 0x40, opLoop, 0x40}, get(0), []byte{opI32Eqz, opBrIf, 0x01},
		get(0), i32c(1), []byte{opI32Sub, 0x21, 0x00}, // local.set 0
		i32c(1), call(0), []byte{opDrop, opBr, 0x00, opEnd, opEnd}, get(0))
	// nic_status(n): the same loop without the call, guest code alone.
	loop := cat([]byte{opBlock, 0x40, opLoop, 0x40}, get(0), []byte{opI32Eqz, opBrIf, 0x01},
		get(0), i32c(1), []byte{opI32Sub, 0x21, 0x00, opBr, 0x00, opEnd, opEnd}, get(0))
	return wasmMod{
		imports: []wasmImport{{module: abi.ImportModule, name: abi.ImportGPIORead, sig: "i:i"}},
		funcs:   []wasmFunc{abiVersion, {sig: "i:i", body: body}, {sig: "i:i", body: loop}},
		exports: map[string]int{"nic_abi_version": 1, "nic_poll": 2, "nic_status": 3},
		pages:   1,
	}
}

// BenchmarkEngine_Calls measures a call into the guest (nic_abi_version),
// alone and under a deadline of its own as the host makes every call, and
// a host function called from it (gpio_read: an op of import-x1000 makes
// 1000), and a loop of a million rounds in the guest, on each engine.
func BenchmarkEngine_Calls(b *testing.B) {
	for _, e := range testEngines {
		ctx := context.Background()
		mod, err := newRuntime(b, e, 16<<20).Compile(ctx, hostCallMod().bytes())
		if err != nil {
			b.Fatal(err)
		}
		inst, err := mod.Instantiate(ctx, gpioImports{}, Output{})
		if err != nil {
			b.Fatal(err)
		}
		w := inst.(testInstance)
		b.Run(e+"/export", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := w.invoke(ctx, "nic_abi_version"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(e+"/export-deadline", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ctx, cancel := context.WithTimeout(ctx, time.Minute)
				if _, err := w.invoke(ctx, "nic_abi_version"); err != nil {
					b.Fatal(err)
				}
				cancel()
			}
		})
		b.Run(e+"/import-x1000", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := w.invoke(ctx, "nic_poll", 1000); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(e+"/loop-1M", func(b *testing.B) {
			for b.Loop() {
				if _, err := w.invoke(ctx, "nic_status", 1_000_000); err != nil {
					b.Fatal(err)
				}
			}
		})
		inst.Close(ctx)
	}
}
