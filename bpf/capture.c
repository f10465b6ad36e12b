// httptap kernel side: syscall probes that copy the bytes of traced processes' sockets.
//
// Compiled by bcc. Reads only syscall arguments and user memory, never kernel structs: the
// headers we compile against need not match the running kernel. Userspace defines
// HT_CHUNK (bytes per event, a power of two), HT_MAX_CHUNKS (events per syscall before the
// rest becomes a size-only gap), HT_RING_PAGES, HT_NCPU, and HT_NR_<name> for the syscall
// numbers (loader.py SYSCALLS).

#include <uapi/linux/ptrace.h>

#define HT_DATA 1
#define HT_GAP 2
#define HT_CLOSE 3
#define HT_CONNECT 4
#define HT_ACCEPT 5
#define HT_FORK 6
#define HT_EXIT 7
#define HT_EXEC 8
#define HT_MMAP_EXEC 9
#define HT_DNS 10           // phases: a name lookup (getaddrinfo / gethostbyname*)
#define HT_CONNECT_DONE 11  // phases: connect()'s return (aux: the result, -errno)

#define HT_EGRESS 0
#define HT_INGRESS 1

// sock_val.flags
#define HT_F_DISABLED 1
#define HT_F_CLIENT 2
#define HT_F_SERVER 4
#define HT_F_PREEXISTING 8
#define HT_F_SEEN 16
#define HT_F_TLS 32  // tied to an SSL*: its ciphertext is not copied, its plaintext is

#define HT_AF_UNIX 1
#define HT_AF_INET 2
#define HT_AF_INET6 10
#define HT_MSG_PEEK 2
#define HT_F_DUPFD 0
#define HT_F_DUPFD_CLOEXEC 1030
#define HT_CLOSE_RANGE_CLOEXEC 4

// No wakeup per record: userspace drains on a timer (loader.py), so a busy server does not
// pay for waking the consumer on every syscall, and records arrive in large batches.
#define HT_RB_FLAGS 1  // BPF_RB_NO_WAKEUP

#define HT_MAX_IOV 64
#define HT_MAX_STEPS 160
#define HT_CLOSE_RANGE_MAX 1024
#define HT_PROT_EXEC 4
#define HT_USER64_CS 0x33  // x86-64 user code segment: a 64-bit syscall
#define HT_NR_SLOTS 512
// Plaintext streams get their own generation so ciphertext verdicts never touch them.
#define HT_TLS_GEN_BIT (1ULL << 62)
#define HT_SSL_GEN_BIT (1ULL << 63)

// The helpers, under names of our own: bcc looks up every call named bpf_probe_read_user
// or bpf_probe_read_kernel in /proc/kallsyms to see whether the kernel has it, loading the
// whole symbol table (~0.3 s of every attach); every kernel httptap supports (5.15+) has both.
static long (*ht_read_user)(void *dst, u32 size, const void *src) =
    (void *)BPF_FUNC_probe_read_user;
static long (*ht_read_kernel)(void *dst, u32 size, const void *src) =
    (void *)BPF_FUNC_probe_read_kernel;
static long (*ht_read_user_str)(void *dst, u32 size, const void *src) =
    (void *)BPF_FUNC_probe_read_user_str;

struct ht_iovec {
    void *base;
    u64 len;
};

// struct user_msghdr, x86_64 layout
struct ht_msghdr {
    void *name;
    int namelen;
    int pad;
    struct ht_iovec *iov;
    u64 iovlen;
    void *control;
    u64 controllen;
    u32 flags;
};

struct sock_key {
    u32 tgid;
    u32 fd;
};

struct sock_val {
    u64 gen;
    u32 flags;
    u32 pad;
    u64 lost[2];  // bytes not delivered per direction, reported with the next event
};

// Keep in sync with httptap/capture/events.py (_HEADER).
struct event {
    u64 ts;
    u64 gen;
    u32 tgid;
    u32 tid;
    s32 fd;
    u32 len;
    u64 size;
    u64 lost;
    u8 kind;
    u8 dir;
    u16 flags;
    u32 aux;
    u8 data[4 * HT_CHUNK];
};

#define HT_HDR (sizeof(struct event) - 4 * HT_CHUNK)

enum ht_call {
    HT_CALL_BUF = 1,  // read/write/recvfrom/sendto: one buffer
    HT_CALL_IOV,      // readv/writev: iovec array
    HT_CALL_MSG,      // recvmsg/sendmsg: msghdr
    HT_CALL_MMSG,     // recvmmsg/sendmmsg: first mmsghdr only
    HT_CALL_SOCKET,
    HT_CALL_ACCEPT,
    HT_CALL_DUP,
    HT_CALL_MMAP,
    HT_CALL_CONNECT,
};

struct call {
    u64 ts;
    u64 ptr;     // buffer, iovec array, msghdr or sockaddr
    u64 ptr2;
    u32 fd;
    u32 count;   // iovcnt for IOV; family for SOCKET
    u8 kind;
    u8 dir;
};

BPF_HASH(traced, u32, u8, 65536);
BPF_HASH(sockets, struct sock_key, struct sock_val, 262144);
// A thread's syscall in flight, from its entry to its exit. Each exit checks the entry's
// kind: an entry whose exit was not attached yet (attach, detach) must not be read as
// another syscall's.
BPF_HASH(calls, u64, struct call, 65536);
BPF_ARRAY(scratch, struct event, HT_NCPU);
BPF_PERCPU_ARRAY(lost, u64, 2);  // [0] events, [1] bytes
BPF_RINGBUF_OUTPUT(events, HT_RING_PAGES);

