/*
 * sockets.c - the master's listening sockets: one per listen address in
 * each worker slot, kept for the master's whole life.
 *
 * Design note. Worker k accepts only on slot k's sockets, all of one
 * address forming a SO_REUSEPORT group, so a worker that is replaced
 * (respawn, reload) inherits sockets whose queued connections were never
 * lost. A reload that adds an address or slots binds the new sockets
 * before any worker needs them (sockets_ensure); what the serving config
 * no longer uses is closed once it commits (sockets_prune). A unix
 * socket, or one systemd passed, cannot form a group: it is one socket,
 * dup'ed into every slot ("shared"). Placement (sockets_place) hands an
 * address's new connections to the serving slots with an eBPF program,
 * where the kernel allows one: to the first worker while it has few, so
 * that a light load keeps one worker busy rather than several half idle,
 * then to the least loaded.
 */
#include "autoconfig.h"

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include <linux/bpf.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "listener.h"
#include "log.h"
#include "notify.h"
#include "sockets.h"
#include "stats.h"
#include "xmalloc.h"

#define LISTEN_BACKLOG		4096	/* capped by net.core.somaxconn */

/* One listen address and its socket in each slot. */
struct laddr {
	struct config_listen	 l;
	int			*fds;		/* nfds entries, -1: none */
	unsigned		 nfds;
	struct sockets_spread	*spread;	/* NULL: kernel hash */
	int			 spread_failed;	/* logged; not retried */
	int			 shared;	/* one socket, dup'ed per slot */
	int			 passed;	/* from systemd: never unlinked */
};

/* A socket passed by systemd (LISTEN_FDS), until a listen entry takes it. */
struct passed {
	int			 fd;
	struct config_listen	 l;		/* its address */
	int			 used;
};

struct sockets {
	struct sockets_loadmap	*load;		/* NULL: kernel hash only */
	int			 load_errno;	/* why not */
	struct laddr		*addrs;
	size_t			 naddrs;
	struct passed		*passed;	/* LISTEN_FDS */
	size_t			 npassed;
};

/*
 * The load map now, before any worker is forked, so that every worker
 * shares its mapping; failing (no CAP_BPF) leaves the kernel hash.
 */
struct sockets *
sockets_new(void)
{
	struct sockets	*s;

	s = xcalloc(1, sizeof(struct sockets));
	if ((s->load = sockets_loadmap_new()) == NULL)
		s->load_errno = errno;
	return s;
}

struct sockets_load *
sockets_load_slot(struct sockets *s, unsigned k)
{
	return s->load != NULL ? sockets_loadmap_slot(s->load, k) : NULL;
}

/*
 * The same address? Compared by what identifies it (family, host, port;
 * the path of a unix socket), not byte for byte: getsockname() and the
 * parser need not agree on padding or on a unix address's length.
 */
static int
addr_equal(const struct config_listen *a, const struct config_listen *b)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;
	const struct sockaddr_un	*au, *bu;

	if (a->addr.ss_family != b->addr.ss_family)
		return 0;
	switch (a->addr.ss_family) {
	case AF_INET:
		a4 = (const struct sockaddr_in *)(const void *)&a->addr;
		b4 = (const struct sockaddr_in *)(const void *)&b->addr;
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	case AF_INET6:
		a6 = (const struct sockaddr_in6 *)(const void *)&a->addr;
		b6 = (const struct sockaddr_in6 *)(const void *)&b->addr;
		return a6->sin6_port == b6->sin6_port &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof(a6->sin6_addr)) == 0;
	case AF_UNIX:
		au = (const struct sockaddr_un *)(const void *)&a->addr;
		bu = (const struct sockaddr_un *)(const void *)&b->addr;
		return strncmp(au->sun_path, bu->sun_path,
		    sizeof(au->sun_path)) == 0;
	}
	return 0;
}

/* Is l one of conf's listen addresses? */
static int
conf_listens(const struct config *conf, const struct config_listen *l)
{
	size_t	 i;

	for (i = 0; i < conf->nlisten; i++)
		if (addr_equal(&conf->listen[i], l))
			return 1;
	return 0;
}

static struct laddr *
laddr_find(struct sockets *s, const struct config_listen *l)
{
	size_t	 i;

	for (i = 0; i < s->naddrs; i++)
		if (addr_equal(&s->addrs[i].l, l))
			return &s->addrs[i];
	return NULL;
}

/*
 * Does this master already listen on l's port with an address that
 * covers l's or that l covers (a wildcard beside a specific one)? Then
 * a probe bind fails on our own socket: it cannot tell who else listens.
 */
