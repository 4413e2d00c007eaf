/* metrics_http.c - see metrics_http.h.
 *
 * The address is resolved with getaddrinfo (numeric or a name such as
 * localhost) and bound by libmicrohttpd through MHD_OPTION_SOCK_ADDR, with
 * a connection limit and timeout so a slow scraper cannot pile up sockets. */
#include "metrics_http.h"

#include "log.h"
#include "util.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct metrics_http {
    struct MHD_Daemon *daemon;
    int port;
    int stale_ms;
    pthread_mutex_t lock; /* guards the snapshot below */
    char *metrics;        /* Prometheus text */
    size_t metrics_len;
    char *health; /* JSON object text */
    int ready;
    int64_t published_ms; /* monotonic time of the last snapshot, 0: none */
};

int metrics_http_is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return 0;
}

/* "host:port" or "[v6]:port" into host and port texts. */
static int split_listen(const char *listen, char *host, size_t hn, char *port, size_t pn)
{
    const char *colon;
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (!close || close[1] != ':')
            return -1;
        snprintf(host, hn, "%.*s", (int)(close - listen - 1), listen + 1);
        colon = close + 1;
    } else {
        colon = strrchr(listen, ':');
        if (!colon || colon == listen)
            return -1;
        snprintf(host, hn, "%.*s", (int)(colon - listen), listen);
    }
    const char *p = colon + 1;
    if (!*p || strlen(p) > 5 || strspn(p, "0123456789") != strlen(p) || atoi(p) > 65535)
        return -1;
    snprintf(port, pn, "%s", p);
    return 0;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
                             char *body, size_t len)
{
    /* body is malloc'd and handed to libmicrohttpd, which frees it. */
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static char *text_copy(const char *s, size_t *len)
{
    *len = strlen(s);
    char *out = malloc(*len + 1);
    if (out)
        memcpy(out, s, *len + 1);
    return out;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_len, void **state)
{
    metrics_http *h = cls;
    (void)version;
    (void)upload;
    if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
        size_t n;
        char *b = text_copy("only GET and HEAD\n", &n);
        return b ? reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", b, n) : MHD_NO;
    }
    if (*upload_len) /* GET with a body: ignore it */
        *upload_len = 0;
    (void)state;
    if (!strcmp(url, "/metrics")) {
        pthread_mutex_lock(&h->lock);
        size_t n = h->metrics ? h->metrics_len : 0;
        char *b = malloc(n + 1);
        if (b && n)
            memcpy(b, h->metrics, n);
        pthread_mutex_unlock(&h->lock);
        if (!b)
            return MHD_NO;
        return reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", b, n);
    }
    if (!strcmp(url, "/healthz")) {
        pthread_mutex_lock(&h->lock);
        int64_t age = h->published_ms ? mono_ms() - h->published_ms : -1;
        int ok = h->ready && age >= 0 && age <= h->stale_ms;
        const char *body = h->health ? h->health : "{}";
        size_t bl = strlen(body);
        char *b = malloc(bl + 64);
        if (b) {
            /* the loop's object with "snapshot_age_ms" added before its closing brace */
            size_t keep = bl > 0 && body[bl - 1] == '}' ? bl - 1 : bl;
            memcpy(b, body, keep);
            snprintf(b + keep, 64, "%s\"snapshot_age_ms\":%lld}\n", keep > 1 ? "," : "",
                     (long long)age);
        }
        pthread_mutex_unlock(&h->lock);
        if (!b)
            return MHD_NO;
        return reply(conn, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, "application/json", b,
                     strlen(b));
    }
    size_t n;
    char *b = text_copy("not found: try /metrics or /healthz\n", &n);
    return b ? reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", b, n) : MHD_NO;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    log_warn_limited("metrics endpoint: %s", line);
}

metrics_http *metrics_http_start(const char *listen, int allow_remote, int stale_ms, char *err,
                                 size_t errlen)
{
    char host[256], port[8];
    if (split_listen(listen, host, sizeof(host), port, sizeof(port))) {
        snprintf(err, errlen, "service.metrics_listen: \"%s\" is not HOST:PORT or [V6ADDR]:PORT",
                 listen);
        return NULL;
    }
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *ai = NULL;
    int ge = getaddrinfo(host, port, &hints, &ai);
    if (ge) {
        snprintf(err, errlen, "service.metrics_listen: %s: %s", listen, gai_strerror(ge));
        return NULL;
    }
    char numeric[INET6_ADDRSTRLEN];
    getnameinfo(ai->ai_addr, ai->ai_addrlen, numeric, sizeof(numeric), NULL, 0, NI_NUMERICHOST);
    if (!allow_remote && !metrics_http_is_loopback(numeric)) {
        snprintf(err, errlen,
                 "service.metrics_listen: %s (%s) is not a loopback address; set "
                 "service.metrics_allow_remote = "
                 "true to expose metrics beyond this host",
                 listen, numeric);
        freeaddrinfo(ai);
        return NULL;
    }
    metrics_http *h = xcalloc(1, sizeof(*h));
    pthread_mutex_init(&h->lock, NULL);
    h->stale_ms = stale_ms;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* The logger goes first so that libmicrohttpd reports option errors through it. */
    h->daemon = MHD_start_daemon(flags, (uint16_t)atoi(port), NULL, NULL, on_request, h,
                                 MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_SOCK_ADDR,
                                 ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT, (unsigned)32,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!h->daemon) {
        snprintf(err, errlen,
                 "service.metrics_listen: cannot listen on %s (address in use or not local?)",
                 listen);
        pthread_mutex_destroy(&h->lock);
        free(h);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : atoi(port);
    return h;
}

int metrics_http_port(const metrics_http *h)
{
    return h->port;
}

void metrics_http_publish(metrics_http *h, const char *metrics, size_t metrics_len,
                          const char *health_json, int ready)
{
    char *m = xmalloc(metrics_len + 1);
    memcpy(m, metrics, metrics_len);
    m[metrics_len] = '\0';
    char *hj = xstrdup(health_json);
    pthread_mutex_lock(&h->lock);
    char *old_m = h->metrics, *old_h = h->health;
    h->metrics = m;
    h->metrics_len = metrics_len;
    h->health = hj;
    h->ready = ready;
    h->published_ms = mono_ms();
    pthread_mutex_unlock(&h->lock);
    free(old_m);
    free(old_h);
}

void metrics_http_stop(metrics_http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->daemon);
    pthread_mutex_destroy(&h->lock);
    free(h->metrics);
    free(h->health);
    free(h);
}
