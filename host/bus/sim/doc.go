// Package sim holds simulated buses: the host side of each is a bus
// contract (package bus) that the host grants to a plugin; the other side is
// what a device simulator (a chip model in a plugin's directory) plugs in.
//
//   - NewSPI with an SPIDevice: chip select and full-duplex transfers;
//   - NewPin: a GPIO line, SetLevel and OnOut on the device side;
//   - NewUARTPair: two ends of a serial line;
//   - NewMDIO with PHYRegisters: a clause 22 management bus;
//   - NewSegment and Segment.Attach: an Ethernet hub with seeded loss,
//     duplication, reordering and delay.
//
// Queues are bounded; what overflows is dropped and counted in Stats, as real
// hardware would. Nothing here touches a real device, so simulators and
// tests link only this package and the contracts.
package sim