// An SSL_read/SSL_write call in progress on a thread.
struct ssl_call {
    u64 ssl;
    u64 buf;
    u64 readbytes;  // size_t * of the _ex forms, else 0
    u64 ts;
    s32 fd;         // learned from the socket syscall made inside the call, else -1
    u8 dir;
    u8 ex;
};

struct ssl_key {
    u64 ssl;
    u32 tgid;
    u32 pad;
};

// An SSL*'s stream: fixed by its first plaintext, so it never splits.
struct ssl_link {
    u64 gen;
    s32 fd;
    u32 flags;
};

BPF_HASH(ssl_calls, u64, struct ssl_call, 65536);
BPF_TABLE("lru_hash", struct ssl_key, struct ssl_link, ssl_links, 65536);

static __always_inline int is_traced(u32 tgid) {
    return traced.lookup(&tgid) != NULL;
}

static __always_inline struct event *get_scratch(void) {
    u32 cpu = bpf_get_smp_processor_id();
    return scratch.lookup(&cpu);
}

static __always_inline void count_lost(u64 bytes) {
    int i = 0;
    u64 *v = lost.lookup(&i);
    if (v) *v += 1;
    i = 1;
    v = lost.lookup(&i);
    if (v) *v += bytes;
}

// Send the event's header plus `len` bytes of data; on failure remember the loss on the socket.
static __always_inline void submit(struct event *ev, u32 len, struct sock_val *sv) {
    ev->len = len;
    if (sv && ev->dir <= 1) ev->lost = sv->lost[ev->dir & 1];
    asm volatile("" : "+r"(len));
    len &= (4 * HT_CHUNK - 1);
    if (events.ringbuf_output(ev, HT_HDR + len, HT_RB_FLAGS) < 0) {
        u64 bytes = ev->kind == HT_GAP ? ev->size : ev->len;
        count_lost(bytes);
        if (sv && ev->dir <= 1) sv->lost[ev->dir & 1] += bytes;
    } else if (sv && ev->dir <= 1) {
        sv->lost[ev->dir & 1] = 0;
    }
}

static __always_inline void submit_simple(struct event *ev) {
    ev->len = 0;
    if (events.ringbuf_output(ev, HT_HDR, HT_RB_FLAGS) < 0) count_lost(0);
}

static __always_inline struct event *start_event(u8 kind, u32 tgid, u32 tid, s32 fd, u64 ts) {
    struct event *ev = get_scratch();
    if (!ev) return NULL;
    ev->ts = ts;
    ev->gen = 0;
    ev->tgid = tgid;
    ev->tid = tid;
    ev->fd = fd;
    ev->len = 0;
    ev->size = 0;
    ev->lost = 0;
    ev->kind = kind;
    ev->dir = 0xff;
    ev->flags = 0;
    ev->aux = 0;
    return ev;
}

// Copy `len` bytes from user memory at `src` into events of at most HT_CHUNK bytes each
// (at most `max_chunks` of them); returns the bytes copied.
static __always_inline u64 copy_buf(struct event *ev, struct sock_val *sv, const u8 *src,
                                    u64 len, u32 max_chunks) {
    u64 done = 0;
    ev->kind = HT_DATA;
    for (int i = 0; i < HT_MAX_CHUNKS; i++) {
        if (i >= max_chunks || done >= len) break;
        u64 left = len - done;
        u32 n = left > HT_CHUNK ? HT_CHUNK : left;
        asm volatile("" : "+r"(n));
        n &= (2 * HT_CHUNK - 1);
        if (ht_read_user(ev->data, n, src + done)) break;
        ev->size = n;
        submit(ev, n, sv);
        done += n;
    }
    return done;
}

static __always_inline void send_gap(struct event *ev, struct sock_val *sv, u64 size) {
    if (size == 0) return;
    ev->kind = HT_GAP;
    ev->size = size;
    submit(ev, 0, sv);
}

static __always_inline void flush_packed(struct event *ev, struct sock_val *sv, u32 packed) {
    if (packed == 0) return;
    ev->kind = HT_DATA;
    ev->size = packed;
    submit(ev, packed, sv);
}

// One call's bytes: a single buffer is copied in chunks; an iovec array is walked in a
// bounded loop. Consecutive iovecs that fit together in one HT_CHUNK are packed into one
// event (nginx's writev of head + body: one event, not two; every event costs userspace a
// few µs). An iovec that does not fit gets events of its own, its first HT_CHUNK bytes, so
// that frame headers split over many iovecs all arrive. Whatever is not copied is sent as a
// size-only gap, in place, so sizes stay exact.
static __always_inline void emit_data(struct event *ev, struct sock_val *sv, const u8 *buf,
                                      struct ht_iovec *iov, u32 iovcnt, u64 total) {
    if (!iov) {
        u64 done = copy_buf(ev, sv, buf, total, HT_MAX_CHUNKS);
        send_gap(ev, sv, total - done);
        return;
    }
    u64 left = total;
    u32 packed = 0;  // bytes in ev->data not sent yet
    for (int i = 0; i < HT_MAX_IOV; i++) {
        if (i >= iovcnt || left == 0) break;
        struct ht_iovec v = {};
        if (ht_read_user(&v, sizeof(v), &iov[i])) break;
        u64 n = v.len < left ? v.len : left;
        left -= n;
        if (n == 0) continue;
        if (packed + n <= HT_CHUNK) {
            u32 at = packed;
            u32 m = n;
            asm volatile("" : "+r"(at));
            at &= (HT_CHUNK - 1);
            asm volatile("" : "+r"(m));
            m &= (2 * HT_CHUNK - 1);
            if (ht_read_user(ev->data + at, m, v.base) == 0) {
                packed += n;
                continue;
            }
            flush_packed(ev, sv, packed);
            packed = 0;
            send_gap(ev, sv, n);
            continue;
        }
        flush_packed(ev, sv, packed);
        packed = 0;
        u64 done = copy_buf(ev, sv, v.base, n, 1);
        send_gap(ev, sv, n - done);
    }
    flush_packed(ev, sv, packed);
    send_gap(ev, sv, left);
}

