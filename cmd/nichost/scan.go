package main

import (
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/nichost/nichost/host"
	"github.com/nichost/nichost/internal/pyval"
)

// securityNames are the names of the WLAN security values of a scan()
// tuple (host.SecOpen ...), for tables a person reads.
var securityNames = map[int64]string{
	host.SecOpen: "open", host.SecWEP: "WEP", host.SecWPA: "WPA", host.SecWPA2: "WPA2",
	host.SecWPAWPA2: "WPA/WPA2", host.SecWPA3: "WPA3", host.SecWPA2WPA3: "WPA2/WPA3",
}

// printScan prints a WLAN scan() result as a table: one network a line,
// in the order the driver gave (strongest first). A tuple that is not
// (ssid, bssid, channel, RSSI, security, hidden) is printed as the REPL
// prints it, so nothing the driver said is hidden.
func printScan(w io.Writer, list []any) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SSID\tBSSID\tCHANNEL\tRSSI\tSECURITY\tHIDDEN")
	for _, v := range list {
		row, ok := scanRow(v)
		if !ok {
			fmt.Fprintln(tw, pyval.Repr(v))
			continue
		}
		fmt.Fprintln(tw, row)
	}
	return tw.Flush()
}

// scanRow formats one scan() tuple as a tab-separated row.
func scanRow(v any) (string, bool) {
	w, err := host.ParseScanTuple(v)
	if err != nil {
		return "", false
	}
	ssid := w.SSID
	if ssid == "" {
		ssid = "(hidden)"
	}
	name, known := securityNames[int64(w.Security)]
	if !known {
		name = strconv.Itoa(w.Security)
	}
	q := strconv.Quote(ssid) // control characters escaped, quotes dropped
	return fmt.Sprintf("%s\t%s\t%d\t%d dBm\t%s\t%t", q[1:len(q)-1], w.BSSID, w.Channel, w.RSSI, name, w.Hidden), true
}
