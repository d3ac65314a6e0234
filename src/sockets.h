/*
 * sockets.h - the master's listening sockets, per address and worker
 * slot (see the design note in sockets.c). Master only, but for
 * sockets_child_close() in a child just forked.
 */
#ifndef SOCKETS_H
#define SOCKETS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

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
 * Placement: the sockets of serving's addresses in slots 0..nworkers-1
 * take new connections by the eBPF program below (fill, then least
 * loaded), or, where that is not to be had, by the kernel's hash (said
 * once per address).
 */
void		 sockets_place(struct sockets *s, const struct config *serving,
		    unsigned nworkers);

/*
 * Slot k's entry in the placement load map (see struct sockets_load),
 * for its workers to update; NULL when there is no map (no CAP_BPF, an
 * old kernel). Valid in the workers forked after sockets_new(): the
 * mapping is shared.
 */
struct sockets_load *sockets_load_slot(struct sockets *s, unsigned k);

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
 * Placement over one SO_REUSEPORT group: an eBPF SK_REUSEPORT program
 * that gives a new connection to the group's first socket while that
 * worker has fewer than fill connections, and otherwise to the
 * less loaded of two neighbouring sockets taken in turn, instead of by
 * the kernel's 4-tuple hash (Linux >= 5.12, CAP_BPF and CAP_NET_ADMIN).
 * A worker's load is read from the load map, one struct sockets_load per
 * slot, which the program and the workers keep up to date.
 *
 * sockets_loadmap_new() makes the load map (NULL with errno);
 * sockets_loadmap_slot() is slot k's entry, mapped shared, so a child
 * forked later writes the master's map. sockets_loadmap_free() unmaps
 * and closes it (NULL accepted); in a child, sockets_loadmap_close()
 * closes the descriptor only and leaves the entries mapped.
 *
 * sockets_spread_new(lm) borrows lm, which must outlive it.
 * sockets_spread_set() makes fds[0..n-1], listening sockets of one
 * group, the set the program chooses from, fds[k] being slot k's (-1:
 * none; a connection the program would give it is hashed), attaching
 * the program on first use; call it again whenever the set changes.
 * fill: the first socket takes every connection while its load is
 * below it (sockets_place(): SOCKETS_FILL, or the config's threads if
 * fewer). n == 0 hands placement back to the kernel hash. On -1 (errno set:
 * EPERM, EINVAL on an old kernel, ...) the group is left on the kernel
 * hash as well. sockets_spread_free() closes the maps and program; a
 * group still attached keeps them, so only call it once the sockets are
 * going, or after sockets_spread_set(sp, NULL, 0, 0). It never changes the
 * maps and so is safe in a forked child.
 */
/* sockets_place()'s fill: connections before a second worker gets any. */
#define SOCKETS_FILL		32

/*
 * What the program reads to place a connection, one cache line per
 * slot. Its load is open + max(placed - accepted, 0): the connections
 * its worker has, and those given to its socket but not yet accepted,
 * which a burst of connections arriving faster than the worker accepts
 * would otherwise hide.
 */
struct sockets_load {
	_Atomic uint64_t	 placed;	/* program: given to the socket */
	_Atomic uint64_t	 accepted;	/* workers: taken from it (plus a
						   reset when it is empty) */
	_Atomic uint64_t	 open;		/* serving worker: its connections */
	uint64_t		 pad[5];	/* 64 bytes, at offsets 0, 8, 16 */
};

struct sockets_loadmap;
struct sockets_spread;

struct sockets_loadmap	*sockets_loadmap_new(void);
struct sockets_load	*sockets_loadmap_slot(struct sockets_loadmap *lm,
			    unsigned k);
void		 sockets_loadmap_close(struct sockets_loadmap *lm);
void		 sockets_loadmap_free(struct sockets_loadmap *lm);

struct sockets_spread	*sockets_spread_new(struct sockets_loadmap *lm);
int		 sockets_spread_set(struct sockets_spread *sp, const int *fds,
		    unsigned n, unsigned fill);
void		 sockets_spread_free(struct sockets_spread *sp);

#endif /* SOCKETS_H */
