/* log.c - see log.h. */
#include "log.h"

#include "util.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>

/* Written on SIGHUP by the main loop, read by librdkafka threads too. */
static atomic_int cur_level = LOG_LVL_INFO;

enum { MAX_SECRETS = 32 };
static pthread_mutex_t secrets_lock = PTHREAD_MUTEX_INITIALIZER;
static char *secrets[MAX_SECRETS];
static int n_secrets;

void log_redact(const char *secret)
{
    if (!secret || !*secret)
        return;
    pthread_mutex_lock(&secrets_lock);
    int known = 0;
    for (int i = 0; i < n_secrets; i++)
        known |= !strcmp(secrets[i], secret);
    if (!known && n_secrets < MAX_SECRETS)
        secrets[n_secrets++] = xstrdup(secret);
    pthread_mutex_unlock(&secrets_lock);
}

/* Replace every registered secret in msg (NUL-terminated, size cap) in place.
 * truncated: the line was cut at cap, so its end may hold the start of a
 * secret; that part is cut off too. */
static void scrub(char *msg, size_t cap, int truncated)
{
    static const char mark[] = "[redacted]";
    pthread_mutex_lock(&secrets_lock);
    for (int i = 0; i < n_secrets; i++) {
        size_t sl = strlen(secrets[i]);
        char *p = msg;
        while ((p = strstr(p, secrets[i])) != NULL) {
            size_t pos = (size_t)(p - msg), ml = sizeof(mark) - 1;
            if (pos + ml >= cap) {
                *p = '\0'; /* no room for the mark: cut the line here */
                break;
            }
            size_t tail = strlen(p + sl);
            if (pos + ml + tail + 1 > cap)
                tail = cap - 1 - pos - ml; /* the line gets shorter, never longer than cap */
            memmove(p + ml, p + sl, tail);
            p[ml + tail] = '\0';
            memcpy(p, mark, ml);
            p += ml;
        }
        size_t len = strlen(msg);
        for (size_t k = sl - 1; truncated && k > 0; k--)
            if (k <= len && !memcmp(msg + len - k, secrets[i], k)) {
                msg[len - k] = '\0';
                break;
            }
    }
    pthread_mutex_unlock(&secrets_lock);
}

void log_set_level(int level)
{
    cur_level = level;
}

int log_get_level(void)
{
    return cur_level;
}

int log_level_from_name(const char *name)
{
    static const struct {
        const char *name;
        int level;
    } names[] = {{"err", LOG_LVL_ERR},         {"error", LOG_LVL_ERR},
                 {"warning", LOG_LVL_WARNING}, {"warn", LOG_LVL_WARNING},
                 {"notice", LOG_LVL_NOTICE},   {"info", LOG_LVL_INFO},
                 {"debug", LOG_LVL_DEBUG}};
    for (size_t i = 0; i < ARRAY_LEN(names); i++)
        if (!strcasecmp(name, names[i].name))
            return names[i].level;
    return -1;
}

static void vlog(int level, const char *func, int line, const char *fmt, va_list ap)
{
    char msg[1024];
    int full = vsnprintf(msg, sizeof(msg), fmt, ap);
    scrub(msg, sizeof(msg), full >= (int)sizeof(msg));
    /* journald (and any log file) gets the "<N>" priority prefix; a person at
     * a terminal gets the level's name instead. */
    static int tty = -1;
    if (tty < 0)
        tty = isatty(STDERR_FILENO);
    static const char *const names[] = {"emerg",   "alert",  "crit", "error",
                                        "warning", "notice", "info", "debug"};
    char prefix[24];
    if (tty)
        snprintf(prefix, sizeof(prefix), "mtlstream: %s", names[level & 7]);
    else
        snprintf(prefix, sizeof(prefix), "<%d>mtlstream", level & 7);
    /* One fprintf per line so concurrent writers do not interleave. */
    if (cur_level >= LOG_LVL_DEBUG)
        fprintf(stderr, "%s[%s:%d]: %s\n", prefix, func, line, msg);
    else
        fprintf(stderr, "%s: %s\n", prefix, msg);
}

void log_line(int level, const char *func, int line, const char *fmt, ...)
{
    if (level > cur_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(level, func, line, fmt, ap);
    va_end(ap);
}

enum { RL_BURST = 10, RL_INTERVAL_MS = 10000 };

void log_limited(log_ratelimit *rl, int level, const char *func, int line, const char *fmt, ...)
{
    if (level > cur_level)
        return;
    int64_t now = mono_ms();
    if (now - rl->window_start_ms >= RL_INTERVAL_MS) {
        if (rl->suppressed)
            log_line(level, func, line, "%llu similar messages suppressed in the last %d s",
                     (unsigned long long)rl->suppressed, RL_INTERVAL_MS / 1000);
        rl->window_start_ms = now;
        rl->in_window = 0;
        rl->suppressed = 0;
    }
    if (rl->in_window >= RL_BURST) {
        rl->suppressed++;
        return;
    }
    rl->in_window++;
    va_list ap;
    va_start(ap, fmt);
    vlog(level, func, line, fmt, ap);
    va_end(ap);
}
