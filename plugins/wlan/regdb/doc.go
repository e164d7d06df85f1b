// Package regdb is the 2.4 GHz regulatory table the WLAN driver applies
// for network.country(code): per ISO 3166-1 alpha-2 country, the allowed
// channels 1..14, their maximum EIRP, and the flags a station must obey.
// It is pure Go without dependencies and builds for wasip1/wasm, since
// the WASM driver imports it.
//
// # Source
//
// The table (table.go) is generated from db.txt of wireless-regdb, the
// database the Linux kernel and Debian ship (ISC licence), release
// 2026.05.30 (DBVersion; DBSHA256 is the SHA-256 of that db.txt). That
// db.txt is upstream commit b488e68eb1ca ("update regulatory database
// based on preceding changes", 2026-05-30); compiled with upstream's
// db2fw.py it gives byte for byte the regulatory.db-upstream of Debian's
// wireless-regdb 2026.05.30-1~deb12u1. (Debian's later 2026.09.03 changes
// one 2.4 GHz rule, ZA's 2402-2482 to 2400-2483.5 MHz at the same power,
// which changes no channel or power derived here.) db.txt is not kept in nichost: it
// is in the upstream source (git.kernel.org
// pub/scm/linux/kernel/git/wens/wireless-regdb.git, file db.txt, or the
// release tarball wireless-regdb-<version>.tar.xz on kernel.org, or
// Debian's source package wireless-regdb). To regenerate, from this
// directory:
//
//	go run ./internal/gen -db /path/to/db.txt -version 2026.05.30 -o table.go
//
// (or REGDB_TXT=/path/to/db.txt REGDB_VERSION=... go generate). With
// REGDB_TXT set, go test checks that the committed table is what that
// db.txt gives; without it that test is skipped.
//
// # What is derived
//
// Channel c (1..13 centred at 2407+5c MHz, 14 at 2484 MHz) is allowed when
// its 20 MHz (centre ± 10 MHz) lies inside one of the country's rules
// whose maximum bandwidth is at least 20 MHz. If several rules hold it,
// the first in frequency order decides, as in the kernel. For the
// channel the table keeps:
//   - the rule's maximum EIRP, in mBm as the kernel's database stores it
//     (mW converted with 10·log10 and truncated to 1/100 dBm, so "100 mW"
//     is 2000 mBm and "500 mW" 2698); MaxPower gives whole dBm rounded
//     down, so it never exceeds the limit;
//   - NO-IR (passive only: no probe requests, no beacons), NO-OFDM
//     (802.11b only, e.g. JP channel 14) and NO-OUTDOOR (indoor only);
//   - 40 MHz (HT40): above for channel c when c and c+4 are both allowed
//     and one rule with a maximum bandwidth of 40 MHz or more and without
//     NO-HT40 holds c-10..c+30 MHz; below likewise with c-4 and
//     c-30..c+10 MHz. Channel 14 is never part of a 40 MHz channel. The
//     kernel can also join adjacent AUTO-BW rules for a wider channel;
//     this table does not (it only ever allows less).
//
// "XX" is nichost's worldwide code (the one MicroPython uses). It is
// db.txt's world domain "00" restricted to channels 1..11, which every
// country in the table allows, with 00's power for them (20 dBm); 00's
// channels 12 and 13 (NO-IR) and 14 are left out, as nichost's WLAN
// issue requires. "00" itself is not a code Lookup accepts.
//
// # What is left out
//
// Everything outside 2.4 GHz: the CYW43439 is a 2.4 GHz only chip, so
// 5 GHz, 6 GHz, 60 GHz and sub-GHz (802.11ah) rules, DFS regions and DFS
// (db.txt marks one country's 2.4 GHz rule DFS; radar detection is a
// 5 GHz matter and the flag is dropped), CAC times and WMM rules are not
// kept. Rules marked NO-INDOOR are ignored, as db2fw.py drops them from
// the kernel's database (none is in 2.4 GHz). NO-CCK, PTP-ONLY, PTMP-ONLY
// and NO-HT40 do not occur in 2.4 GHz rules; NO-CCK and the PTP flags are
// not kept (NO-HT40 would be honoured). Country codes are those db.txt has, including the
// retired "AN".
package regdb
