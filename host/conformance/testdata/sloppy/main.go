// Command sloppy is a LAN plugin that breaks the class contract where the
// conformance suite once could not see it, as an outside author's driver
// written from abi/ABI.md did: nichost's LAN driver (plugins/lan/driver)
// wrapped so that
//
//   - call('regs') raises NotImplementedError (it has no regs());
//   - status(param) ignores param and answers the status code;
//   - config(low_power=...) is stored, read back, and does nothing;
//   - config(trace=...) takes any int as the flags;
//   - while the link is down it answers busy (0 from nic_transmit_batch)
//     instead of refusing frames with OSError(EAGAIN).
//
// Otherwise it is the real driver, so every other check passes. The
// suite's tests (host/conformance) check that it fails the checks of
// exactly these rules.
package main

import (
	"errors"

	"github.com/nichost/nichost/abi"
	"github.com/nichost/nichost/abi/guest"
	"github.com/nichost/nichost/plugins/lan/driver"
)

type sloppy struct {
	*driver.Driver
	lowPower bool
	trace    int64
}

func (d *sloppy) Status(iface int, _ string) (any, error) { return d.Driver.Status(iface, "") }

func (d *sloppy) Call(_ int, name string, _ guest.Args) (any, error) {
	return nil, guest.NoMethod(abi.ClassLAN, name)
}

func (d *sloppy) ConfigGet(iface int, name string) (any, error) {
	switch name {
	case "low_power":
		return d.lowPower, nil
	case "trace":
		return d.trace, nil
	}
	return d.Driver.ConfigGet(iface, name)
}

func (d *sloppy) ConfigSet(iface int, kv map[string]any) error {
	rest := map[string]any{}
	lowPower, trace := d.lowPower, d.trace
	for k, v := range kv {
		var err error
		switch k {
		case "low_power":
			lowPower, err = abi.Bool(k, v)
		case "trace":
			trace, err = abi.Int(k, v)
		default:
			rest[k] = v
		}
		if err != nil {
			return err
		}
	}
	if len(rest) > 0 {
		if err := d.Driver.ConfigSet(iface, rest); err != nil {
			return err
		}
	}
	d.lowPower, d.trace = lowPower, trace
	return nil
}

// busy turns the driver's refusal of a frame while the link is down
// (OSError EAGAIN) into a busy answer.
func busy(err error) error {
	var e *abi.Error
	if errors.As(err, &e) && e.Errno == abi.EAGAIN {
		return guest.ErrBusy
	}
	return err
}

func (d *sloppy) Transmit(iface int, frame []byte) error {
	return busy(d.Driver.Transmit(iface, frame))
}

func (d *sloppy) TransmitBatch(iface int, frames [][]byte) (int, error) {
	n, err := d.Driver.TransmitBatch(iface, frames)
	return n, busy(err)
}

func init() { guest.Register(&sloppy{Driver: driver.New().(*driver.Driver)}) }

func main() {}
