package cyw43

// Protocol constants. Each group cites the section of the shared fact sheet
// (shared/facts/cyw43439.md) it comes from; the fact sheet names the public
// driver each value was read in.

// gSPI command word (fact sheet 1.2).
const (
	cmdWrite     = 1 << 31 // 1 write, 0 read
	cmdIncr      = 1 << 30 // incrementing address
	cmdFuncShift = 28      // bits 29:28: function
	cmdAddrShift = 11      // bits 27:11: 17-bit address
	cmdAddrMask  = 0x1FFFF
	cmdLenMask   = 0x7FF // bits 10:0: byte count, 0 = 2048

	funcBus   = 0 // F0: gSPI registers
	funcBack  = 1 // F1: backplane
	funcWLAN  = 2 // F2: SDPCM packets
	funcBT    = 3 // F3: Bluetooth (not on this model)
	unitBytes = 4 // every field is made of 4-byte units (spec, wire model)
	f1Pad     = 4 // response-delay pad before F1 read data (fact sheet 1.2)
)

// F0 (gSPI bus) registers (fact sheet 1.4).
const (
	regBusCtrl    = 0x00 // 8 bits: bus control
	regRespDelay  = 0x01 // 8 bits: response delay
	regStatusEn   = 0x02 // 8 bits: status enable and friends
	regIntStatus  = 0x04 // 16 bits: interrupt status, write 1 to clear
	regIntEnable  = 0x06 // 16 bits: interrupt enable
	regStatus     = 0x08 // 32 bits: status (read-only)
	regF1Info     = 0x0C // 16 bits: F1 info (read-only)
	regF2Info     = 0x0E // 16 bits: F2 info (read-only)
	regF3Info     = 0x10 // 16 bits: F3 info (read-only)
	regTestRO     = 0x14 // 32 bits: 0xFEEDBEAD (read-only)
	regTestRW     = 0x18 // 32 bits: R/W test register
	regRespDelay0 = 0x1C // 0x1C..0x1F: response delay of F0..F3
	f0Size        = 0x800

	testPattern = 0xFEEDBEAD

	// Bus control bits (register 0x00).
	busWord32    = 0x01 // 32-bit words (else 16-bit, power-up)
	busBigEndian = 0x02 // big-endian within a word
	busClkPhase  = 0x04
	busClkPol    = 0x08
	busHighSpeed = 0x10
	busIRQHigh   = 0x20 // IRQ active-high
	busWakeUp    = 0x80

	// Register 0x02 bits.
	statusEnable  = 0x01 // trailing status word after every transaction
	intWithStatus = 0x02

	// F1/F2/F3 info bits (fact sheet 1.4).
	infoEnabled = 0x0001
	infoReady   = 0x0002
)

// Interrupt bits, registers 0x04 and 0x06 (fact sheet 1.4).
const (
	intDataUnavail = 0x0001 // F2 read with no frame
	intRdUnderflow = 0x0002 // F2/F3 FIFO read underflow
	intWrOverflow  = 0x0004 // F2/F3 FIFO write overflow
	intCmdError    = 0x0008
	intDataError   = 0x0010
	intF2Packet    = 0x0020 // F2 packet available (a level: fact sheet 8.2.9)
	intF3Packet    = 0x0040
	intF1Overflow  = 0x0080
	intF1Intr      = 0x2000
	intF2Intr      = 0x4000
	intF3Intr      = 0x8000
)

// Status bits, register 0x08 and the trailing status word (fact sheet 1.4).
const (
	stDataUnavail = 0x00000001
	stUnderflow   = 0x00000002
	stOverflow    = 0x00000004
	stF2Intr      = 0x00000008
	stF3Intr      = 0x00000010
	stF2RxReady   = 0x00000020 // the chip takes an F2 write
	stF3RxReady   = 0x00000040
	stCmdDataErr  = 0x00000080
	stF2PktAvail  = 0x00000100
	stF2LenShift  = 9 // bits 19:9: length of the head F2 frame
	stF2LenMask   = 0x000FFE00
	stF2LenMax    = 0x7FF
)

// F1 local registers, not windowed (fact sheet 2.1).
const (
	f1Local       = 0x10000 // F1 addresses >= this are local registers
	f1Watermark   = 0x10008
	f1DevCtrl     = 0x10009
	f1WinLow      = 0x1000A // backplane window bits 15:8
	f1WinMid      = 0x1000B // bits 23:16
	f1WinHigh     = 0x1000C // bits 31:24
	f1FrameCtrl   = 0x1000D // write 0x01: discard the head F2 frame
	f1ClockCSR    = 0x1000E
	f1PullUp      = 0x1000F
	f1WakeupCtrl  = 0x1001E
	f1SleepCSR    = 0x1001F
	f1AccessFlag  = 0x8000 // bit 15: 2/4-byte access flag, ignored for the offset (2.2)
	f1WindowMask  = 0x7FFF // offset inside the 32 KB window (2.2)
	f1WindowSize  = 0x8000
	f1MaxTransfer = 64 // bytes per F1 transaction (2.2)

	// Clock CSR bits (2.1).
	csrForceALP  = 0x01
	csrForceHT   = 0x02
	csrALPReq    = 0x08
	csrHTReq     = 0x10
	csrForceHWOf = 0x20
	csrALPAvail  = 0x40
	csrHTAvail   = 0x80

	// Sleep CSR bits (2.1).
	sleepKSO      = 0x01 // keep SDIO on
	sleepDeviceOn = 0x02

	frameCtrlDiscard = 0x01 // fact sheet 2.1, 7 ([C])
)

