// Package w5500 simulates a WIZnet W5500 Ethernet controller at the
// register level, for the WIZNET5K driver's tests, `nichost demo` and
// `nichost test`.
//
// A *Chip is the SPI slave (sim.SPIDevice: plug it into sim.NewSPI), two
// pins (INT, the active-low interrupt output, and RST, the reset input the
// driver drives) and a cable (Attach to a bus.FramePort such as a port of a
// sim.Segment or a TAP; SetLink plugs and unplugs it). It is strict: every
// misuse is logged and, with Options.Strict, recorded for Errors, naming
// the register, what was wrong and, in parentheses at the end, the
// datasheet rule broken (rules.go); behaviour does not depend on Strict.
//
// # Modelled
//
//   - SPI frames: a 16-bit big-endian offset, a control byte (BSB[4:0],
//     RWB, OM[1:0]) and data bytes with auto-increment, one frame per CS
//     assertion. MISO reads 0x01 0x02 0x03 during the header. VDM (OM=00)
//     ends at deselect; FDM (OM=01/10/11) takes exactly 1, 2 or 4 data bytes.
//     Misuse: a frame without a full header or a data byte, an FDM frame
//     shorter than its length, bytes past it, a reserved block (4n, n >= 1).
//   - Common registers with their reset values: MR (RST self-clears and
//     restores every register), GAR, SUBR, SHAR, SIPR, INTLEVEL, IR
//     (write 1 to clear), IMR, SIR (derived from the Sn_IR), SIMR,
//     RTR=0x07D0, RCR=0x08, PTIMER, PMAGIC, PHAR, PSID, PMRU, UIPR and
//     UPORTR (read-only), PHYCFGR and VERSIONR=0x04 (read-only).
//   - PHYCFGR: 0xB8 after reset plus DPX/SPD/LNK from the simulated link.
//     Writing RST=0 holds the PHY in reset (the link drops, RST reads 0);
//     writing RST=1 then releases it, and the PHY links RelinkDelay later in
//     the mode OPMD/OPMDC select at that moment. OPMDC 110 (power down)
//     gives no link; 101 (unused) is misuse.
//   - All eight sockets' registers with their reset values; Sn_CR reads 0
//     as soon as the command is written (it is accepted and done at once);
//     Sn_IR is write-1-to-clear and a bit is set only if Sn_IMR enables it;
//     Sn_SR, Sn_TX_FSR, Sn_TX_RD, Sn_RX_RSR and Sn_RX_WR are read-only.
//   - 16 KiB of TX and 16 KiB of RX memory, allocated to the sockets in
//     order by Sn_TXBUF_SIZE and Sn_RXBUF_SIZE (2 KiB each after reset).
//     Sizes other than 0, 1, 2, 4, 8, 16 are misuse when written; a total
//     over 16 KiB is misuse at OPEN (not when written: Linux sets socket 0
//     to 16 KiB before it sets sockets 1-7 to 0). A buffer offset is taken
//     mod the socket's buffer size and a burst wraps inside the buffer. The
//     pointers are free-running 16-bit counters.
//   - Socket 0 in MACRAW: OPEN with Sn_MR P=0x04 gives Sn_SR=0x42 and
//     zeroes the pointers (so Sn_TX_FSR is the buffer size). Received
//     frames are stored as a 2-byte big-endian length that counts itself,
//     then the frame without FCS; a frame that does not fit is dropped and
//     counted (Stats.RxDropped). MAC filter: with MFEN (Sn_MR bit 7) only
//     frames to SHAR, broadcast and multicast pass; BCASTB, MMB and MIP6B
//     block broadcast, multicast and IPv6 (EtherType 0x86DD). SEND
//     transmits [Sn_TX_RD, Sn_TX_WR) as one frame, sets Sn_TX_RD=Sn_TX_WR
//     and raises SEND_OK. RECV commits the Sn_RX_RD the host wrote, and
//     raises RECV again if data remains. CLOSE gives Sn_SR=0.
//   - INTn: low while (IR & IMR) != 0 or (SIR & SIMR) != 0, updated on
//     every change.
//   - RSTn: low holds the chip in reset (registers at their defaults, link
//     down, SPI reads 0x00 and writes are lost, which is misuse); a pulse
//     shorter than 500 µs is misuse; after release, SPI access within 1 ms
//     (PLL lock) is misuse and gets no answer, and the PHY links
//     RelinkDelay after the release.
//   - The cable: with the link down no frame is received and SEND transmits
//     nothing and never raises SEND_OK (the socket stays stuck until CLOSE,
//     OPEN or a reset; another SEND meanwhile is misuse), as on real chips.
//   - 16-bit counters read in two bytes can tear: TearNextCounterRead holds
//     arriving frames back until the high byte of S0_RX_RSR has been read,
//     so a driver that reads the counter once sees a torn value, and one
//     that reads it until two reads agree sees the right one.
//
// # Misuse
//
// Besides the frame errors above: writes to read-only registers (SIR,
// UIPR, UPORTR, VERSIONR, Sn_SR, Sn_TX_FSR, Sn_TX_RD, Sn_RX_RSR,
// Sn_RX_WR; ignored); an invalid buffer size, or a change of size that
// moves an open socket's buffer; a buffer access to a socket with no
// buffer; OPEN with TCP or UDP ("not simulated: nichost uses MACRAW"),
// with no protocol or with an unknown one, and MACRAW on sockets 1-7 (the
// status stays CLOSED); an unknown command, or LISTEN, CONNECT, DISCON,
// SEND_MAC or SEND_KEEP (which MACRAW does not have); SEND or RECV on a
// closed socket; a SEND before the host has seen the previous one complete
// (by reading Sn_IR with SEND_OK set, Sn_TX_RD or Sn_TX_FSR since it): the
// model completes a SEND at once, but on a real chip Sn_CR reads 0 while
// the frame is still going out, and the datasheet says to check Sn_IR
// before relying on a command's completion (the model sends it anyway);
// SEND of a frame shorter than 14 or longer than 1514 bytes
// (not transmitted, but the command completes) or of more bytes than the
// buffer holds; RECV with Sn_RX_RD beyond Sn_RX_WR (ignored). Writes to
// reserved addresses are accepted, ignored and logged, not misuse.
//
// # Deviations and guesses
//
// The fact sheet the model follows marks most reset values as recalled
// from the datasheet rather than re-read; these choices are the model's
// own:
//
//   - Commands and transmission complete at once; the Sn_TX_FSR tear the
//     datasheet warns about therefore cannot happen (only S0_RX_RSR tears,
//     through the test hook). Sn_TX_FSR is the buffer size less
//     Sn_TX_WR - Sn_TX_RD, counting data as soon as Sn_TX_WR is written.
//   - MISO carries 0x00 during the data phase of a write and during all of
//     a frame the chip does not answer (reset, before PLL lock).
//   - The MAC pads transmitted frames shorter than 60 bytes with zeros (the
//     real MAC pads and adds the FCS on the wire); received frames are
//     stored as the port delivers them, and frames over 1514 bytes are
//     dropped (MACRAW handles the standard MTU only).
//   - TCP, UDP, IPRAW, PPPoE, WOL, ARP and ping handling are not simulated:
//     their registers store what is written and nothing else. IR is never
//     raised by the model (no conflict, unreachable, PPPoE or magic packet).
//   - INTLEVEL is stored but the wait it sets is not modelled. When the
//     driver clears interrupt bits while others keep INTn low, the pin is
//     released and asserted again at once, so an edge-triggered host sees a
//     new falling edge.
//   - After a buffer-size layout that exceeds 16 KiB, a socket whose
//     buffer would end past 16 KiB gets none; an invalid size counts as 0.
//   - PHY: the link partner is all-capable; with OPMD=0 the PMODE pins are
//     taken as strapped to 111 (100 Mb/s full duplex after negotiation).
//     OPMD/OPMDC take effect only at the next PHY reset. The PHY keeps its
//     state across MR.RST (which only sets PHYCFGR back to 0xB8, releasing
//     a PHY held by RST=0). The relink delay replaces auto-negotiation's
//     ~2 s. SetLink acts at once. PHYCFGR's DPX and SPD read 0 while the
//     link is down.
//   - The chip starts powered on with the PLL locked and the link up; RST
//     is taken as pulled up until the driver drives it. Buffer memory keeps
//     its contents across resets.
//   - Sn_MR's filter flags are read live on every frame, not latched at OPEN.
//   - OPEN and Sn_IR: OPEN leaves Sn_IR as it was.
//
// Time comes from Options.Now, so tests can step a fake clock instead of
// sleeping.
package w5500
