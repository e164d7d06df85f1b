// Package engine runs one plugin instance behind a small interface, on
// wazero or natively (the driver compiled into the host, as a baseline and a
// debugging aid). It translates the ABI's (pointer, length) pairs into Go
// slices, checking every one against guest memory, and classifies what goes
// wrong into Faults. Nothing of wazero leaves this package.
package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/nichost/nichost/abi"
)

// Imports is the host's implementation of the ABI for one instance, with
// guest memory already turned into slices. Slices passed to it are views of
// guest memory valid only during the call.
type Imports = abi.Imports

// Instance is one running plugin instance. Calls must be serialised by the
// caller. After any call returns a *Fault the instance is unusable.
type Instance interface {
	// ABIVersion calls nic_abi_version.
	ABIVersion(ctx context.Context) (uint32, error)
	// Call calls a control export: nic_describe, nic_start (iface is
	// ignored for both) or one of the per-interface ones.
	Call(ctx context.Context, export string, iface int32) (int32, error)
	// Poll calls nic_poll.
	Poll(ctx context.Context, events abi.Event) (int32, error)
	// Transmit copies frame into the guest's transmit buffer and calls
	// nic_transmit. frame is not retained.
	Transmit(ctx context.Context, iface int32, frame []byte) (int32, error)
	// CanBatch reports whether the instance exports nic_transmit_batch.
	CanBatch() bool
	// TransmitBatch copies count frame records (abi.AppendFrame) into the
	// guest's transmit buffer and calls nic_transmit_batch. records is not
	// retained.
	TransmitBatch(ctx context.Context, iface, count int32, records []byte) (int32, error)
	// Close discards the instance.
	Close(ctx context.Context) error
}

// FaultKind says how an instance failed.
type FaultKind int

const (
	FaultTimeout   FaultKind = iota + 1 // a call ran past its deadline and was interrupted
	FaultTrap                           // the guest trapped (unreachable, bad memory access, ...)
	FaultCrash                          // the guest ended itself: a Go panic, a fatal error, proc_exit
	FaultMemory                         // the guest ran out of memory under its limit
	FaultViolation                      // the guest broke the ABI
)

func (k FaultKind) String() string {
	switch k {
	case FaultTimeout:
		return "call deadline exceeded"
	case FaultTrap:
		return "trap"
	case FaultCrash:
		return "crash"
	case FaultMemory:
		return "out of memory"
	case FaultViolation:
		return "ABI violation"
	}
	return fmt.Sprintf("fault %d", int(k))
}

// Fault is an instance failure; the instance must be discarded.
type Fault struct {
	Kind   FaultKind
	Export string // the export that was running
	Detail string // what the engine or the guest's stderr said
	Err    error  // underlying error, if any
}

func (f *Fault) Error() string {
	s := fmt.Sprintf("%s in %s", f.Kind, f.Export)
	if f.Detail != "" {
		s += ": " + f.Detail
	}
	return s
}

func (f *Fault) Unwrap() error { return f.Err }

// Is lets callers match a timeout with context.DeadlineExceeded.
func (f *Fault) Is(target error) bool {
	return f.Kind == FaultTimeout && target == context.DeadlineExceeded
}

// IsFault reports whether err is (or wraps) a Fault.
func IsFault(err error) bool {
	var f *Fault
	return errors.As(err, &f)
}