// Backplane address map of the 43439 (fact sheet 2.3).
const (
	ramBase       = 0x00000000
	ramSize       = 0x80000 // 512 KB
	chipCommon    = 0x18000000
	chipIDValue   = 0xA9AF // 43439
	sdioCore      = 0x18002000
	sdioIntStatus = sdioCore + 0x20 // W1C
	sdioHostMask  = sdioCore + 0x24
	sdioFuncMask  = sdioCore + 0x34
	sdioMailbox   = sdioCore + 0x40
	armCore       = 0x18003000
	socsramCore   = 0x18004000
	socsramBankIx = socsramCore + 0x10 // SRAM remap: bank index (2.5 step 3)
	socsramPDA    = socsramCore + 0x44 // bank PDA
	wrapperOffset = 0x100000
	armWrapper    = armCore + wrapperOffset     // 0x18103000
	socsramWrap   = socsramCore + wrapperOffset // 0x18104000
	wrapIOCtrl    = 0x408
	wrapResetCtrl = 0x800
	wrapResetStat = 0x804

	// IOCTRL and RESETCTRL bits (2.3).
	ioClockEn   = 0x01
	ioFGC       = 0x02
	ioCPUHalt   = 0x20
	resetInside = 0x01 // RESETCTRL bit0: in reset
)

// Boot (fact sheet 2.5, spec "Boot rule for the sim").
const (
	nvramToken    = ramSize - 4 // 0x7FFFC: the NVRAM length token
	minFirmware   = 4096        // the firmware must be at least 4 KiB (spec)
	nvramMagic    = 0x4152564E  // "NVRA", the first NVRAM word [EMB] logs
	bootToHTDelay = 5           // ms from ARM release to HT avail (spec)
)

// SDPCM framing (fact sheet 4.1, 4.2).
const (
	sdpcmHeaderLen = 12
	sdpcmDataHdr   = 14 // host TX data: 12 + 2 pad bytes
	chanControl    = 0
	chanEvent      = 1
	chanData       = 2
	creditAhead    = 8 // credit = last host sequence + 1 + creditAhead (4.2 policy)
	initialCredit  = 1 // what the hosts assume before the first RX frame (4.2)
	maxRxFrame     = 1536
	rxDataQueueMax = 64  // data frames waiting for the host; more are dropped
	rxQueueMax     = 256 // all frames (control, events, data)
)

// CDC control header (fact sheet 4.3).
const (
	cdcHeaderLen = 16
	cdcFlagSet   = 0x0002 // SET (else GET)
	cdcFlagError = 0x0001 // in a response: the status is an error
	cdcIfShift   = 12     // bits 15:12 of the flags: interface
)

// BDC header (fact sheet 4.4).
const (
	bdcHeaderLen = 4
	bdcVersion2  = 0x20
)

// BCME status codes a CDC response carries. The fact sheet (4.3) gives the
// encoding (negative); the values are those of Broadcom's bcmutils.h, in
// public copies found by code search.
const (
	bcmeOK            = 0
	bcmeError         = -1
	bcmeBadArg        = -2
	bcmeNotUp         = -4
	bcmeBufTooShort   = -14
	bcmeNotAssociated = -17
	bcmeUnsupported   = -23
	bcmeBadLen        = -24
	bcmeNotReady      = -25
	bcmeNotFound      = -30
)

// Interfaces (CDC flags bits 15:12, BDC flags2, event ifidx) and bsscfg
// indexes: 0 the station, 1 the access point ([C]'s way; ABI.md 8.6).
const (
	ifSTA = 0
	ifAP  = 1
)

// WLC ioctl commands (fact sheet 5.1; WLC_GET_ANTDIV 63 from [C]'s list).
const (
	wlcUp           = 2
	wlcDown         = 3
	wlcSetInfra     = 20
	wlcSetAuth      = 22
	wlcGetBSSID     = 23
	wlcGetSSID      = 25
	wlcSetSSID      = 26
	wlcGetChannel   = 29
	wlcSetChannel   = 30
	wlcSetKey       = 45
	wlcDisassoc     = 52
	wlcGetAntdiv    = 63
	wlcSetAntdiv    = 64
	wlcSetDTIMPrd   = 78
	wlcSetCountry   = 84
	wlcGetPM        = 85
	wlcSetPM        = 86
	wlcSetGMode     = 110
	wlcSetAP        = 118
	wlcGetRSSI      = 127
	wlcSetWsec      = 134
	wlcSetBand      = 142
	wlcGetAssocList = 159
	wlcSetWPAAuth   = 165
	wlcGetVar       = 262
	wlcSetVar       = 263
	wlcSetWsecPMK   = 268
)

