// Package linux opens real buses on Linux as the contracts of package bus:
// OpenSPI (spidev) and OpenGPIO (GPIO character device) through
// periph.io/x/host, initialised on first use; OpenUART through
// go.bug.st/serial, or to a listening unix stream socket (qemu's serial
// port, ser2net), which it redials when the peer goes; OpenMDIO through the
// MII ioctls of a network interface, read-only unless the config allows
// writes; OpenTAP (a TAP device through /dev/net/tun) and OpenPacket (an
// existing interface through an AF_PACKET socket) as frame ports. Each
// takes a config struct with yaml tags and a Validate method that names the
// bad field. The opener owns what it opened and closes it; after Close a
// bus returns bus.ErrClosed. On other systems the frame ports and MDIO
// return an error.
//
// The SPI and GPIO adapters are written against periph's interfaces, so
// their logic (a transaction cut to spidev's transfer limit at chip-select
// releases, edge waits that a Halt always ends) is tested with periph's
// spitest and gpiotest doubles; no board is needed.
package linux
