/* log.c - see log.h. */
#include "log.h"

#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int cur_level = LOG_LVL_INFO;

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
    } names[] = {{"err", LOG_LVL_ERR},       {"error", LOG_LVL_ERR}, {"warning", LOG_LVL_WARNING},
                 {"warn", LOG_LVL_WARNING},  {"notice", LOG_LVL_NOTICE}, {"info", LOG_LVL_INFO},
                 {"debug", LOG_LVL_DEBUG}};
    for (size_t i = 0; i < ARRAY_LEN(names); i++)
        if (!strcasecmp(name, names[i].name))
            return names[i].level;
    return -1;
}

static void vlog(int level, const char *func, int line, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    /* One fprintf per line so concurrent writers do not interleave. */
    if (cur_level >= LOG_LVL_DEBUG)
        fprintf(stderr, "<%d>mtlstream[%s:%d]: %s\n", level, func, line, msg);
    else
        fprintf(stderr, "<%d>mtlstream: %s\n", level, msg);
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
