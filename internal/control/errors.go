package control

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/host"
)

// Error types of the API's error object. The first four are MicroPython's
// exceptions, raised by a driver or by nichost on its behalf; the others
// are the API's own.
const (
	TypeValueError          = "ValueError"
	TypeTypeError           = "TypeError"
	TypeOSError             = "OSError"
	TypeNotImplementedError = "NotImplementedError"
	TypeNotFound            = "NotFound"   // no such NIC, plugin, function or endpoint
	TypeBadRequest          = "BadRequest" // malformed JSON, a bad value, a body too large
	TypeInternal            = "Internal"   // a bug or an unexpected failure of the daemon
)

// errorBody is the JSON of an error response.
type errorBody struct {
	Error apiError `json:"error"`
}

type apiError struct {
	Type    string `json:"type"`
	Errno   int    `json:"errno,omitempty"`
	Message string `json:"message"`
}

// statusError is an error with the HTTP status and type it is answered
// with.
type statusError struct {
	status int
	e      apiError
}

func (e *statusError) Error() string { return e.e.Type + ": " + e.e.Message }

func notFound(format string, a ...any) *statusError {
	return &statusError{http.StatusNotFound, apiError{Type: TypeNotFound, Message: fmt.Sprintf(format, a...)}}
}

func badRequest(format string, a ...any) *statusError {
	return &statusError{http.StatusBadRequest, apiError{Type: TypeBadRequest, Message: fmt.Sprintf(format, a...)}}
}

// pyError answers an *abi.Error raised by a driver or the host.
func pyError(e *abi.Error) *statusError {
	st := http.StatusBadRequest // ValueError, TypeError: the caller's arguments
	switch e.Kind {
	case abi.KindOSError:
		st = http.StatusInternalServerError
	case abi.KindUnsupported:
		st = http.StatusNotImplemented
	}
	errno := 0
	if e.Kind == abi.KindOSError {
		errno = e.Errno
	}
	return &statusError{st, apiError{Type: abi.KindName(e.Kind), Errno: errno, Message: e.Msg}}
}

// classify turns an error of a host call into the status and error object
// it is answered with.
func classify(err error) *statusError {
	var se *statusError
	if errors.As(err, &se) {
		return se
	}
	// A fault first: a call that timed out inside the plugin also matches
	// context.DeadlineExceeded.
	if host.IsFault(err) {
		errno := abi.EIO
		if errors.Is(err, host.ErrTimeout) {
			errno = abi.ETIMEDOUT
		}
		return &statusError{http.StatusServiceUnavailable, apiError{Type: TypeOSError, Errno: errno, Message: faultText(err)}}
	}
	var ae *abi.Error
	if errors.As(err, &ae) {
		return pyError(ae)
	}
	switch {
	case errors.Is(err, host.ErrClosed):
		return &statusError{http.StatusServiceUnavailable, apiError{Type: TypeOSError, Errno: abi.ENODEV, Message: err.Error()}}
	case errors.Is(err, context.DeadlineExceeded):
		return &statusError{http.StatusGatewayTimeout, apiError{Type: TypeOSError, Errno: abi.ETIMEDOUT, Message: err.Error()}}
	case errors.Is(err, context.Canceled):
		return &statusError{http.StatusServiceUnavailable, apiError{Type: TypeOSError, Errno: abi.ETIMEDOUT, Message: err.Error()}}
	case errors.Is(err, ErrValue):
		return badRequest("%v", err)
	}
	return &statusError{http.StatusInternalServerError, apiError{Type: TypeInternal, Message: err.Error()}}
}

// faultText is a fault's message: the plugin error's cause, which names
// the fault and the export, without the wrapping that repeats the op.
func faultText(err error) string {
	var pe *host.PluginError
	if errors.As(err, &pe) {
		return fmt.Sprintf("plugin %s faulted in %s: %v", pe.Plugin, pe.Op, pe.Err)
	}
	return err.Error()
}

// RemoteError is an error the daemon answered with. Its Error reads like
// the last line MicroPython's REPL prints for an exception:
// "ValueError: message", "OSError: [Errno 110] message"; the API's own
// types read the same way ("NotFound: no NIC \"eth9\" ...").
//
// For the four MicroPython kinds it unwraps to an *abi.Error, so callers
// can tell them apart with errors.As or errors.Is(err, abi.ErrValue).
type RemoteError struct {
	Type    string // TypeValueError, ..., TypeNotFound, TypeBadRequest, TypeInternal
	Errno   int    // for OSError: the errno; 0 otherwise
	Message string
	Status  int // the HTTP status
}

func (e *RemoteError) Error() string {
	if e.Type == TypeOSError && e.Errno != 0 {
		return fmt.Sprintf("OSError: [Errno %d] %s", e.Errno, e.Message)
	}
	return e.Type + ": " + e.Message
}

// AsABI is the error as an *abi.Error, nil for the API's own types.
func (e *RemoteError) AsABI() *abi.Error {
	kind := 0
	switch e.Type {
	case TypeValueError:
		kind = abi.KindValueError
	case TypeTypeError:
		kind = abi.KindTypeError
	case TypeOSError:
		kind = abi.KindOSError
	case TypeNotImplementedError:
		kind = abi.KindUnsupported
	default:
		return nil
	}
	return &abi.Error{Kind: kind, Errno: e.Errno, Msg: e.Message}
}

// Unwrap returns AsABI's error, if there is one.
func (e *RemoteError) Unwrap() error {
	if a := e.AsABI(); a != nil {
		return a
	}
	return nil
}
