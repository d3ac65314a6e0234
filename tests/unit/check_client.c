/*
 * check_client.c - src/client.c: trusted_proxies blocks, PROXY protocol
 * v1 and v2 headers (whole, cut at every byte, malformed), and the walk
 * of X-Forwarded-For and Forwarded from the right.
 */
#include "autoconfig.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "client.h"
#include "listener.h"

static struct sockaddr_storage
addr(const char *host)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else {
		ck_assert_int_eq(inet_pton(AF_INET6, host, &sin6->sin6_addr), 1);
		sin6->sin6_family = AF_INET6;
	}
	return ss;
}

static const char *
text(const struct sockaddr_storage *ss)
{
	static char	 buf[64];

	return listener_format_host((const struct sockaddr *)ss, buf,
	    sizeof(buf));
}

START_TEST(test_cidr)
{
	struct client_cidr	 c[4];
	struct sockaddr_storage	 a;
	char			 err[128];

	ck_assert_int_eq(client_cidr_parse("10.0.0.0/8", &c[0], err,
	    sizeof(err)), 0);
	ck_assert_int_eq(client_cidr_parse("192.0.2.7", &c[1], err,
	    sizeof(err)), 0);
	ck_assert_int_eq(client_cidr_parse("2001:db8::/33", &c[2], err,
	    sizeof(err)), 0);
	ck_assert_int_eq(client_cidr_parse("10.1.2.3/31", &c[3], err,
	    sizeof(err)), 0);
	a = addr("10.200.1.1");
	ck_assert(client_cidr_match(c, 1, (struct sockaddr *)&a));
	a = addr("11.0.0.1");
	ck_assert(!client_cidr_match(c, 2, (struct sockaddr *)&a));
	a = addr("192.0.2.7");
	ck_assert(client_cidr_match(c, 2, (struct sockaddr *)&a));
	a = addr("192.0.2.8");
	ck_assert(!client_cidr_match(c, 2, (struct sockaddr *)&a));
	a = addr("2001:db8:7fff::1");
	ck_assert(client_cidr_match(c, 3, (struct sockaddr *)&a));
	a = addr("2001:db8:8000::1");		/* bit 33 set */
	ck_assert(!client_cidr_match(c, 3, (struct sockaddr *)&a));
	a = addr("10.1.2.2");			/* /31: .2 and .3 */
	ck_assert(client_cidr_match(&c[3], 1, (struct sockaddr *)&a));
	a = addr("10.1.2.4");
	ck_assert(!client_cidr_match(&c[3], 1, (struct sockaddr *)&a));
	/* A v4 block never matches a v6 address, whatever the bytes. */
	a = addr("::a00:1");
	ck_assert(!client_cidr_match(c, 1, (struct sockaddr *)&a));

	ck_assert_int_eq(client_cidr_parse("10.0.0.0/33", &c[0], err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "prefix length must be 0 to 32");
	ck_assert_int_eq(client_cidr_parse("10.0.0.0/", &c[0], err,
	    sizeof(err)), -1);
	ck_assert_int_eq(client_cidr_parse("10.0.0.0/+8", &c[0], err,
	    sizeof(err)), -1);
	ck_assert_int_eq(client_cidr_parse("example.com", &c[0], err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "\"example.com\" is not a numeric IPv4 or IPv6 "
	    "address (or \"unix\")");
	ck_assert_int_eq(client_cidr_parse("unix", &c[0], err, sizeof(err)), 0);
	ck_assert_int_eq(c[0].family, AF_UNIX);
}
END_TEST

static const char	v1[] = "PROXY TCP4 203.0.113.7 10.0.0.1 5555 80\r\n";

/* Every cut of a valid header asks for more; the whole one parses. */
START_TEST(test_proxy_v1)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 buf[256];
	size_t			 i, n = strlen(v1);

	for (i = 0; i < n; i++)
		ck_assert_msg(client_proxy_parse(v1, i, &ss, &sslen) == 0,
		    "cut at %zu", i);
	(void)snprintf(buf, sizeof(buf), "%sGET / HTTP/1.1\r\n", v1);
	ck_assert_int_eq(client_proxy_parse(buf, strlen(buf), &ss, &sslen),
	    (ssize_t)n);
	ck_assert_str_eq(text(&ss), "203.0.113.7");
	ck_assert_int_eq(ntohs(((struct sockaddr_in *)&ss)->sin_port), 5555);

	(void)snprintf(buf, sizeof(buf), "PROXY TCP6 2001:db8::1 ::1 1 443\r\n");
	ck_assert_int_eq(client_proxy_parse(buf, strlen(buf), &ss, &sslen),
	    (ssize_t)strlen(buf));
	ck_assert_str_eq(text(&ss), "2001:db8::1");
	(void)snprintf(buf, sizeof(buf), "PROXY UNKNOWN whatever\r\n");
	ck_assert_int_eq(client_proxy_parse(buf, strlen(buf), &ss, &sslen),
	    (ssize_t)strlen(buf));
	ck_assert_int_eq(ss.ss_family, AF_UNSPEC);
}
END_TEST

START_TEST(test_proxy_v1_bad)
{
	static const char *const bad[] = {
		"GET / HTTP/1.1\r\n",		/* no header at all */
		"PROXY TCP4 203.0.113.7 10.0.0.1 5555 80\n",	/* no CR */
		"PROXY TCP5 203.0.113.7 10.0.0.1 5555 80\r\n",
		"PROXY TCP4 203.0.113.7 10.0.0.1 5555\r\n",
		"PROXY TCP4 203.0.113.7 10.0.0.1 5555 80 9\r\n",
		"PROXY TCP4 2001:db8::1 10.0.0.1 5555 80\r\n",
		"PROXY TCP4 203.0.113.7 10.0.0.1 65536 80\r\n",
		"PROXY TCP4 203.0.113.7 10.0.0.1 055 80\r\n",
		"PROXY TCP4  203.0.113.7 10.0.0.1 5555 80\r\n",
		"PROXY TCP4 203.0.113.7 10.0.0.1 5555 80 \r\n",
		"PROXY TCP4 203.0.113.7\t10.0.0.1 5555 80\r\n",
		"proxy TCP4 203.0.113.7 10.0.0.1 5555 80\r\n",
	};
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 longline[200];
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(client_proxy_parse(bad[i], strlen(bad[i]), &ss,
		    &sslen) == -1, "accepted %s", bad[i]);
	/* No end of line within 107 bytes: not a header. */
	memset(longline, 'x', sizeof(longline));
	memcpy(longline, "PROXY TCP4 ", 11);
	ck_assert_int_eq(client_proxy_parse(longline, sizeof(longline), &ss,
	    &sslen), -1);
}
END_TEST

static const unsigned char	sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* A v2 header: version/command, family, the address block, n TLV bytes. */
static size_t
v2(unsigned char *b, unsigned vc, unsigned fam, const void *addrs,
    size_t alen, size_t tlv)
{
	memcpy(b, sig, 12);
	b[12] = (unsigned char)vc;
	b[13] = (unsigned char)fam;
	b[14] = (unsigned char)((alen + tlv) >> 8);
	b[15] = (unsigned char)(alen + tlv);
	memcpy(b + 16, addrs, alen);
	memset(b + 16 + alen, 0x04, tlv);	/* a NOOP TLV's bytes */
	return 16 + alen + tlv;
}

START_TEST(test_proxy_v2)
{
	unsigned char		 b[2048], a4[12], a6[36];
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	uint16_t		 port = htons(4242);
	size_t			 n, i;

	(void)inet_pton(AF_INET, "198.51.100.9", a4);
	(void)inet_pton(AF_INET, "10.0.0.1", a4 + 4);
	memcpy(a4 + 8, &port, 2);
	memcpy(a4 + 10, &port, 2);
	n = v2(b, 0x21, 0x11, a4, sizeof(a4), 5);
	for (i = 0; i < n; i++)
		ck_assert_msg(client_proxy_parse(b, i, &ss, &sslen) == 0,
		    "cut at %zu", i);
	ck_assert_int_eq(client_proxy_parse(b, n, &ss, &sslen), (ssize_t)n);
	ck_assert_str_eq(text(&ss), "198.51.100.9");
	ck_assert_int_eq(ntohs(((struct sockaddr_in *)&ss)->sin_port), 4242);

	(void)inet_pton(AF_INET6, "2001:db8::42", a6);
	(void)inet_pton(AF_INET6, "::1", a6 + 16);
	memcpy(a6 + 32, &port, 2);
	memcpy(a6 + 34, &port, 2);
	n = v2(b, 0x21, 0x21, a6, sizeof(a6), 0);
	ck_assert_int_eq(client_proxy_parse(b, n, &ss, &sslen), (ssize_t)n);
	ck_assert_str_eq(text(&ss), "2001:db8::42");

	/* LOCAL (a health check of the balancer's own): nobody's address. */
	n = v2(b, 0x20, 0x00, a4, 0, 0);
	ck_assert_int_eq(client_proxy_parse(b, n, &ss, &sslen), (ssize_t)n);
	ck_assert_int_eq(ss.ss_family, AF_UNSPEC);

	/* Refused: another version, a command > 1, UDP, short addresses. */
	n = v2(b, 0x11, 0x11, a4, sizeof(a4), 0);
	ck_assert_int_eq(client_proxy_parse(b, n, &ss, &sslen), -1);
	n = v2(b, 0x22, 0x11, a4, sizeof(a4), 0);
	ck_assert_int_eq(client_proxy_parse(b, n, &ss, &sslen), -1);
	n = v2(b, 0x21, 0x12, a4, sizeof(a4), 0);
	ck_assert_int_eq(client_proxy_parse(b, n, &ss, &sslen), -1);
	n = v2(b, 0x21, 0x11, a4, 8, 0);
	ck_assert_int_eq(client_proxy_parse(b, n, &ss, &sslen), -1);
	/* Longer than CLIENT_PROXY_MAX: refused before it is all read. */
	n = v2(b, 0x21, 0x11, a4, sizeof(a4), CLIENT_PROXY_MAX);
	ck_assert_int_eq(client_proxy_parse(b, 16, &ss, &sslen), -1);
	/* A wrong signature byte. */
	n = v2(b, 0x21, 0x11, a4, sizeof(a4), 0);
	b[5] ^= 1;
	ck_assert_int_eq(client_proxy_parse(b, n, &ss, &sslen), -1);
}
END_TEST

/* forwarded(XFF, FWD, TRUSTED...): the address it names, or "-". */
static const char *
forwarded(const char *xff, const char *fwd, const char *t1, const char *t2)
{
	struct client_cidr	 c[2];
	struct sockaddr_storage	 ss;
	const char		*x[1] = { xff }, *f[1] = { fwd };
	char			 err[64];
	size_t			 n = 0;

	if (t1 != NULL)
		ck_assert_int_eq(client_cidr_parse(t1, &c[n++], err,
		    sizeof(err)), 0);
	if (t2 != NULL)
		ck_assert_int_eq(client_cidr_parse(t2, &c[n++], err,
		    sizeof(err)), 0);
	if (!client_forwarded(x, xff != NULL, f, fwd != NULL, c, n, &ss))
		return "-";
	return text(&ss);
}

START_TEST(test_forwarded)
{
	/* Each proxy appends its peer: believe from the right. */
	ck_assert_str_eq(forwarded("198.51.100.1", NULL, "10.0.0.0/8", NULL),
	    "198.51.100.1");
	ck_assert_str_eq(forwarded("6.6.6.6, 198.51.100.1, 10.0.0.5", NULL,
	    "10.0.0.0/8", NULL), "198.51.100.1");
	/* All trusted: the leftmost. */
	ck_assert_str_eq(forwarded("10.0.0.9, 10.0.0.5", NULL, "10.0.0.0/8",
	    NULL), "10.0.0.9");
	/* Garbage stops the walk at the last address found. */
	ck_assert_str_eq(forwarded("6.6.6.6, unknown, 10.0.0.5", NULL,
	    "10.0.0.0/8", NULL), "10.0.0.5");
	ck_assert_str_eq(forwarded("nonsense", NULL, "10.0.0.0/8", NULL), "-");
	ck_assert_str_eq(forwarded("", NULL, "10.0.0.0/8", NULL), "-");
	/* Ports and brackets some proxies add. */
	ck_assert_str_eq(forwarded("198.51.100.1:4711", NULL, "10.0.0.0/8",
	    NULL), "198.51.100.1");
	ck_assert_str_eq(forwarded("[2001:db8::1]:4711", NULL, "10.0.0.0/8",
	    NULL), "2001:db8::1");
	ck_assert_str_eq(forwarded("2001:db8::2", NULL, "10.0.0.0/8", NULL),
	    "2001:db8::2");
	/* RFC 7239, only without X-Forwarded-For. */
	ck_assert_str_eq(forwarded(NULL, "for=192.0.2.60;proto=http;by=x, "
	    "For=\"[2001:db8:cafe::17]:4711\"", "10.0.0.0/8", NULL),
	    "2001:db8:cafe::17");
	ck_assert_str_eq(forwarded(NULL, "for=192.0.2.60, for=10.0.0.3",
	    "10.0.0.0/8", NULL), "192.0.2.60");
	ck_assert_str_eq(forwarded(NULL, "for=_hidden, for=10.0.0.3",
	    "10.0.0.0/8", NULL), "10.0.0.3");
	ck_assert_str_eq(forwarded(NULL, "proto=https", "10.0.0.0/8", NULL),
	    "-");
}
END_TEST

/* A hostile header with more entries than are walked stays bounded. */
START_TEST(test_forwarded_many)
{
	static char	 big[8192];
	size_t		 n = 0;

	while (n + 32 < sizeof(big))
		n += (size_t)snprintf(big + n, sizeof(big) - n, "6.6.6.6, ");
	(void)snprintf(big + n, sizeof(big) - n, "198.51.100.1");
	ck_assert_str_eq(forwarded(big, NULL, "10.0.0.0/8", NULL),
	    "198.51.100.1");
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("client");
	TCase	*tc = tcase_create("client");

	tcase_add_test(tc, test_cidr);
	tcase_add_test(tc, test_proxy_v1);
	tcase_add_test(tc, test_proxy_v1_bad);
	tcase_add_test(tc, test_proxy_v2);
	tcase_add_test(tc, test_forwarded);
	tcase_add_test(tc, test_forwarded_many);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
