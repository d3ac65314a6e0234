/*
 * client.c - where a request really comes from, behind proxies.
 *
 * An untrusted client must never choose its logged address: a PROXY
 * header is read only on listeners configured for it (a balancer that
 * always sends one sits in front of them), and forwarded headers are
 * believed only from trusted_proxies, walking from the right, since each
 * proxy appends the address it received from and only the entries it
 * appended can be believed.
 */
#include "autoconfig.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client.h"

#define FORWARDED_MAX	64	/* entries walked; more are proxies' */

/* The address bytes of sa (4 or 16), or NULL for another family. */
static const unsigned char *
addr_bytes(const struct sockaddr *sa, int *family)
{
	*family = sa->sa_family;
	if (sa->sa_family == AF_INET)
		return (const unsigned char *)&((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr;
	if (sa->sa_family == AF_INET6)
		return (const unsigned char *)&((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr;
	return NULL;
}

int
client_cidr_parse(const char *text, struct client_cidr *c, char *err,
    size_t errlen)
{
	char		 host[INET6_ADDRSTRLEN];
	const char	*slash;
	char		*end;
	size_t		 hostlen, i;
	unsigned	 max;
	long		 bits;

	memset(c, 0, sizeof(*c));
	if (strcmp(text, "unix") == 0) {
		c->family = AF_UNIX;
		return 0;
	}
	slash = strchr(text, '/');
	hostlen = slash != NULL ? (size_t)(slash - text) : strlen(text);
	if (hostlen == 0 || hostlen >= sizeof(host)) {
		(void)snprintf(err, errlen, "not an address or address/bits");
		return -1;
	}
	memcpy(host, text, hostlen);
	host[hostlen] = '\0';
	if (inet_pton(AF_INET, host, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else {
		(void)snprintf(err, errlen, "\"%s\" is not a numeric IPv4 or "
		    "IPv6 address (or \"unix\")", host);
		return -1;
	}
	c->prefix = max;
	if (slash != NULL) {
		bits = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || !isdigit((unsigned char)
		    slash[1]) || bits < 0 || bits > (long)max) {
			(void)snprintf(err, errlen, "prefix length must be 0 to "
			    "%u", max);
			return -1;
		}
		c->prefix = (unsigned)bits;
	}
	/* Masked, so that matching compares whole bytes and a tail. */
	for (i = 0; i < max / 8; i++)
		if (i * 8 >= c->prefix)
			c->addr[i] = 0;
		else if (i * 8 + 8 > c->prefix)
			c->addr[i] &= (unsigned char)(0xff << (8 - (c->prefix -
			    i * 8)));
	return 0;
}

int
client_cidr_match(const struct client_cidr *v, size_t n,
    const struct sockaddr *sa)
{
	const unsigned char	*a;
	size_t			 i, full;
	unsigned		 rest;
	int			 family;

	a = addr_bytes(sa, &family);
	for (i = 0; i < n; i++) {
		if (v[i].family != family)
			continue;
		if (family == AF_UNIX)
			return 1;
		full = v[i].prefix / 8;
		rest = v[i].prefix % 8;
		if (memcmp(a, v[i].addr, full) != 0)
			continue;
		if (rest == 0 || (a[full] & (unsigned char)(0xff << (8 - rest)))
		    == v[i].addr[full])
			return 1;
	}
	return 0;
}

/* -- PROXY protocol ---------------------------------------------------- */

static const unsigned char	v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

#define V1_MAX		107	/* "PROXY TCP6 " + two v6 + ports + CRLF */

static void
set_in(struct sockaddr_storage *ss, socklen_t *sslen, const void *addr,
    uint16_t port_be)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	memcpy(&sin->sin_addr, addr, 4);
	sin->sin_port = port_be;
	*sslen = sizeof(*sin);
}

static void
set_in6(struct sockaddr_storage *ss, socklen_t *sslen, const void *addr,
    uint16_t port_be)
{
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	sin6->sin6_family = AF_INET6;
	memcpy(&sin6->sin6_addr, addr, 16);
	sin6->sin6_port = port_be;
	*sslen = sizeof(*sin6);
}

/* A decimal port, 0..65535, no sign, no leading zeros but "0". */
static int
port_parse(const char *s, uint16_t *port_be)
{
	unsigned long	 v = 0;
	size_t		 i;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (!isdigit((unsigned char)s[i]) || i >= 5)
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port_be = htons((uint16_t)v);
	return 0;
}

/* "PROXY TCP4 src dst sport dport\r\n" (the human-readable v1). */
static ssize_t
proxy_v1(const char *buf, size_t len, struct sockaddr_storage *ss,
    socklen_t *sslen)
{
	char		 line[V1_MAX + 1], *f[6], *save = NULL, *p;
	unsigned char	 a[16], b[16];
	uint16_t	 sport, dport;
	const char	*crlf;
	size_t		 n, i;
	int		 v6;

	crlf = memchr(buf, '\n', len < V1_MAX ? len : V1_MAX);
	if (crlf == NULL)
		return len < V1_MAX ? 0 : -1;
	n = (size_t)(crlf - buf) + 1;
	if (n < 8 || buf[n - 2] != '\r')
		return -1;
	memcpy(line, buf, n - 2);
	line[n - 2] = '\0';
	for (i = 0; i < n - 2; i++)
		if (!isprint((unsigned char)line[i]))
			return -1;
	/* Single spaces between fields, as the specification says. */
	if (strstr(line, "  ") != NULL || line[n - 3] == ' ')
		return -1;
	for (i = 0, p = line; i < 6 && (f[i] = strtok_r(p, " ", &save)) !=
	    NULL; i++)
		p = NULL;
	if (i < 2 || strcmp(f[0], "PROXY") != 0)
		return -1;
	if (strcmp(f[1], "UNKNOWN") == 0) {
		/* The rest, if any, is to be ignored. */
		memset(ss, 0, sizeof(*ss));
		ss->ss_family = AF_UNSPEC;
		*sslen = 0;
		return (ssize_t)n;
	}
	if (i != 6 || strtok_r(NULL, " ", &save) != NULL)
		return -1;
	if (strcmp(f[1], "TCP4") == 0)
		v6 = 0;
	else if (strcmp(f[1], "TCP6") == 0)
		v6 = 1;
	else
		return -1;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, f[2], a) != 1 ||
	    inet_pton(v6 ? AF_INET6 : AF_INET, f[3], b) != 1 ||
	    port_parse(f[4], &sport) == -1 || port_parse(f[5], &dport) == -1)
		return -1;
	if (v6)
		set_in6(ss, sslen, a, sport);
	else
		set_in(ss, sslen, a, sport);
	return (ssize_t)n;
}

/* The binary v2: signature, version and command, family, length. */
static ssize_t
proxy_v2(const unsigned char *b, size_t len, struct sockaddr_storage *ss,
    socklen_t *sslen)
{
	size_t		 total, alen;
	uint16_t	 port;

	if (len < 16)
		return 0;
	if ((b[12] >> 4) != 2 || (b[12] & 0x0f) > 1)
		return -1;		/* version 2; LOCAL or PROXY */
	alen = (size_t)b[14] << 8 | b[15];
	total = 16 + alen;
	if (total > CLIENT_PROXY_MAX)
		return -1;
	if (len < total)
		return 0;
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = AF_UNSPEC;
	*sslen = 0;
	if ((b[12] & 0x0f) == 0)
		return (ssize_t)total;	/* LOCAL: the balancer itself */
	switch (b[13]) {
	case 0x11:			/* TCP over IPv4 */
		if (alen < 12)
			return -1;
		memcpy(&port, b + 24, 2);
		set_in(ss, sslen, b + 16, port);
		break;
	case 0x21:			/* TCP over IPv6 */
		if (alen < 36)
			return -1;
		memcpy(&port, b + 48, 2);
		set_in6(ss, sslen, b + 16, port);
		break;
	case 0x00:			/* UNSPEC: nothing to say */
	case 0x31:			/* a unix stream: no address */
		break;
	default:
		return -1;		/* datagrams: not for HTTP */
	}
	return (ssize_t)total;
}

ssize_t
client_proxy_parse(const void *buf, size_t len, struct sockaddr_storage *ss,
    socklen_t *sslen)
{
	const unsigned char	*b = buf;
	size_t			 n = len < sizeof(v2_sig) ? len : sizeof(v2_sig);

	if (len == 0)
		return 0;
	if (memcmp(b, v2_sig, n) == 0)
		return n < sizeof(v2_sig) ? 0 : proxy_v2(b, len, ss, sslen);
	n = len < 6 ? len : 6;
	if (memcmp(b, "PROXY ", n) != 0)
		return -1;
	return n < 6 ? 0 : proxy_v1(buf, len, ss, sslen);
}

/* -- forwarded headers ---------------------------------------------------- */

/*
 * One entry: "192.0.2.1", "2001:db8::1", "[2001:db8::1]:4711" or
 * "192.0.2.1:4711" (some proxies add the port), quoted or not.
 */
static int
entry_addr(const char *s, size_t len, struct sockaddr_storage *ss)
{
	char		 host[INET6_ADDRSTRLEN];
	unsigned char	 a[16];
	const char	*end, *colon;
	socklen_t	 sslen;

	if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
		s++;
		len -= 2;
	}
	if (len > 0 && s[0] == '[') {
		if ((end = memchr(s, ']', len)) == NULL)
			return -1;
		s++;
		len = (size_t)(end - s);
	} else if ((colon = memchr(s, ':', len)) != NULL &&
	    memchr(colon + 1, ':', len - (size_t)(colon - s) - 1) == NULL)
		len = (size_t)(colon - s);	/* v4 with a port */
	if (len == 0 || len >= sizeof(host))
		return -1;
	memcpy(host, s, len);
	host[len] = '\0';
	if (inet_pton(AF_INET, host, a) == 1)
		set_in(ss, &sslen, a, 0);
	else if (inet_pton(AF_INET6, host, a) == 1)
		set_in6(ss, &sslen, a, 0);
	else
		return -1;
	return 0;
}

struct span {
	const char	*s;
	size_t		 len;
};

/*
 * Split values on ',' into trimmed entries, into a ring of max: the last
 * max stay (the walk starts from the right). Returns how many there were.
 */
static size_t
split(const char *const *values, size_t nvalues, struct span *ring,
    size_t max)
{
	const char	*p, *e;
	struct span	*sp;
	size_t		 i, n = 0;

	for (i = 0; i < nvalues; i++)
		for (p = values[i]; *p != '\0'; p = *e ? e + 1 : e) {
			if ((e = strchr(p, ',')) == NULL)
				e = p + strlen(p);
			while (p < e && (*p == ' ' || *p == '\t'))
				p++;
			sp = &ring[n++ % max];
			sp->s = p;
			sp->len = (size_t)(e - p);
			while (sp->len > 0 && (p[sp->len - 1] == ' ' ||
			    p[sp->len - 1] == '\t'))
				sp->len--;
		}
	return n;
}

/* The for= of one Forwarded element ("for=x;proto=https"), or len 0. */
static struct span
forwarded_for(struct span el)
{
	struct span	 r = { NULL, 0 };
	const char	*p = el.s, *end = el.s + el.len, *semi;

	while (p < end) {
		if ((semi = memchr(p, ';', (size_t)(end - p))) == NULL)
			semi = end;
		while (p < semi && (*p == ' ' || *p == '\t'))
			p++;
		if (semi - p > 4 && strncasecmp(p, "for=", 4) == 0) {
			r.s = p + 4;
			r.len = (size_t)(semi - p - 4);
			return r;
		}
		p = semi + 1;
	}
	return r;
}

int
client_forwarded(const char *const *xff, size_t nxff,
    const char *const *fwd, size_t nfwd,
    const struct client_cidr *trusted, size_t ntrusted,
    struct sockaddr_storage *ss)
{
	struct span		 e[FORWARDED_MAX], cur;
	struct sockaddr_storage	 a;
	size_t			 n, i;
	int			 found = 0, forwarded = nxff == 0;

	n = forwarded ? split(fwd, nfwd, e, FORWARDED_MAX) :
	    split(xff, nxff, e, FORWARDED_MAX);
	for (i = n; i-- > 0 && n - i <= FORWARDED_MAX; ) {
		cur = e[i % FORWARDED_MAX];
		if (forwarded)
			cur = forwarded_for(cur);
		if (cur.len == 0 || entry_addr(cur.s, cur.len, &a) == -1)
			break;
		*ss = a;
		found = 1;
		if (!client_cidr_match(trusted, ntrusted,
		    (struct sockaddr *)&a))
			break;		/* the first untrusted: the client */
	}
	return found;
}
