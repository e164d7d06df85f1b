package guest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/nichost/nichost/abi"
)

// Module turns the ABI's exports into calls on a Driver. Each method is one
// export of ABI.md, with the same result; the wasip1 build calls them from
// its //go:wasmexport functions, a native host calls them directly.
//
// The optional interfaces (Connector, Scanner, Caller) are looked up once,
// in NewModule; for a driver without one, the export raises
// NotImplementedError naming the class of the driver's description.
type Module struct {
	d        Driver
	conn     Connector // nil when the driver has none
	scan     Scanner
	call     Caller
	batch    BatchTransmitter
	resumer  Resumer // nil when the driver cannot hand over or adopt a device
	faults   bool    // options.fault_injection: _fault injects (fault.go)
	class    string  // from Describe, for NotImplementedError messages
	imp      abi.Imports
	env      *Env
	argBuf   []byte
	replyBuf []byte
	txBuf    []byte
	txFrames [abi.MaxTxBatch][]byte // the frames of one nic_transmit_batch
}

// NewModule wraps a driver for the given host imports.
func NewModule(d Driver, imp abi.Imports) *Module {
	m := &Module{d: d, imp: imp, argBuf: make([]byte, 512)}
	m.conn, _ = d.(Connector)
	m.scan, _ = d.(Scanner)
	m.call, _ = d.(Caller)
	m.batch, _ = d.(BatchTransmitter)
	m.resumer, _ = d.(Resumer)
	return m
}

// driverClass is the class the driver describes itself as, for the
// messages of methods it does not have.
func (m *Module) driverClass() string {
	if m.class == "" {
		m.class = m.d.Describe().Class
	}
	return m.class
}

// ABIVersion is nic_abi_version.
func (m *Module) ABIVersion() int32 { return abi.Version }

// Describe is nic_describe: it replies with the driver's Description,
// declaring abi.Version, and the "resume" feature for a Resumer.
func (m *Module) Describe() int32 {
	desc := m.d.Describe()
	desc.ABI = abi.Version
	m.class = desc.Class
	if m.resumer != nil && !slices.Contains(desc.Features, abi.FeatureResume) {
		desc.Features = append(slices.Clip(desc.Features), abi.FeatureResume)
	}
	b, err := encodeDescription(desc)
	if err != nil {
		return m.raise(fmt.Errorf("description: %w", err))
	}
	m.imp.Reply(b)
	return abi.StatusOK
}

// Start is nic_start: it reads the StartInfo, registers the transmit buffer
// and starts the driver. When the host offers the running device
// (StartInfo.Resume) to a Resumer, Resume follows Start, and the reply says
// whether the driver took the device over (True) or started cold (False).
func (m *Module) Start() int32 {
	b, err := m.readArgs()
	if err != nil {
		return m.raise(err)
	}
	info, err := decodeStartInfo(b)
	if err != nil {
		return m.raise(err)
	}
	if m.txBuf == nil {
		m.txBuf = make([]byte, TxBufferSize)
	}
	if rc := m.imp.TxBuffer(m.txBuf); rc < 0 {
		return m.raise(errnoError("tx_buffer", rc))
	}
	if err := m.takeFaultOption(&info); err != nil { // fault.go
		return m.raise(err)
	}
	m.env = newEnv(m.imp, info)
	if err := m.d.Start(m.env); err != nil {
		return m.done(m.raise(err))
	}
	if info.Resume != nil && m.resumer != nil {
		resumed := true
		if err := m.resumer.Resume(*info.Resume); err != nil {
			resumed = false
			m.env.Logf(abi.LogInfo, "starting cold: the running device cannot be taken over (after a %s): %v", info.Resume.Reason, err)
		}
		return m.finish(resumed, nil)
	}
	return m.done(abi.StatusOK)
}

