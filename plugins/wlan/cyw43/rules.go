package cyw43

// The rules misuse messages cite, in parentheses at the end, so that a
// driver author (and a FAIL line of `nichost test`) sees which rule was
// broken and where it comes from. "datasheet" is the Infineon/Cypress gSPI
// chapter (the CYW43362 datasheet's text of it was read; the CYW43439 part
// shares the gSPI block); "fact sheet" is shared/facts/cyw43439.md, whose
// sections name the driver each rule was read in; "spec" is the nichost
// WLAN working spec (the simulator's boot rule).
const (
	rulePower    = "CYW43439 datasheet, power-up: WL_REG_ON low holds the chip off; the host raises it before using the bus"
	ruleMode     = "CYW43439 datasheet, gSPI: power-up is 16-bit mode; F1/F2 are used after the 32-bit mode switch (fact sheet 1.3, 1.5)"
	ruleReadOnly = "CYW43439 datasheet, gSPI: F0 0x08..0x17 (status, function info, test 0xFEEDBEAD) are read-only"
	ruleShape    = "CYW43439 datasheet, gSPI: a transaction is a command word, ceil(n/4) data words (F1 reads: a pad word first) and, with status enabled, one status word"
	ruleF3       = "not simulated: the CYW43439 model has no Bluetooth function (F3)"
	ruleF1Size   = "CYW43439 datasheet, gSPI: F1 carries at most 64 bytes per transaction; cyw43-driver and embassy: a bulk transfer never crosses the 32 KB backplane window"
	ruleSOCSRAM  = "cyw43-driver and embassy: disable and reset the SOCSRAM core before the firmware download (fact sheet 2.5 step 2)"
	ruleRAMRun   = "cyw43-driver and embassy: RAM is written while the WLAN ARM is held in reset (fact sheet 2.5)"
	ruleRAMRange = "fact sheet 2.3: RAM is 512 KB at backplane address 0"
	ruleBoot     = "spec boot rule: firmware written contiguously from RAM address 0 (>= 4 KiB) and NVRAM with a valid length token at 0x7FFFC before the ARM is released (fact sheet 2.5 steps 4-7)"
	ruleF2Ready  = "cyw43-driver and embassy: F2 is written only once F0 status has F2 RX ready (0x20): the firmware must be running (fact sheet 2.5 step 10, 7)"
	ruleCredit   = "cyw43-driver and embassy: the host sends an SDPCM frame only while its sequence number differs from the last bus data credit (fact sheet 4.2)"
	ruleSDPCM    = "cyw43-driver and embassy: an SDPCM frame's length field, with ~length in the next 16 bits, is at least the 12-byte header and fits the F2 transfer (fact sheet 4.1)"
	ruleF2Read   = "embassy and cyw43-driver: an F2 read takes exactly the length F0 status bits 19:9 give, while status 0x100 (packet available) is set (fact sheet 1.4, 7)"
	ruleCDC      = "cyw43-driver and embassy: a control frame (channel 0) is SDPCM, a 16-byte CDC header and CDC-length bytes of payload (fact sheet 4.3)"
	ruleBDC      = "cyw43-driver and embassy: a data frame (channel 2) is SDPCM with header length 14, a BDC header (version 2) and an Ethernet frame of 14..1514 bytes (fact sheet 7)"
	ruleCLMFirst = "cyw43-driver and embassy: the CLM is loaded (clmload, last chunk flag 0x0004) before the radio is configured or brought up (fact sheet 3, spec)"
	ruleCLMLoad  = "cyw43-driver and embassy: clmload chunks are u16 flag (0x1000, 0x0002 first, 0x0004 last), u16 type 2, u32 length, u32 CRC, then the data (fact sheet 3)"
	ruleUp       = "cyw43-driver and embassy: scans and joins follow WLC_UP (fact sheet 5.2 step 5)"
	ruleIoctl    = "cyw43-driver and embassy: the payload layout of the ioctl or iovar (fact sheet 5)"
	ruleChannel  = "fact sheet 8.2.15: the data path carries Ethernet frames on SDPCM channel 2 only"
	ruleAP       = "cyw43-driver, ABI.md 8.6 (cyw43439): the access point is configured on bsscfg/interface 1 (bsscfg:ssid, SET_CHANNEL, bsscfg:wsec, bsscfg:wpa_auth, mfp, SET_WSEC_PMK/sae_password) with values that agree, after WLC_UP, before bss (1, 1) brings it up (fact sheet 5.5)"
)
