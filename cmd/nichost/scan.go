package main

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"text/tabwriter"

	"github.com/nichost/nichost/abi"
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
	t, ok := v.(abi.Tuple)
	if !ok || len(t) != 6 {
		return "", false
	}
	ssid, ok1 := t[0].(string)
	bssid, ok2 := t[1].([]byte)
	ch, ok3 := t[2].(int64)
	rssi, ok4 := t[3].(int64)
	sec, ok5 := t[4].(int64)
	hidden, ok6 := t[5].(bool)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || len(bssid) != 6 {
		return "", false
	}
	if ssid == "" {
		ssid = "(hidden)"
	}
	name, known := securityNames[sec]
	if !known {
		name = strconv.FormatInt(sec, 10)
	}
	q := strconv.Quote(ssid) // control characters escaped, quotes dropped
	return fmt.Sprintf("%s\t%s\t%d\t%d dBm\t%s\t%t", q[1:len(q)-1], net.HardwareAddr(bssid), ch, rssi, name, hidden), true
}