// ---- syscall dispatch ------------------------------------------------------------------
//
// Two raw tracepoints, sys_enter and sys_exit, see every syscall; each tail-calls the
// program for the syscall's number (userspace fills the arrays, loader.py SYSCALLS). One
// raw tracepoint attaches and detaches in microseconds, where each of the ~40 syscall
// tracepoints cost a tracepoint grace period on detach (~0.1 s each, serialized by the
// kernel's event_mutex) and a perf buffer copy per call.
//
// Arguments come from the ABI's registers in the pt_regs the tracepoint passes (x86-64);
// that layout is the syscall ABI, not a kernel struct that changes between versions.

BPF_PROG_ARRAY(enter_calls, HT_NR_SLOTS);
BPF_PROG_ARRAY(exit_calls, HT_NR_SLOTS);

static __always_inline u64 sys_arg(struct bpf_raw_tracepoint_args *ctx, int i) {
    struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
    u64 v = 0;
    switch (i) {
    case 0: ht_read_kernel(&v, sizeof(v), &regs->di); break;
    case 1: ht_read_kernel(&v, sizeof(v), &regs->si); break;
    case 2: ht_read_kernel(&v, sizeof(v), &regs->dx); break;
    case 3: ht_read_kernel(&v, sizeof(v), &regs->r10); break;
    case 4: ht_read_kernel(&v, sizeof(v), &regs->r8); break;
    default: ht_read_kernel(&v, sizeof(v), &regs->r9); break;
    }
    return v;
}

static __always_inline long sys_nr(struct bpf_raw_tracepoint_args *ctx) { return ctx->args[1]; }
static __always_inline long sys_ret(struct bpf_raw_tracepoint_args *ctx) { return ctx->args[1]; }

// An exit takes its thread's entry, whatever its kind (see `calls`); the entry is copied to
// `c` and the result says whether it is one of kinds `first`..`last`.
static __always_inline int take_call(u64 id, u8 first, u8 last, struct call *c) {
    struct call *cp = calls.lookup(&id);
    if (!cp) return 0;
    *c = *cp;
    calls.delete(&id);
    return c->kind >= first && c->kind <= last;
}

RAW_TRACEPOINT_PROBE(sys_enter) {
    u64 id = bpf_get_current_pid_tgid();
    if (!is_traced(id >> 32)) return 0;
    // 32-bit (ia32) syscalls number differently: the syscall tracepoints never showed them
    struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
    u64 cs = 0;
    ht_read_kernel(&cs, sizeof(cs), &regs->cs);
    if (cs != HT_USER64_CS) return 0;
    enter_calls.call(ctx, (u32)sys_nr(ctx));  // no program for it: falls through
    return 0;
}

RAW_TRACEPOINT_PROBE(sys_exit) {
    // A traced process's exit runs before sched_process_exit untraces it, so its entries
    // are always consumed.
    u64 id = bpf_get_current_pid_tgid();
    if (!is_traced(id >> 32)) return 0;
    struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
    u64 nr = 0;
    ht_read_kernel(&nr, sizeof(nr), &regs->orig_ax);
    exit_calls.call(ctx, (u32)nr);
    return 0;
}

// ---- data syscalls ---------------------------------------------------------------------

static __always_inline int enter_io(u32 fd, u64 ptr, u32 count, u8 kind, u8 dir) {
    u64 id = bpf_get_current_pid_tgid();
    u32 tgid = id >> 32;
    struct sock_key key = {.tgid = tgid, .fd = fd};
    struct sock_val *sv = sockets.lookup(&key);
    if (!sv) return 0;
    struct ssl_call *sc = ssl_calls.lookup(&id);
    if (sc && sc->fd < 0) {
        // the socket under an SSL call: tie them, and stop copying its ciphertext
        sc->fd = fd;
        sv->flags |= HT_F_TLS;
    }
    if (sv->flags & (HT_F_DISABLED | HT_F_TLS)) return 0;
    struct call c = {};
    c.ts = bpf_ktime_get_ns();
    c.ptr = ptr;
    c.fd = fd;
    c.count = count;
    c.kind = kind;
    c.dir = dir;
    calls.update(&id, &c);
    return 0;
}

