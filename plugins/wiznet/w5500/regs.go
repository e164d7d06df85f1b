package w5500

import "fmt"

// Block select values (the BSB field of the control byte). Socket n's
// registers, TX buffer and RX buffer are at 1+4n, 2+4n and 3+4n; the blocks
// 4n (n >= 1) are reserved.
const (
	bsbCommon  = 0x00
	numSockets = 8
)

// blockKind is what a BSB value selects.
type blockKind uint8

const (
	blockCommon blockKind = iota
	blockSocket
	blockTX
	blockRX
	blockReserved
)

// decodeBSB splits a block select value into its kind and socket number.
func decodeBSB(bsb byte) (blockKind, int) {
	if bsb == bsbCommon {
		return blockCommon, 0
	}
	n := int(bsb >> 2)
	switch bsb & 3 {
	case 1:
		return blockSocket, n
	case 2:
		return blockTX, n
	case 3:
		return blockRX, n
	}
	return blockReserved, n
}

// Common register offsets (block 0).
const (
	regMR       = 0x00
	regGAR      = 0x01
	regSUBR     = 0x05
	regSHAR     = 0x09
	regSIPR     = 0x0F
	regINTLEVEL = 0x13
	regIR       = 0x15
	regIMR      = 0x16
	regSIR      = 0x17
	regSIMR     = 0x18
	regRTR      = 0x19
	regRCR      = 0x1B
	regPTIMER   = 0x1C
	regPMAGIC   = 0x1D
	regPHAR     = 0x1E
	regPSID     = 0x24
	regPMRU     = 0x26
	regUIPR     = 0x28
	regUPORTR   = 0x2C
	regPHYCFGR  = 0x2E
	regVERSIONR = 0x39

	commonSize = 0x3A // offsets at or above are reserved
)

// MR bits.
const (
	mrRST   = 0x80 // software reset, self-clearing
	mrWOL   = 0x20
	mrPB    = 0x10 // ping block
	mrPPPoE = 0x08
	mrFARP  = 0x02
	mrBits  = mrWOL | mrPB | mrPPPoE | mrFARP // bits 6, 2 and 0 are reserved
)

// IR bits; bits 3..0 are reserved.
const (
	irConflict = 0x80
	irUnreach  = 0x40
	irPPPoE    = 0x20
	irMP       = 0x10
	irBits     = irConflict | irUnreach | irPPPoE | irMP
)

// PHYCFGR bits.
const (
	phyRST      = 0x80
	phyOPMD     = 0x40
	phyOPMDC    = 0x38
	phyDPX      = 0x04
	phySPD      = 0x02
	phyLNK      = 0x01
	phyStored   = phyRST | phyOPMD | phyOPMDC
	phyDefault  = 0xB8 // RST=1, OPMD=0 (PMODE pins), OPMDC=111
	opmdcShift  = 3
	opmdcUnused = 0b101
	opmdcPowDn  = 0b110
)

// chipVersion is VERSIONR's fixed value.
const chipVersion = 0x04

// Socket register offsets (block 1+4n).
const (
	snMR          = 0x00
	snCR          = 0x01
	snIR          = 0x02
	snSR          = 0x03
	snPORT        = 0x04
	snDHAR        = 0x06
	snDIPR        = 0x0C
	snDPORT       = 0x10
	snMSSR        = 0x12
	snTOS         = 0x15
	snTTL         = 0x16
	snRXBUFSIZE   = 0x1E
	snTXBUFSIZE   = 0x1F
	snTXFSR       = 0x20
	snTXRD        = 0x22
	snTXWR        = 0x24
	snRXRSR       = 0x26
	snRXRD        = 0x28
	snRXWR        = 0x2A
	snIMR         = 0x2C
	snFRAG        = 0x2D
	snKPALVTR     = 0x2F
	socketRegSize = 0x30 // offsets at or above are reserved
)

// Sn_MR bits. The protocol is the low nibble; bits 7..4 are MACRAW's filter
// flags (other meanings in TCP and UDP modes).
const (
	mrProto  = 0x0F
	mrMFEN   = 0x80 // MAC filter enable
	mrBCASTB = 0x40 // broadcast block
	mrMMB    = 0x20 // multicast block
	mrMIP6B  = 0x10 // IPv6 block

	protoClosed = 0x00
	protoTCP    = 0x01
	protoUDP    = 0x02
	protoIPRAW  = 0x03 // an older chips' mode; not a W5500 protocol
	protoMACRAW = 0x04
)

// Sn_CR commands.
const (
	cmdOPEN     = 0x01
	cmdLISTEN   = 0x02
	cmdCONNECT  = 0x04
	cmdDISCON   = 0x08
	cmdCLOSE    = 0x10
	cmdSEND     = 0x20
	cmdSENDMAC  = 0x21
	cmdSENDKEEP = 0x22
	cmdRECV     = 0x40
)