static int
port_overlaps(const struct sockets *s, const struct config_listen *l)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;
	size_t				 i;

	for (i = 0; i < s->naddrs; i++) {
		if (s->addrs[i].l.addr.ss_family != l->addr.ss_family)
			continue;
		if (l->addr.ss_family == AF_INET) {
			a4 = (const struct sockaddr_in *)(const void *)&l->addr;
			b4 = (const struct sockaddr_in *)(const void *)
			    &s->addrs[i].l.addr;
			if (a4->sin_port == b4->sin_port &&
			    (a4->sin_addr.s_addr == INADDR_ANY ||
			    b4->sin_addr.s_addr == INADDR_ANY))
				return 1;
		} else if (l->addr.ss_family == AF_INET6) {
			a6 = (const struct sockaddr_in6 *)(const void *)&l->addr;
			b6 = (const struct sockaddr_in6 *)(const void *)
			    &s->addrs[i].l.addr;
			if (a6->sin6_port == b6->sin6_port &&
			    (IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr) ||
			    IN6_IS_ADDR_UNSPECIFIED(&b6->sin6_addr)))
				return 1;
		}
	}
	return 0;
}

/*
 * The first socket of a's address, new to this master: the one systemd
 * passed for it, or a fresh one, once we know no other process (a second
 * switchyard, say) listens there already: with SO_REUSEPORT we would
 * silently join its group and take its traffic.
 */
static int
laddr_open(struct sockets *s, struct laddr *a)
{
	char	 comm[64] = "", path[64];
	pid_t	 holder;
	size_t	 i;
	FILE	*f;
	int	 rc;

	for (i = 0; i < s->npassed; i++)
		if (!s->passed[i].used &&
		    addr_equal(&s->passed[i].l, &a->l)) {
			s->passed[i].used = 1;
			a->passed = a->shared = 1;
			return s->passed[i].fd;
		}
	if (port_overlaps(s, &a->l))
		rc = 0;		/* the probe would see our own socket */
	else
		rc = listener_in_use((struct sockaddr *)&a->l.addr,
		    a->l.addrlen, &holder);
	if (rc == 1) {
		(void)snprintf(path, sizeof(path), "/proc/%ld/comm",
		    (long)holder);
		if (holder != 0 && (f = fopen(path, "r")) != NULL) {
			if (fgets(comm, sizeof(comm), f) != NULL)
				comm[strcspn(comm, "\n")] = '\0';
			(void)fclose(f);
		}
		if (holder == 0)
			log_errorx("%s: already in use by another process",
			    a->l.text);
		else if (strcmp(comm, "switchyard") == 0)
			log_errorx("%s: already served by switchyard pid %ld",
			    a->l.text, (long)holder);
		else
			log_errorx("%s: already in use by %s (pid %ld)",
			    a->l.text, comm[0] ? comm : "another process",
			    (long)holder);
		return -1;
	}
	if (rc == -1) {
		log_error("cannot listen on %s", a->l.text);
		return -1;
	}
	return listener_bind((struct sockaddr *)&a->l.addr, a->l.addrlen,
	    LISTEN_BACKLOG);
}

/* a is going: its unix socket file too, unless systemd made it. */
static void
laddr_unlink(const struct laddr *a)
{
	if (a->l.addr.ss_family == AF_UNIX && !a->passed)
		(void)unlink(((const struct sockaddr_un *)(const void *)
		    &a->l.addr)->sun_path);
}

/*
 * Make sure conf's addresses have a socket in each of slots 0..nslots-1.
 * Nothing is closed here; on failure the sockets bound so far stay for
 * sockets_prune() to sort out.
 */
int
sockets_ensure(struct sockets *s, const struct config *conf,
    unsigned nslots)
{
	struct laddr	*a;
	size_t		 i;
	unsigned	 k;

	int		 fd;

	for (i = 0; i < conf->nlisten; i++) {
		if ((a = laddr_find(s, &conf->listen[i])) == NULL) {
			s->addrs = xreallocarray(s->addrs, s->naddrs + 1,
			    sizeof(*s->addrs));
			a = &s->addrs[s->naddrs];
			memset(a, 0, sizeof(*a));
			a->l = conf->listen[i];
			/* A unix socket cannot be SO_REUSEPORT: one for all. */
			a->shared = a->l.addr.ss_family == AF_UNIX;
			if ((fd = laddr_open(s, a)) == -1)
				return -1;
			a->fds = xmalloc(sizeof(int));
			a->fds[0] = fd;
			a->nfds = 1;
			s->naddrs++;
		}
		if (a->nfds < nslots) {
			a->fds = xreallocarray(a->fds, nslots, sizeof(int));
			for (k = a->nfds; k < nslots; k++)
				a->fds[k] = -1;
			a->nfds = nslots;
		}
		for (k = 0; k < nslots; k++) {
			if (a->fds[k] != -1)
				continue;
			/*
			 * A shared socket (unix, or passed by systemd) is
			 * one queue for every slot; each slot still gets its
			 * own descriptor, so that the rest stays the same.
			 */
			if (a->shared && a->fds[0] != -1)
				a->fds[k] = fcntl(a->fds[0], F_DUPFD_CLOEXEC, 0);
			else
				a->fds[k] = listener_bind((struct sockaddr *)
				    &a->l.addr, a->l.addrlen, LISTEN_BACKLOG);
			if (a->fds[k] == -1) {
				log_error("cannot listen on %s", a->l.text);
				return -1;
			}
		}
	}
	return 0;
}