// Suspend is nic_suspend: Resumer.Suspend, replying with its state (None
// for none). flags is reserved (0). A driver without Resumer declines with
// NotImplementedError, and the host starts the next instance cold.
func (m *Module) Suspend(flags int32) int32 {
	if m.resumer == nil {
		return m.raise(abi.Unsupported("nic_suspend: the driver cannot hand its device over (it does not implement guest.Resumer)"))
	}
	state, err := m.resumer.Suspend()
	if err == nil && len(state) > abi.MaxResumeState {
		err = abi.ValueError("nic_suspend: the driver's state is %d bytes, more than the %d the host takes", len(state), abi.MaxResumeState)
	}
	if err != nil {
		return m.done(m.raise(err))
	}
	var res any
	if state != nil {
		res = state
	}
	return m.finish(res, nil)
}

// Active is nic_active: active() or active(bool).
func (m *Module) Active(iface int32) int32 {
	return m.control(func(a Args) (any, error) {
		if err := a.Takes("active", 1); err != nil {
			return nil, err
		}
		if len(a.Pos) == 0 {
			return m.d.Active(int(iface)), nil
		}
		up, err := a.At(0, "active").Bool()
		if err != nil {
			return nil, err
		}
		return nil, m.d.SetActive(int(iface), up)
	})
}

// Connect is nic_connect: Connector.Connect, or NotImplementedError.
func (m *Module) Connect(iface int32) int32 {
	return m.control(func(a Args) (any, error) {
		if m.conn == nil {
			return nil, abi.Unsupported("connect() is not supported by %s", m.driverClass())
		}
		return nil, m.conn.Connect(int(iface), a)
	})
}

// Disconnect is nic_disconnect: Connector.Disconnect, or
// NotImplementedError.
func (m *Module) Disconnect(iface int32) int32 {
	return m.control(func(a Args) (any, error) {
		if err := a.Takes("disconnect", 0); err != nil {
			return nil, err
		}
		if m.conn == nil {
			return nil, abi.Unsupported("disconnect() is not supported by %s", m.driverClass())
		}
		return nil, m.conn.Disconnect(int(iface))
	})
}

// IsConnected is nic_isconnected.
func (m *Module) IsConnected(iface int32) int32 {
	return m.control(func(a Args) (any, error) {
		if err := a.Takes("isconnected", 0); err != nil {
			return nil, err
		}
		return m.d.IsConnected(int(iface)), nil
	})
}

// Scan is nic_scan: Scanner.Scan, or NotImplementedError.
func (m *Module) Scan(iface int32) int32 {
	return m.control(func(a Args) (any, error) {
		if m.scan == nil {
			return nil, abi.Unsupported("scan() is not supported by %s", m.driverClass())
		}
		res, err := m.scan.Scan(int(iface), a)
		if res == nil && err == nil {
			res = []any{}
		}
		return res, err
	})
}

// Status is nic_status: status() or status(param).
func (m *Module) Status(iface int32) int32 {
	return m.control(func(a Args) (any, error) {
		if err := a.Takes("status", 1); err != nil {
			return nil, err
		}
		p, err := a.At(0, "status").Or("").Str()
		if err != nil {
			return nil, err
		}
		return m.d.Status(int(iface), p)
	})
}

// Config is nic_config: config(name) or config(k=v, ...).
func (m *Module) Config(iface int32) int32 {
	return m.control(func(a Args) (any, error) {
		switch {
		case len(a.Pos) == 1 && len(a.KW) == 0:
			name, err := a.At(0, "config").Str()
			if err != nil {
				return nil, err
			}
			return m.d.ConfigGet(int(iface), name)
		case len(a.Pos) == 0 && len(a.KW) > 0:
			return nil, m.d.ConfigSet(int(iface), a.KW)
		}
		return nil, abi.TypeError("config() takes either one parameter name or keyword arguments")
	})
}

// Call is nic_call: a class-specific method, Caller.Call or
// NotImplementedError; its arguments are [name, positional, keywords].
func (m *Module) Call(iface int32) int32 {
	b, err := m.readArgs()
	if err != nil {
		return m.raise(err)
	}
	v, err := decodeValue(b)
	if err != nil {
		return m.raise(err)
	}
	l, ok := v.([]any)
	if !ok || len(l) != 3 {
		return m.raise(abi.TypeError("nic_call: arguments must be [name, args, kwargs]"))
	}
	name, ok := l[0].(string)
	if !ok {
		return m.raise(abi.TypeError("nic_call: method name must be str, got %s", abi.TypeName(l[0])))
	}
	a, err := toArgs([]any{l[1], l[2]})
	if err != nil {
		return m.raise(err)
	}
	if name == FaultMethod {
		return m.finish(m.fault(a)) // fault.go: the SDK's own, before the driver
	}
	if m.call == nil {
		return m.raise(NoMethod(m.driverClass(), name))
	}
	res, err := m.call.Call(int(iface), name, a)
	return m.finish(res, err)
}

// Poll is nic_poll.
func (m *Module) Poll(events uint32) int32 {
	if err := m.d.Poll(abi.Event(events)); err != nil {
		return m.done(m.raise(err))
	}
	return m.done(abi.StatusOK)
}

// done ends an export that may have run driver code: the frames the driver
// delivered are pushed to the host before the export returns rc.
func (m *Module) done(rc int32) int32 {
	if m.env != nil {
		m.env.flushAll()
	}
	return rc
}

// noArgs is [[], {}], the arguments of a call without any: isconnected(),
// status(), active().
var noArgs = []byte{0x82, 0x80, 0xa0}

func (m *Module) control(fn func(Args) (any, error)) int32 {
	b, err := m.readArgs()
	if err != nil {
		return m.raise(err)
	}
	var a Args
	if bytes.Equal(b, noArgs) {
		// The common case costs no allocation: in a Go guest each one
		// costs about a microsecond.
		a.Pos = []any{}
	} else {
		v, err := decodeValue(b)
		if err != nil {
			return m.raise(err)
		}
		if a, err = toArgs(v); err != nil {
			return m.raise(err)
		}
	}
	res, err := fn(a)
	return m.finish(res, err)
}

// finish replies with a driver's result, or raises its error, and ends
// the export.
func (m *Module) finish(res any, err error) int32 {
	if err != nil {
		return m.done(m.raise(err))
	}
	b, err := appendValue(m.replyBuf[:0], res)
	if err != nil {
		return m.done(m.raise(fmt.Errorf("driver result: %w", err)))
	}
	m.replyBuf = b
	m.imp.Reply(b)
	return m.done(abi.StatusOK)
}

// readArgs fetches the current call's arguments, growing the buffer once if
// the host says they are larger.
func (m *Module) readArgs() ([]byte, error) {
	for {
		n := m.imp.Args(m.argBuf)
		if n < 0 {
			return nil, errnoError("args", n)
		}
		if int(n) <= len(m.argBuf) {
			return m.argBuf[:n], nil
		}
		if n > abi.MaxMessage {
			return nil, abi.ValueError("arguments of %d bytes exceed the %d-byte limit", n, abi.MaxMessage)
		}
		m.argBuf = make([]byte, n)
	}
}

// raise reports err to the host as (kind, errno, message).
func (m *Module) raise(err error) int32 {
	var e *abi.Error
	if !errors.As(err, &e) {
		e = &abi.Error{Kind: abi.KindOSError, Errno: abi.EIO, Msg: err.Error()}
	}
	m.imp.Raise(int32(e.Kind), int32(e.Errno), []byte(e.Msg))
	return abi.StatusError
}

func toArgs(v any) (Args, error) {
	l, ok := v.([]any)
	if !ok || len(l) != 2 {
		return Args{}, abi.TypeError("arguments must be [args, kwargs], got %s", abi.TypeName(v))
	}
	pos, ok := l[0].([]any)
	if !ok {
		return Args{}, abi.TypeError("positional arguments must be a list, got %s", abi.TypeName(l[0]))
	}
	kw, ok := l[1].(map[string]any)
	if !ok {
		return Args{}, abi.TypeError("keyword arguments must be a map, got %s", abi.TypeName(l[1]))
	}
	return Args{Pos: pos, KW: kw}, nil
}

// errnoError turns a negative host-call result into an OSError naming the
// call.
func errnoError(call string, rc int32) error {
	return abi.OSError(int(-rc), "%s: %s", call, abi.ErrnoName(int(-rc)))
}
