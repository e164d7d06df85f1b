package abi

import (
	"errors"
	"fmt"
	"runtime"
	"syscall"
)

// Error is an error raised by a driver (or by the host on a driver's
// behalf) in MicroPython's terms: a kind, an errno for OSError, and a
// message.
type Error struct {
	Kind  int    // KindValueError, KindTypeError, KindOSError or KindUnsupported
	Errno int    // for KindOSError: a Linux errno (ETIMEDOUT, EIO, ...); 0 otherwise
	Msg   string // human-readable, names the parameter or condition
}

// KindName is the MicroPython exception name for a kind.
func KindName(kind int) string {
	switch kind {
	case KindValueError:
		return "ValueError"
	case KindTypeError:
		return "TypeError"
	case KindOSError:
		return "OSError"
	case KindUnsupported:
		return "NotImplementedError"
	default:
		return fmt.Sprintf("error kind %d", kind)
	}
}

func (e *Error) Error() string {
	if e.Kind == KindOSError && e.Errno != 0 {
		return fmt.Sprintf("OSError: [Errno %d] %s", e.Errno, e.Msg)
	}
	return KindName(e.Kind) + ": " + e.Msg
}

// Is matches another *Error of the same kind (and errno, when the target
// names one), and, for OSError on Linux, the syscall.Errno of the same
// number, so host code can write errors.Is(err, syscall.ETIMEDOUT). The
// ABI's errnos are Linux's; other systems (a wasip1 guest among them)
// number theirs differently, so there only the abi constants compare.
func (e *Error) Is(target error) bool {
	var t *Error
	if errors.As(target, &t) {
		return t.Kind == e.Kind && (t.Errno == 0 || t.Errno == e.Errno) && (t.Msg == "" || t.Msg == e.Msg)
	}
	var n syscall.Errno
	if runtime.GOOS == "linux" && errors.As(target, &n) {
		return e.Kind == KindOSError && int(n) == e.Errno
	}
	return false
}

// Sentinel errors to match kinds with errors.Is.
var (
	ErrValue       = &Error{Kind: KindValueError}
	ErrType        = &Error{Kind: KindTypeError}
	ErrOS          = &Error{Kind: KindOSError}
	ErrUnsupported = &Error{Kind: KindUnsupported}
)

// ValueError returns a ValueError with a formatted message (at most
// MaxText bytes of it, as for a message a plugin raises).
func ValueError(format string, a ...any) *Error {
	return &Error{Kind: KindValueError, Msg: Text([]byte(fmt.Sprintf(format, a...)))}
}

// TypeError returns a TypeError with a formatted message.
func TypeError(format string, a ...any) *Error {
	return &Error{Kind: KindTypeError, Msg: Text([]byte(fmt.Sprintf(format, a...)))}
}

// OSError returns an OSError with the errno and a formatted message.
func OSError(errno int, format string, a ...any) *Error {
	return &Error{Kind: KindOSError, Errno: errno, Msg: Text([]byte(fmt.Sprintf(format, a...)))}
}

// Unsupported returns a NotImplementedError-kind error.
func Unsupported(format string, a ...any) *Error {
	return &Error{Kind: KindUnsupported, Msg: Text([]byte(fmt.Sprintf(format, a...)))}
}

// ErrnoName is a short description of an ABI errno.
func ErrnoName(errno int) string {
	switch errno {
	case EPERM:
		return "not permitted by the grant"
	case EIO:
		return "bus or device I/O error"
	case E2BIG:
		return "buffer too small"
	case EBADF:
		return "handle not granted"
	case EAGAIN:
		return "nothing available now"
	case EFAULT:
		return "pointer outside guest memory"
	case EINVAL:
		return "invalid argument"
	case ENODEV:
		return "no such interface"
	case EMSGSIZE:
		return "frame too large"
	case ENOTSUP:
		return "not supported by the host"
	case ENOBUFS:
		return "queue full, dropped"
	case ETIMEDOUT:
		return "timed out"
	}
	return fmt.Sprintf("errno %d", errno)
}
