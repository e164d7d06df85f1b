package host

import (
	"context"
	"errors"
	"fmt"

	"github.com/nichost/nichost/host/internal/engine"
	"github.com/nichost/nichost/host/internal/supervise"
)

// Errors callers can match with errors.Is.
var (
	// ErrABIVersion: the plugin speaks another ABI version.
	ErrABIVersion = supervise.ErrABIVersion
	// ErrBadModule: the module is not a usable plugin (missing or mistyped
	// exports, unknown imports, a bad description).
	ErrBadModule = supervise.ErrBadModule
	// ErrNotGranted: the plugin needs a bus the operator did not grant.
	ErrNotGranted = errors.New("bus not granted")
	// ErrUndeclaredBus is wrapped when the config grants a bus the plugin
	// does not declare.
	ErrUndeclaredBus = errors.New("undeclared bus")
	// ErrClassMismatch: the plugin declares another class than the config
	// expects.
	ErrClassMismatch = supervise.ErrClassMismatch
	// ErrClosed: the plugin or host was closed.
	ErrClosed = supervise.ErrClosed

	// Faults: the instance was discarded and is being restarted.
	ErrTimeout     = errors.New("call deadline exceeded")
	ErrTrap        = errors.New("plugin trapped")
	ErrCrashed     = errors.New("plugin crashed")
	ErrOutOfMemory = errors.New("plugin exceeded its memory limit")
	ErrViolation   = errors.New("plugin broke the ABI")
)

// PluginError is an error of one plugin, naming it and the operation.
type PluginError struct {
	Plugin string // the plugin's configured name
	Op     string // e.g. "active(True)", "load", "config"
	Err    error
}

func (e *PluginError) Error() string {
	op := e.Op
	if len(op) > 128 { // a call named by a huge argument
		op = op[:128] + "..."
	}
	return fmt.Sprintf("host: plugin %q: %s: %v", e.Plugin, op, e.Err)
}

func (e *PluginError) Unwrap() error { return e.Err }

// Is maps an engine fault to the exported sentinel of its kind, so that
// callers can write errors.Is(err, host.ErrTimeout) or
// errors.Is(err, context.DeadlineExceeded).
func (e *PluginError) Is(target error) bool {
	var f *engine.Fault
	if !errors.As(e.Err, &f) {
		return false
	}
	switch f.Kind {
	case engine.FaultTimeout:
		return target == ErrTimeout || target == context.DeadlineExceeded
	case engine.FaultTrap:
		return target == ErrTrap
	case engine.FaultCrash:
		return target == ErrCrashed
	case engine.FaultMemory:
		return target == ErrOutOfMemory
	case engine.FaultViolation:
		return target == ErrViolation
	}
	return false
}

// IsFault reports whether err says a plugin instance failed and was
// discarded.
func IsFault(err error) bool { return engine.IsFault(err) }
