//go:build wasmtime

package engine

import (
	"context"
	"fmt"
)

func init() { testEngines = append(testEngines, Wasmtime) }

func (w *wasmtimeInstance) testMemory() memory { return w.memoryNow() }
func (w *wasmtimeInstance) module() Module     { return w.m }
func (w *wasmtimeInstance) outputTail() *tail  { return w.stderr }

func (w *wasmtimeInstance) rawCall(ctx context.Context, name string, params ...uint64) (uint64, error) {
	fn := w.inst.GetFunc(w.store, name)
	if fn == nil {
		return 0, fmt.Errorf("no export %s", name)
	}
	var args []any
	for i, pt := range fn.Type(w.store).Params() {
		if kindName(pt.Kind()) == "i64" {
			args = append(args, int64(params[i]))
		} else {
			args = append(args, int32(uint32(params[i])))
		}
	}
	w.r.cur = w
	w.budget.begin(ctx)
	var res any
	err := w.guarded(ctx, func() (err error) {
		res, err = fn.Call(w.store, args...)
		return err
	})
	if err != nil {
		return 0, err
	}
	return uint64(uint32(res.(int32))), nil
}
