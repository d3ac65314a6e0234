/*
 * notify.h - telling systemd how the service is doing (sd_notify).
 *
 * Built with libsystemd, these send READY=1, RELOADING=1, STOPPING=1 and
 * STATUS= lines to $NOTIFY_SOCKET; built without it, or when the variable
 * is unset, they do nothing. Master only.
 */
#ifndef NOTIFY_H
#define NOTIFY_H

/* READY=1 with a STATUS= line. */
void	notify_ready(const char *status);

/* RELOADING=1 with MONOTONIC_USEC= (systemd 253's reload protocol). */
void	notify_reloading(void);

/* STOPPING=1. */
void	notify_stopping(void);

/* STATUS= alone. */
void	notify_status(const char *status);

/*
 * Sockets passed by systemd's socket activation (LISTEN_FDS, LISTEN_PID),
 * which are then removed from the environment: the first is fd 3, the
 * count is returned (0: none, or built without libsystemd).
 */
int	notify_listen_fds(void);

/*
 * The service watchdog's interval in microseconds when systemd wants
 * WATCHDOG=1 from this process (WATCHDOG_USEC, WATCHDOG_PID), else 0.
 */
unsigned long long	notify_watchdog_usec(void);

/* WATCHDOG=1. */
void	notify_watchdog(void);

#endif /* NOTIFY_H */
