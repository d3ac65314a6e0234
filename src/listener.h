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

/*
 * Balanced placement: an eBPF SK_REUSEPORT program that gives a group's
 * new connections to its sockets in turn instead of by the kernel's
 * 4-tuple hash (Linux >= 5.12, CAP_BPF and CAP_NET_ADMIN).
 *
 * listener_spread_set() makes fds[0..n-1], listening sockets of one
 * SO_REUSEPORT group, the set taken in turn, attaching the program on
 * first use; call it again whenever the set changes. n == 0 hands
 * placement back to the kernel hash. On -1 (errno set: EPERM, EINVAL
 * on an old kernel, ...) the group is left on the kernel hash as well.
 * listener_spread_free() closes the maps and program; a group still
 * attached keeps them, so only call it once the sockets are going, or
 * after listener_spread_set(sp, NULL, 0). It never changes the maps
 * and so is safe in a forked child.
 */
struct listener_spread;

struct listener_spread	*listener_spread_new(void);
int	listener_spread_set(struct listener_spread *, const int *fds,
	    unsigned n);
void	listener_spread_free(struct listener_spread *);

#endif /* LISTENER_H */