// The entries of the ten data syscalls: one program, so the verifier checks it once.
int ht_enter_io(struct bpf_raw_tracepoint_args *ctx) {
    u32 fd = sys_arg(ctx, 0);
    u64 ptr = sys_arg(ctx, 1);
    switch (sys_nr(ctx)) {
    case HT_NR_read: return enter_io(fd, ptr, 0, HT_CALL_BUF, HT_INGRESS);
    case HT_NR_write: return enter_io(fd, ptr, 0, HT_CALL_BUF, HT_EGRESS);
    case HT_NR_readv: return enter_io(fd, ptr, sys_arg(ctx, 2), HT_CALL_IOV, HT_INGRESS);
    case HT_NR_writev: return enter_io(fd, ptr, sys_arg(ctx, 2), HT_CALL_IOV, HT_EGRESS);
    case HT_NR_recvfrom:
        if (sys_arg(ctx, 3) & HT_MSG_PEEK) return 0;
        return enter_io(fd, ptr, 0, HT_CALL_BUF, HT_INGRESS);
    case HT_NR_sendto: return enter_io(fd, ptr, 0, HT_CALL_BUF, HT_EGRESS);
    case HT_NR_recvmsg:
        if (sys_arg(ctx, 2) & HT_MSG_PEEK) return 0;
        return enter_io(fd, ptr, 0, HT_CALL_MSG, HT_INGRESS);
    case HT_NR_sendmsg: return enter_io(fd, ptr, 0, HT_CALL_MSG, HT_EGRESS);
    case HT_NR_recvmmsg:
        if (sys_arg(ctx, 3) & HT_MSG_PEEK) return 0;
        return enter_io(fd, ptr, 0, HT_CALL_MMSG, HT_INGRESS);
    case HT_NR_sendmmsg: return enter_io(fd, ptr, 0, HT_CALL_MMSG, HT_EGRESS);
    }
    return 0;
}

// The exits of the ten data syscalls: one program, so the copy loops are verified once
// (it was ~0.7 s per copy, most of the attach time).
int ht_exit_io(struct bpf_raw_tracepoint_args *ctx) {
    long ret = sys_ret(ctx);
    u64 id = bpf_get_current_pid_tgid();
    struct call c;
    if (!take_call(id, HT_CALL_BUF, HT_CALL_MMSG, &c) || ret <= 0) return 0;
    u32 tgid = id >> 32;
    struct sock_key key = {.tgid = tgid, .fd = c.fd};
    struct sock_val *sv = sockets.lookup(&key);
    if (!sv || (sv->flags & (HT_F_DISABLED | HT_F_TLS))) return 0;
    u64 ts = c.dir == HT_EGRESS ? c.ts : bpf_ktime_get_ns();
    struct event *ev = start_event(HT_DATA, tgid, (u32)id, c.fd, ts);
    if (!ev) return 0;
    ev->gen = sv->gen;
    ev->dir = c.dir;
    sv->flags |= HT_F_SEEN;
    ev->flags = sv->flags;

    const u8 *buf = NULL;
    struct ht_iovec *iov = NULL;
    u32 iovcnt = 0;
    u64 total = ret;
    if (c.kind == HT_CALL_BUF) {
        buf = (const u8 *)c.ptr;
    } else if (c.kind == HT_CALL_IOV) {
        iov = (struct ht_iovec *)c.ptr;
        iovcnt = c.count;
    } else {
        struct ht_msghdr m = {};
        if (ht_read_user(&m, sizeof(m), (void *)c.ptr)) return 0;
        iov = m.iov;
        iovcnt = m.iovlen;
        if (c.kind == HT_CALL_MMSG) {
            u32 mlen = 0;  // mmsghdr.msg_len follows the 56-byte msghdr
            if (ht_read_user(&mlen, sizeof(mlen), (u8 *)c.ptr + 56)) return 0;
            total = mlen;
        }
        if (!iov) return 0;
    }
    emit_data(ev, sv, buf, iov, iovcnt, total);
    return 0;
}

// sendfile: the body never passes through user memory; its size becomes a gap.
int ht_enter_sendfile(struct bpf_raw_tracepoint_args *ctx) {
    u64 id = bpf_get_current_pid_tgid();
    u32 tgid = id >> 32;
    u32 out_fd = sys_arg(ctx, 0);
    struct sock_key key = {.tgid = tgid, .fd = out_fd};
    struct sock_val *sv = sockets.lookup(&key);
    if (!sv || (sv->flags & HT_F_DISABLED)) return 0;
    struct call c = {};
    c.ts = bpf_ktime_get_ns();
    c.fd = out_fd;
    c.kind = HT_CALL_BUF;
    c.dir = HT_EGRESS;
    c.count = 1;  // marks sendfile
    calls.update(&id, &c);
    return 0;
}

int ht_exit_sendfile(struct bpf_raw_tracepoint_args *ctx) {
    long ret = sys_ret(ctx);
    u64 id = bpf_get_current_pid_tgid();
    struct call c;
    if (!take_call(id, HT_CALL_BUF, HT_CALL_BUF, &c) || c.count != 1 || ret <= 0) return 0;
    u32 fd = c.fd;
    u64 ts = c.ts;
    u32 tgid = id >> 32;
    struct sock_key key = {.tgid = tgid, .fd = fd};
    struct sock_val *sv = sockets.lookup(&key);
    if (!sv) return 0;
    struct event *ev = start_event(HT_GAP, tgid, (u32)id, fd, ts);
    if (!ev) return 0;
    ev->gen = sv->gen;
    ev->dir = HT_EGRESS;
    ev->flags = sv->flags;
    ev->size = ret;
    submit(ev, 0, sv);
    return 0;
}

// ---- the socket allow-list -------------------------------------------------------------

static __always_inline void add_socket(u32 tgid, u32 fd, u32 flags) {
    struct sock_key key = {.tgid = tgid, .fd = fd};
    struct sock_val val = {};
    val.gen = bpf_ktime_get_ns();
    val.flags = flags;
    sockets.update(&key, &val);
}

