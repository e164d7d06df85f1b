package w5500

// The datasheet rules misuse messages cite, so that a driver author (and a
// FAIL line of `nichost test`) sees which rule was broken, not only what
// the simulator noticed. Sections are those of the W5500 datasheet
// (v1.0.x): §2 the SPI host interface, §4.1 the common registers, §4.2 the
// socket registers, §5.5.1 the reset timing.
const (
	ruleFrame    = "datasheet §2.2: an SPI frame is a 16-bit offset, a control byte and N >= 1 data bytes"
	ruleFDM      = "datasheet §2.4: an FDM frame carries exactly 1, 2 or 4 data bytes"
	ruleBSB      = "datasheet §2.2.2: block select 4n (n >= 1) is reserved"
	ruleReset    = "datasheet §5.5.1: RSTn low for at least 500 µs (Trc), then 1 ms (Tpl, PLL lock) before SPI access"
	ruleReadOnly = "datasheet §4: the register is read-only ([R])"
	rulePHYCFGR  = "datasheet §4.1, PHYCFGR: OPMDC 101 is not used"
	ruleBufSize  = "datasheet §4.2, Sn_RXBUF_SIZE/Sn_TXBUF_SIZE: 0, 1, 2, 4, 8 or 16 KiB, at most 16 KiB over the 8 sockets"
	ruleBufMove  = "datasheet §4.2, Sn_RXBUF_SIZE/Sn_TXBUF_SIZE: buffers are allocated in socket order, so sizes are set while the sockets are closed"
	ruleCommand  = "datasheet §4.2, Sn_CR: the commands of the socket's mode (MACRAW: OPEN, CLOSE, SEND, RECV)"
	ruleMACRAW   = "datasheet §4.2, Sn_MR: MACRAW (P[3:0] = 0100) is valid on socket 0 only"
	ruleOpen     = "datasheet §4.2, Sn_CR: SEND and RECV need an open socket (Sn_SR = SOCK_MACRAW)"
	ruleSendDone = "datasheet §4.2, Sn_CR: a command is still being processed after Sn_CR reads 0; " +
		"see SEND complete (Sn_IR.SEND_OK, or Sn_TX_RD = Sn_TX_WR) before the next SEND"
	ruleTxFree   = "datasheet §4.2, Sn_TX_FSR: no more data than the free size"
	ruleFrameLen = "MACRAW sends one Ethernet frame of 14..1514 bytes (no FCS: the chip adds it)"
	ruleRecv     = "datasheet §4.2, Sn_RX_RD: advance it by at most Sn_RX_RSR, then RECV"
	ruleNoBuf    = "datasheet §4.2, Sn_RXBUF_SIZE/Sn_TXBUF_SIZE: a socket with size 0 has no buffer"
	ruleNotSim   = "not simulated: nichost uses MACRAW"
)
