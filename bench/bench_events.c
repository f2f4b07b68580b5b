/*
 * bench_events - live event delivery on the real daemon: CLIENTS WebSocket
 * subscribers while RATE events per second are emitted for SECONDS seconds.
 *
 * Events come through the real, authenticated API, as a user's would: the
 * bench creates JOBS noop jobs bench-0 .. bench-(JOBS-1) with one ApplyJobs,
 * then an emitter thread sends, every 10 ms over one keep-alive connection, an
 * ApplyJobs that updates RATE/100 of them (the next ones in turn, a new label
 * each time): one job_updated event each, written with the jobs and their
 * audit entries in one transaction.  Every request and subscription carries
 * the admin token (OVSCHED_ADMIN_TOKEN, set for the daemon it starts).
 *
 * Subscribers: CLIENTS - FIREHOSE clients each filter on one job
 * (job_id=bench-<i>, so each receives RATE/JOBS events a second), and FIREHOSE
 * clients take every event.  One epoll loop reads every socket; the delivery
 * latency of an event is the receive time minus the envelope's timestamp
 * (set when the event was emitted; both CLOCK_REALTIME, 1 ms resolution).
 * The daemon's VmRSS is sampled every second.
 *
 * Usage: bench_events [path/to/ovsched]
 * Environment: BENCH_CLIENTS (1000), BENCH_RATE (5000), BENCH_SECONDS (10),
 * BENCH_FIREHOSE (10).  Targets: p99 <= 50 ms, RSS flat.  Exit 0 when the
 * measurement was made, 2 when the bench itself broke.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TARGET_P99_MS 50.0
#define JOBS          1000
/* 37 characters: the daemon refuses admin tokens shorter than 32. */
#define BENCH_TOKEN "bench-events-admin-0123456789abcdefgh"

struct client {
    int fd;
    char *buf;
    size_t len, cap;
    long received;
};

static pid_t g_child;
static char g_tmp[64];
static int g_port;
static atomic_bool g_emitting;
static atomic_long g_emitted;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void cleanup(void)
{
    if (g_child > 0) {
        kill(g_child, SIGTERM);
        waitpid(g_child, NULL, 0);
        g_child = 0;
    }
    if (g_tmp[0]) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_tmp);
        if (system(cmd) != 0)
            fprintf(stderr, "bench_events: could not remove %s\n", g_tmp);
    }
}

static void die(const char *what)
{
    fprintf(stderr, "bench_events: %s: %s\n", what, strerror(errno));
    cleanup();
    exit(2);
}

static long env_long(const char *name, long fallback)
{
    const char *v = getenv(name);
    return v && *v ? atol(v) : fallback;
}

/* Start the daemon; its first stdout line names the port. */
static void start_daemon(const char *binary)
{
    snprintf(g_tmp, sizeof(g_tmp), "/tmp/bench-events-XXXXXX");
    if (!mkdtemp(g_tmp))
        die("mkdtemp");
    int out[2];
    if (pipe(out) < 0)
        die("pipe");
    g_child = fork();
    if (g_child == 0) {
        char data[96], log[96];
        snprintf(data, sizeof(data), "%s/data", g_tmp);
        snprintf(log, sizeof(log), "%s/daemon.log", g_tmp);
        int logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(out[1], 1);
        dup2(logfd, 2);
        setenv("OVSCHED_ADMIN_TOKEN", BENCH_TOKEN, 1);
        execl(binary, binary, "serve", "--listen", "127.0.0.1:0", "--data", data, (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    FILE *f = fdopen(out[0], "r");
    char line[256] = "";
    if (!fgets(line, sizeof(line), f) || !strstr(line, "http://127.0.0.1:")) {
        fprintf(stderr, "bench_events: the daemon did not start: %s\n", line);
        cleanup();
        exit(2);
    }
    g_port = atoi(strstr(line, "http://127.0.0.1:") + strlen("http://127.0.0.1:"));
}

static long rss_kib(void)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)g_child);
    FILE *f = fopen(path, "r");
    long kib = -1;
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = atol(line + 6);
    if (f)
        fclose(f);
    return kib;
}

