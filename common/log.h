/* log.h - line-buffered logging with syslog priority prefixes.
 *
 * Every line goes to stderr as "<P>mtlstream[func:line]: text", which
 * journald turns into a priority. Lines above the current level are dropped.
 * log_limited() rate-limits one call site: at most `burst` lines per
 * `interval_ms`, then one summary line with the count it suppressed. */
#ifndef MTS_LOG_H
#define MTS_LOG_H

#include <stdint.h>

enum {
    LOG_LVL_ERR = 3,
    LOG_LVL_WARNING = 4,
    LOG_LVL_NOTICE = 5,
    LOG_LVL_INFO = 6,
    LOG_LVL_DEBUG = 7
};

void log_set_level(int level);
/* Never show secret in a log line: every occurrence is replaced by
 * "[redacted]" before the line is written (librdkafka's lines included, they
 * pass through here). Call before any client that knows the secret exists.
 * Thread-safe; up to 32 distinct secrets are kept. */
void log_redact(const char *secret);
int log_get_level(void);
int log_level_from_name(const char *name); /* -1 if unknown */
void log_line(int level, const char *func, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define log_err(...) log_line(LOG_LVL_ERR, __func__, __LINE__, __VA_ARGS__)
#define log_warn(...) log_line(LOG_LVL_WARNING, __func__, __LINE__, __VA_ARGS__)
#define log_notice(...) log_line(LOG_LVL_NOTICE, __func__, __LINE__, __VA_ARGS__)
#define log_info(...) log_line(LOG_LVL_INFO, __func__, __LINE__, __VA_ARGS__)
#define log_debug(...) log_line(LOG_LVL_DEBUG, __func__, __LINE__, __VA_ARGS__)

/* State of one rate-limited call site; zero-initialise it (static). */
typedef struct {
    int64_t window_start_ms;
    int in_window;
    uint64_t suppressed;
} log_ratelimit;

void log_limited(log_ratelimit *rl, int level, const char *func, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* At most 10 lines per 10 s from the call site. */
#define log_err_limited(...)                                                                       \
    do {                                                                                           \
        static log_ratelimit rl_;                                                                  \
        log_limited(&rl_, LOG_LVL_ERR, __func__, __LINE__, __VA_ARGS__);                           \
    } while (0)
#define log_warn_limited(...)                                                                      \
    do {                                                                                           \
        static log_ratelimit rl_;                                                                  \
        log_limited(&rl_, LOG_LVL_WARNING, __func__, __LINE__, __VA_ARGS__);                       \
    } while (0)

#endif