// Join and security constants (fact sheet 5.3).
const (
	wsecWEP        = 0x1
	wsecTKIP       = 0x2
	wsecAES        = 0x4
	wpaAuthDisable = 0x0
	wpaAuthPSK     = 0x4
	wpaAuth2PSK    = 0x80
	wpaAuth3SAE    = 0x40000
	authOpen       = 0
	authShared     = 1 // WEP shared key (802.11 auth algorithm 1)
	authSAE        = 3
	mfpRequired    = 2  // iovar mfp: 0 none, 1 capable, 2 required
	pmkLen         = 68 // SET_WSEC_PMK: u16 length, u16 flags, 64-byte key
	pmkPassphrase  = 1  // flags: the key is a passphrase
	saePasswordLen = 130
	ssidStructLen  = 36 // u32 length + 32-byte SSID
	chanspec2G20   = 0x1000
)

// CLM download (fact sheet 3).
const (
	clmHeaderLen = 12
	dlFlagHandV  = 0x1000 // handler version, always
	dlFlagBegin  = 0x0002 // first chunk
	dlFlagEnd    = 0x0004 // last chunk
	dlTypeCLM    = 2
)

// escan (fact sheet 5.4).
const (
	escanVersion     = 1
	escanActionStart = 1
	escanFixedLen    = 4 + 2 + 2 + 36 + 6 + 1 + 1 + 4*4 + 4 // up to channel_num
	scanActive       = 0
	scanPassive      = 1
	// Dwell defaults when the host passes -1 (a choice of the model).
	defaultActiveDwell  = 20 // ms per channel
	defaultPassiveDwell = 50 // ms per channel
	maxChannel          = 14

	bssInfoVersion = 109 // wl_bss_info version the BSS records carry (guess, see doc.go)
	bssFixedLen    = 128 // fixed part of a BSS record (5.4)
	bssOffLength   = 4
	bssOffBSSID    = 8
	bssOffBeacon   = 14
	bssOffCap      = 16
	bssOffSSIDLen  = 18
	bssOffSSID     = 19
	bssOffRateCnt  = 52
	bssOffRates    = 56
	bssOffChanspec = 72
	bssOffATIM     = 74
	bssOffDTIM     = 76
	bssOffRSSI     = 78
	bssOffNoise    = 80
	bssOffNCap     = 81
	bssOffNBSSCap  = 84
	bssOffCtlCh    = 88
	bssOffFlags    = 96
	bssOffMCS      = 100
	bssOffIEOff    = 116
	bssOffIELen    = 120
	bssOffSNR      = 124
	capESS         = 0x0001
	capPrivacy     = 0x0010 // 5.4
	escanResultHdr = 12     // u32 buflen, u32 version, u16 sync_id, u16 bss_count
)

// Async events (fact sheet 6.1, 6.2).
const (
	evHeaderLen   = 72 // Ethernet header + BCM header + event message, up to the data
	etherTypeBRCM = 0x886C
	brcmSubtype   = 0x8001
	brcmUsrSub    = 1
	evMsgVersion  = 2

	evSetSSID     = 0
	evJoin        = 1
	evAuth        = 3
	evDeauth      = 5
	evDeauthInd   = 6
	evAssoc       = 7
	evAssocInd    = 8
	evReassocInd  = 10
	evDisassoc    = 11
	evDisassocInd = 12
	evLink        = 16
	evPSKSup      = 46
	evEscanResult = 69
	evMax         = 208 // the mask covers events 0..evMax-1

	stSuccess    = 0
	stFail       = 1
	stTimeout    = 2
	stNoNetworks = 3
	stPartial    = 8
	stUnsolicit  = 6

	pskKeyed = 6 // PSK_SUP status: keyed (6.2)

	linkFlagUp = 0x01 // LINK event flags bit0 (6.1)

	reasonLinkLost   = 1 // LINK down reason: signal lost (6.3)
	reasonDeauthPrev = 2 // 802.11 reason 2: previous authentication no longer valid (6.3, 8.2.13)
	// LINK down reason after a deauthentication: 2, the value fact sheet
	// 6.3 lists next to 1 (signal lost); its use here is the model's.
	reasonLinkDisassoc = 2
	// 802.11 reason 3: deauthenticated because the sender (the AP) is
	// leaving the BSS (ABI.md 8.6: a stopped AP's stations).
	reasonDeauthLeaving = 3
	// 802.11 reason 8: disassociated because the sender (the station) is
	// leaving the BSS (ABI.md 8.6: DISASSOC_IND to the AP's host).
	reasonDisassocLeaving = 8
)

// qtxpower (fact sheet 5.6): quarter-dBm, bit 31 = user override.
const (
	qtxOverride = 1 << 31
	qtxNoLimit  = 127
)

// PM modes (fact sheet 5.6).
const (
	pmOff  = 0
	pmMax  = 2
	pmFast = 2
)