/* Close the master's copies of every socket conf with nslots does not use. */
void
sockets_prune(struct sockets *s, const struct config *conf,
    unsigned nslots)
{
	struct laddr	*a;
	size_t		 i;
	unsigned	 k;
	int		 wanted;

	for (i = 0; i < s->naddrs; ) {
		a = &s->addrs[i];
		wanted = conf_listens(conf, &a->l);
		/* A shared socket's first descriptor is the socket itself. */
		for (k = wanted && a->shared ? 1 : 0; k < a->nfds; k++)
			if ((!wanted || k >= nslots) && a->fds[k] != -1) {
				(void)close(a->fds[k]);
				a->fds[k] = -1;
			}
		if (wanted) {
			i++;
			continue;
		}
		log_info("no longer listening on %s", a->l.text);
		laddr_unlink(a);
		free(a->fds);
		sockets_spread_free(a->spread);
		s->addrs[i] = s->addrs[--s->naddrs];
	}
}

/*
 * Placement: the sockets of each serving address in the serving slots
 * 0..nworkers-1 take new connections by the program (sockets_spread_set()),
 * not by the kernel's 4-tuple hash. Slots a reload adds join at its
 * commit, and a slot TTOU drops or a commit retires leaves the set at
 * once, though its draining worker still holds the socket. Where the
 * program cannot be had (no CAP_BPF, kernel < 5.12) the address keeps
 * the kernel hash; that is said once.
 */
void
sockets_place(struct sockets *s, const struct config *serving_conf,
    unsigned nworkers)
{
	struct laddr	*a;
	size_t		 i;
	unsigned	 k, n;
	int		*fds, serving;

	for (i = 0; i < s->naddrs; i++) {
		a = &s->addrs[i];
		if (a->spread_failed || a->shared)
			continue;	/* no reuseport group to place in */
		serving = conf_listens(serving_conf, &a->l);
		if (!serving)
			continue;	/* a reload's new address: at commit */
		/* Index k is slot k's: the load map is by slot. */
		fds = xcalloc(a->nfds + 1, sizeof(int));
		for (k = n = 0; k < a->nfds && k < nworkers; k++)
			fds[n++] = a->fds[k];
		errno = s->load_errno;
		if (a->spread == NULL && s->load != NULL)
			a->spread = sockets_spread_new(s->load);
		if (a->spread == NULL || sockets_spread_set(a->spread, fds, n,
		    serving_conf->threads < SOCKETS_FILL ?
		    serving_conf->threads : SOCKETS_FILL) == -1) {
			log_info("%s: connections placed by the kernel's "
			    "hash (eBPF placement unavailable: %s)",
			    a->l.text, strerror(errno));
			sockets_spread_free(a->spread);
			a->spread = NULL;
			a->spread_failed = 1;
		}
		free(fds);
	}
}

/* Listening sockets of slot k for conf, in conf's order, into fds. */
void
sockets_slot_fds(struct sockets *s, const struct config *conf, unsigned k,
    int *fds)
{
	size_t	 i;

	for (i = 0; i < conf->nlisten; i++)
		fds[i] = laddr_find(s, &conf->listen[i])->fds[k];
}

/*
 * Take the sockets systemd passed (socket activation). Each must be a
 * listening stream socket; a listen entry with the same address uses it
 * instead of binding (laddr_open). Returns -1 on a bad one.
 */