// An event about the listed socket `fd` of the calling process, its generation set; NULL when
// the socket is not listed (or no scratch event).
static __always_inline struct event *socket_event(u8 kind, u64 id, u32 fd) {
    struct sock_key key = {.tgid = id >> 32, .fd = fd};
    struct sock_val *sv = sockets.lookup(&key);
    if (!sv) return NULL;
    struct event *ev = start_event(kind, id >> 32, (u32)id, fd, bpf_ktime_get_ns());
    if (ev) ev->gen = sv->gen;
    return ev;
}

// Send `ev` with the peer's socket address read from user memory at `addr` (a sockaddr of
// at most 28 bytes: IPv6); a full ring is counted like any other loss.
static __always_inline void send_sockaddr(struct event *ev, u64 addr) {
    if (ht_read_user(ev->data, 28, (void *)addr)) return;
    ev->len = 28;
    if (events.ringbuf_output(ev, HT_HDR + 28, HT_RB_FLAGS) < 0) count_lost(0);
}

int ht_enter_socket(struct bpf_raw_tracepoint_args *ctx) {
    u64 id = bpf_get_current_pid_tgid();
    int family = sys_arg(ctx, 0);
    if (family != HT_AF_INET && family != HT_AF_INET6 && family != HT_AF_UNIX) return 0;
    struct call c = {};
    c.kind = HT_CALL_SOCKET;
    c.count = family;
    calls.update(&id, &c);
    return 0;
}

int ht_exit_socket(struct bpf_raw_tracepoint_args *ctx) {
    long ret = sys_ret(ctx);
    u64 id = bpf_get_current_pid_tgid();
    struct call c;
    if (!take_call(id, HT_CALL_SOCKET, HT_CALL_SOCKET, &c) || ret < 0) return 0;
    add_socket(id >> 32, ret, 0);
    return 0;
}

// accept and accept4
int ht_enter_accept(struct bpf_raw_tracepoint_args *ctx) {
    u64 id = bpf_get_current_pid_tgid();
    struct call c = {};
    c.kind = HT_CALL_ACCEPT;
    c.ptr = sys_arg(ctx, 1);
    calls.update(&id, &c);
    return 0;
}

int ht_exit_accept(struct bpf_raw_tracepoint_args *ctx) {
    long ret = sys_ret(ctx);
    u64 id = bpf_get_current_pid_tgid();
    u32 tgid = id >> 32;
    struct call c;
    // A worker blocked in accept() when httptap attached has no entry; the connection it
    // returns (the dispatcher runs this for traced processes only) is still one to follow,
    // its peer's address then from /proc.
    u64 addr = take_call(id, HT_CALL_ACCEPT, HT_CALL_ACCEPT, &c) ? c.ptr : 0;
    if (ret < 0) return 0;
    add_socket(tgid, ret, HT_F_SERVER);
    if (!addr) return 0;
    struct event *ev = socket_event(HT_ACCEPT, id, ret);
    if (ev) send_sockaddr(ev, addr);
    return 0;
}

int ht_enter_connect(struct bpf_raw_tracepoint_args *ctx) {
    u64 id = bpf_get_current_pid_tgid();
    u32 tgid = id >> 32;
    u32 fd = sys_arg(ctx, 0);
    struct sock_key key = {.tgid = tgid, .fd = fd};
    struct sock_val *sv = sockets.lookup(&key);
    if (!sv) return 0;
    sv->flags |= HT_F_CLIENT;
    struct event *ev = start_event(HT_CONNECT, tgid, (u32)id, fd, bpf_ktime_get_ns());
    if (!ev) return 0;
    ev->gen = sv->gen;
    send_sockaddr(ev, sys_arg(ctx, 1));
    struct call c = {};  // phases: its return says established (0) or in progress
    c.kind = HT_CALL_CONNECT;
    c.fd = fd;
    calls.update(&id, &c);
    return 0;
}

int ht_exit_connect(struct bpf_raw_tracepoint_args *ctx) {
    long ret = sys_ret(ctx);
    u64 id = bpf_get_current_pid_tgid();
    struct call c;
    if (!take_call(id, HT_CALL_CONNECT, HT_CALL_CONNECT, &c)) return 0;
    struct event *ev = socket_event(HT_CONNECT_DONE, id, c.fd);
    if (!ev) return 0;
    ev->aux = (u32)ret;
    submit_simple(ev);
    return 0;
}

// Phases: getsockopt(SO_ERROR) is how a non-blocking connect is confirmed once the socket
// polls writable (curl, asyncio, libuv, Go): the moment it is established for the process.
int ht_enter_getsockopt(struct bpf_raw_tracepoint_args *ctx) {
    if (sys_arg(ctx, 1) != 1 || sys_arg(ctx, 2) != 4) return 0;  // SOL_SOCKET, SO_ERROR
    u64 id = bpf_get_current_pid_tgid();
    u32 tgid = id >> 32;
    u32 fd = sys_arg(ctx, 0);
    struct sock_key key = {.tgid = tgid, .fd = fd};
    struct sock_val *sv = sockets.lookup(&key);
    if (!sv || !(sv->flags & HT_F_CLIENT) || (sv->flags & HT_F_SEEN)) return 0;
    struct event *ev = start_event(HT_CONNECT_DONE, tgid, (u32)id, fd, bpf_ktime_get_ns());
    if (!ev) return 0;
    ev->gen = sv->gen;
    submit_simple(ev);
    return 0;
}

