// Package bus defines the hardware buses nichost hands to driver plugins,
// the contracts every
// implementation (simulated, Linux, recorded) follows.
//
// # Contracts
//
// A plugin never touches a bus directly: the host owns every bus and the
// plugin reaches it through host calls on small integer handles. The host
// codes against five contracts, one per Kind:
//
//   - SPI is periph's spi.Conn. Tx is one CS-framed transfer; TxPackets is a
//     batch in which KeepCS keeps CS asserted into the next packet. periph
//     lets KeepCS on the last packet carry CS into the next call; the host
//     clears it, so CS is released when every call returns.
//   - GPIO is periph's gpio.PinIO. A negative WaitForEdge timeout waits
//     without limit; Halt makes a pending WaitForEdge return false and keeps
//     it returning false until the next In, which is how the host stops the
//     goroutine that watches a pin.
//   - UART is a byte stream with non-blocking Read and a Notify callback.
//   - FramePort moves whole Ethernet frames, non-blocking, with Notify.
//   - MDIO reads and writes clause 22 PHY registers.
//
// periph defines SPI and GPIO, so this package only names them; FramePort,
// MDIO and UART are defined here in periph's style.
//
// # Ownership
//
// No bus retains a caller's buffer after a call returns: written bytes and
// frames are copied or consumed, read buffers are filled before the call
// returns. Notify callbacks run on whatever goroutine made data readable
// (often a writer of the peer side, or a timer), with no bus lock held; they
// must not block and should only wake the owner, which then calls Read or
// ReadFrame. The opener of a real bus owns it and closes it: OpenSPI returns
// an io.Closer, the UART has Close, and the GPIO and MDIO values returned by
// OpenGPIO and OpenMDIO implement io.Closer.
//
// # Implementations
//
// This package holds only the contracts, their value types and constants.
// The buses themselves live beside it, so that a device simulator links
// neither Linux device code nor the serial library:
//
//   - package sim: simulated buses a device simulator plugs its device side
//     into (SPI, GPIO, UART pairs, MDIO, an Ethernet segment);
//   - package linux: real devices (spidev, GPIO character device, serial
//     ports, MII ioctls, TAP, AF_PACKET), each opened from a config struct;
//   - package spitrace: SPI sessions recorded to and replayed from a
//     JSON-lines trace.
//
// Errors made by this package and its implementations start with "bus: "
// and wrap their cause with %w; ErrClosed, ErrFrameTooLong and ErrReadOnly
// can be matched with errors.Is. Errors of a real SPI conn come from periph
// unchanged.
package bus