int
sockets_passed_take(struct sockets *s)
{
	struct passed	*p;
	int		 n, i, type, acc;
	socklen_t	 len;

	if ((n = notify_listen_fds()) == 0)
		return 0;
	s->passed = xcalloc((size_t)n, sizeof(*s->passed));
	for (i = 0; i < n; i++) {
		p = &s->passed[s->npassed++];
		p->fd = 3 + i;		/* SD_LISTEN_FDS_START */
		p->l.addrlen = sizeof(p->l.addr);
		len = sizeof(type);
		if (getsockname(p->fd, (struct sockaddr *)&p->l.addr,
		    &p->l.addrlen) == -1 ||
		    getsockopt(p->fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
		    (len = sizeof(acc), getsockopt(p->fd, SOL_SOCKET,
		    SO_ACCEPTCONN, &acc, &len)) == -1 ||
		    type != SOCK_STREAM || !acc) {
			log_errorx("LISTEN_FDS: descriptor %d is not a "
			    "listening stream socket", p->fd);
			return -1;
		}
		(void)listener_format((struct sockaddr *)&p->l.addr, p->l.text,
		    sizeof(p->l.text));
		/* Workers accept without blocking; nothing execs. */
		if (fcntl(p->fd, F_SETFL, fcntl(p->fd, F_GETFL) | O_NONBLOCK)
		    == -1 || fcntl(p->fd, F_SETFD, FD_CLOEXEC) == -1) {
			log_error("LISTEN_FDS: descriptor %d", p->fd);
			return -1;
		}
		log_info("socket activation: %s (descriptor %d)", p->l.text,
		    p->fd);
	}
	return 0;
}

/* After the first bind: a passed socket nobody asked for is a mistake. */
int
sockets_passed_check(const struct sockets *s)
{
	size_t	 i;
	int	 rc = 0;

	for (i = 0; i < s->npassed; i++)
		if (!s->passed[i].used) {
			log_errorx("LISTEN_FDS: socket %s matches no \"listen\" "
			    "entry", s->passed[i].l.text);
			rc = -1;
		}
	return rc;
}

/* Child after fork: close every socket but keep[0..nkeep). */
void
sockets_child_close(struct sockets *s, const int *keep, size_t nkeep)
{
	size_t		 i, j;
	unsigned	 k;
	int		 mine;

	for (i = 0; i < s->naddrs; i++) {
		/* Closes the maps only: the master's program keeps running. */
		sockets_spread_free(s->addrs[i].spread);
		s->addrs[i].spread = NULL;
	}
	/* The worker keeps its load map entry mapped, not the descriptor. */
	sockets_loadmap_close(s->load);
	s->load = NULL;
	for (i = 0; i < s->naddrs; i++)
		for (k = 0; k < s->addrs[i].nfds; k++) {
			mine = 0;
			for (j = 0; j < nkeep; j++)
				if (keep[j] == s->addrs[i].fds[k])
					mine = 1;
			if (!mine && s->addrs[i].fds[k] != -1)
				(void)close(s->addrs[i].fds[k]);
		}
}

void
sockets_close(struct sockets *s)
{
	size_t		 i;
	unsigned	 k;

	for (i = 0; i < s->naddrs; i++)
		for (k = 0; k < s->addrs[i].nfds; k++)
			if (s->addrs[i].fds[k] != -1) {
				(void)close(s->addrs[i].fds[k]);
				s->addrs[i].fds[k] = -1;
			}
}

void
sockets_free(struct sockets *s)
{
	size_t	 i;

	if (s == NULL)
		return;
	sockets_close(s);
	for (i = 0; i < s->naddrs; i++) {
		laddr_unlink(&s->addrs[i]);
		free(s->addrs[i].fds);
		sockets_spread_free(s->addrs[i].spread);
	}
	sockets_loadmap_free(s->load);
	free(s->addrs);
	for (i = 0; i < s->npassed; i++)
		if (!s->passed[i].used)
			(void)close(s->passed[i].fd);
	free(s->passed);
	free(s);
}

/* -- placement over a reuseport group ---------------------------------- */

/*
 * The kernel hands a new connection to one socket of a SO_REUSEPORT
 * group by a hash of its 4-tuple, which spreads a few hundred
 * connections from one client quite unevenly, and a few connections
 * over every worker: with 10 busy keep-alive connections on 2 workers
 * that share 2 cores with the client, two half-idle workers wake each
 * other's cores for every batch, where one worker serving all 10 (as
 * nginx's shared accept queue ends up doing) gets a third more done. An
 * SK_REUSEPORT program picks instead, by each slot's load (struct
 * sockets_load: open + max(placed - accepted, 0)):
 *
 *	n = state.count; if n == 0: SK_PASS (kernel hash)
 *	if load(0) < state.fill: i = 0
 *	else: a = atomic_fetch_add(&state.next, 1) % n, b = (a + 1) % n
 *	      i = load(a) <= load(b) ? a : b
 *	if bpf_sk_select_reuseport(ctx, socks, &i, 0) == 0: load[i].placed++
 *	SK_PASS
 *
 * Past the fill, the less loaded of two neighbours taken in turn: with
 * two workers exactly the less loaded one, with more a choice of two
 * that never scans the map (as "the power of two choices" has it), and
 * ties go round. So a light load stays on one worker, and a heavy one
 * (past the fill) spreads evenly, connections held long or short: a
 * pool of blocking handlers gets its share of requests instead of a
 * hash's. The fill is SOCKETS_FILL, or the pool's threads when there are
 * fewer: connections waiting for a worker's last thread while another
 * worker's pool idles would cost more than a second busy worker.
 *
 * socks is a REUSEPORT_SOCKARRAY of the group's sockets by slot, state
 * one ARRAY value (the turn, the count, the fill), so the set can change
 * without loading the program again; the load map is one ARRAY value of
 * STATS_SLOTS entries, shared by every group and mapped into the
 * workers (BPF_F_MMAPABLE), who write it with plain atomics: no system
 * call. The program reads both by direct value access. SK_PASS without
 * a selected socket (n == 0, an empty index) makes the kernel fall back
 * to its hash: the program never refuses a connection.
 *
 * No toolchain: the instructions are emitted below and loaded with
 * bpf(2). Needs Linux >= 5.12 (BPF_ATOMIC | BPF_FETCH) and CAP_BPF plus
 * CAP_NET_ADMIN (or CAP_SYS_ADMIN); without them sockets_spread_set()
 * fails and the group keeps the kernel hash. Not CAP_PERFMON, which the
 * systemd unit does not grant: without it the verifier refuses a pointer
 * sum that two paths with different bounds reach, so each path computes
 * its own load entry's address (and b is (a + 1) % n, not a branch).
 */

#define LOAD_SHIFT		6	/* log2 sizeof(struct sockets_load) */
#define LOAD_SIZE		(STATS_SLOTS << LOAD_SHIFT)

struct sockets_loadmap {
	int			 fd;		/* ARRAY, 1 value of LOAD_SIZE */
	struct sockets_load	*slots;		/* mmap of it, STATS_SLOTS */
};

struct spread_state {
	uint64_t	 next;		/* the turn, past the fill */
	uint64_t	 count;		/* sockets in the set; 0: hash */
	uint64_t	 fill;		/* load below which slot 0 takes all */
};

struct sockets_spread {
	struct sockets_loadmap	*load;		/* borrowed */
	int		 socks_fd;	/* REUSEPORT_SOCKARRAY, STATS_SLOTS */
	int		 state_fd;	/* ARRAY, one struct spread_state */
	int		 prog_fd;
	unsigned	 n;		/* entries filled or tried in socks */
};

_Static_assert(sizeof(struct sockets_load) == 1 << LOAD_SHIFT,
    "the program indexes the load map by shifting");
_Static_assert((STATS_SLOTS & (STATS_SLOTS - 1)) == 0,
    "the program bounds the slot index with a mask");

/* struct bpf_insn by hand (the kernel's filter.h macros, trimmed). */
#define I_ALU64_IMM(OP, DST, IMM) ((struct bpf_insn){			\
	.code = BPF_ALU64 | BPF_OP(OP) | BPF_K, .dst_reg = DST, .imm = IMM })
