package driver

// W5500 registers, bits and values the driver uses (W5500 datasheet, as
// gathered in the project's fact sheet). They are defined here and,
// independently, in the simulator (plugins/wiznet/w5500), so the tests
// cross-check the two readings.

// Block select values (BSB, bits 7..3 of the control byte).
const (
	bsbCommon = 0x00 // common registers
	bsbS0Reg  = 0x01 // socket 0 registers (socket n: 1+4n)
	bsbS0TX   = 0x02 // socket 0 TX buffer
	bsbS0RX   = 0x03 // socket 0 RX buffer
)

// sockBlock is the register block of socket n.
func sockBlock(n int) byte { return byte(1 + 4*n) }

// Control byte bits besides BSB: RWB (bit 2); OM (bits 1..0) is always 00,
// variable-length data mode, framed by chip select.
const ctlWrite = 0x04

// Common registers (block 0).
const (
	regMR       = 0x0000
	regGAR      = 0x0001
	regSUBR     = 0x0005
	regSHAR     = 0x0009
	regSIPR     = 0x000F
	regINTLEVEL = 0x0013
	regIR       = 0x0015
	regIMR      = 0x0016
	regSIR      = 0x0017
	regSIMR     = 0x0018
	regRTR      = 0x0019
	regRCR      = 0x001B
	regPTIMER   = 0x001C
	regPHYCFGR  = 0x002E
	regVERSIONR = 0x0039

	mrRST = 0x80 // MR: software reset, self-clearing

	phyLNK = 0x01 // PHYCFGR: link up
	phySPD = 0x02 // PHYCFGR: 100 Mb/s
	phyDPX = 0x04 // PHYCFGR: full duplex

	versionW5500 = 0x04   // VERSIONR always reads 0x04
	rtrReset     = 0x07D0 // RTR after reset: 2000 x 100 us
)

// Socket registers (block 1+4n).
const (
	snMR      = 0x00
	snCR      = 0x01
	snIR      = 0x02
	snSR      = 0x03
	snRXBUF   = 0x1E // Sn_RXBUF_SIZE, then Sn_TXBUF_SIZE at 0x1F
	snTXFSR   = 0x20
	snTXRD    = 0x22 // then TX_WR, RX_RSR, RX_RD, RX_WR up to 0x2B
	snTXWR    = 0x24
	snRXRSR   = 0x26
	snRXRD    = 0x28
	snRXWR    = 0x2A
	snIMR     = 0x2C
	statusLen = 10 // Sn_TX_RD..Sn_RX_WR: five 16-bit registers read as one burst
	txLookLen = 6  // Sn_TX_RD..Sn_RX_RSR: what Transmit needs

	modeMACRAW = 0x04 // Sn_MR protocol
	modeMFEN   = 0x80 // Sn_MR: MAC filter (our address, broadcast, multicast)

	cmdOPEN  = 0x01
	cmdCLOSE = 0x10
	cmdSEND  = 0x20
	cmdRECV  = 0x40

	irRECV = 0x04 // Sn_IR: data received
	irAll  = 0x1F // Sn_IR: every event bit (write 1 to clear)

	srMACRAW = 0x42 // Sn_SR after OPEN in MACRAW mode
)

// Buffers: socket 0 takes all 16 KiB of TX and of RX memory.
const (
	bufKiB  = 16
	bufSize = bufKiB * 1024
	bufMask = bufSize - 1
)

// Frame limits. The W5500 sends what lies between TX_RD and TX_WR as one
// frame and adds padding and FCS itself; it receives frames of up to 1514
// bytes (no FCS) in MACRAW. A record longer than rxMaxFrame or shorter
// than an Ethernet header means the driver lost its place in the RX
// buffer.
const (
	minFrame   = 14
	maxTxFrame = 1514
	rxMaxFrame = 1536
	mtu        = 1500
)

// be16 reads a big-endian 16-bit value.
func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }
