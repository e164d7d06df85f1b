// Package radio is the radio environment of nichost's simulated Wi-Fi
// chips: the air with its access points (SSID, BSSID, channel, level,
// security, hidden or not) and the stations that scan for them, join them
// and exchange data frames through them. An AP is a bridge to a wired
// bus.FramePort (for instance a port of simnet's LAN, with its DHCP and
// HTTP), so a station joined to it reaches the LAN, or (AddHostedAP) the
// access point of a chip in AP mode, whose wired side is a set of hooks
// (APHooks: frames for it, stations joining and leaving) and
// AP.Transmit.
//
// The environment decides, the chip simulator times: Scan and Join answer
// at once (the chip simulator, package cyw43, turns them into events after
// the delays a chip would take). Time that the environment itself keeps,
// an AP's RSSI drift and the BeaconLoss after which a station notices that
// its AP vanished, runs on the environment's Clock: Wall for real time, or
// a Manual clock that a test advances by hand, which makes those tests
// deterministic.
//
// Callbacks: a station's rx function runs on the goroutine that made the
// frame arrive (the AP's port reader, the Send of another station, or
// AP.Transmit); its lost function on a goroutine of its own after a beacon
// loss, or on the goroutine of AP.Stop for a deauthentication. A hosted
// AP's Rx hook runs on the sender's Send; its Join and Leave hooks, in
// order, on the goroutine that changed the station list (AddHostedAP).
// Clock functions run on their own goroutine with Wall and on the
// goroutine calling Advance with Manual. No lock of the package is held
// while any of them runs.
//
// Everything is safe for concurrent use. Env.Close (or closing each AP
// and station) stops every goroutine the package started.
package radio
