// A Go HTTPS client for httptap's live tests. For each of -rounds rounds: waits for a line
// on stdin, sends -n POST requests with -c workers to -url (markers in path, header and
// body), checks each answer, prints "ex MARKER FD LOCAL" per request (the socket it went
// out on) and "done N"; exits 1 on any failure. HTTP/2 with -h2 (ForceAttemptHTTP2), else
// HTTP/1.1 (run it with GODEBUG=http2client=0 too).
package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"strconv"
	"strings"
	"sync"
)

func main() {
	url := flag.String("url", "", "base URL")
	n := flag.Int("n", 1, "requests")
	c := flag.Int("c", 1, "concurrent workers")
	reqSize := flag.Int("req", 100, "request body bytes")
	respSize := flag.Int("resp", 100, "response body bytes")
	marker := flag.String("marker", "m", "marker")
	h2 := flag.Bool("h2", false, "HTTP/2")
	rounds := flag.Int("rounds", 1, "rounds, each started by a line on stdin")
	grpc := flag.Bool("grpc", false, "unary gRPC calls to /test.Echo/Say (with -h2)")
	flag.Parse()
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true},
		ForceAttemptHTTP2:   *h2,
		MaxIdleConnsPerHost: *c,
	}
	client := &http.Client{Transport: tr}
	fmt.Println("ready")
	stdin := bufio.NewReader(os.Stdin)
	var out sync.Mutex
	var failed sync.Once
	fail := func(err error) {
		failed.Do(func() { fmt.Println("error", err); os.Exit(1) })
	}
	for round := 0; round < *rounds; round++ {
		stdin.ReadString('\n')
		jobs := make(chan int)
		var wg sync.WaitGroup
		for w := 0; w < *c; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range jobs {
					m := fmt.Sprintf("%s-%d-%d", *marker, round, i)
					head := "req-" + m + "|"
					body := head + strings.Repeat("q", *reqSize-len(head))
					u := fmt.Sprintf("%s/path-%s?size=%d", *url, m, *respSize)
					req, _ := http.NewRequest("POST", u, bytes.NewBufferString(body))
					if *grpc {
						msg := append([]byte{0x0a, byte(len(m))}, m...)
						frame := append([]byte{0, 0, 0, 0, byte(len(msg))}, msg...)
						req, _ = http.NewRequest("POST", *url+"/test.Echo/Say", bytes.NewReader(frame))
						req.Header.Set("Content-Type", "application/grpc")
						req.Header.Set("TE", "trailers")
					}
					req.Header.Set("X-Marker", m)
					fd, local := -1, ""
					trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
						local = info.Conn.LocalAddr().String()
						tc := info.Conn.(*tls.Conn).NetConn().(*net.TCPConn)
						if raw, err := tc.SyscallConn(); err == nil {
							raw.Control(func(f uintptr) { fd = int(f) })
						}
					}}
					req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
					resp, err := client.Do(req)
					if err != nil {
						fail(err)
						return
					}
					got, err := io.ReadAll(resp.Body)
					resp.Body.Close()
					if err != nil {
						fail(err)
						return
					}
					if *grpc {
						if resp.Trailer.Get("Grpc-Status") != "0" || !bytes.Contains(got, []byte("pong-"+m)) {
							fail(fmt.Errorf("bad gRPC answer %v %q", resp.Trailer, got))
							return
						}
					} else if resp.StatusCode != 200 || len(got) != *respSize ||
						resp.Header.Get("X-Got-Bytes") != strconv.Itoa(len(body)) {
						fail(fmt.Errorf("bad answer %d %d", resp.StatusCode, len(got)))
						return
					}
					out.Lock()
					fmt.Printf("ex %s %d %s\n", m, fd, local)
					out.Unlock()
				}
			}()
		}
		for i := 0; i < *n; i++ {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		fmt.Printf("done %d\n", *n)
	}
}
