// Package tests holds nichost's end-to-end tests: nichost against peers it
// did not write (the Linux kernel's TCP/IP stack in a network namespace the
// test creates, dnsmasq, pppd in a QEMU VM), and whole-system checks that
// cross packages.
// Tests that need root, namespaces or system tools skip without them, and
// fail instead when NICHOST_E2E=require (as in CI).
package tests
