/*
 * listener.c - listen addresses: parsing "host:port" and binding sockets.
 *
 * Hosts are numeric only. Resolving names would make startup depend on
 * DNS and let one name silently mean several sockets; an operator who
 * wants every address writes "*" or "[::]".
 *
 * Every socket gets SO_REUSEPORT because the master binds the same
 * address once per worker slot (see listener.h); IPv6 sockets get
 * IPV6_V6ONLY so "[::]:80" and "*:80" can be listed side by side instead
 * of the v6 socket also claiming the v4 port, whatever the host's
 * net.ipv6.bindv6only says.
 */
#include "autoconfig.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include <linux/bpf.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listener.h"
#include "stats.h"

/* Longest text shown back from the input, so errors stay one short line. */
#define LISTENER_QUOTE_MAX	64

static void __attribute__((format(printf, 3, 4)))
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * Decimal digits only: strtoul() would accept a sign, leading blanks and
 * "0x", none of which belong in a port.
 */
static int
parse_port(const char *s, size_t len, in_port_t *port, char *err,
    size_t errlen)
{
	unsigned long	 v = 0;
	size_t		 i;

	if (len == 0) {
		set_err(err, errlen, "missing port after \":\"");
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9') {
			set_err(err, errlen, "port \"%.*s\" is not a decimal "
			    "number", (int)(len < LISTENER_QUOTE_MAX ? len :
			    LISTENER_QUOTE_MAX), s);
			return -1;
		}
		/* Saturate rather than overflow on absurdly long input. */
		if (v <= 65535)
			v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < 1 || v > 65535) {
		set_err(err, errlen, "port \"%.*s\" is out of range 1..65535",
		    (int)(len < LISTENER_QUOTE_MAX ? len : LISTENER_QUOTE_MAX),
		    s);
		return -1;
	}
	*port = (in_port_t)v;
	return 0;
}