static __always_inline void drop_socket(u32 tgid, u32 tid, u32 fd) {
    struct sock_key key = {.tgid = tgid, .fd = fd};
    struct sock_val *sv = sockets.lookup(&key);
    if (!sv) return;
    if (sv->flags & HT_F_SEEN) {
        struct event *ev = start_event(HT_CLOSE, tgid, tid, fd, bpf_ktime_get_ns());
        if (ev) {
            ev->gen = sv->gen;
            submit_simple(ev);
        }
    }
    sockets.delete(&key);
}

int ht_enter_close(struct bpf_raw_tracepoint_args *ctx) {
    u64 id = bpf_get_current_pid_tgid();
    drop_socket(id >> 32, (u32)id, sys_arg(ctx, 0));
    return 0;
}

int ht_enter_close_range(struct bpf_raw_tracepoint_args *ctx) {
    u64 id = bpf_get_current_pid_tgid();
    u32 tgid = id >> 32;
    if (sys_arg(ctx, 2) & HT_CLOSE_RANGE_CLOEXEC) return 0;
    u32 first = sys_arg(ctx, 0);
    u32 last = sys_arg(ctx, 1);
    for (int i = 0; i < HT_CLOSE_RANGE_MAX; i++) {
        u32 fd = first + i;
        if (fd > last || fd < first) break;
        drop_socket(tgid, (u32)id, fd);
    }
    return 0;
}

// dup/dup2/dup3/fcntl(F_DUPFD): the new fd is the same socket, the same connection (gen).
int ht_enter_dup(struct bpf_raw_tracepoint_args *ctx) {
    u64 id = bpf_get_current_pid_tgid();
    u32 tgid = id >> 32;
    u32 oldfd = sys_arg(ctx, 0);
    long nr = sys_nr(ctx);
    if (nr == HT_NR_fcntl) {
        u64 cmd = sys_arg(ctx, 1);
        if (cmd != HT_F_DUPFD && cmd != HT_F_DUPFD_CLOEXEC) return 0;
    } else if (nr != HT_NR_dup) {  // dup2, dup3: newfd is closed first
        u32 newfd = sys_arg(ctx, 1);
        if (oldfd != newfd) drop_socket(tgid, (u32)id, newfd);
    }
    struct sock_key key = {.tgid = tgid, .fd = oldfd};
    if (!sockets.lookup(&key)) return 0;
    struct call c = {};
    c.kind = HT_CALL_DUP;
    c.fd = oldfd;
    calls.update(&id, &c);
    return 0;
}

int ht_exit_dup(struct bpf_raw_tracepoint_args *ctx) {
    long ret = sys_ret(ctx);
    u64 id = bpf_get_current_pid_tgid();
    struct call c;
    if (!take_call(id, HT_CALL_DUP, HT_CALL_DUP, &c) || ret < 0) return 0;
    u32 tgid = id >> 32;
    struct sock_key okey = {.tgid = tgid, .fd = c.fd};
    struct sock_val *sv = sockets.lookup(&okey);
    if (!sv) return 0;
    struct sock_val copy = *sv;
    struct sock_key nkey = {.tgid = tgid, .fd = ret};
    sockets.update(&nkey, &copy);
    return 0;
}

// New executable mappings (dlopen of libssl, a wheel's private copy): userspace rescans maps.
int ht_enter_mmap(struct bpf_raw_tracepoint_args *ctx) {
    if (!(sys_arg(ctx, 2) & HT_PROT_EXEC) || (long)sys_arg(ctx, 4) < 0) return 0;
    u64 id = bpf_get_current_pid_tgid();
    struct call c = {};
    c.kind = HT_CALL_MMAP;
    calls.update(&id, &c);
    return 0;
}

int ht_exit_mmap(struct bpf_raw_tracepoint_args *ctx) {
    long ret = sys_ret(ctx);
    u64 id = bpf_get_current_pid_tgid();
    struct call c;
    if (!take_call(id, HT_CALL_MMAP, HT_CALL_MMAP, &c) || (ret < 0 && ret > -4096)) return 0;
    struct event *ev = start_event(HT_MMAP_EXEC, id >> 32, (u32)id, -1, bpf_ktime_get_ns());
    if (!ev) return 0;
    submit_simple(ev);
    return 0;
}

// ---- processes -------------------------------------------------------------------------

// A perf tracepoint: the raw one passes task_structs, and the child's pid is the one field
// needed; reading a kernel struct would tie us to the running kernel's layout.
TRACEPOINT_PROBE(sched, sched_process_fork) {
    u64 id = bpf_get_current_pid_tgid();
    u32 tgid = id >> 32;
    if (!is_traced(tgid)) return 0;
    // Threads are forks too; userspace drops entries that turn out to be threads.
    u32 child = args->child_pid;
    u8 one = 1;
    traced.update(&child, &one);
    struct event *ev = start_event(HT_FORK, tgid, (u32)id, -1, bpf_ktime_get_ns());
    if (!ev) return 0;
    ev->aux = child;
    submit_simple(ev);
    return 0;
}

// Raw tracepoints, run by the task exiting or exec'ing: no argument is read.
RAW_TRACEPOINT_PROBE(sched_process_exit) {
    u64 id = bpf_get_current_pid_tgid();
    u32 tgid = id >> 32;
    u32 tid = (u32)id;
    if (tid != tgid) {
        traced.delete(&tid);  // a thread that fork tracing added
        return 0;
    }
    if (!is_traced(tgid)) return 0;
    traced.delete(&tgid);
    struct event *ev = start_event(HT_EXIT, tgid, tid, -1, bpf_ktime_get_ns());
    if (!ev) return 0;
    submit_simple(ev);
    return 0;
}

