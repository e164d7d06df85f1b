// Package guesttest is a fake nichost host for a driver's unit tests: it
// runs a guest.Driver natively, through guest.NewModule exactly as the
// native host does, so the SDK's handling of arguments, results and errors
// is exercised, but with no WASM engine, no network core and no real time.
//
//	h := guesttest.New(t, driver.New(), guesttest.Options{
//		Buses: map[string]any{"spi": sim.NewSPI(chip), "rst": chip.RST()},
//	})
//	if _, err := h.Call("active", true); err != nil {
//		t.Fatal(err)
//	}
//	if err := h.Advance(time.Second); err != nil { // timer polls as they come due
//		t.Fatal(err)
//	}
//	if !h.Link(0).Up {
//		t.Fatal("no link after 1 s")
//	}
//
// What it fakes:
//
//   - the lifecycle: New checks the ABI version and the description, grants
//     the buses of Options.Buses, calls nic_start with the start info and
//     polls once with EventStart, refusing what the host would refuse;
//   - the calls: Call, CallOn, Poll, Transmit and TransmitBatch encode
//     arguments as the host does (CBOR [args, kwargs], and [name, args,
//     kwargs] for class-specific methods; frame records in the transmit
//     buffer), decode replies with abi.Unmarshal and return raised errors
//     as *abi.Error;
//   - the host features: the start info lists every feature of
//     abi.HostFeatures but those Options.WithoutFeatures leaves out, and
//     an import of a feature left out is an ABI violation;
//   - time: a Clock that only Sleep, Advance and Next move; wake_at is
//     recorded and delivered as a timer poll when Advance or Next reaches
//     it;
//   - the buses: each grant is a bus contract value (package
//     host/bus/sim's simulated buses, or any spi.Conn, gpio.PinIO,
//     bus.UART, bus.FramePort, bus.MDIO, bus.Blob or a []byte for a blob)
//     behind a handle, with the host's
//     checks and errno results (-EBADF for a handle not granted or of
//     another kind, -EINVAL for bad arguments, ...);
//   - the network core: frames handed over with rx_push or rx_push_batch,
//     link reports, report() maps and log lines are recorded for the test
//     to read, and HostCalls counts the driver's host calls by name.
//
// A Host runs on the test's goroutine: call its methods from one goroutine.
// Only the bus notifications it registers (UART data, frames) may come from
// others, as the simulated buses make them.
package guesttest