int
listener_parse(const char *text, struct sockaddr_storage *ss,
    socklen_t *sslen, char *err, size_t errlen)
{
	struct sockaddr_storage	 addr;
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;
	char			 host[INET6_ADDRSTRLEN];
	const char		*colon, *end;
	size_t			 hostlen;
	in_port_t		 port;
	socklen_t		 len;

	memset(&addr, 0, sizeof(addr));
	if (strncmp(text, "unix:", 5) == 0) {
		struct sockaddr_un	*sun = (struct sockaddr_un *)&addr;
		const char		*path = text + 5;

		if (path[0] != '/') {
			set_err(err, errlen, "a unix socket path must be "
			    "absolute: \"%.*s\"", LISTENER_QUOTE_MAX, text);
			return -1;
		}
		if (strlen(path) >= sizeof(sun->sun_path)) {
			set_err(err, errlen, "unix socket path longer than %zu "
			    "bytes: \"%.*s\"", sizeof(sun->sun_path) - 1,
			    LISTENER_QUOTE_MAX, text);
			return -1;
		}
		sun->sun_family = AF_UNIX;
		memcpy(sun->sun_path, path, strlen(path) + 1);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    strlen(path) + 1);
	} else if (text[0] == '[') {
		if ((end = strchr(text, ']')) == NULL) {
			set_err(err, errlen, "missing \"]\" after IPv6 "
			    "address in \"%.*s\"", LISTENER_QUOTE_MAX, text);
			return -1;
		}
		if (end[1] != ':') {
			set_err(err, errlen, end[1] == '\0' ?
			    "missing \":PORT\" after \"%.*s\"" :
			    "expected \":PORT\" after \"%.*s\"",
			    (int)(end - text + 1), text);
			return -1;
		}
		hostlen = (size_t)(end - text - 1);
		/*
		 * A copy for inet_pton(), which wants a C string; anything
		 * longer than the longest IPv6 text cannot be an address.
		 */
		if (hostlen == 0 || hostlen >= sizeof(host)) {
			set_err(err, errlen, "host \"%.*s\" is not a numeric "
			    "IPv6 address", (int)(hostlen + 2 <
			    LISTENER_QUOTE_MAX ? hostlen + 2 :
			    LISTENER_QUOTE_MAX), text);
			return -1;
		}
		memcpy(host, text + 1, hostlen);
		host[hostlen] = '\0';
		sin6 = (struct sockaddr_in6 *)&addr;
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
			set_err(err, errlen, "host \"[%s]\" is not a numeric "
			    "IPv6 address", host);
			return -1;
		}
		colon = end + 1;
		if (parse_port(colon + 1, strlen(colon + 1), &port, err,
		    errlen) == -1)
			return -1;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		len = sizeof(*sin6);
	} else {
		/*
		 * The last colon splits host from port; a colon before it
		 * means a bare IPv6 address, whose own colons would make
		 * the port ambiguous.
		 */
		if ((colon = strrchr(text, ':')) == NULL) {
			set_err(err, errlen, "missing \":PORT\" in \"%.*s\"",
			    LISTENER_QUOTE_MAX, text);
			return -1;
		}
		hostlen = (size_t)(colon - text);
		if (memchr(text, ':', hostlen) != NULL) {
			set_err(err, errlen, "IPv6 address must be in "
			    "brackets: \"[%.*s]%.*s\"", (int)(hostlen <
			    LISTENER_QUOTE_MAX ? hostlen : LISTENER_QUOTE_MAX),
			    text, LISTENER_QUOTE_MAX, colon);
			return -1;
		}
		if (hostlen == 0) {
			set_err(err, errlen, "missing host before \"%.*s\" "
			    "(\"*\" means every IPv4 address)",
			    LISTENER_QUOTE_MAX, colon);
			return -1;
		}
		if (hostlen < sizeof(host)) {
			memcpy(host, text, hostlen);
			host[hostlen] = '\0';
		} else
			host[0] = '\0';	/* too long to be an address */
		sin = (struct sockaddr_in *)&addr;
		if (strcmp(host, "*") == 0)
			sin->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
			set_err(err, errlen, "host \"%.*s\" is not a numeric "
			    "IPv4 address, [IPv6 address] or *", (int)(hostlen <
			    LISTENER_QUOTE_MAX ? hostlen : LISTENER_QUOTE_MAX),
			    text);
			return -1;
		}
		if (parse_port(colon + 1, strlen(colon + 1), &port, err,
		    errlen) == -1)
			return -1;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		len = sizeof(*sin);
	}

	/* Only a complete success touches the caller's storage. */
	memcpy(ss, &addr, sizeof(addr));
	*sslen = len;
	return 0;
}

int
listener_bind(const struct sockaddr *sa, socklen_t salen, int backlog)
{
	int	 fd, on = 1, saved;

	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (sa->sa_family == AF_UNIX) {
		/*
		 * No SO_REUSEPORT for unix sockets: one socket, shared by
		 * every slot. Mode 0660, for the master's user and group (a
		 * local proxy connects as a member of that group), not for
		 * everyone. (The chmod after the bind leaves a moment at the
		 * umask's mode: the directory is what guards the path.)
		 */
		if (bind(fd, sa, salen) == -1 || chmod(((const struct
		    sockaddr_un *)(const void *)sa)->sun_path, 0660) == -1 ||
		    listen(fd, backlog) == -1)
			goto fail;
		return fd;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) == -1)
		goto fail;
	if (sa->sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) == -1)
		goto fail;
	if (bind(fd, sa, salen) == -1)
		goto fail;
	if (listen(fd, backlog) == -1)
		goto fail;
	return fd;

 fail:
	/* close() may clobber errno; the caller wants the call that failed. */
	saved = errno;
	(void)close(fd);
	errno = saved;
	return -1;
}

