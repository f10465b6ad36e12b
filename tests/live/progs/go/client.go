// A Go HTTPS client for httptap's live tests. Waits for a line on stdin, then sends
// -n POST requests with -c workers to -url (markers in path, header and body), checks each
// answer and prints "done N"; exits 1 on any failure. HTTP/2 with -h2 (ForceAttemptHTTP2),
// else HTTP/1.1 (run it with GODEBUG=http2client=0 too).
package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net/http"
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
	flag.Parse()
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true},
		ForceAttemptHTTP2:   *h2,
		MaxIdleConnsPerHost: *c,
	}
	client := &http.Client{Transport: tr}
	fmt.Println("ready")
	bufio.NewReader(os.Stdin).ReadString('\n')
	jobs := make(chan int)
	var failed sync.Once
	fail := func(err error) {
		failed.Do(func() { fmt.Println("error", err); os.Exit(1) })
	}
	var wg sync.WaitGroup
	for w := 0; w < *c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				m := fmt.Sprintf("%s-%d", *marker, i)
				head := "req-" + m + "|"
				body := head + strings.Repeat("q", *reqSize-len(head))
				u := fmt.Sprintf("%s/path-%s?size=%d", *url, m, *respSize)
				req, _ := http.NewRequest("POST", u, bytes.NewBufferString(body))
				req.Header.Set("X-Marker", m)
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
				if resp.StatusCode != 200 || len(got) != *respSize ||
					resp.Header.Get("X-Got-Bytes") != strconv.Itoa(len(body)) {
					fail(fmt.Errorf("bad answer %d %d", resp.StatusCode, len(got)))
					return
				}
			}
		}()
	}
	for i := 0; i < *n; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	fmt.Printf("done %d %s\n", *n, tr.TLSClientConfig.NextProtos)
}
