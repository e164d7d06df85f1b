package linux

import (
	"io"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/spi"
)

// NewLinePin is the adapter OpenGPIO puts over a chip's line, put over l
// instead, for tests that run it under a host.
func NewLinePin(l gpio.PinIO, release func()) gpio.PinIO { return newLinePin(l, release) }

// ConnectSPI is what OpenSPI does once spidev's port is open, on port.
func ConnectSPI(port spi.PortCloser, cfg SPIConfig) (spi.Conn, io.Closer, error) {
	c, err := connectSPI(port, cfg)
	if err != nil {
		return nil, nil, err
	}
	return c, c, nil
}