/* sa's host into host (INET6_ADDRSTRLEN); 0, or -1 for another family. */
static int
format_host(const struct sockaddr *sa, char *host, unsigned *port)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	switch (sa->sa_family) {
	case AF_UNIX:
		/* A unix peer has no address worth showing: say which kind. */
		(void)snprintf(host, INET6_ADDRSTRLEN, "unix:");
		*port = 0;
		return 0;
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		*port = ntohs(sin->sin_port);
		return inet_ntop(AF_INET, &sin->sin_addr, host,
		    INET6_ADDRSTRLEN) == NULL ? -1 : 0;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		*port = ntohs(sin6->sin6_port);
		return inet_ntop(AF_INET6, &sin6->sin6_addr, host,
		    INET6_ADDRSTRLEN) == NULL ? -1 : 0;
	}
	return -1;
}

char *
listener_format(const struct sockaddr *sa, char *buf, size_t bufsize)
{
	char		 host[INET6_ADDRSTRLEN];
	unsigned	 port;

	if (bufsize == 0)
		return buf;
	if (sa->sa_family == AF_UNIX)
		(void)snprintf(buf, bufsize, "unix:%s", ((const struct
		    sockaddr_un *)(const void *)sa)->sun_path);
	else if (format_host(sa, host, &port) == -1)
		(void)snprintf(buf, bufsize, "(address family %d)",
		    (int)sa->sa_family);
	else if (sa->sa_family == AF_INET6)
		(void)snprintf(buf, bufsize, "[%s]:%u", host, port);
	else
		(void)snprintf(buf, bufsize, "%s:%u", host, port);
	return buf;
}

char *
listener_format_host(const struct sockaddr *sa, char *buf, size_t bufsize)
{
	char		 host[INET6_ADDRSTRLEN];
	unsigned	 port;

	if (bufsize == 0)
		return buf;
	if (format_host(sa, host, &port) == -1)
		(void)snprintf(buf, bufsize, "-");
	else
		(void)snprintf(buf, bufsize, "%s", host);
	return buf;
}

/* -- who else listens ---------------------------------------------------- */

/*
 * The inode of the listening socket on sa from /proc/net/{tcp,tcp6,unix}
 * (a wildcard listener on the same port counts for a TCP address), or 0.
 */
static unsigned long
listener_inode(const struct sockaddr *sa)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	const struct sockaddr_un	*sun;
	char				 line[512], path[sizeof(sun->sun_path)];
	unsigned			 a[4], port, st, i;
	unsigned long			 inode = 0, flags, ino;
	uint32_t			 w[4];
	FILE				*f;

	switch (sa->sa_family) {
	case AF_UNIX:
		sun = (const struct sockaddr_un *)(const void *)sa;
		if ((f = fopen("/proc/net/unix", "r")) == NULL)
			return 0;
		/* Num RefCount Protocol Flags Type St Inode Path */
		while (inode == 0 && fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "%*s %*s %*s %lx %*s %*s %lu %107s",
			    &flags, &ino, path) == 3 && (flags & 0x10000) &&
			    strcmp(path, sun->sun_path) == 0)
				inode = ino;	/* 0x10000: __SO_ACCEPTCON */
		break;
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		if ((f = fopen("/proc/net/tcp", "r")) == NULL)
			return 0;
		while (inode == 0 && fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, " %*d: %8X:%4X %*s %2X %*s %*s %*s %*d "
			    "%*d %lu", &a[0], &port, &st, &ino) == 4 &&
			    st == 0x0A && port == ntohs(sin->sin_port) &&
			    (a[0] == sin->sin_addr.s_addr || a[0] == 0))
				inode = ino;	/* 0x0A: LISTEN */
		break;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		if ((f = fopen("/proc/net/tcp6", "r")) == NULL)
			return 0;
		memcpy(w, &sin6->sin6_addr, sizeof(w));
		while (inode == 0 && fgets(line, sizeof(line), f) != NULL) {
			if (sscanf(line, " %*d: %8X%8X%8X%8X:%4X %*s %2X %*s "
			    "%*s %*s %*d %*d %lu", &a[0], &a[1], &a[2], &a[3],
			    &port, &st, &ino) != 7 || st != 0x0A ||
			    port != ntohs(sin6->sin6_port))
				continue;
			/* Each word as the kernel prints it: host order. */
			for (i = 0; i < 4 && a[i] == w[i]; i++)
				;
			if (i == 4 || (a[0] | a[1] | a[2] | a[3]) == 0)
				inode = ino;
		}
		break;
	default:
		return 0;
	}
	(void)fclose(f);
	return inode;
}

