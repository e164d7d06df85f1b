// Package bus defines the hardware buses nichost hands to driver plugins,
// and provides them three ways: simulated, on real Linux devices, and
// recorded or replayed from a trace file.
//
// # Contracts
//
// A plugin never touches a bus directly: the host owns every bus and the
// plugin reaches it through host calls on small integer handles. The host
// codes against five contracts, one per Kind:
//
//   - SPI is periph's spi.Conn. Tx is one CS-framed transfer; TxPackets is a
//     batch in which KeepCS keeps CS asserted into the next packet (or, on the
//     last packet, into the next call).
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
// # Simulated buses
//
// A device simulator (a chip model in a plugin's directory) plugs its device
// side into a simulated bus and the host hands the driver side to the
// plugin: NewSimSPI with an SPIDevice, NewSimPin (SetLevel and OnOut on the
// device side), NewSimUARTPair (one end each), NewSegment and
// Segment.Attach (an Ethernet hub with seeded loss, duplication, reordering
// and delay), and NewSimMDIO with PHYRegisters. Queues are bounded; what
// overflows is dropped and counted in Stats, as real hardware would.
//
// # Real buses
//
// OpenSPI (spidev), OpenGPIO (GPIO character device) use periph.io/x/host,
// initialised on first use; OpenUART uses go.bug.st/serial; OpenMDIO uses
// the MII ioctls of a Linux network interface and is read-only unless the
// config allows writes. OpenTAP (a TAP device through /dev/net/tun) and
// OpenPacket (an existing interface through an AF_PACKET socket) are frame
// ports. Each takes a config struct with yaml tags and a Validate method
// that names the bad field.
//
// # Record and replay
//
// RecordSPI wraps an SPI conn and writes every transaction to a JSON-lines
// trace (see TraceFormat for the format); ReplaySPI plays a trace back as an
// SPI conn, returning the recorded reads and failing with the transaction
// index when the driver writes something else. ReadTrace loads a trace for
// inspection.
//
// Errors made by this package start with "bus: " and wrap their cause with
// %w; ErrClosed, ErrFrameTooLong and ErrReadOnly can be matched with
// errors.Is. Errors of a real SPI conn come from periph unchanged.
package bus
