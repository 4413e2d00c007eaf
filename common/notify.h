/* notify.h - the one place that talks to the service manager (sd_notify).
 *
 * Outside systemd (no NOTIFY_SOCKET) every call is a cheap no-op, so the
 * service calls these unconditionally:
 *   notify_init()            once at start: reads WATCHDOG_USEC
 *   notify_extend_timeout()  before start-up or shutdown work that may outlast
 *                            TimeoutStartSec/TimeoutStopSec (checkpoint load, flush)
 *   notify_ready()           after configuration, schemas, checkpoint and subscription
 *   notify_status()          STATUS= line (throughput, lag) shown by systemctl status
 *   notify_watchdog()        from every loop iteration; sends WATCHDOG=1 when a
 *                            quarter of WatchdogSec has passed, so a ping is never
 *                            later than WatchdogSec/2 while the loop turns
 *   notify_reloading()       RELOADING=1 at the start of a SIGHUP reload; the
 *                            reload ends with notify_ready()
 *   notify_stopping()        STOPPING=1 when shutdown begins */
#ifndef MTS_NOTIFY_H
#define MTS_NOTIFY_H

#include <stdint.h>

void notify_init(void);
/* The watchdog interval systemd asked for (WATCHDOG_USEC), 0 if none. */
uint64_t notify_watchdog_usec(void);
void notify_ready(const char *status);
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void notify_watchdog(void);
void notify_extend_timeout(uint64_t usec);
void notify_reloading(void);
void notify_stopping(void);

#endif