static int connect_local(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        die("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* Blocking handshake; then the socket goes non-blocking. */
static void ws_open(struct client *c, const char *query)
{
    c->fd = connect_local();
    char req[512];
    int n = snprintf(req, sizeof(req),
                     "GET /v1/events/ws%s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer " BENCH_TOKEN "\r\n\r\n",
                     query);
    if (write(c->fd, req, (size_t)n) != n)
        die("handshake write");
    char head[1024];
    size_t got = 0;
    while (got < sizeof(head) - 1) {
        ssize_t r = read(c->fd, head + got, 1); /* byte by byte: stop right at the end */
        if (r <= 0)
            die("handshake read");
        got++;
        head[got] = '\0';
        if (got >= 4 && strcmp(head + got - 4, "\r\n\r\n") == 0)
            break;
    }
    if (!strstr(head, " 101 ")) {
        fprintf(stderr, "bench_events: handshake refused: %s\n", head);
        cleanup();
        exit(2);
    }
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    c->cap = 65536;
    c->buf = malloc(c->cap);
}

/* "timestamp":"2026-11-26T09:00:00.412Z" in the envelope, as Unix ms. */
static int64_t envelope_ms(const char *json, size_t len)
{
    const char *key = "\"timestamp\":\"";
    const char *p = memmem(json, len, key, strlen(key));
    struct tm tm = {0};
    int ms = 0;
    if (!p || sscanf(p + strlen(key), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon,
                     &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000 + ms;
}

static int64_t *g_lat;
static size_t g_lat_n, g_lat_cap;

static void record(int64_t ms)
{
    if (g_lat_n == g_lat_cap) {
        g_lat_cap = g_lat_cap ? g_lat_cap * 2 : 1 << 20;
        g_lat = realloc(g_lat, g_lat_cap * sizeof(*g_lat));
    }
    g_lat[g_lat_n++] = ms;
}

static void pong(int fd, const unsigned char *payload, size_t n)
{
    unsigned char frame[2 + 4 + 125] = {0x8A, (unsigned char)(0x80 | n), 1, 2, 3, 4};
    for (size_t i = 0; i < n && i < 125; i++)
        frame[6 + i] = payload[i] ^ frame[2 + i % 4];
    if (write(fd, frame, 6 + n) < 0)
        return;
}

/* Parse whole frames out of C's buffer. */
static void consume(struct client *c)
{
    size_t off = 0;
    while (c->len - off >= 2) {
        unsigned char *p = (unsigned char *)c->buf + off;
        size_t n = p[1] & 0x7f, hdr = 2;
        if (n == 126) {
            if (c->len - off < 4)
                break;
            n = ((size_t)p[2] << 8) | p[3];
            hdr = 4;
        } else if (n == 127) {
            break; /* never sent for events */
        }
        if (c->len - off < hdr + n)
            break;
        int opcode = p[0] & 0x0f;
        if (opcode == 1) {
            int64_t at = envelope_ms((char *)p + hdr, n);
            if (at > 0)
                record(now_ms() - at);
            c->received++;
        } else if (opcode == 9) {
            pong(c->fd, p + hdr, n);
        }
        off += hdr + n;
    }
    memmove(c->buf, c->buf + off, c->len - off);
    c->len -= off;
}

/* POST BODY to the RPC METHOD over FD (keep-alive) and read the whole answer.
 * Returns its HTTP status, or -1 when the connection failed. */
static int rpc(int fd, const char *method, const char *body, size_t body_len)
{
    char head[512];
    int n = snprintf(head, sizeof(head),
                     "POST /scheduler.v1.SchedulerService/%s HTTP/1.1\r\nHost: x\r\n"
                     "Authorization: Bearer " BENCH_TOKEN "\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     method, body_len);
    if (write(fd, head, (size_t)n) != n || write(fd, body, body_len) != (ssize_t)body_len)
        return -1;
    static char resp[1 << 20];
    size_t got = 0;
    char *end = NULL;
    while (!end) {
        ssize_t r = read(fd, resp + got, sizeof(resp) - 1 - got);
        if (r <= 0)
            return -1;
        got += (size_t)r;
        resp[got] = '\0';
        end = strstr(resp, "\r\n\r\n");
    }
    const char *len = strcasestr(resp, "Content-Length:");
    size_t want = (size_t)(end + 4 - resp) + (len ? strtoul(len + 15, NULL, 10) : 0);
    while (got < want && got < sizeof(resp) - 1) {
        ssize_t r = read(fd, resp + got, sizeof(resp) - 1 - got);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return atoi(resp + strlen("HTTP/1.1 "));
}

/* ApplyJobs {"creates"|"updates": [bench-FIRST .. bench-(FIRST+COUNT-1)]}, each
 * job labelled with TICK so that an update always changes it. */
static int apply_jobs(int fd, const char *what, long first, long count, long tick)
{
    size_t cap = (size_t)count * 128 + 64;
    char *body = malloc(cap);
    size_t len = (size_t)snprintf(body, cap, "{\"%s\":[", what);
    for (long i = 0; i < count; i++)
        len += (size_t)snprintf(body + len, cap - len,
                                "%s{\"id\":\"bench-%ld\",\"executor\":{\"type\":\"noop\"},"
                                "\"labels\":{\"tick\":\"%ld\"}}",
                                i ? "," : "", (first + i) % JOBS, tick);
    len += (size_t)snprintf(body + len, cap - len, "]}");
    int status = rpc(fd, "ApplyJobs", body, len);
    free(body);
    return status;
}

static void *emitter(void *arg)
{
    long rate = *(long *)arg;
    int fd = connect_local();
    long per_tick = rate / 100, next_job = 0, tick = 1;
    double next = mono_s();
    while (atomic_load(&g_emitting)) {
        int status = apply_jobs(fd, "updates", next_job, per_tick, tick++);
        if (status != 200) {
            fprintf(stderr, "bench_events: ApplyJobs answered %d\n", status);
            break;
        }
        next_job = (next_job + per_tick) % JOBS;
        atomic_fetch_add(&g_emitted, per_tick);
        next += 0.01;
        double wait = next - mono_s();
        if (wait > 0) {
            struct timespec ts = {0, (long)(wait * 1e9)};
            nanosleep(&ts, NULL);
        }
    }
    close(fd);
    return NULL;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    const char *binary = argc > 1 ? argv[1] : "build/ovsched";
    long clients = env_long("BENCH_CLIENTS", 1000), rate = env_long("BENCH_RATE", 5000),
         seconds = env_long("BENCH_SECONDS", 10), firehose = env_long("BENCH_FIREHOSE", 10);
    signal(SIGPIPE, SIG_IGN);
    start_daemon(binary);
    int setup = connect_local();
    if (apply_jobs(setup, "creates", 0, JOBS, 0) != 200) {
        fprintf(stderr, "bench_events: cannot create the bench jobs\n");
        cleanup();
        return 2;
    }
    close(setup);
    struct client *cs = calloc((size_t)clients, sizeof(*cs));
    int ep = epoll_create1(0);
    for (long i = 0; i < clients; i++) {
        char query[64] = "";
        if (i >= firehose)
            snprintf(query, sizeof(query), "?job_id=bench-%ld", i % JOBS);
        ws_open(&cs[i], query);
        struct epoll_event e = {.events = EPOLLIN, .data.ptr = &cs[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &e);
    }
    long rss_start = rss_kib(), rss_max = rss_start;
    printf("bench_events: %ld WebSocket clients (%ld take every event, the rest one job each), "
           "%ld events/s for %ld s\n",
           clients, firehose, rate, seconds);
    printf("  daemon RSS with the clients connected: %.1f MiB\n", rss_start / 1024.0);
    atomic_store(&g_emitting, true);
    pthread_t th;
    pthread_create(&th, NULL, emitter, &rate);
    double start = mono_s(), last_sample = start;
    double stop_at = start + (double)seconds, drain_until = stop_at + 2.0;
    struct epoll_event evs[256];
    while (mono_s() < drain_until) {
        if (atomic_load(&g_emitting) && mono_s() >= stop_at) {
            atomic_store(&g_emitting, false);
            pthread_join(th, NULL);
        }
        int n = epoll_wait(ep, evs, 256, 50);
        for (int i = 0; i < n; i++) {
            struct client *c = evs[i].data.ptr;
            for (;;) {
                if (c->cap - c->len < 16384) {
                    c->cap *= 2;
                    c->buf = realloc(c->buf, c->cap);
                }
                ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len);
                if (r <= 0)
                    break;
                c->len += (size_t)r;
                consume(c);
            }
        }
        if (mono_s() - last_sample >= 1.0) {
            last_sample = mono_s();
            long r = rss_kib();
            if (r > rss_max)
                rss_max = r;
            int second = (int)(last_sample - start + 0.5);
            if (second % 5 == 0 && second > 0)
                printf("  t=%2ds: %ld events emitted, daemon RSS %.1f MiB\n", second,
                       atomic_load(&g_emitted), r / 1024.0);
        }
    }
    if (atomic_load(&g_emitting)) {
        atomic_store(&g_emitting, false);
        pthread_join(th, NULL);
    }
    long rss_end = rss_kib();
    long emitted = atomic_load(&g_emitted), received = 0;
    for (long i = 0; i < clients; i++)
        received += cs[i].received;
    long expected = emitted * firehose + emitted / JOBS * (clients - firehose);
    qsort(g_lat, g_lat_n, sizeof(*g_lat), cmp64);
    double p50 = g_lat_n ? (double)g_lat[g_lat_n / 2] : -1;
    double p99 = g_lat_n ? (double)g_lat[(size_t)((double)g_lat_n * 0.99)] : -1;
    double max = g_lat_n ? (double)g_lat[g_lat_n - 1] : -1;
    printf("  events emitted: %ld (%.0f/s)\n", emitted, (double)emitted / (double)seconds);
    printf("  messages delivered: %ld of about %ld expected\n", received, expected);
    printf("  delivery latency: p50 %.0f ms, p99 %.0f ms, max %.0f ms (target p99 <= %.0f ms: "
           "%s)\n",
           p50, p99, max, TARGET_P99_MS, p99 <= TARGET_P99_MS ? "met" : "NOT met");
    printf("  daemon RSS: start %.1f MiB, max %.1f MiB, end %.1f MiB\n", rss_start / 1024.0,
           rss_max / 1024.0, rss_end / 1024.0);
    for (long i = 0; i < clients; i++) {
        close(cs[i].fd);
        free(cs[i].buf);
    }
    free(cs);
    free(g_lat);
    fflush(stdout);
    char cmd[160];
    snprintf(cmd, sizeof(cmd),
             "grep -c 'slow consumer' %s/daemon.log | sed 's/^/  slow-consumer closes: /'", g_tmp);
    if (system(cmd) < 0)
        fprintf(stderr, "bench_events: cannot read the daemon log\n");
    cleanup();
    return 0;
}