#define I_ALU64_REG(OP, DST, SRC) ((struct bpf_insn){			\
	.code = BPF_ALU64 | BPF_OP(OP) | BPF_X, .dst_reg = DST,		\
	.src_reg = SRC })
#define I_MOV64_REG(DST, SRC) ((struct bpf_insn){			\
	.code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = DST, .src_reg = SRC })
#define I_MOV64_IMM(DST, IMM) ((struct bpf_insn){			\
	.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = DST, .imm = IMM })
#define I_LDX_MEM(SIZE, DST, SRC, OFF) ((struct bpf_insn){		\
	.code = BPF_LDX | BPF_SIZE(SIZE) | BPF_MEM, .dst_reg = DST,	\
	.src_reg = SRC, .off = OFF })
#define I_STX_MEM(SIZE, DST, SRC, OFF) ((struct bpf_insn){		\
	.code = BPF_STX | BPF_SIZE(SIZE) | BPF_MEM, .dst_reg = DST,	\
	.src_reg = SRC, .off = OFF })
/* SRC = atomic_fetch_add((u64 *)(DST + OFF), SRC) */
#define I_ATOMIC_FETCH_ADD64(DST, SRC, OFF) ((struct bpf_insn){		\
	.code = BPF_STX | BPF_DW | BPF_ATOMIC, .dst_reg = DST,		\
	.src_reg = SRC, .off = OFF, .imm = BPF_ADD | BPF_FETCH })
/* atomic_add((u64 *)(DST + OFF), SRC) */
#define I_ATOMIC_ADD64(DST, SRC, OFF) ((struct bpf_insn){		\
	.code = BPF_STX | BPF_DW | BPF_ATOMIC, .dst_reg = DST,		\
	.src_reg = SRC, .off = OFF, .imm = BPF_ADD })
/* Two slots each: DST = the map whose fd is FD, or its value's address. */
#define I_LD_IMM64_2(DST, SRC, FD)					\
	((struct bpf_insn){ .code = BPF_LD | BPF_DW | BPF_IMM,		\
	.dst_reg = DST, .src_reg = SRC, .imm = FD })
#define I_JMP_IMM(OP, DST, IMM) ((struct bpf_insn){			\
	.code = BPF_JMP | BPF_OP(OP) | BPF_K, .dst_reg = DST, .imm = IMM })
