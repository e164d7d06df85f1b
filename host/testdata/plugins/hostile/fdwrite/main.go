// Command fdwrite is a hostile plugin: active(True) calls WASI's fd_write
// in a loop, each time with 1024 iovecs that all point at one 16 MiB buffer
// of two-byte lines: 16 GiB and 8 Gi lines a call, were the host to take
// them.
package main

import (
	"bytes"
	"unsafe"

	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/internal/testdriver"
)

//go:wasmimport wasi_snapshot_preview1 fd_write
func fdWrite(fd int32, iovs uint32, count int32, nwritten uint32) int32

type iovec struct{ ptr, len uint32 }

var (
	buf      []byte
	iovs     [1024]iovec
	nwritten uint32
	calls    int
)

type driver struct{ *testdriver.Driver }

// Start prepares the bomb, under the start deadline.
func (d driver) Start(env *guest.Env) error {
	buf = bytes.Repeat([]byte("x\n"), 8<<20)
	for i := range iovs {
		iovs[i] = iovec{uint32(uintptr(unsafe.Pointer(&buf[0]))), uint32(len(buf))}
	}
	return d.Driver.Start(env)
}

func (driver) SetActive(int, bool) error {
	for {
		fdWrite(1, uint32(uintptr(unsafe.Pointer(&iovs[0]))), int32(len(iovs)), uint32(uintptr(unsafe.Pointer(&nwritten))))
		calls++
	}
}

func init() { guest.Register(driver{testdriver.New().(*testdriver.Driver)}) }

func main() {}