RAW_TRACEPOINT_PROBE(sched_process_exec) {
    u64 id = bpf_get_current_pid_tgid();
    u32 tgid = id >> 32;
    if (!is_traced(tgid)) return 0;
    struct event *ev = start_event(HT_EXEC, tgid, (u32)id, -1, bpf_ktime_get_ns());
    if (!ev) return 0;
    submit_simple(ev);
    return 0;
}

// ---- TLS: OpenSSL's SSL_read/SSL_write (and _ex), plaintext in the clear ---------------

static __always_inline int ssl_enter(struct pt_regs *ctx, u8 dir, u8 ex) {
    u64 id = bpf_get_current_pid_tgid();
    if (!is_traced(id >> 32)) return 0;  // uprobes on a shared libssl fire in every process
    if (ssl_calls.lookup(&id)) return 0;
    struct ssl_call c = {};
    c.ssl = PT_REGS_PARM1(ctx);
    c.buf = PT_REGS_PARM2(ctx);
    c.readbytes = ex ? PT_REGS_PARM4(ctx) : 0;
    c.ts = bpf_ktime_get_ns();
    c.fd = -1;
    c.dir = dir;
    c.ex = ex;
    ssl_calls.update(&id, &c);
    return 0;
}

static __always_inline int ssl_exit(struct pt_regs *ctx) {
    u64 id = bpf_get_current_pid_tgid();
    struct ssl_call *cp = ssl_calls.lookup(&id);
    if (!cp) return 0;
    struct ssl_call c = *cp;
    ssl_calls.delete(&id);
    int ret = (int)PT_REGS_RC(ctx);  // an int: read as 64 bits, -1 would be 4 GiB of data
    u64 n = 0;
    if (c.ex) {
        if (ret != 1 || !c.readbytes) return 0;
        if (ht_read_user(&n, sizeof(n), (void *)c.readbytes)) return 0;
    } else {
        if (ret <= 0) return 0;
        n = ret;
    }
    if (n == 0) return 0;
    u32 tgid = id >> 32;
    struct ssl_key sk = {.ssl = c.ssl, .tgid = tgid};
    struct ssl_link *link = ssl_links.lookup(&sk);
    struct ssl_link l = {};
    struct sock_val *sv = NULL;
    if (c.fd >= 0) {
        struct sock_key key = {.tgid = tgid, .fd = c.fd};
        sv = sockets.lookup(&key);
    }
    // A freed SSL* is often reallocated at the same address for the next connection: a link
    // whose socket generation differs from the socket under this call is stale.
    if (link && sv && !(link->gen & HT_SSL_GEN_BIT) && link->gen != (sv->gen ^ HT_TLS_GEN_BIT))
        link = NULL;
    if (link) {
        l = *link;
        if (l.fd < 0 && c.fd >= 0) {
            l.fd = c.fd;  // learned late: keep the stream's generation, add the fd
            ssl_links.update(&sk, &l);
        }
    } else {
        if (sv) {
            l.gen = sv->gen ^ HT_TLS_GEN_BIT;
            l.fd = c.fd;
            l.flags = sv->flags & (HT_F_CLIENT | HT_F_SERVER | HT_F_PREEXISTING);
        } else {
            l.gen = c.ssl | HT_SSL_GEN_BIT;  // memory BIOs (Node.js): keyed by the SSL*
            l.fd = c.fd;
        }
        ssl_links.update(&sk, &l);
    }
    struct event *ev = start_event(HT_DATA, tgid, (u32)id, l.fd,
                                   c.dir == HT_EGRESS ? c.ts : bpf_ktime_get_ns());
    if (!ev) return 0;
    ev->gen = l.gen;
    ev->dir = c.dir;
    ev->flags = l.flags | HT_F_TLS | HT_F_SEEN;
    u64 done = copy_buf(ev, NULL, (const u8 *)c.buf, n, HT_MAX_CHUNKS);
    send_gap(ev, NULL, n - done);
    return 0;
}

int ssl_write_enter(struct pt_regs *ctx) { return ssl_enter(ctx, HT_EGRESS, 0); }
int ssl_write_ex_enter(struct pt_regs *ctx) { return ssl_enter(ctx, HT_EGRESS, 1); }
int ssl_read_enter(struct pt_regs *ctx) { return ssl_enter(ctx, HT_INGRESS, 0); }
int ssl_read_ex_enter(struct pt_regs *ctx) { return ssl_enter(ctx, HT_INGRESS, 1); }
int ssl_exit_probe(struct pt_regs *ctx) { return ssl_exit(ctx); }

// ---- phases: name lookups (libc's getaddrinfo, gethostbyname, gethostbyname2) ------------
//
// uprobes scoped to the traced processes, in whatever thread resolves (curl: a helper
// thread). The return's event carries the name and up to HT_DNS_ADDRS addresses read from
// the result in user memory (a bounded walk); userspace ties it to the connect that follows.

#define HT_DNS_NAME 96
#define HT_DNS_ADDRS 8
#define HT_DNS_ADDR_SIZE 20  // u16 family, u16 pad, 16 address bytes

#define HT_DNS_GAI 0   // getaddrinfo: 0 and a list at *res
#define HT_DNS_GHBN 1  // gethostbyname(2): a struct hostent * returned
#define HT_DNS_GHBN_R 2  // gethostbyname(2)_r: 0, *res set, the struct hostent at ent