#define I_JMP_REG(OP, DST, SRC) ((struct bpf_insn){			\
	.code = BPF_JMP | BPF_OP(OP) | BPF_X, .dst_reg = DST,		\
	.src_reg = SRC })
#define I_CALL(FN) ((struct bpf_insn){					\
	.code = BPF_JMP | BPF_CALL, .imm = FN })
#define I_EXIT() ((struct bpf_insn){ .code = BPF_JMP | BPF_EXIT })

static int
sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int
spread_map_new(unsigned type, unsigned value_size, unsigned entries,
    unsigned flags)
{
	union bpf_attr	 a;

	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = sizeof(uint32_t);
	a.value_size = value_size;
	a.max_entries = entries;
	a.map_flags = flags;
	return sys_bpf(BPF_MAP_CREATE, &a);
}

static int
spread_update(int map_fd, uint32_t key, const void *value)
{
	union bpf_attr	 a;

	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)map_fd;
	a.key = (uint64_t)(uintptr_t)&key;
	a.value = (uint64_t)(uintptr_t)value;
	a.flags = BPF_ANY;
	return sys_bpf(BPF_MAP_UPDATE_ELEM, &a);
}

static int
spread_delete(int map_fd, uint32_t key)
{
	union bpf_attr	 a;

	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)map_fd;
	a.key = (uint64_t)(uintptr_t)&key;
	return sys_bpf(BPF_MAP_DELETE_ELEM, &a);
}

static int
spread_count_set(struct sockets_spread *sp, uint64_t n, uint64_t fill)
{
	struct spread_state	 st = { 0, n, fill };

	return spread_update(sp->state_fd, 0, &st);
}

struct sockets_loadmap *
sockets_loadmap_new(void)
{
	struct sockets_loadmap	*lm;
	void			*m;
	int			 saved;

	if ((lm = calloc(1, sizeof(*lm))) == NULL)
		return NULL;
	if ((lm->fd = spread_map_new(BPF_MAP_TYPE_ARRAY, LOAD_SIZE, 1,
	    BPF_F_MMAPABLE)) == -1) {
		saved = errno;
		free(lm);
		errno = saved;
		return NULL;
	}
	if ((m = mmap(NULL, LOAD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
	    lm->fd, 0)) == MAP_FAILED) {
		saved = errno;
		(void)close(lm->fd);
		free(lm);
		errno = saved;
		return NULL;
	}
	lm->slots = m;
	return lm;
}

struct sockets_load *
sockets_loadmap_slot(struct sockets_loadmap *lm, unsigned k)
{
	return k < STATS_SLOTS ? &lm->slots[k] : NULL;
}

void
sockets_loadmap_close(struct sockets_loadmap *lm)
{
	if (lm == NULL)
		return;
	(void)close(lm->fd);
	free(lm);
}

void
sockets_loadmap_free(struct sockets_loadmap *lm)
{
	if (lm == NULL)
		return;
	(void)munmap(lm->slots, LOAD_SIZE);
	sockets_loadmap_close(lm);
}

/*
 * A program being written: jumps are emitted with a label number and
 * patched once every label has its place, so nobody counts instructions.
 */
#define PROG_MAX		96
#define PROG_LABELS		4

struct prog {
	struct bpf_insn	 insn[PROG_MAX];
	int		 n;
	int		 label[PROG_LABELS];	/* instruction index, -1 */
	int		 jump_to[PROG_MAX];	/* label of a jump, -1 */
};

static void
emit(struct prog *p, struct bpf_insn insn)
{
	if (p->n >= PROG_MAX)
		fatalx("%s: program too long", __func__);
	p->jump_to[p->n] = -1;
	p->insn[p->n++] = insn;
}

static void
emit_jump(struct prog *p, struct bpf_insn insn, int label)
{
	emit(p, insn);
	p->jump_to[p->n - 1] = label;
}

static void
emit_label(struct prog *p, int label)
{
	p->label[label] = p->n;
}

/* DST = the map of fd, or (value) the address of its only value. */
static void
emit_ld_map(struct prog *p, int dst, int fd, int value)
{
	emit(p, I_LD_IMM64_2(dst, value ? BPF_PSEUDO_MAP_VALUE :
	    BPF_PSEUDO_MAP_FD, fd));
	emit(p, (struct bpf_insn){ .code = 0, .imm = 0 });	/* offset 0 */
}

/*
 * DST = the load of the slot at address SLOT (which it clobbers, as TMP):
 * open + max(placed - accepted, 0), as unsigned 64 bits.
 */
