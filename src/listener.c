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

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "listener.h"

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
	if (text[0] == '[') {
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
	if (format_host(sa, host, &port) == -1)
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
