// ---- TLS: Go's crypto/tls.(*Conn).Read and Write, plaintext in the clear ---------------
//
// Appended to capture.c by the loader (it uses that file's maps and helpers). A uprobe at
// each function's entry and at every RET instruction, never a uretprobe (Go moves
// goroutine stacks; a rewritten return address kills the program). Go >= 1.17 register
// ABI on amd64: receiver RAX, buffer RBX, length RCX at entry; n in RAX at return. R14
// holds the goroutine: a call is keyed by (tgid, goroutine), since a goroutine may return
// on another thread than the one it entered on.

struct go_key {
    u64 g;
    u32 tgid;
    u32 pad;
};

struct go_call {
    u64 conn;
    u64 buf;
    u64 len;
    u64 ts;
    s32 fd;
    u8 dir;
};

// Field offsets of tls.Conn -> net.Conn (data word) -> *netFD -> poll.FD -> Sysfd, per
// traced process (userspace fills them from DWARF or its table; absent: the 1.17+ values).
struct go_offsets {
    u32 conn;
    u32 tcp_fd;
    u32 pfd;
    u32 sysfd;
};

// LRU: a call whose return is never seen (a panic unwinding through it) ages out
BPF_TABLE("lru_hash", struct go_key, struct go_call, go_calls, 65536);
BPF_HASH(go_offsets, u32, struct go_offsets, 4096);
// Bytes returned by a Read that was entered before attach (its buffer and connection are
// not known at its return): sent as a gap at the goroutine's next Read of a connection,
// so that the stream knows something is missing instead of pairing the wrong messages.
BPF_TABLE("lru_hash", struct go_key, u64, go_lost, 16384);

static __always_inline s32 go_fd(u32 tgid, u64 conn) {
    struct go_offsets o = {.conn = 0, .tcp_fd = 0, .pfd = 0, .sysfd = 16};
    struct go_offsets *op = go_offsets.lookup(&tgid);
    if (op) o = *op;
    u64 data = 0, netfd = 0;
    s64 fd = -1;
    if (ht_read_user(&data, sizeof(data), (void *)(conn + o.conn + 8)) || !data) return -1;
    if (ht_read_user(&netfd, sizeof(netfd), (void *)(data + o.tcp_fd)) || !netfd) return -1;
    if (ht_read_user(&fd, sizeof(fd), (void *)(netfd + o.pfd + o.sysfd))) return -1;
    if (fd < 0 || fd > 0xfffffff) return -1;
    return fd;
}

// The socket under a tls.Conn counts as TLS from its first Read or Write on: its
// ciphertext is not copied from then on (the handshake's already was, and is recognised as
// TLS by userspace).
static __always_inline s32 go_mark_tls(u32 tgid, u64 conn) {
    s32 fd = go_fd(tgid, conn);
    if (fd >= 0) {
        struct sock_key key = {.tgid = tgid, .fd = fd};
        struct sock_val *sv = sockets.lookup(&key);
        if (sv) sv->flags |= HT_F_TLS;
    }
    return fd;
}

// `n` bytes at `buf` on the connection's plaintext stream, after a gap of `lost` bytes.
static __always_inline void go_emit(u64 id, s32 fd, u64 conn, u64 buf, u64 n, u64 lost,
                                    u8 dir, u64 ts) {
    u32 tgid = id >> 32;
    struct sock_val *sv = NULL;
    if (fd >= 0) {
        struct sock_key key = {.tgid = tgid, .fd = fd};
        sv = sockets.lookup(&key);
    }
    u64 gen;
    u32 flags = 0;
    if (sv) {
        gen = sv->gen ^ HT_TLS_GEN_BIT;  // the plaintext stream of this socket
        flags = sv->flags & (HT_F_CLIENT | HT_F_SERVER | HT_F_PREEXISTING);
    } else {
        gen = conn | HT_SSL_GEN_BIT;  // no listed socket: keyed by the *tls.Conn
    }
    struct event *ev = start_event(HT_DATA, tgid, (u32)id, fd, ts);
    if (!ev) return;
    ev->gen = gen;
    ev->dir = dir;
    ev->flags = flags | HT_F_TLS | HT_F_SEEN;
    send_gap(ev, NULL, lost);
    u64 done = copy_buf(ev, NULL, (const u8 *)buf, n, HT_MAX_CHUNKS);
    send_gap(ev, NULL, n - done);
}