static void
emit_load(struct prog *p, int dst, int slot, int tmp)
{
	emit(p, I_LDX_MEM(BPF_DW, dst, slot,
	    offsetof(struct sockets_load, placed)));
	emit(p, I_LDX_MEM(BPF_DW, tmp, slot,
	    offsetof(struct sockets_load, accepted)));
	emit(p, I_ALU64_REG(BPF_SUB, dst, tmp));
	/* Accepted beyond placed (a reset raced an accept): none pending. */
	emit(p, ((struct bpf_insn){ .code = BPF_JMP | BPF_JSGT | BPF_K,
	    .dst_reg = dst, .off = 1, .imm = 0 }));
	emit(p, I_MOV64_IMM(dst, 0));
	emit(p, I_LDX_MEM(BPF_DW, tmp, slot,
	    offsetof(struct sockets_load, open)));
	emit(p, I_ALU64_REG(BPF_ADD, dst, tmp));
}

/* SLOT = the address of load entry IDX (masked: the verifier's bound). */
static void
emit_slot_addr(struct prog *p, int slot, int idx)
{
	emit(p, I_MOV64_REG(slot, idx));
	emit(p, I_ALU64_IMM(BPF_AND, slot, STATS_SLOTS - 1));
	emit(p, I_ALU64_IMM(BPF_LSH, slot, LOAD_SHIFT));
	emit(p, I_ALU64_REG(BPF_ADD, slot, BPF_REG_8));
}

enum { L_PASS, L_SELECT };

static int
spread_prog_load(int socks_fd, int state_fd, int load_fd)
{
	struct prog	 p;
	union bpf_attr	 a;
	int		 i;

	memset(&p, 0, sizeof(p));
	for (i = 0; i < PROG_LABELS; i++)
		p.label[i] = -1;
	/* r6 = ctx, r9 = &state, r7 = n (or pass), r8 = the load map */
	emit(&p, I_MOV64_REG(BPF_REG_6, BPF_REG_1));
	emit_ld_map(&p, BPF_REG_9, state_fd, 1);
	emit(&p, I_LDX_MEM(BPF_DW, BPF_REG_7, BPF_REG_9,
	    offsetof(struct spread_state, count)));
	emit_jump(&p, I_JMP_IMM(BPF_JEQ, BPF_REG_7, 0), L_PASS);
	emit_ld_map(&p, BPF_REG_8, load_fd, 1);
	/*
	 * r3 = the index, fp-16 = the address of its load entry. Without
	 * CAP_PERFMON the verifier refuses a pointer sum that paths with
	 * different bounds reach: each path makes its own, spilled.
	 */
	emit(&p, I_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_8, -16));
	/* r3 = 0 while load(0) < state.fill */
	emit_load(&p, BPF_REG_1, BPF_REG_8, BPF_REG_2);
	emit(&p, I_LDX_MEM(BPF_DW, BPF_REG_2, BPF_REG_9,
	    offsetof(struct spread_state, fill)));
	emit(&p, I_MOV64_IMM(BPF_REG_3, 0));
	emit_jump(&p, I_JMP_REG(BPF_JLT, BPF_REG_1, BPF_REG_2), L_SELECT);
	/* r1 = a = atomic_fetch_add(&state.next, 1) % n, r2 = b */
	emit(&p, I_MOV64_IMM(BPF_REG_1, 1));
	emit(&p, I_ATOMIC_FETCH_ADD64(BPF_REG_9, BPF_REG_1,
	    offsetof(struct spread_state, next)));
	emit(&p, I_ALU64_REG(BPF_MOD, BPF_REG_1, BPF_REG_7));
	emit(&p, I_MOV64_REG(BPF_REG_2, BPF_REG_1));
	emit(&p, I_ALU64_IMM(BPF_ADD, BPF_REG_2, 1));
	emit(&p, I_ALU64_REG(BPF_MOD, BPF_REG_2, BPF_REG_7));	/* no branch */
	/* r4 = load(a), r0 = load(b); r3 = the less loaded, a on a tie */
	emit_slot_addr(&p, BPF_REG_3, BPF_REG_1);
	emit_load(&p, BPF_REG_4, BPF_REG_3, BPF_REG_5);
	emit(&p, I_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_3, -16));
	emit_slot_addr(&p, BPF_REG_3, BPF_REG_2);
	emit_load(&p, BPF_REG_0, BPF_REG_3, BPF_REG_5);
	emit(&p, I_MOV64_REG(BPF_REG_5, BPF_REG_3));
	emit(&p, I_MOV64_REG(BPF_REG_3, BPF_REG_1));
	emit_jump(&p, I_JMP_REG(BPF_JLE, BPF_REG_4, BPF_REG_0), L_SELECT);
	emit(&p, I_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_5, -16));
	emit(&p, I_MOV64_REG(BPF_REG_3, BPF_REG_2));
	/* bpf_sk_select_reuseport(ctx, socks, &(u32)r3, 0) */
	emit_label(&p, L_SELECT);
	emit(&p, I_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_3, -8));
	emit(&p, I_MOV64_REG(BPF_REG_1, BPF_REG_6));
	emit_ld_map(&p, BPF_REG_2, socks_fd, 0);
	emit(&p, I_MOV64_REG(BPF_REG_3, BPF_REG_10));
	emit(&p, I_ALU64_IMM(BPF_ADD, BPF_REG_3, -8));
	emit(&p, I_MOV64_IMM(BPF_REG_4, 0));
	emit(&p, I_CALL(BPF_FUNC_sk_select_reuseport));
	/* Count it only if it went there: an empty entry means the hash. */
	emit_jump(&p, I_JMP_IMM(BPF_JNE, BPF_REG_0, 0), L_PASS);
	emit(&p, I_LDX_MEM(BPF_DW, BPF_REG_3, BPF_REG_10, -16));
	emit(&p, I_MOV64_IMM(BPF_REG_1, 1));
	emit(&p, I_ATOMIC_ADD64(BPF_REG_3, BPF_REG_1,
	    offsetof(struct sockets_load, placed)));
	emit_label(&p, L_PASS);
	emit(&p, I_MOV64_IMM(BPF_REG_0, SK_PASS));
	emit(&p, I_EXIT());

	for (i = 0; i < p.n; i++)
		if (p.jump_to[i] != -1)
			p.insn[i].off = (int16_t)(p.label[p.jump_to[i]] - i - 1);

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SK_REUSEPORT;
	a.expected_attach_type = BPF_SK_REUSEPORT_SELECT;
	a.insns = (uint64_t)(uintptr_t)p.insn;
	a.insn_cnt = (uint32_t)p.n;
	a.license = (uint64_t)(uintptr_t)"GPL";
	return sys_bpf(BPF_PROG_LOAD, &a);
}

