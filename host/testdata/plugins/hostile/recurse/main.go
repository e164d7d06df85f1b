// Command recurse is a plugin that recurses deeply but legally:
// call("recurse", n) and scan(n=n) recurse n calls deep and return n
// (scan as its one network).
package main

import (
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/internal/testdriver"
)

type driver struct{ *testdriver.Driver }

//go:noinline
func depth(n int64) int64 {
	if n <= 0 {
		return 0
	}
	return depth(n-1) + 1
}

func (d driver) Call(iface int, name string, a guest.Args) (any, error) {
	if name != "recurse" {
		return d.Driver.Call(iface, name, a)
	}
	n, err := a.At(0, "n").Int()
	if err != nil {
		return nil, err
	}
	return depth(n), nil
}

func (d driver) Scan(iface int, a guest.Args) ([]any, error) {
	n, err := a.Key("n").Int()
	if err != nil {
		return nil, err
	}
	return []any{depth(n)}, nil
}

func init() { guest.Register(driver{testdriver.New().(*testdriver.Driver)}) }

func main() {}
