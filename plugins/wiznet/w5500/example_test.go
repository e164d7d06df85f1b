package w5500_test

import (
	"fmt"

	"github.com/nichost/nichost/host/bus/sim"
	"github.com/nichost/nichost/plugins/wiznet/w5500"
)

// A driver probes the chip over SPI: VERSIONR (common block, offset 0x0039)
// and RTR (0x0019, two bytes), each in one variable-length frame. The chip
// answers 0x01 0x02 0x03 while the header is clocked.
func Example() {
	chip := w5500.New(w5500.Options{Strict: true})
	defer chip.Close()
	spi := sim.NewSPI(chip)

	r := make([]byte, 4)
	spi.Tx([]byte{0x00, 0x39, 0x00, 0x00}, r) // offset, control (BSB 0, read, VDM), 1 data byte
	fmt.Printf("header % X, VERSIONR 0x%02X\n", r[:3], r[3])

	r = make([]byte, 5)
	spi.Tx([]byte{0x00, 0x19, 0x00, 0x00, 0x00}, r)
	fmt.Printf("RTR 0x%02X%02X\n", r[3], r[4])

	spi.Tx([]byte{0x00, 0x39, 0x04, 0x05}, nil) // a write to read-only VERSIONR
	fmt.Println(chip.Errors())
	// Output:
	// header 01 02 03, VERSIONR 0x04
	// RTR 0x07D0
	// [w5500: write of 0x05 to read-only VERSIONR (common 0x0039) ignored (datasheet §4: the register is read-only ([R]))]
}
