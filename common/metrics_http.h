/* metrics_http.h - the HTTP endpoint: GET /metrics and GET /healthz.
 *
 * libmicrohttpd answers requests on its own internal thread. It never looks
 * at service state: the single-threaded main loop renders a snapshot (the
 * Prometheus text and the health JSON) and hands it over with
 * metrics_http_publish(), which swaps it in under a mutex; a request copies
 * the current snapshot under the same mutex.
 *
 * /healthz answers 200 when the service said it is ready and the loop
 * published a snapshot within the last stale_ms; 503 otherwise (not ready
 * yet, or the loop is stuck). The body is the loop's JSON plus
 * "snapshot_age_ms".
 *
 * Listening on a non-loopback address is refused unless allow_remote:
 * metrics reveal topic names and traffic, and the endpoint has no
 * authentication. */
#ifndef MTS_METRICS_HTTP_H
#define MTS_METRICS_HTTP_H

#include <stddef.h>

typedef struct metrics_http metrics_http;

/* listen: "HOST:PORT" or "[V6ADDR]:PORT" (port 0: any free port).
 * NULL with err if the address is bad, not loopback without allow_remote,
 * or the port cannot be bound. */
metrics_http *metrics_http_start(const char *listen, int allow_remote, int stale_ms, char *err,
                                 size_t errlen);
/* The port actually bound. */
int metrics_http_port(const metrics_http *h);
/* Replace the snapshot (both texts are copied). */
void metrics_http_publish(metrics_http *h, const char *metrics, size_t metrics_len,
                          const char *health_json, int ready);
/* Stop the thread, close the socket, free. NULL is fine. */
void metrics_http_stop(metrics_http *h);

/* 1 if the numeric address text is loopback (127.0.0.0/8, ::1). */
int metrics_http_is_loopback(const char *host);

#endif
