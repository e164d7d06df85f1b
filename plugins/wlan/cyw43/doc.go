// Package cyw43 simulates an Infineon CYW43439 (the Raspberry Pi Pico W's
// Wi-Fi chip) at its gSPI interface, for the WLAN driver's tests, `nichost
// demo` and `nichost test`. The firmware is not executed: the model
// answers as the running firmware does, and its radio is a station of a
// radio.Env (package plugins/wlan/radio), which decides scans and joins,
// and, once the host starts one on bsscfg 1, a hosted access point of the
// same environment; the chip times them on the environment's clock.
//
// A *Chip is the gSPI slave (it implements sim.SPIDevice: plug it into
// sim.NewSPI), WL_REG_ON (ON, the power input the driver drives) and the
// host-wake line (IRQ, which the chip drives). It is strict: every misuse
// is logged and, with Options.Strict, recorded for Errors as "cyw43439:
// WHAT (RULE)", RULE naming the source of the rule broken (rules.go);
// behaviour does not depend on Strict.
//
// # The wire model (shared WLAN spec)
//
// One gSPI transaction is one CS assertion: a command word, then the data
// units, then (with F0 0x02 bit0) a status unit. Every field is 4-byte
// units whose value is little-endian; a unit b0 b1 b2 b3 goes on the wire
// as b1 b0 b3 b2 in 16-bit mode (power-up), b3 b2 b1 b0 in 32-bit
// little-endian mode and b0 b1 b2 b3 in 32-bit big-endian mode. An F1
// read has one pad unit before its data (the chip drives zeros there); F0
// and F2 reads have none. MISO carries 0xFF (undriven) during the command
// and write data. A bus control write (F0 0x00..0x03) takes effect when
// CS is released, so the status word of the mode-switch write itself is
// not sent.
//
// # Modelled, and where it comes from
//
// Tags are those of the fact sheet (shared/facts/cyw43439.md): [EMB]
// embassy-rs cyw43, [C] georgerobotics/cyw43-driver, [SDK] pico-sdk's
// cyw43_bus_pio_spi.c, [GO] soypat/cyw43439. "Read" marks what the author
// of this package read in a public source himself (through the code
// index); the rest is taken from the fact sheet, and "inferred" is the
// model's own choice.
//
//	part                              source                     notes
//	command word, byte count 0=2048   fact sheet 1.2 [EMB][C];   read: CYW43362 datasheet gSPI chapter
//	                                  read                       (same gSPI block: F1 <= 64 bytes, F2 <= 2048)
//	16-bit swap, LE/BE 32-bit modes   fact sheet 1.3 [SDK][EMB]  the unit byte orders are the spec's wire model
//	F0 0x14 0xFEEDBEAD, 0x18 scratch  fact sheet 1.3, 1.4        0x08..0x17 read-only: inferred from the
//	                                                             register list (status, info, test)
//	F0 0x04 W1C, 0x06, status word    fact sheet 1.4, 8.2.9      0x20 as a level while a frame waits: the fact
//	                                                             sheet's recommendation; underflow/overflow/no-data
//	                                                             status bits only in the transaction's own status word
//	F1/F2/F3 info                     fact sheet 1.4             F1 enabled+ready after power-up, F2 after boot
//	bring-up order, int clear 0x99,   fact sheet 1.5 [C][EMB];   read in [C] cyw43_ll.c (bus init)
//	enable 0x00BE
//	F1 local registers, window 0 at   fact sheet 2.1, 2.2 [C]    ALP avail on any ALP/HT request, sticky; sleep
//	power-on, bit 15 ignored                                     CSR device-on follows KSO (inferred from [C]'s poll)
//	64-byte limit, window crossing    fact sheet 2.2; read       over 64: refused, F1 overflow (0x80); crossing:
//	                                                             wraps inside the window (inferred)
//	chip ID 0xA9AF, address map,      fact sheet 2.3 [EMB][C];   the ID register's upper 16 bits read 0 (inferred)
//	wrappers IOCTRL/RESETCTRL         read in [C]
//	SOCSRAM in reset at power-up,     fact sheet 2.4, 2.5, 8.2.6 RAM access while SOCSRAM is in reset is refused:
//	RAM 512 KB, remap registers                                  inferred from every driver resetting it first
//	boot rule, token, HT 5 ms, F2     spec boot rule; fact sheet [C] writes firmware rounded up to 4 bytes and
//	ready                             2.5 [C][EMB]; read in [C]  NVRAM at 0x80000-4-L: read; release = RESETCTRL 0
//	                                                             with IOCTRL clock on and CPUHALT clear; back into
//	                                                             reset stops the firmware (inferred)
//	SDPCM header, len/~len, credit    fact sheet 4.1, 4.2        credit written when the host reads the frame; the
//	                                  [EMB][C]; read in [C]      host may send while 0 < credit-seq < 128; [C]'s
//	                                                             "accept if new-old <= 20" read: the model's
//	                                                             credit never jumps by more than 8
//	CDC request/response              fact sheet 4.3 [EMB][C];   response length = request length, the rest
//	                                  read in [C]                echoed
//	BDC                               fact sheet 4.4 [C]; read   data BDC flags2 = the interface both ways: 0
//	                                                             station, 1 AP (ABI.md 8.6); others dropped
//	BCME status codes                 read: Broadcom bcmutils.h  -1 ERROR, -2 BADARG, -4 NOTUP, -14 BUFTOOSHORT,
//	                                  (public copies)            -17 NOTASSOCIATED, -23 UNSUPPORTED, -24 BADLEN;
//	                                                             the fact sheet's "0xFFFFFFE2 not-associated" is
//	                                                             -30, BCME_NOTFOUND there
//	CLM download (clmload)            fact sheet 3 [EMB][C]      order check (first chunk 0x0002 ...), any data;
//	                                                             clmload_status 0 once loaded, 1 before (inferred)
//	ioctls and iovars                 fact sheet 5 [C][EMB];     country layout, PM iovars, gpioout/ccgpioin,
//	                                  read in [C]                mcast_list, maxassoc, bss read in [C]
//	escan parameters                  fact sheet 5.4; read in    dwell -1 = 20 ms active / 50 ms passive per
//	                                  [C] (as sent)              channel; channel 0 entries = all of 1..14; the
//	                                                             channel low byte is taken (chanspec ch|0x1000 or
//	                                                             a plain number); a new escan aborts the running one
//	                                                             (ESCAN_RESULT status 4): inferred
//	BSS record, IEs                   fact sheet 5.4 [C]; read   version 109 (Linux brcmfmac's, from memory),
//	                                  the struct in [C]          IEs SSID, rates, DS, RSN (CCMP; AKM 2 PSK, 8 SAE;
//	                                                             MFP bits for SAE) and WPA (00:50:F2:01, TKIP):
//	                                                             IEEE 802.11 layouts; noise -92 dBm: inferred
//	async events, 72-byte BE header   fact sheet 6.1 [C][EMB];   the BCM header's length field = 8 + 48 +
//	                                  read in [C] (parse)        datalen and ifname "wlan0": inferred
//	join scripts                      fact sheet 8.2.13          synthetic (no firmware capture); 5 ms steps and
//	                                  (synthetic, from [C],      100 ms before "no networks": inferred
//	                                  [EMB], [GO] decoding)
//	join iovar (BSSID, chanspecs)     read in [C] (offsets 56,   SET_SSID and join both accepted
//	                                  64, 68)
//	data path TX/RX                   fact sheet 7 [EMB][C];     F2 reads must take exactly the head frame's
//	                                  read in [C]                length; 64 data frames queued at most (inferred)
//	qtxpower                          fact sheet 5.6 (Linux      stored as written; 80 (20 dBm) before: inferred
//	                                  brcmfmac)
//	access point on bsscfg/if 1       fact sheet 5.5 [C]; spec   bsscfg:cur_etheraddr/ssid/closednet/wsec/wpa_auth
//	                                  ABI.md 8.6 (cyw43439)      (1, ...), SET_CHANNEL, mfp, SET_WSEC_PMK and
//	                                                             sae_password on interface 1, bss (1, up): the
//	                                                             spec's; default AP address = OTP MAC | 0x02:
//	                                                             spec; default channel 1, the start checks'
//	                                                             order and wording, one secret for WPA2/WPA3,
//	                                                             a passphrase only (no PMK): the model's
//	AP events                         fact sheet 6.4 [C]; spec   LINK up/down, ASSOC_IND, DISASSOC_IND (reason 8),
//	                                  ABI.md 8.6                 DEAUTH_IND (reason 3) on ifidx/bsscfg 1 after
//	                                                             the ioctl's response; ifname "wl0.1": inferred;
//	                                                             no REASSOC_IND
//	GET_ASSOCLIST, GET_RSSI on if 1   fact sheet 5.5 [C]; spec   the list in join order from the radio's hooks;
//	                                                             RSSI per station (scb_val: i32, MAC) from
//	                                                             radio AP.StationRSSI; -30 NOTFOUND
//	one radio: AP follows station     ABI.md 8.6                 the AP starts on, and moves to, the channel the
//	                                                             station joined (radio AP.SetChannel)
//	AP stop, deauthentication         ABI.md 8.6                 bss (1, 0), WLC_DOWN, power-off: radio AP.Stop;
//	                                                             a station chip deauthenticated reports
//	                                                             DEAUTH_IND reason 3 then LINK down reason 2
//	                                                             (beacon loss: LINK reason 1, DEAUTH_IND 2)
//	channels a country allows         regdb (wireless-regdb)     the AP's channel must be allowed by the country
//	                                                             set ("" or a code regdb lacks: XX); NO-IR not
//	                                                             enforced
//
// Not read directly: embassy's and soypat's sources (only through the fact
// sheet), the CYW43439 datasheet itself (the CYW43362 datasheet's gSPI
// chapter was read), Infineon's wifi-host-driver.
//
// # Security as the host configures it
//
// The join takes what the host set: SET_WPA_AUTH 0x40000 (SAE) with 0x80
// (WPA2-PSK), or 0x40000 alone with mfp below 2 (required), offers
// WPA2/WPA3, as the three open drivers' WPA2/WPA3 station mode sets it;
// 0x40000 alone with mfp 2 WPA3 (the password from sae_password, else the
// PMK passphrase), 0x80 WPA2 (with 0x4 too:
// WPA/WPA2), 0x4 WPA; wpa_auth 0 with SET_WSEC bit 0 is WEP (the key from
// WLC_SET_KEY), else open. SET_WSEC_PMK flags 1 is a passphrase (8..63),
// flags 0 a PMK (64 hex digits or 32 bytes). Secured joins end with
// PSK_SUP status 6.
//
// # The access point (bsscfg/interface 1)
//
// bss (1, 1) derives the AP's security from bsscfg:wsec and bsscfg:wpa_auth
// (1, ...): 0 open (wsec 0), 0x4 WPA, 0x80 WPA2, 0x84 WPA/WPA2, 0x40000
// WPA3 (mfp 2 on interface 1), 0x40080 WPA2/WPA3 (mfp 1 or 2), with the
// passphrase of SET_WSEC_PMK (flags 1) for the PSK kinds and sae_password
// for the SAE kinds, both on interface 1 (the same secret for WPA2/WPA3);
// closednet 1 hides the SSID. It puts a radio AP (radio.Env.AddHostedAP)
// with the BSSID bsscfg:cur_etheraddr (1) on the air, heard at
// Options.APRSSI, and answers LINK up on ifidx 1 after its response. The
// running BSS keeps that configuration; later SETs apply at the next
// bss (1, 1). Host data with BDC flags2 1 goes out of the AP (dropped and
// counted in TxDropped while it is down); frames of its stations for the
// host come with flags2 1; station-to-station frames the radio bridges.
//
// # Misuse
//
// Access while WL_REG_ON is low; F1/F2 before the 32-bit mode switch
// (carried out in 16-bit order); transactions that end inside the command
// or data, or run past their end; writes to F0 0x08..0x17 (ignored); F3;
// an F1 transfer over 64 bytes (refused) or across the window (wraps); RAM
// access while SOCSRAM is in reset or beyond 512 KB; RAM writes while the
// ARM runs (ignored); an ARM release without >= 4 KiB of firmware from 0
// or without NVRAM and a valid token (dead); an F2 write while F2 is not
// ready (so an ioctl before the firmware runs), without credit, with a bad
// len/~len, a length shorter than the header or longer than the transfer,
// a header length out of range, or on a channel other than 0 and 2
// (dropped); an F2 read with no frame, longer (underflow) or shorter than
// the head frame; a CDC header or payload shorter than it says; a bad BDC
// or an Ethernet frame outside 14..1514 bytes (dropped); an ioctl that
// needs the CLM before the last clmload chunk (BCME_ERROR); a clmload
// chunk out of order or malformed (BCME_BADARG, the load aborted); SET_SSID,
// join or escan before WLC_UP (BCME_NOTUP); an ioctl or iovar payload
// that does not have the layout the fact sheet gives (BCME_BADLEN or
// BCME_BADARG); an AP configuration the start of bss (1, 1) refuses: the
// firmware down, no SSID, no key for a secured AP (BCME_ERROR), wsec,
// wpa_auth and mfp that disagree, a WEP wsec, a PMK instead of a
// passphrase, two different secrets for WPA2/WPA3, a channel the country
// does not allow (BCME_BADARG); GET_RSSI on interface 1 without a station
// MAC (BCME_BADARG). Unknown ioctls answer BCME_UNSUPPORTED (-23), unknown
// iovar GETs too (iovar SETs are stored and answer 0, fact sheet 8.1);
// neither is misuse.
//
// # Left out
//
// On the AP: a station limit (maxassoc reads 10, not enforced),
// REASSOC_IND, WEP, per-interface event masks (the bsscfg 0 mask gates
// both interfaces), the AP on interface 0 ([EMB]'s way) and
// SET_SSID/join on interface 1 (logged, answered 0). Bluetooth (F3), power saving (PM modes are
// stored only), bus sleep/KSO semantics, SDIO, the firmware's console and
// shared memory, multiple SSIDs per scan, roaming, 802.11 frames (the
// radio carries Ethernet frames), WEP key indexes, the response-delay
// registers' effect (the F1 pad is always one unit), the IRQ polarity bit
// (the line is always active-high) and a power-up delay (the bus answers
// as soon as WL_REG_ON is high).
//
// Time comes from the radio environment's Clock (or Options.Clock), so
// tests advance a radio.Manual instead of sleeping. The events of one
// scan come from one callback per channel, so they keep their order on any
// clock; the steps of a join are 5 ms apart, and a clock that may run
// callbacks out of order under load (radio.Wall: one goroutine each)
// could swap them: wlandev's OrderedClock runs them in order on the wall
// clock.
package cyw43