// Sn_IR bits; bits 7..5 are reserved.
const (
	sirSendOK  = 0x10
	sirTimeout = 0x08
	sirRecv    = 0x04
	sirDiscon  = 0x02
	sirCon     = 0x01
	sirBits    = 0x1F
)

// Sn_SR values the model produces.
const (
	srClosed = 0x00
	srMACRAW = 0x42
)

// Memory: 16 KiB for TX and 16 KiB for RX, shared by the sockets.
const (
	memKiB  = 16
	memSize = memKiB * 1024
)

// Frame limits of MACRAW.
const (
	minFrame  = 14   // an Ethernet header
	maxFrame  = 1514 // header + 1500-byte payload, no FCS
	minOnWire = 60   // shorter frames are padded by the transmitter
)

// reg names a register for messages.
type reg struct {
	off  int
	size int
	name string
}

var commonRegs = []reg{
	{regMR, 1, "MR"}, {regGAR, 4, "GAR"}, {regSUBR, 4, "SUBR"}, {regSHAR, 6, "SHAR"},
	{regSIPR, 4, "SIPR"}, {regINTLEVEL, 2, "INTLEVEL"}, {regIR, 1, "IR"}, {regIMR, 1, "IMR"},
	{regSIR, 1, "SIR"}, {regSIMR, 1, "SIMR"}, {regRTR, 2, "RTR"}, {regRCR, 1, "RCR"},
	{regPTIMER, 1, "PTIMER"}, {regPMAGIC, 1, "PMAGIC"}, {regPHAR, 6, "PHAR"}, {regPSID, 2, "PSID"},
	{regPMRU, 2, "PMRU"}, {regUIPR, 4, "UIPR"}, {regUPORTR, 2, "UPORTR"}, {regPHYCFGR, 1, "PHYCFGR"},
	{regVERSIONR, 1, "VERSIONR"},
}

var socketRegs = []reg{
	{snMR, 1, "MR"}, {snCR, 1, "CR"}, {snIR, 1, "IR"}, {snSR, 1, "SR"}, {snPORT, 2, "PORT"},
	{snDHAR, 6, "DHAR"}, {snDIPR, 4, "DIPR"}, {snDPORT, 2, "DPORT"}, {snMSSR, 2, "MSSR"},
	{snTOS, 1, "TOS"}, {snTTL, 1, "TTL"}, {snRXBUFSIZE, 1, "RXBUF_SIZE"}, {snTXBUFSIZE, 1, "TXBUF_SIZE"},
	{snTXFSR, 2, "TX_FSR"}, {snTXRD, 2, "TX_RD"}, {snTXWR, 2, "TX_WR"}, {snRXRSR, 2, "RX_RSR"},
	{snRXRD, 2, "RX_RD"}, {snRXWR, 2, "RX_WR"}, {snIMR, 1, "IMR"}, {snFRAG, 2, "FRAG"},
	{snKPALVTR, 1, "KPALVTR"},
}

// Register names by offset; "" marks a reserved offset.
var (
	commonNames [commonSize]string
	socketNames [socketRegSize]string
)

func init() {
	for _, r := range commonRegs {
		for i := range r.size {
			commonNames[r.off+i] = r.name
		}
	}
	for _, r := range socketRegs {
		for i := range r.size {
			socketNames[r.off+i] = r.name
		}
	}
}

// commonReg is the bare name of a common register offset ("reserved" for
// a reserved one).
func commonReg(off uint16) string {
	if int(off) < commonSize && commonNames[off] != "" {
		return commonNames[off]
	}
	return "reserved"
}

// socketReg is the bare name of a socket register offset, e.g. "S0_RX_RSR".
func socketReg(n int, off uint16) string {
	name := "reserved"
	if int(off) < socketRegSize && socketNames[off] != "" {
		name = socketNames[off]
	}
	return fmt.Sprintf("S%d_%s", n, name)
}

// commonName names a common register offset, e.g. "PHYCFGR (common 0x002E)".
func commonName(off uint16) string {
	return fmt.Sprintf("%s (common 0x%04X)", commonReg(off), off)
}

// socketName names a socket register offset, e.g. "S0_RX_RSR (socket 0 0x0026)".
func socketName(n int, off uint16) string {
	return fmt.Sprintf("%s (socket %d 0x%04X)", socketReg(n, off), n, off)
}

// reservedCommon reports whether a common offset is reserved.
func reservedCommon(off uint16) bool {
	return int(off) >= commonSize || commonNames[off] == ""
}

// reservedSocket reports whether a socket register offset is reserved.
func reservedSocket(off uint16) bool {
	return int(off) >= socketRegSize || socketNames[off] == ""
}

// validBufKiB reports whether v is an allowed Sn_xXBUF_SIZE value.
func validBufKiB(v byte) bool {
	switch v {
	case 0, 1, 2, 4, 8, 16:
		return true
	}
	return false
}
