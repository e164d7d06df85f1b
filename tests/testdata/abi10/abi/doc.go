// Package abi is the contract between the nichost host and its driver
// plugins, in Go form: the ABI version, the names of every export and
// import, their status and error codes, the layout of the records that
// cross guest memory, and the value encoding used for method arguments and
// results.
//
// The normative text is ABI.md beside this file; this package mirrors it so
// that the host and the guest SDK (package abi/guest) cannot disagree. It has
// no mutable exported state and depends only on the CBOR codec.
package abi
