/*
 * listener.h - listen addresses: parsing "host:port" and binding sockets.
 *
 * The master binds, for each listen address, one SO_REUSEPORT socket per
 * worker slot and keeps them for its whole life; worker k accepts only on
 * slot k's sockets, so a replacement worker inherits the same kernel
 * queues and no queued connection is lost.
 */
#ifndef LISTENER_H
#define LISTENER_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

/*
 * Parse text: "1.2.3.4:PORT", "[v6addr]:PORT", "*:PORT" (all IPv4) or
 * "[::]:PORT" (all IPv6). The host must be numeric, PORT 1..65535.
 * Returns 0, or -1 with a reason ("port 0 is out of range 1..65535")
 * written into err.
 */
int	listener_parse(const char *text, struct sockaddr_storage *ss,
	    socklen_t *sslen, char *err, size_t errlen);

/*
 * A new listening socket on sa with SO_REUSEADDR and SO_REUSEPORT
 * (IPV6_V6ONLY for IPv6), non-blocking and close-on-exec, listening with
 * backlog. Returns the fd, or -1 with errno.
 */
int	listener_bind(const struct sockaddr *sa, socklen_t salen, int backlog);

/*
 * Does another socket already listen on sa? 1 (with *holder the pid that
 * holds it, the lowest of them, or 0 when this user cannot see it), 0
 * (free: a stale unix socket file nobody answers on is removed), -1 with
 * errno (EEXIST: a unix path that is not a socket). For the master,
 * before it binds an address it does not hold yet.
 */
int	listener_in_use(const struct sockaddr *sa, socklen_t salen,
	    pid_t *holder);

/* "127.0.0.1:8080" / "[::1]:8080" for sa, into buf. Returns buf. */
char	*listener_format(const struct sockaddr *sa, char *buf, size_t bufsize);

/* The host alone, "127.0.0.1" / "::1" (the access log's %h). */
char	*listener_format_host(const struct sockaddr *sa, char *buf,
	    size_t bufsize);

#endif /* LISTENER_H */
