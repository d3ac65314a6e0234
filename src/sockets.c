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
 * dup'ed into every slot ("shared"). Balanced placement (sockets_place)
 * hands an address's new connections to the serving slots in turn with
 * an eBPF program, where the kernel allows one.
 */
#include "autoconfig.h"

#include <sys/types.h>
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
	struct laddr		*addrs;
	size_t			 naddrs;
	struct passed		*passed;	/* LISTEN_FDS */
	size_t			 npassed;
};

struct sockets *
sockets_new(void)
{
	return xcalloc(1, sizeof(struct sockets));
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
 * Balanced placement: the sockets of each serving address in the serving
 * slots 0..nworkers-1 take new connections in turn (sockets_spread_set()),
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
		fds = xcalloc(a->nfds + 1, sizeof(int));
		for (k = n = 0; k < a->nfds && k < nworkers; k++)
			if (a->fds[k] != -1)
				fds[n++] = a->fds[k];
		if (a->spread == NULL)
			a->spread = sockets_spread_new();
		if (a->spread == NULL ||
		    sockets_spread_set(a->spread, fds, n) == -1) {
			log_info("%s: connections placed by the kernel's "
			    "hash (eBPF round robin unavailable: %s)",
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
	free(s->addrs);
	for (i = 0; i < s->npassed; i++)
		if (!s->passed[i].used)
			(void)close(s->passed[i].fd);
	free(s->passed);
	free(s);
}

/* -- balanced placement over a reuseport group ------------------------- */

/*
 * The kernel hands a new connection to one socket of a SO_REUSEPORT
 * group by a hash of its 4-tuple, which spreads a few hundred
 * connections from one client quite unevenly. An SK_REUSEPORT program
 * picks instead the next socket in turn:
 *
 *	n = state[1]; if n == 0: SK_PASS (kernel hash)
 *	i = atomic_fetch_add(&state[0], 1) % n
 *	bpf_sk_select_reuseport(ctx, socks, &i, 0); SK_PASS
 *
 * socks is a REUSEPORT_SOCKARRAY of the group's sockets and state an
 * ARRAY of two u64s (the counter, the socket count), so the set can
 * change without loading the program again. SK_PASS without a selected
 * socket (n == 0, an empty index) makes the kernel fall back to its
 * hash: the program never refuses a connection.
 *
 * No toolchain: the instructions are written out below and loaded with
 * bpf(2). Needs Linux >= 5.12 (BPF_ATOMIC | BPF_FETCH) and CAP_BPF plus
 * CAP_NET_ADMIN (or CAP_SYS_ADMIN); without them sockets_spread_set()
 * fails and the group keeps the kernel hash.
 */

struct sockets_spread {
	int		 socks_fd;	/* REUSEPORT_SOCKARRAY, STATS_SLOTS */
	int		 state_fd;	/* ARRAY of u64: [0] next, [1] count */
	int		 prog_fd;
	unsigned	 n;		/* entries filled in socks */
};

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
#define I_ST_MEM(SIZE, DST, OFF, IMM) ((struct bpf_insn){		\
	.code = BPF_ST | BPF_SIZE(SIZE) | BPF_MEM, .dst_reg = DST,	\
	.off = OFF, .imm = IMM })
/* SRC = atomic_fetch_add((u64 *)(DST + OFF), SRC) */
#define I_ATOMIC_FETCH_ADD64(DST, SRC, OFF) ((struct bpf_insn){		\
	.code = BPF_STX | BPF_DW | BPF_ATOMIC, .dst_reg = DST,		\
	.src_reg = SRC, .off = OFF, .imm = BPF_ADD | BPF_FETCH })
/* Two slots: DST = the map whose fd is FD. */
#define I_LD_MAP_FD(DST, FD)						\
	((struct bpf_insn){ .code = BPF_LD | BPF_DW | BPF_IMM,		\
	.dst_reg = DST, .src_reg = BPF_PSEUDO_MAP_FD, .imm = FD }),	\
	((struct bpf_insn){ .code = 0 })
#define I_JMP_IMM(OP, DST, IMM, OFF) ((struct bpf_insn){		\
	.code = BPF_JMP | BPF_OP(OP) | BPF_K, .dst_reg = DST,		\
	.off = OFF, .imm = IMM })
#define I_CALL(FN) ((struct bpf_insn){					\
	.code = BPF_JMP | BPF_CALL, .imm = FN })
#define I_EXIT() ((struct bpf_insn){ .code = BPF_JMP | BPF_EXIT })

static int
sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int
spread_map_new(unsigned type, unsigned value_size, unsigned entries)
{
	union bpf_attr	 a;

	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = sizeof(uint32_t);
	a.value_size = value_size;
	a.max_entries = entries;
	return sys_bpf(BPF_MAP_CREATE, &a);
}

