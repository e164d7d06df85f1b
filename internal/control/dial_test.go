package control

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/nichost/nichost/internal/wait"
	"github.com/nichost/nichost/simnet"
)

// A stream through the daemon's stack reaches the simulated LAN's web
// server, both ways, with a clean end; a refused port and a bad request
// are errors naming the problem.
func TestClient_DialThroughTheStack(t *testing.T) {
	r := newRig(t, nil)
	r.up(t)
	ctx := wait.Context(t)
	addr := net.JoinHostPort(simnet.RouterAddr.String(), "80")
	conn, err := r.c.DialNIC(ctx, "lan0", "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: www.sim.nichost\r\nConnection: close\r\n\r\n")
	if err := conn.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 || len(body) == 0 {
		t.Fatalf("GET through the stream: %s, %d bytes, %v", resp.Status, len(body), err)
	}

	_, err = r.c.Dial(ctx, "tcp", net.JoinHostPort(simnet.RouterAddr.String(), "9"))
	var re *RemoteError
	if !errors.As(err, &re) || re.Type != TypeOSError || !strings.Contains(re.Message, ":9") {
		t.Fatalf("dial of a closed port: %v; want an OSError naming the address", err)
	}
	_, err = r.c.Dial(ctx, "udp", addr)
	if !errors.As(err, &re) || !strings.Contains(re.Message, `network "udp"`) {
		t.Fatalf("dial udp: %v; want a BadRequest naming the network", err)
	}
	_, err = r.c.DialNIC(ctx, "eth9", "tcp", addr)
	if !errors.As(err, &re) || re.Status != http.StatusNotFound {
		t.Fatalf("dial through an unknown NIC: %v", err)
	}
}
