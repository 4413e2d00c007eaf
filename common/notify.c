/* notify.c - see notify.h.
 *
 * sd_notify() is a single datagram to $NOTIFY_SOCKET; with no socket it
 * returns 0 at once. The watchdog ping is paced here rather than at the call
 * site: notify_watchdog() may be called every few milliseconds and sends at
 * most one WATCHDOG=1 per WATCHDOG_USEC/4. */
#include "notify.h"

#include "log.h"
#include "util.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

static uint64_t watchdog_usec; /* 0: no watchdog */
static int64_t last_ping_ms;

void notify_init(void)
{
    uint64_t usec = 0;
    /* > 0: enabled for this process (WATCHDOG_PID, if set, is ours). */
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        watchdog_usec = usec;
        log_info("watchdog enabled: WATCHDOG=1 at least every %" PRIu64 " ms", usec / 4000);
    }
    last_ping_ms = 0;
}

uint64_t notify_watchdog_usec(void)
{
    return watchdog_usec;
}

void notify_ready(const char *status)
{
    sd_notifyf(0, "READY=1\nSTATUS=%s", status ? status : "ready");
}

void notify_status(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    sd_notifyf(0, "STATUS=%s", line);
}

void notify_watchdog(void)
{
    if (!watchdog_usec)
        return;
    int64_t now = mono_ms();
    if (last_ping_ms && now - last_ping_ms < (int64_t)(watchdog_usec / 4000))
        return;
    last_ping_ms = now;
    sd_notify(0, "WATCHDOG=1");
}

void notify_extend_timeout(uint64_t usec)
{
    sd_notifyf(0, "EXTEND_TIMEOUT_USEC=%" PRIu64, usec);
}

void notify_reloading(void)
{
    sd_notify(0, "RELOADING=1\nSTATUS=reloading the configuration");
}

void notify_stopping(void)
{
    sd_notify(0, "STOPPING=1\nSTATUS=stopping: learning the pending batch, publishing, flushing");
}