static int
spread_update(int map_fd, uint32_t key, uint64_t value)
{
	union bpf_attr	 a;

	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)map_fd;
	a.key = (uint64_t)(uintptr_t)&key;
	a.value = (uint64_t)(uintptr_t)&value;
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
spread_prog_load(int socks_fd, int state_fd)
{
	/* Jump offsets count instructions (I_LD_MAP_FD is two) to pass. */
	const struct bpf_insn	 insns[] = {
		I_MOV64_REG(BPF_REG_6, BPF_REG_1),		/* ctx */
		/* r7 = state[1] (the count), or pass */
		I_ST_MEM(BPF_W, BPF_REG_10, -4, 1),
		I_MOV64_REG(BPF_REG_2, BPF_REG_10),
		I_ALU64_IMM(BPF_ADD, BPF_REG_2, -4),
		I_LD_MAP_FD(BPF_REG_1, state_fd),
		I_CALL(BPF_FUNC_map_lookup_elem),
		I_JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 20),		/* -> pass */
		I_LDX_MEM(BPF_DW, BPF_REG_7, BPF_REG_0, 0),
		I_JMP_IMM(BPF_JEQ, BPF_REG_7, 0, 18),		/* -> pass */
		/* r1 = atomic_fetch_add(&state[0], 1) % r7 */
		I_ST_MEM(BPF_W, BPF_REG_10, -4, 0),
		I_MOV64_REG(BPF_REG_2, BPF_REG_10),
		I_ALU64_IMM(BPF_ADD, BPF_REG_2, -4),
		I_LD_MAP_FD(BPF_REG_1, state_fd),
		I_CALL(BPF_FUNC_map_lookup_elem),
		I_JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 11),		/* -> pass */
		I_MOV64_IMM(BPF_REG_1, 1),
		I_ATOMIC_FETCH_ADD64(BPF_REG_0, BPF_REG_1, 0),
		I_ALU64_REG(BPF_MOD, BPF_REG_1, BPF_REG_7),
		/* bpf_sk_select_reuseport(ctx, socks, &(u32)r1, 0) */
		I_STX_MEM(BPF_W, BPF_REG_10, BPF_REG_1, -8),
		I_MOV64_REG(BPF_REG_1, BPF_REG_6),
		I_LD_MAP_FD(BPF_REG_2, socks_fd),
		I_MOV64_REG(BPF_REG_3, BPF_REG_10),
		I_ALU64_IMM(BPF_ADD, BPF_REG_3, -8),
		I_MOV64_IMM(BPF_REG_4, 0),
		I_CALL(BPF_FUNC_sk_select_reuseport),
		/* pass: whatever it returned; none selected means hash */
		I_MOV64_IMM(BPF_REG_0, SK_PASS),
		I_EXIT(),
	};
	union bpf_attr		 a;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SK_REUSEPORT;
	a.expected_attach_type = BPF_SK_REUSEPORT_SELECT;
	a.insns = (uint64_t)(uintptr_t)insns;
	a.insn_cnt = sizeof(insns) / sizeof(insns[0]);
	a.license = (uint64_t)(uintptr_t)"GPL";
	return sys_bpf(BPF_PROG_LOAD, &a);
}

struct sockets_spread *
sockets_spread_new(void)
{
	struct sockets_spread	*sp;

	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		return NULL;
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
	    STATS_SLOTS)) == -1)
		return -1;
	if (sp->state_fd == -1 && (sp->state_fd = spread_map_new(
	    BPF_MAP_TYPE_ARRAY, sizeof(uint64_t), 2)) == -1)
		return -1;
	if ((sp->prog_fd = spread_prog_load(sp->socks_fd,
	    sp->state_fd)) == -1)
		return -1;
	return 0;
}

int
sockets_spread_set(struct sockets_spread *sp, const int *fds, unsigned n)
{
	unsigned	 i;
	int		 saved;

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
	if (spread_update(sp->state_fd, 1, 0) == -1)
		return -1;
	for (i = 0; i < sp->n; i++)
		if (spread_delete(sp->socks_fd, i) == -1 && errno != ENOENT)
			return -1;
	sp->n = 0;
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (spread_update(sp->socks_fd, i, (uint64_t)fds[i]) == -1)
			goto fail;
		sp->n = i + 1;
	}
	/*
	 * The group keeps its program until its last socket closes;
	 * attaching again is harmless and covers a group made anew.
	 */
	if (setsockopt(fds[0], SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF,
	    &sp->prog_fd, sizeof(sp->prog_fd)) == -1)
		goto fail;
	if (spread_update(sp->state_fd, 1, n) == -1)
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