/* The lowest pid holding socket inode: the master forks the others. */
static pid_t
listener_inode_holder(unsigned long inode)
{
	DIR		*proc, *fds;
	struct dirent	*p, *d;
	char		 dir[64], link[340], want[48], got[48];
	ssize_t		 n;
	pid_t		 best = 0, pid;

	(void)snprintf(want, sizeof(want), "socket:[%lu]", inode);
	if ((proc = opendir("/proc")) == NULL)
		return 0;
	while ((p = readdir(proc)) != NULL) {
		if ((pid = (pid_t)atoi(p->d_name)) <= 0 || pid == getpid() ||
		    (best != 0 && pid > best))
			continue;
		(void)snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
		if ((fds = opendir(dir)) == NULL)
			continue;	/* another user's: not ours to see */
		while ((d = readdir(fds)) != NULL) {
			(void)snprintf(link, sizeof(link), "%s/%s", dir,
			    d->d_name);
			if ((n = readlink(link, got, sizeof(got) - 1)) <= 0)
				continue;
			got[n] = '\0';
			if (strcmp(got, want) == 0) {
				best = pid;
				break;
			}
		}
		(void)closedir(fds);
	}
	(void)closedir(proc);
	return best;
}

int
listener_in_use(const struct sockaddr *sa, socklen_t salen, pid_t *holder)
{
	const struct sockaddr_un	*sun;
	struct stat			 st;
	unsigned long			 inode;
	int				 fd, on = 1, rc = 0, saved;

	*holder = 0;
	/* Non-blocking: a unix listener with a full backlog must not hang us. */
	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (sa->sa_family == AF_UNIX) {
		sun = (const struct sockaddr_un *)(const void *)sa;
		if (lstat(sun->sun_path, &st) == -1) {
			rc = errno == ENOENT ? 0 : -1;
			goto done;
		}
		if (!S_ISSOCK(st.st_mode)) {
			errno = EEXIST;		/* a file we must not remove */
			rc = -1;
			goto done;
		}
		/* Someone answers: theirs. Nobody: a stale file, ours. */
		if (connect(fd, sa, salen) == 0 || errno == EAGAIN)
			rc = 1;		/* EAGAIN: alive, its backlog full */
		else if (errno == ECONNREFUSED) {
			if (unlink(sun->sun_path) == -1 && errno != ENOENT)
				rc = -1;
		} else
			rc = -1;
	} else {
		/*
		 * Bound without SO_REUSEPORT, the probe fails on an address
		 * that any socket listens on, reuseport or not; with
		 * SO_REUSEADDR, connections in TIME_WAIT do not count.
		 */
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
		    sizeof(on));
		if (sa->sa_family == AF_INET6)
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
			    sizeof(on));
		if (bind(fd, sa, salen) == -1)
			rc = errno == EADDRINUSE ? 1 : -1;
	}
	if (rc == 1 && (inode = listener_inode(sa)) != 0)
		*holder = listener_inode_holder(inode);
 done:
	saved = errno;
	(void)close(fd);
	errno = saved;
	return rc;
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
 * CAP_NET_ADMIN (or CAP_SYS_ADMIN); without them listener_spread_set()
 * fails and the group keeps the kernel hash.
 */

struct listener_spread {
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

struct listener_spread *
listener_spread_new(void)
{
	struct listener_spread	*sp;

	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		return NULL;
	sp->socks_fd = sp->state_fd = sp->prog_fd = -1;
	return sp;
}

/* Maps and program on first use; 0, or -1 with errno. */
static int
spread_load(struct listener_spread *sp)
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
listener_spread_set(struct listener_spread *sp, const int *fds, unsigned n)
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
listener_spread_free(struct listener_spread *sp)
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
