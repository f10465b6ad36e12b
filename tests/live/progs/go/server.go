// A Go HTTPS server (HTTP/1.1 and HTTP/2) for httptap's live tests: a self-signed
// certificate made at start, port 0, "port N" on stdout, serves until stdin closes.
// Every response echoes the request's marker in a header and a body of ?size bytes.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

func certificate() tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

type fdKey struct{}

// connFd is the socket under a TLS connection, told back to the test in a header so that it
// can check the fd httptap reports.
func connFd(ctx context.Context, c net.Conn) context.Context {
	fd := -1
	if tc, ok := c.(*tls.Conn); ok {
		if raw, err := tc.NetConn().(*net.TCPConn).SyscallConn(); err == nil {
			raw.Control(func(f uintptr) { fd = int(f) })
		}
	}
	return context.WithValue(ctx, fdKey{}, fd)
}

// grpcFrame is one length-prefixed gRPC message holding a protobuf with field 1 = text.
func grpcFrame(text string) []byte {
	msg := append([]byte{0x0a, byte(len(text))}, text...)
	frame := []byte{0, 0, 0, 0, byte(len(msg))}
	return append(frame, msg...)
}

// handleGrpc answers a unary call in gRPC's wire format (plain net/http over h2: no
// grpc-go module needed to build the tests offline).
func handleGrpc(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	text := ""
	if len(body) > 7 {
		text = string(body[7:])
	}
	w.Header().Set("Trailer", "Grpc-Status, Grpc-Message")
	w.Header().Set("Content-Type", "application/grpc")
	w.WriteHeader(200)
	w.Write(grpcFrame("pong-" + text))
	w.Header().Set("Grpc-Status", "0")
	w.Header().Set("Grpc-Message", "ok")
}

func handle(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Server-Fd", strconv.Itoa(r.Context().Value(fdKey{}).(int)))
	w.Header().Set("X-Peer", r.RemoteAddr)
	w.Header().Set("X-Echo-Marker", r.Header.Get("X-Marker"))
	if r.Header.Get("Content-Type") == "application/grpc" {
		handleGrpc(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	size, _ := strconv.Atoi(r.URL.Query().Get("size"))
	marker := r.Header.Get("X-Marker")
	w.Header().Set("X-Got-Bytes", strconv.Itoa(len(body)))
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Length", strconv.Itoa(size))
	head := "resp-" + marker + "|"
	if size < len(head) {
		head = head[:size]
	}
	io.WriteString(w, head)
	w.Write([]byte(strings.Repeat("r", size-len(head))))
}

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &http.Server{
		Handler:     http.HandlerFunc(handle),
		ConnContext: connFd,
		TLSConfig:   &tls.Config{Certificates: []tls.Certificate{certificate()}},
	}
	fmt.Printf("port %d\n", ln.Addr().(*net.TCPAddr).Port)
	go func() {
		io.Copy(io.Discard, os.Stdin) // stdin closed: the test is over
		os.Exit(0)
	}()
	if err := srv.ServeTLS(ln, "", ""); err != nil {
		panic(err)
	}
}