struct sockets_spread *
sockets_spread_new(struct sockets_loadmap *lm)
{
	struct sockets_spread	*sp;

	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		return NULL;
	sp->load = lm;
	sp->socks_fd = sp->state_fd = sp->prog_fd = -1;
	return sp;
}

/* Maps and program on first use; 0, or -1 with errno. */
static int
spread_load(struct sockets_spread *sp)
{
	if (sp->prog_fd != -1)
		return 0;
	if (sp->socks_fd == -1 && (sp->socks_fd = spread_map_new(
	    BPF_MAP_TYPE_REUSEPORT_SOCKARRAY, sizeof(uint64_t),
	    STATS_SLOTS, 0)) == -1)
		return -1;
	if (sp->state_fd == -1 && (sp->state_fd = spread_map_new(
	    BPF_MAP_TYPE_ARRAY, sizeof(struct spread_state), 1, 0)) == -1)
		return -1;
	if ((sp->prog_fd = spread_prog_load(sp->socks_fd, sp->state_fd,
	    sp->load->fd)) == -1)
		return -1;
	return 0;
}

int
sockets_spread_set(struct sockets_spread *sp, const int *fds, unsigned n,
    unsigned fill)
{
	uint64_t	 v;
	unsigned	 i;
	int		 saved, first = -1;

	if (n > STATS_SLOTS) {
		errno = E2BIG;
		return -1;
	}
	if (spread_load(sp) == -1)
		return -1;
	/*
	 * Count 0 first, so the program hashes while the entries change: a
	 * socket may sit in one entry only (EBUSY otherwise), and a socket
	 * that left the set must not be picked again even while a draining
	 * worker still holds it open.
	 */
	if (spread_count_set(sp, 0, 0) == -1)
		return -1;
	for (i = 0; i < sp->n; i++)
		if (spread_delete(sp->socks_fd, i) == -1 && errno != ENOENT)
			return -1;
	sp->n = 0;
	for (i = 0; i < n; i++) {
		sp->n = i + 1;
		if (fds[i] == -1)
			continue;	/* a connection given it is hashed */
		v = (uint64_t)fds[i];
		if (spread_update(sp->socks_fd, i, &v) == -1)
			goto fail;
		if (first == -1)
			first = fds[i];
	}
	if (first == -1)
		return 0;	/* nothing to place on: the hash */
	/*
	 * The group keeps its program until its last socket closes;
	 * attaching again is harmless and covers a group made anew.
	 */
	if (setsockopt(first, SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF,
	    &sp->prog_fd, sizeof(sp->prog_fd)) == -1)
		goto fail;
	if (spread_count_set(sp, n, fill) == -1)
		goto fail;
	return 0;

 fail:
	saved = errno;
	for (i = 0; i < sp->n; i++)
		(void)spread_delete(sp->socks_fd, i);
	sp->n = 0;
	errno = saved;
	return -1;
}

void
sockets_spread_free(struct sockets_spread *sp)
{
	if (sp == NULL)
		return;
	if (sp->prog_fd != -1)
		(void)close(sp->prog_fd);
	if (sp->state_fd != -1)
		(void)close(sp->state_fd);
	if (sp->socks_fd != -1)
		(void)close(sp->socks_fd);
	free(sp);
}
