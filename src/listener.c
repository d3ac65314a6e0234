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

/*
 * in as a dotted quad into out (INET_ADDRSTRLEN), exactly as inet_ntop()
 * writes it (no leading zeros). Every accepted connection comes here,
 * and glibc's inet_ntop() goes through sprintf(): 1,700 instructions
 * for what this does in under a hundred.
 */
static void
format_ipv4(const struct in_addr *in, char *out)
{
	const unsigned char	*b = (const unsigned char *)&in->s_addr;
	char			*p = out;
	unsigned		 i, v;

	for (i = 0; i < 4; i++) {
		v = b[i];		/* network order: the first octet */
		if (v >= 100) {
			*p++ = (char)('0' + v / 100);
			v %= 100;
			*p++ = (char)('0' + v / 10);
		} else if (v >= 10)
			*p++ = (char)('0' + v / 10);
		*p++ = (char)('0' + v % 10);
		*p++ = '.';
	}
	p[-1] = '\0';			/* over the last '.' */
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
		memcpy(host, "unix:", sizeof("unix:"));
		*port = 0;
		return 0;
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		*port = ntohs(sin->sin_port);
		format_ipv4(&sin->sin_addr, host);
		return 0;
	case AF_INET6:
		/*
		 * inet_ntop() still: the zero run to compress and the
		 * dotted tail of "::ffff:10.0.0.1" are rules worth not
		 * redoing, and every listener is IPV6_V6ONLY, so no IPv4
		 * client arrives mapped onto a v6 socket.
		 */
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
	const char	*s = host;
	unsigned	 port;
	size_t		 len;

	if (bufsize == 0)
		return buf;
	/* The common case, straight into buf: no copy through host. */
	if (sa->sa_family == AF_INET && bufsize >= INET_ADDRSTRLEN) {
		format_ipv4(&((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr, buf);
		return buf;
	}
	if (format_host(sa, host, &port) == -1)
		s = "-";
	/* Cut to fit, as snprintf() would. */
	if ((len = strlen(s)) >= bufsize)
		len = bufsize - 1;
	memcpy(buf, s, len);
	buf[len] = '\0';
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
