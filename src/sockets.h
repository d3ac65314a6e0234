/*
 * sockets.h - the master's listening sockets, per address and worker
 * slot (see the design note in sockets.c). Master only, but for
 * sockets_child_close() in a child just forked.
 */
#ifndef SOCKETS_H
#define SOCKETS_H

#include <stddef.h>

struct config;
struct sockets;

struct sockets	*sockets_new(void);

/*
 * Close every socket, remove the unix socket files we created (not
 * systemd's) and free s. Accepts NULL.
 */
void		 sockets_free(struct sockets *s);

/*
 * Take the sockets systemd passed (LISTEN_FDS): each must be a listening
 * stream socket; a listen entry with its address uses it instead of
 * binding. After the first sockets_ensure(), sockets_passed_check()
 * refuses one that no entry took. Both return -1 after logging why.
 */
int		 sockets_passed_take(struct sockets *s);
int		 sockets_passed_check(const struct sockets *s);

/*
 * Give each of conf's addresses a socket in slots 0..nslots-1, binding
 * what is new; an address held by another process is refused, naming
 * it. Nothing is closed here: on -1 (logged) what was bound so far
 * stays for sockets_prune() to sort out.
 */
int		 sockets_ensure(struct sockets *s, const struct config *conf,
		    unsigned nslots);

/* Close the sockets that conf, with nslots slots, does not use. */
void		 sockets_prune(struct sockets *s, const struct config *conf,
		    unsigned nslots);

/*
 * Balanced placement: the sockets of serving's addresses in slots
 * 0..nworkers-1 take new connections in turn (eBPF), or, where that is
 * not to be had, by the kernel's hash (said once per address).
 */
void		 sockets_place(struct sockets *s, const struct config *serving,
		    unsigned nworkers);

/* Slot k's sockets for conf, in conf's listen order, into fds. */
void		 sockets_slot_fds(struct sockets *s, const struct config *conf,
		    unsigned k, int *fds);

/* In a child after fork: close every socket but keep[0..nkeep). */
void		 sockets_child_close(struct sockets *s, const int *keep,
		    size_t nkeep);

/*
 * Close the master's copies (graceful stop): once the workers have
 * closed theirs, a new connection is refused instead of queued.
 */
void		 sockets_close(struct sockets *s);

/*
 * Balanced placement over one SO_REUSEPORT group: an eBPF SK_REUSEPORT
 * program that gives the group's new connections to its sockets in turn
 * instead of by the kernel's 4-tuple hash (Linux >= 5.12, CAP_BPF and
 * CAP_NET_ADMIN).
 *
 * sockets_spread_set() makes fds[0..n-1], listening sockets of one
 * group, the set taken in turn, attaching the program on first use;
 * call it again whenever the set changes. n == 0 hands placement back to
 * the kernel hash. On -1 (errno set: EPERM, EINVAL on an old kernel,
 * ...) the group is left on the kernel hash as well.
 * sockets_spread_free() closes the maps and program; a group still
 * attached keeps them, so only call it once the sockets are going, or
 * after sockets_spread_set(sp, NULL, 0). It never changes the maps and
 * so is safe in a forked child.
 */
struct sockets_spread;

struct sockets_spread	*sockets_spread_new(void);
int		 sockets_spread_set(struct sockets_spread *sp, const int *fds,
		    unsigned n);
void		 sockets_spread_free(struct sockets_spread *sp);

#endif /* SOCKETS_H */
