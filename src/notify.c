/*
 * notify.c - sd_notify(3) wrappers; no-ops without libsystemd.
 */
#include "autoconfig.h"

#include <stdint.h>
#include <time.h>

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "clock.h"
#include "notify.h"

#ifdef HAVE_SYSTEMD
void
notify_ready(const char *status)
{
	(void)sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void
notify_reloading(void)
{
	(void)sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)clock_us());
}

void
notify_stopping(void)
{
	(void)sd_notify(0, "STOPPING=1");
}

void
notify_status(const char *status)
{
	(void)sd_notifyf(0, "STATUS=%s", status);
}

int
notify_listen_fds(void)
{
	int	 n = sd_listen_fds(1);

	return n > 0 ? n : 0;
}

unsigned long long
notify_watchdog_usec(void)
{
	uint64_t	 usec = 0;

	return sd_watchdog_enabled(0, &usec) > 0 ? (unsigned long long)usec :
	    0;
}

void
notify_watchdog(void)
{
	(void)sd_notify(0, "WATCHDOG=1");
}
#else
void
notify_ready(const char *status)
{
	(void)status;
}

void
notify_reloading(void)
{
}

void
notify_stopping(void)
{
}

void
notify_status(const char *status)
{
	(void)status;
}

int
notify_listen_fds(void)
{
	return 0;
}

unsigned long long
notify_watchdog_usec(void)
{
	return 0;
}

void
notify_watchdog(void)
{
}
#endif
