package linux

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
)

// SPIConfig selects a Linux spidev device for OpenSPI.
type SPIConfig struct {
	// Device is the spidev node, /dev/spidevB.C (bus B, chip select C).
	Device string `yaml:"device"`
	// SpeedHz is the clock, 100 Hz..1 GHz; 0 means 1 MHz.
	SpeedHz int64 `yaml:"speed_hz"`
	// Mode is the SPI mode 0..3 (CPOL<<1 | CPHA).
	Mode int `yaml:"mode"`
	// Bits is the word size, 1..32; 0 means 8.
	Bits int `yaml:"bits"`
}

var spidevPath = regexp.MustCompile(`^/dev/spidev(\d+)\.(\d+)$`)

// Validate reports the first bad field, by its yaml name.
func (c SPIConfig) Validate() error {
	m := spidevPath.FindStringSubmatch(c.Device)
	switch {
	case c.Device == "":
		return errors.New("bus: spi config: device: missing, want /dev/spidevB.C")
	case m == nil:
		return fmt.Errorf("bus: spi config: device: %q is not of the form /dev/spidevB.C", c.Device)
	case c.SpeedHz != 0 && (c.SpeedHz < 100 || c.SpeedHz > 1e9):
		return fmt.Errorf("bus: spi config: speed_hz: %d out of range 100..1000000000", c.SpeedHz)
	case c.Mode < 0 || c.Mode > 3:
		return fmt.Errorf("bus: spi config: mode: %d out of range 0..3", c.Mode)
	case c.Bits < 0 || c.Bits > 32:
		return fmt.Errorf("bus: spi config: bits: %d out of range 1..32", c.Bits)
	}
	if _, err := strconv.ParseUint(m[1], 10, 16); err != nil {
		return fmt.Errorf("bus: spi config: device: bus number in %q out of range", c.Device)
	}
	if _, err := strconv.ParseUint(m[2], 10, 8); err != nil {
		return fmt.Errorf("bus: spi config: device: chip select in %q out of range", c.Device)
	}
	return nil
}

// busCS returns the bus and chip select numbers of a validated config.
func (c SPIConfig) busCS() (bus, cs int) {
	m := spidevPath.FindStringSubmatch(c.Device)
	bus, _ = strconv.Atoi(m[1])
	cs, _ = strconv.Atoi(m[2])
	return bus, cs
}

// GPIOConfig selects one line of a Linux GPIO character device for OpenGPIO.
type GPIOConfig struct {
	// Chip is the chip's name (gpiochip0), device path (/dev/gpiochip0) or
	// label (pinctrl-bcm2711).
	Chip string `yaml:"chip"`
	// Line is the line's name (GPIO17) or, when no line has that name, its
	// decimal offset on the chip (17).
	Line string `yaml:"line"`
}

// Validate reports the first bad field, by its yaml name.
func (c GPIOConfig) Validate() error {
	switch {
	case c.Chip == "":
		return errors.New("bus: gpio config: chip: missing, want a name such as gpiochip0")
	case c.Line == "":
		return errors.New("bus: gpio config: line: missing, want a line name or offset")
	}
	return nil
}

// UARTConfig selects a serial port for OpenUART: a device, or a unix
// stream socket that another program listens on. Exactly one of Device and
// Unix is set.
type UARTConfig struct {
	// Device is the serial port, e.g. /dev/ttyUSB0 or /dev/serial0.
	Device string `yaml:"device"`
	// Unix is the path of a listening unix stream socket to connect to
	// instead of a device: what qemu's -serial unix:PATH,server, ser2net
	// and test peers offer. A socket has no line settings, so Baud,
	// DataBits, Parity and StopBits are checked but have no effect.
	Unix string `yaml:"unix"`
	// Baud is the bit rate, e.g. 115200; required for a device.
	Baud int `yaml:"baud"`
	// DataBits is 5..8; 0 means 8.
	DataBits int `yaml:"data_bits"`
	// Parity is none, odd, even, mark or space; empty means none.
	Parity string `yaml:"parity"`
	// StopBits is 1, 1.5 or 2; 0 means 1.
	StopBits float64 `yaml:"stop_bits"`
	// BufferSize is the receive buffer in bytes; 0 means bus.DefaultUARTBuffer.
	BufferSize int `yaml:"buffer_size"`
}

// maxUnixPath is the longest socket path Linux takes (sun_path is 108
// bytes with its terminating NUL).
const maxUnixPath = 107

// Validate reports the first bad field, by its yaml name.
func (c UARTConfig) Validate() error {
	switch {
	case c.Device == "" && c.Unix == "":
		return errors.New("bus: uart config: device: missing, want a path such as /dev/ttyUSB0 (or unix: a socket path)")
	case c.Device != "" && c.Unix != "":
		return errors.New("bus: uart config: unix: and device: are exclusive: give one")
	case len(c.Unix) > maxUnixPath:
		return fmt.Errorf("bus: uart config: unix: path of %d bytes, longer than the %d a socket address holds", len(c.Unix), maxUnixPath)
	case c.Device != "" && c.Baud <= 0:
		return fmt.Errorf("bus: uart config: baud: %d, want a positive rate such as 115200", c.Baud)
	case c.Baud < 0:
		return fmt.Errorf("bus: uart config: baud: %d, want a positive rate or none for a socket", c.Baud)
	case c.DataBits != 0 && (c.DataBits < 5 || c.DataBits > 8):
		return fmt.Errorf("bus: uart config: data_bits: %d out of range 5..8", c.DataBits)
	case c.StopBits != 0 && c.StopBits != 1 && c.StopBits != 1.5 && c.StopBits != 2:
		return fmt.Errorf("bus: uart config: stop_bits: %v, want 1, 1.5 or 2", c.StopBits)
	case c.BufferSize < 0 || c.BufferSize > 16<<20:
		return fmt.Errorf("bus: uart config: buffer_size: %d out of range 0..16777216", c.BufferSize)
	}
	switch c.Parity {
	case "", "none", "odd", "even", "mark", "space":
	default:
		return fmt.Errorf("bus: uart config: parity: %q, want none, odd, even, mark or space", c.Parity)
	}
	return nil
}

// Port names the port the config selects: the device's path, or "unix:"
// and the socket's path. Two grants of one port have the same Port.
func (c UARTConfig) Port() string {
	if c.Unix != "" {
		return "unix:" + c.Unix
	}
	return c.Device
}

// MDIOConfig selects the MDIO bus behind a Linux network interface for
// OpenMDIO.
type MDIOConfig struct {
	// Interface is the network interface whose driver answers the MII
	// ioctls, e.g. eth0.
	Interface string `yaml:"interface"`
	// AllowWrite permits WriteReg; without it writes return bus.ErrReadOnly, so a
	// driver cannot reconfigure the host's own PHY by accident.
	AllowWrite bool `yaml:"allow_write"`
}

// Validate reports the first bad field, by its yaml name.
func (c MDIOConfig) Validate() error {
	switch {
	case c.Interface == "":
		return errors.New("bus: mdio config: interface: missing, want a name such as eth0")
	case len(c.Interface) > 15:
		return fmt.Errorf("bus: mdio config: interface: %q longer than 15 bytes", c.Interface)
	}
	return nil
}