// Write: its bytes are final at the entry, and sent from there. Sending them at a return
// would let the peer's answer, read by another goroutine, overtake them (seen on a loaded
// machine with Go's HTTP/1 client: a response before its request). The call is remembered
// until a RET: when the stack must grow, Go's prologue calls morestack and starts the
// function again from its entry, and that second hit must not send the bytes twice.
int go_tls_write_enter(struct pt_regs *ctx) {
    u64 id = bpf_get_current_pid_tgid();
    u32 tgid = id >> 32;
    if (!is_traced(tgid)) return 0;
    struct go_key k = {.g = ctx->r14, .tgid = tgid};
    struct go_call *prev = go_calls.lookup(&k);
    if (prev && prev->dir == HT_EGRESS && prev->conn == ctx->ax && prev->buf == ctx->bx &&
        prev->len == ctx->cx)
        return 0;  // the same call, entered again after morestack
    struct go_call c = {};
    c.conn = ctx->ax;
    c.buf = ctx->bx;
    c.len = ctx->cx;
    c.ts = bpf_ktime_get_ns();
    c.dir = HT_EGRESS;
    c.fd = go_mark_tls(tgid, c.conn);
    go_calls.update(&k, &c);
    if ((s64)c.len > 0) go_emit(id, c.fd, c.conn, c.buf, c.len, 0, HT_EGRESS, c.ts);
    return 0;
}

int go_tls_write_return(struct pt_regs *ctx) {
    u64 id = bpf_get_current_pid_tgid();
    struct go_key k = {.g = ctx->r14, .tgid = id >> 32};
    go_calls.delete(&k);
    return 0;
}

// Read: the bytes exist only at the return; the call is remembered from its entry.
int go_tls_read_enter(struct pt_regs *ctx) {
    u64 id = bpf_get_current_pid_tgid();
    u32 tgid = id >> 32;
    if (!is_traced(tgid)) return 0;
    struct go_key k = {.g = ctx->r14, .tgid = tgid};
    struct go_call c = {};
    c.conn = ctx->ax;
    c.buf = ctx->bx;
    c.ts = bpf_ktime_get_ns();
    c.dir = HT_INGRESS;
    c.fd = go_mark_tls(tgid, c.conn);
    go_calls.update(&k, &c);
    u64 *lost = go_lost.lookup(&k);
    if (lost) {
        u64 size = *lost;
        go_lost.delete(&k);
        go_emit(id, c.fd, c.conn, 0, 0, size, HT_INGRESS, c.ts);
    }
    return 0;
}

int go_tls_read_return(struct pt_regs *ctx) {
    u64 id = bpf_get_current_pid_tgid();
    struct go_key k = {.g = ctx->r14, .tgid = id >> 32};
    struct go_call *cp = go_calls.lookup(&k);
    if (!cp) {
        s64 lost = ctx->ax;
        if (lost > 0 && lost < (1LL << 40) && is_traced(k.tgid)) {
            u64 *prev = go_lost.lookup(&k);
            u64 sum = lost + (prev ? *prev : 0);
            go_lost.update(&k, &sum);
        }
        return 0;
    }
    struct go_call c = *cp;
    go_calls.delete(&k);
    s64 n = ctx->ax;
    if (n > 0) go_emit(id, c.fd, c.conn, c.buf, n, 0, c.dir, bpf_ktime_get_ns());
    return 0;
}