struct dns_call {
    u64 name;
    u64 res;  // struct addrinfo ** (getaddrinfo), struct hostent ** (the _r forms)
    u64 ent;  // the _r forms' struct hostent
    u64 ts;
    u8 kind;
};

// struct addrinfo, x86-64 layout
struct ht_addrinfo {
    int flags;
    int family;
    int socktype;
    int protocol;
    u32 addrlen;
    u32 pad;
    void *addr;
    char *canonname;
    struct ht_addrinfo *next;
};

// struct hostent, x86-64 layout
struct ht_hostent {
    char *name;
    char **aliases;
    int addrtype;
    int length;
    char **addr_list;
};

BPF_HASH(dns_calls, u64, struct dns_call, 4096);

static __always_inline int dns_enter(struct pt_regs *ctx, u8 kind, u64 res, u64 ent) {
    u64 id = bpf_get_current_pid_tgid();
    if (!is_traced(id >> 32)) return 0;
    struct dns_call c = {};
    c.name = PT_REGS_PARM1(ctx);
    c.res = res;
    c.ent = ent;
    c.kind = kind;
    c.ts = bpf_ktime_get_ns();
    dns_calls.update(&id, &c);  // gethostbyname runs gethostbyname_r: the inner one reports
    return 0;
}

int dns_gai_enter(struct pt_regs *ctx) {
    return dns_enter(ctx, HT_DNS_GAI, PT_REGS_PARM4(ctx), 0);
}
int dns_ghbn_enter(struct pt_regs *ctx) { return dns_enter(ctx, HT_DNS_GHBN, 0, 0); }
// gethostbyname_r(name, ret, buf, buflen, result, h_errnop)
int dns_ghbnr_enter(struct pt_regs *ctx) {
    return dns_enter(ctx, HT_DNS_GHBN_R, PT_REGS_PARM5(ctx), PT_REGS_PARM2(ctx));
}
// gethostbyname2_r(name, af, ret, buf, buflen, result, h_errnop): result is on the stack
int dns_ghbn2r_enter(struct pt_regs *ctx) {
    u64 result = 0;
    ht_read_user(&result, sizeof(result), (void *)(PT_REGS_SP(ctx) + 8));
    return dns_enter(ctx, HT_DNS_GHBN_R, result, PT_REGS_PARM3(ctx));
}

static __always_inline void dns_put(struct event *ev, int i, u16 family, const void *src) {
    u8 *slot = ev->data + HT_DNS_NAME + (i & (HT_DNS_ADDRS - 1)) * HT_DNS_ADDR_SIZE;
    *(u16 *)slot = family;
    ht_read_user(slot + 4, family == HT_AF_INET6 ? 16 : 4, src);
}

int dns_exit(struct pt_regs *ctx) {
    u64 id = bpf_get_current_pid_tgid();
    struct dns_call *cp = dns_calls.lookup(&id);
    if (!cp) return 0;
    struct dns_call c = *cp;
    dns_calls.delete(&id);
    u64 rc = PT_REGS_RC(ctx);
    u64 ent = rc;  // the struct hostent of gethostbyname(2)
    if (c.kind == HT_DNS_GHBN_R) {
        u64 found = 0;  // *result: NULL when the name was not found
        if ((int)rc != 0 || ht_read_user(&found, sizeof(found), (void *)c.res) || !found)
            return 0;
        ent = c.ent;
    } else if (c.kind == HT_DNS_GAI ? (int)rc != 0 : rc == 0) {
        return 0;  // failed lookups lead to no connection
    }
    struct event *ev = start_event(HT_DNS, id >> 32, (u32)id, -1, c.ts);
    if (!ev) return 0;
    ev->size = bpf_ktime_get_ns();
    __builtin_memset(ev->data, 0, HT_DNS_NAME + HT_DNS_ADDRS * HT_DNS_ADDR_SIZE);
    ht_read_user_str(ev->data, HT_DNS_NAME, (void *)c.name);
    u32 n = 0;
    if (c.kind == HT_DNS_GAI) {
        struct ht_addrinfo *ai = NULL;
        ht_read_user(&ai, sizeof(ai), (void *)c.res);
        for (int i = 0; i < HT_DNS_ADDRS; i++) {
            if (!ai) break;
            struct ht_addrinfo a = {};
            if (ht_read_user(&a, sizeof(a), ai)) break;
            if ((a.family == HT_AF_INET || a.family == HT_AF_INET6) && a.addr)
                dns_put(ev, n++, a.family,
                        (u8 *)a.addr + (a.family == HT_AF_INET6 ? 8 : 4));
            ai = a.next;
        }
    } else {
        struct ht_hostent h = {};
        if (ht_read_user(&h, sizeof(h), (void *)ent) == 0 && h.addr_list) {
            for (int i = 0; i < HT_DNS_ADDRS; i++) {
                u64 p = 0;
                if (ht_read_user(&p, sizeof(p), h.addr_list + i) || !p) break;
                dns_put(ev, n++, h.addrtype, (void *)p);
            }
        }
    }
    ev->aux = n;
    ev->len = HT_DNS_NAME + HT_DNS_ADDRS * HT_DNS_ADDR_SIZE;
    events.ringbuf_output(ev, HT_HDR + HT_DNS_NAME + HT_DNS_ADDRS * HT_DNS_ADDR_SIZE,
                          HT_RB_FLAGS);
    return 0;
}
