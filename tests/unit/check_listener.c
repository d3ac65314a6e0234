/*
 * check_listener.c - unit tests for listener.c.
 *
 * Parsing is table-driven, and each bad input pins its whole message:
 * an operator reads these at startup, so a vaguer wording is a
 * regression. The bind tests use loopback only and ask the kernel for a
 * free port instead of guessing one.
 */
#include "autoconfig.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>

#include "unit.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listener.h"
#include "sockets.h"
#include "stats.h"

#define NELEMS(a)	(sizeof(a) / sizeof((a)[0]))

static const struct good {
	const char	*text;
	int		 family;
	const char	*addr;		/* as inet_ntop() writes it */
	unsigned	 port;
	const char	*formatted;	/* listener_format() of the result */
} goods[] = {
	{ "127.0.0.1:8080", AF_INET, "127.0.0.1", 8080, "127.0.0.1:8080" },
	{ "*:80", AF_INET, "0.0.0.0", 80, "0.0.0.0:80" },
	{ "0.0.0.0:1", AF_INET, "0.0.0.0", 1, "0.0.0.0:1" },
	{ "255.255.255.255:65535", AF_INET, "255.255.255.255", 65535,
	    "255.255.255.255:65535" },
	{ "10.1.2.3:443", AF_INET, "10.1.2.3", 443, "10.1.2.3:443" },
	/* Leading zeros are still decimal digits, not junk. */
	{ "127.0.0.1:08080", AF_INET, "127.0.0.1", 8080, "127.0.0.1:8080" },
	{ "[::1]:8080", AF_INET6, "::1", 8080, "[::1]:8080" },
	{ "[::]:8080", AF_INET6, "::", 8080, "[::]:8080" },
	{ "[2001:db8::1]:443", AF_INET6, "2001:db8::1", 443,
	    "[2001:db8::1]:443" },
	{ "[0:0:0:0:0:0:0:1]:80", AF_INET6, "::1", 80, "[::1]:80" },
	{ "[2001:DB8:0:0:1::1]:65535", AF_INET6, "2001:db8::1:0:0:1", 65535,
	    "[2001:db8::1:0:0:1]:65535" },
	{ "[::ffff:127.0.0.1]:1", AF_INET6, "::ffff:127.0.0.1", 1,
	    "[::ffff:127.0.0.1]:1" },
};

static const struct bad {
	const char	*text;
	const char	*err;
} bads[] = {
	{ "", "missing \":PORT\" in \"\"" },
	{ "127.0.0.1", "missing \":PORT\" in \"127.0.0.1\"" },
	{ "8080", "missing \":PORT\" in \"8080\"" },
	{ "*", "missing \":PORT\" in \"*\"" },
	{ "127.0.0.1:", "missing port after \":\"" },
	{ "127.0.0.1:0", "port \"0\" is out of range 1..65535" },
	{ "127.0.0.1:00", "port \"00\" is out of range 1..65535" },
	{ "127.0.0.1:65536", "port \"65536\" is out of range 1..65535" },
	{ "127.0.0.1:99999999999999999999999",
	    "port \"99999999999999999999999\" is out of range 1..65535" },
	{ "127.0.0.1:+80", "port \"+80\" is not a decimal number" },
	{ "127.0.0.1:-1", "port \"-1\" is not a decimal number" },
	{ "127.0.0.1: 80", "port \" 80\" is not a decimal number" },
	{ "127.0.0.1:80 ", "port \"80 \" is not a decimal number" },
	{ "127.0.0.1:80x", "port \"80x\" is not a decimal number" },
	{ "127.0.0.1:0x50", "port \"0x50\" is not a decimal number" },
	{ "127.0.0.1:http", "port \"http\" is not a decimal number" },
	{ "*:*", "port \"*\" is not a decimal number" },
	{ "localhost:8080", "host \"localhost\" is not a numeric IPv4 "
	    "address, [IPv6 address] or *" },
	{ " 127.0.0.1:80", "host \" 127.0.0.1\" is not a numeric IPv4 "
	    "address, [IPv6 address] or *" },
	{ "1.2.3:80", "host \"1.2.3\" is not a numeric IPv4 address, "
	    "[IPv6 address] or *" },
	{ "256.1.1.1:80", "host \"256.1.1.1\" is not a numeric IPv4 "
	    "address, [IPv6 address] or *" },
	{ "**:80", "host \"**\" is not a numeric IPv4 address, "
	    "[IPv6 address] or *" },
	{ ":8080", "missing host before \":8080\" (\"*\" means every IPv4 "
	    "address)" },
	{ "::1:8080", "IPv6 address must be in brackets: \"[::1]:8080\"" },
	{ "::8080", "IPv6 address must be in brackets: \"[:]:8080\"" },
	{ "[::1]", "missing \":PORT\" after \"[::1]\"" },
	{ "[::1]8080", "expected \":PORT\" after \"[::1]\"" },
	{ "[::1]]:80", "expected \":PORT\" after \"[::1]\"" },
	{ "[::1:8080", "missing \"]\" after IPv6 address in \"[::1:8080\"" },
	{ "[]:80", "host \"[]\" is not a numeric IPv6 address" },
	{ "[*]:80", "host \"[*]\" is not a numeric IPv6 address" },
	{ "[127.0.0.1]:80", "host \"[127.0.0.1]\" is not a numeric IPv6 "
	    "address" },
	{ "[fe80::1%lo]:80", "host \"[fe80::1%lo]\" is not a numeric IPv6 "
	    "address" },
	{ "[::1]:0", "port \"0\" is out of range 1..65535" },
	{ "[::1]:", "missing port after \":\"" },
	{ "[::1]:80:80", "port \"80:80\" is not a decimal number" },
};

static unsigned
sa_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)ss)
		    ->sin_port);
	return ntohs(((const struct sockaddr_in6 *)(const void *)ss)
	    ->sin6_port);
}

static const char *
sa_addr(const struct sockaddr_storage *ss, char *buf, size_t bufsize)
{
	const void	*a;

	if (ss->ss_family == AF_INET)
		a = &((const struct sockaddr_in *)(const void *)ss)->sin_addr;
	else
		a = &((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr;
	ck_assert_ptr_nonnull(inet_ntop(ss->ss_family, a, buf,
	    (socklen_t)bufsize));
	return buf;
}

START_TEST(test_parse_good)
{
	const struct good	*g = &goods[_i];
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = 0;
	char			 err[256] = "", buf[INET6_ADDRSTRLEN];

	ck_assert_msg(listener_parse(g->text, &ss, &sslen, err,
	    sizeof(err)) == 0, "%s: %s", g->text, err);
	ck_assert_int_eq(ss.ss_family, g->family);
	ck_assert_uint_eq(sslen, g->family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	ck_assert_str_eq(sa_addr(&ss, buf, sizeof(buf)), g->addr);
	ck_assert_uint_eq(sa_port(&ss), g->port);
}
END_TEST

START_TEST(test_parse_bad)
{
	const struct bad	*b = &bads[_i];
	struct sockaddr_storage	 ss, poison;
	socklen_t		 sslen = 1234;
	char			 err[256] = "";

	memset(&ss, 0xa5, sizeof(ss));
	poison = ss;
	ck_assert_msg(listener_parse(b->text, &ss, &sslen, err,
	    sizeof(err)) == -1, "\"%s\" parsed", b->text);
	ck_assert_str_eq(err, b->err);
	/* A failure leaves the caller's storage alone. */
	ck_assert_uint_eq(sslen, 1234);
	ck_assert_int_eq(memcmp(&ss, &poison, sizeof(ss)), 0);
}
END_TEST

START_TEST(test_parse_err_buffer)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 err[8], longtext[512];

	/* err may be absent or tiny; the message is cut, not overrun. */
	ck_assert_int_eq(listener_parse("x:1", &ss, &sslen, NULL, 0), -1);
	memset(err, 'Z', sizeof(err));
	ck_assert_int_eq(listener_parse("x:1", &ss, &sslen, err, 0), -1);
	ck_assert_int_eq(err[0], 'Z');
	ck_assert_int_eq(listener_parse("x:1", &ss, &sslen, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "host \"x");

	/* Overlong hosts are refused, not copied past a buffer. */
	memset(longtext, '1', sizeof(longtext));
	memcpy(longtext + sizeof(longtext) - 4, ":80", 4);
	ck_assert_int_eq(listener_parse(longtext, &ss, &sslen, NULL, 0), -1);
	longtext[0] = '[';
	memcpy(longtext + sizeof(longtext) - 5, "]:80", 5);
	ck_assert_int_eq(listener_parse(longtext, &ss, &sslen, NULL, 0), -1);
}
END_TEST

START_TEST(test_format_roundtrip)
{
	const struct good	*g = &goods[_i];
	struct sockaddr_storage	 ss, ss2;
	socklen_t		 sslen, sslen2;
	char			 buf[64], err[256] = "";

	ck_assert_int_eq(listener_parse(g->text, &ss, &sslen, err,
	    sizeof(err)), 0);
	ck_assert_ptr_eq(listener_format((struct sockaddr *)&ss, buf,
	    sizeof(buf)), buf);
	ck_assert_str_eq(buf, g->formatted);

	/* What format writes, parse reads back to the same address. */
	ck_assert_msg(listener_parse(buf, &ss2, &sslen2, err,
	    sizeof(err)) == 0, "%s: %s", buf, err);
	ck_assert_uint_eq(sslen2, sslen);
	ck_assert_int_eq(memcmp(&ss, &ss2, sslen), 0);
}
END_TEST

START_TEST(test_format_edges)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 buf[64];

	ck_assert_int_eq(listener_parse("127.0.0.1:8080", &ss, &sslen, NULL,
	    0), 0);
	listener_format((struct sockaddr *)&ss, buf, 5);
	ck_assert_str_eq(buf, "127.");
	buf[0] = 'Z';
	listener_format((struct sockaddr *)&ss, buf, 0);
	ck_assert_int_eq(buf[0], 'Z');

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_APPLETALK;
	listener_format((struct sockaddr *)&ss, buf, sizeof(buf));
	ck_assert_str_eq(buf, "(address family 5)");
}
END_TEST

/* -- the peer's host: a dotted quad by hand, inet_ntop() for IPv6 ------ */

static struct sockaddr_storage
sin_of(uint32_t addr, unsigned port)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)(void *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(addr);
	sin->sin_port = htons((in_port_t)port);
	return ss;
}

static struct sockaddr_storage
sin6_of(const char *text, unsigned port)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)(void *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin6->sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, text, &sin6->sin6_addr), 1);
	sin6->sin6_port = htons((in_port_t)port);
	return ss;
}

static const struct host4 {
	uint32_t	 addr;
	unsigned	 port;
	const char	*host;		/* listener_format_host() */
	const char	*formatted;	/* listener_format() */
} hosts4[] = {
	{ 0x00000000, 0, "0.0.0.0", "0.0.0.0:0" },
	{ 0xffffffff, 65535, "255.255.255.255", "255.255.255.255:65535" },
	{ 0x0a000001, 80, "10.0.0.1", "10.0.0.1:80" },
	{ 0x7f000002, 8080, "127.0.0.2", "127.0.0.2:8080" },
	{ 0x01168504, 1, "1.22.133.4", "1.22.133.4:1" },
	{ 0xc8630a00, 443, "200.99.10.0", "200.99.10.0:443" },
	{ 0x09636465, 9, "9.99.100.101", "9.99.100.101:9" },
	{ 0x640a0100, 10, "100.10.1.0", "100.10.1.0:10" },
};

/* Each digit count in each octet, with and without the port. */
START_TEST(test_format_host_ipv4)
{
	const struct host4	*h = &hosts4[_i];
	struct sockaddr_storage	 ss = sin_of(h->addr, h->port);
	char			 buf[64];

	memset(buf, 'Z', sizeof(buf));
	ck_assert_ptr_eq(listener_format_host((struct sockaddr *)&ss, buf,
	    sizeof(buf)), buf);
	ck_assert_str_eq(buf, h->host);
	/* Exactly INET_ADDRSTRLEN is room enough for the longest. */
	ck_assert_str_eq(listener_format_host((struct sockaddr *)&ss, buf,
	    INET_ADDRSTRLEN), h->host);
	ck_assert_str_eq(listener_format((struct sockaddr *)&ss, buf,
	    sizeof(buf)), h->formatted);
}
END_TEST

/* Too small a buffer cuts the text as snprintf() would; 0 leaves it. */
START_TEST(test_format_host_small)
{
	struct sockaddr_storage	 ss = sin_of(0xffffffff, 80);
	char			 buf[64];

	ck_assert_str_eq(listener_format_host((struct sockaddr *)&ss, buf,
	    INET_ADDRSTRLEN - 1), "255.255.255.25");
	ck_assert_str_eq(listener_format_host((struct sockaddr *)&ss, buf, 5),
	    "255.");
	ck_assert_str_eq(listener_format_host((struct sockaddr *)&ss, buf, 1),
	    "");
	buf[0] = 'Z';
	ck_assert_ptr_eq(listener_format_host((struct sockaddr *)&ss, buf, 0),
	    buf);
	ck_assert_int_eq(buf[0], 'Z');
	ss = sin_of(0x0a000001, 80);
	ck_assert_str_eq(listener_format_host((struct sockaddr *)&ss, buf, 8),
	    "10.0.0.");
	ck_assert_str_eq(listener_format((struct sockaddr *)&ss, buf, 10),
	    "10.0.0.1:");

	ss = sin6_of("2001:db8::1", 443);
	ck_assert_str_eq(listener_format_host((struct sockaddr *)&ss, buf, 6),
	    "2001:");
	ck_assert_str_eq(listener_format((struct sockaddr *)&ss, buf, 6),
	    "[2001");

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_APPLETALK;
	ck_assert_str_eq(listener_format_host((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "-");
	ck_assert_str_eq(listener_format_host((struct sockaddr *)&ss, buf, 1),
	    "");
}
END_TEST

/* IPv6 as inet_ntop() writes it, mapped IPv4 included; brackets with a port. */
START_TEST(test_format_host_ipv6)
{
	static const char	*texts[] = { "::", "::1", "2001:db8::1",
	    "fe80::1:2:3:4", "2001:db8:0:0:1::1", "::ffff:10.0.0.1",
	    "::ffff:0.0.0.0", "::ffff:255.255.255.255", "::10.0.0.1",
	    "1:2:3:4:5:6:7:8" };
	static const char	*hosts[] = { "::", "::1", "2001:db8::1",
	    "fe80::1:2:3:4", "2001:db8::1:0:0:1", "::ffff:10.0.0.1",
	    "::ffff:0.0.0.0", "::ffff:255.255.255.255", "::10.0.0.1",
	    "1:2:3:4:5:6:7:8" };
	struct sockaddr_storage	 ss;
	char			 buf[64], want[64];
	size_t			 i;

	for (i = 0; i < NELEMS(texts); i++) {
		ss = sin6_of(texts[i], 8080);
		ck_assert_str_eq(listener_format_host((struct sockaddr *)&ss,
		    buf, sizeof(buf)), hosts[i]);
		(void)snprintf(want, sizeof(want), "[%s]:8080", hosts[i]);
		ck_assert_str_eq(listener_format((struct sockaddr *)&ss, buf,
		    sizeof(buf)), want);
	}
}
END_TEST

/*
 * Against inet_ntop() itself: every octet value in every position, then
 * pseudo-random addresses (a fixed LCG, so a failure repeats), so the
 * hand-written formatter cannot drift from what the log always showed.
 */
START_TEST(test_format_host_sweep)
{
	struct sockaddr_storage	 ss;
	struct in_addr		 in;
	char			 buf[64], want[64], host[INET_ADDRSTRLEN];
	uint32_t		 a, x = 12345;
	unsigned		 i, shift;

	for (i = 0; i < 4 * 256 + 5000; i++) {
		if (i < 4 * 256) {
			shift = 8 * (i / 256);
			a = 0x01020304U & ~(0xffU << shift);
			a |= (i % 256) << shift;
		} else {
			x = x * 1103515245U + 12345U;
			a = x;
			/* Small octets too: random ones are mostly 3 digits. */
			if (i % 3 == 0)
				a &= 0x3f0f3f0fU;
		}
		ss = sin_of(a, i % 65536);
		in.s_addr = htonl(a);
		ck_assert_ptr_nonnull(inet_ntop(AF_INET, &in, host,
		    sizeof(host)));
		ck_assert_msg(strcmp(listener_format_host((struct sockaddr *)
		    &ss, buf, sizeof(buf)), host) == 0, "%08x: got %s, want %s",
		    a, buf, host);
		(void)snprintf(want, sizeof(want), "%s:%u", host, i % 65536);
		ck_assert_str_eq(listener_format((struct sockaddr *)&ss, buf,
		    sizeof(buf)), want);
	}
}
END_TEST

/* "unix:/path": absolute, short enough, and shown back as written. */
START_TEST(test_unix)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 buf[160], err[128], lng[200];

	ck_assert_int_eq(listener_parse("unix:/run/switchyard/http.sock", &ss,
	    &sslen, err, sizeof(err)), 0);
	ck_assert_int_eq(ss.ss_family, AF_UNIX);
	ck_assert_str_eq(listener_format((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "unix:/run/switchyard/http.sock");
	ck_assert_str_eq(listener_format_host((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "unix:");
	ck_assert_int_eq(listener_parse("unix:http.sock", &ss, &sslen, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "a unix socket path must be absolute: "
	    "\"unix:http.sock\"");
	memset(lng, 'a', sizeof(lng));
	memcpy(lng, "unix:/", 6);
	lng[sizeof(lng) - 1] = '\0';
	ck_assert_int_eq(listener_parse(lng, &ss, &sslen, err, sizeof(err)),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "unix socket path longer than 107"));
}
END_TEST

/*
 * listener_in_use: a TCP address someone listens on (reuseport or not),
 * free once closed; a unix socket file nobody answers on is removed, one
 * that answers is in use, a regular file is left alone.
 */
START_TEST(test_in_use)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	 sin;
	socklen_t		 sslen, len = sizeof(sin);
	char			 text[128], path[64];
	pid_t			 holder;
	int			 fd, fd2;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);	/* port 0: any */
	ck_assert_int_ne(fd = listener_bind((struct sockaddr *)&sin,
	    sizeof(sin), 8), -1);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	(void)snprintf(text, sizeof(text), "127.0.0.1:%u",
	    ntohs(sin.sin_port));
	ck_assert_int_eq(listener_parse(text, &ss, &sslen, NULL, 0), 0);
	ck_assert_int_eq(listener_in_use((struct sockaddr *)&ss, sslen,
	    &holder), 1);
	ck_assert_int_eq(holder, 0);	/* only this process holds it */
	(void)close(fd);
	ck_assert_int_eq(listener_in_use((struct sockaddr *)&ss, sslen,
	    &holder), 0);

	(void)snprintf(path, sizeof(path), "/tmp/check_listener.%ld.sock",
	    (long)getpid());
	(void)snprintf(text, sizeof(text), "unix:%s", path);
	ck_assert_int_eq(listener_parse(text, &ss, &sslen, NULL, 0), 0);
	(void)unlink(path);
	ck_assert_int_eq(listener_in_use((struct sockaddr *)&ss, sslen,
	    &holder), 0);
	ck_assert_int_ne(fd = listener_bind((struct sockaddr *)&ss, sslen, 8),
	    -1);
	ck_assert_int_eq(listener_in_use((struct sockaddr *)&ss, sslen,
	    &holder), 1);
	(void)close(fd);		/* the file stays: stale */
	ck_assert_int_eq(access(path, F_OK), 0);
	ck_assert_int_eq(listener_in_use((struct sockaddr *)&ss, sslen,
	    &holder), 0);
	ck_assert_int_eq(access(path, F_OK), -1);	/* removed */
	ck_assert_int_ne(fd2 = open(path, O_CREAT | O_WRONLY, 0600), -1);
	(void)close(fd2);
	ck_assert_int_eq(listener_in_use((struct sockaddr *)&ss, sslen,
	    &holder), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(access(path, F_OK), 0);	/* not ours to remove */
	(void)unlink(path);
}
END_TEST

/* The fd the next socket() will get: proves a failure leaked nothing. */
static int
next_fd(void)
{
	int	 fd;

	ck_assert_int_ge(fd = socket(AF_INET, SOCK_STREAM, 0), 0);
	ck_assert_int_eq(close(fd), 0);
	return fd;
}

static int
sockopt(int fd, int level, int name)
{
	int		 v = -1;
	socklen_t	 len = sizeof(v);

	ck_assert_int_eq(getsockopt(fd, level, name, &v, &len), 0);
	return v;
}

/* Everything listener.h promises about a socket it returns. */
static void
assert_listener(int fd, int family)
{
	ck_assert_int_ge(fd, 0);
	ck_assert_int_ne(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	ck_assert_int_ne(sockopt(fd, SOL_SOCKET, SO_REUSEADDR), 0);
	ck_assert_int_ne(sockopt(fd, SOL_SOCKET, SO_REUSEPORT), 0);
	ck_assert_int_ne(sockopt(fd, SOL_SOCKET, SO_ACCEPTCONN), 0);
	ck_assert_int_eq(sockopt(fd, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
	if (family == AF_INET6)
		ck_assert_int_eq(sockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY), 1);
}

static unsigned
bound_port(int fd, struct sockaddr_storage *ss, socklen_t *sslen)
{
	*sslen = sizeof(*ss);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)ss, sslen), 0);
	return sa_port(ss);
}

static void
set_port(struct sockaddr_storage *ss, unsigned port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)(void *)ss)->sin_port =
		    htons((in_port_t)port);
	else
		((struct sockaddr_in6 *)(void *)ss)->sin6_port =
		    htons((in_port_t)port);
}

/*
 * Bind text with port 0, then a second socket on the port the kernel
 * chose; both must succeed (one per worker slot) and a client connecting
 * must land on one of them.
 */
static void
check_reuseport(const char *text)
{
	struct sockaddr_storage	 ss, got;
	socklen_t		 sslen, gotlen;
	struct pollfd		 pfd[2];
	char			 buf[64], want[64];
	unsigned		 port;
	int			 fd1, fd2, c, a, i;

	/* listener_parse() refuses port 0, rightly; patch it in after. */
	ck_assert_int_eq(listener_parse(text, &ss, &sslen, NULL, 0), 0);
	set_port(&ss, 0);
	fd1 = listener_bind((struct sockaddr *)&ss, sslen, 16);
	ck_assert_msg(fd1 >= 0, "bind %s: %s", text, strerror(errno));
	assert_listener(fd1, ss.ss_family);
	port = bound_port(fd1, &got, &gotlen);
	ck_assert_uint_gt(port, 0);
	set_port(&ss, port);

	fd2 = listener_bind((struct sockaddr *)&ss, sslen, 16);
	ck_assert_msg(fd2 >= 0, "second bind %s port %u: %s", text, port,
	    strerror(errno));
	assert_listener(fd2, ss.ss_family);
	ck_assert_uint_eq(bound_port(fd2, &got, &gotlen), port);
	listener_format((struct sockaddr *)&got, buf, sizeof(buf));
	listener_format((struct sockaddr *)&ss, want, sizeof(want));
	ck_assert_str_eq(buf, want);

	/* Loopback connect() completes from the backlog, no accept needed. */
	ck_assert_int_ge(c = socket(ss.ss_family, SOCK_STREAM, 0), 0);
	ck_assert_msg(connect(c, (struct sockaddr *)&ss, sslen) == 0,
	    "connect %s: %s", want, strerror(errno));
	pfd[0].fd = fd1;
	pfd[1].fd = fd2;
	pfd[0].events = pfd[1].events = POLLIN;
	ck_assert_int_eq(poll(pfd, 2, 5000), 1);
	i = (pfd[0].revents & POLLIN) ? 0 : 1;
	ck_assert_int_ge(a = accept(pfd[i].fd, NULL, NULL), 0);

	(void)close(a);
	(void)close(c);
	(void)close(fd2);
	(void)close(fd1);
}

START_TEST(test_bind_reuseport_ipv4)
{
	check_reuseport("127.0.0.1:1");
}
END_TEST

START_TEST(test_bind_reuseport_ipv6)
{
	struct sockaddr_in6	 sin6;
	int			 fd;

	/*
	 * Containers and CI hosts may run without IPv6: find out with a
	 * plain socket so a listener_bind() bug cannot pass as a skip.
	 */
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_loopback;
	if ((fd = socket(AF_INET6, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == -1) {
		fprintf(stderr, "check_listener: SKIP bind_reuseport_ipv6: "
		    "no IPv6 loopback (%s)\n", strerror(errno));
		if (fd != -1)
			(void)close(fd);
		return;
	}
	(void)close(fd);
	check_reuseport("[::1]:1");

	/*
	 * Linux turns IPV6_V6ONLY on by itself when binding a specific v6
	 * address, so the getsockopt() above cannot tell whether
	 * listener_bind() set it. A v4-mapped address can: only a V6ONLY
	 * socket refuses to bind one.
	 */
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, "::ffff:127.0.0.1",
	    &sin6.sin6_addr), 1);
	errno = 0;
	ck_assert_int_eq(listener_bind((struct sockaddr *)&sin6,
	    sizeof(sin6), 16), -1);
	ck_assert_msg(errno == EINVAL, "errno %d (%s), want EINVAL", errno,
	    strerror(errno));
}
END_TEST

START_TEST(test_bind_in_use)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 plain, fd, before;

	/* A socket without SO_REUSEPORT holds the port exclusively. */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(plain = socket(AF_INET, SOCK_STREAM, 0), 0);
	ck_assert_int_eq(bind(plain, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(plain, 1), 0);
	ck_assert_int_eq(getsockname(plain, (struct sockaddr *)&sin, &len), 0);

	before = next_fd();
	errno = 0;
	fd = listener_bind((struct sockaddr *)&sin, sizeof(sin), 16);
	ck_assert_int_eq(fd, -1);
	ck_assert_msg(errno == EADDRINUSE, "errno %d (%s), want EADDRINUSE",
	    errno, strerror(errno));
	ck_assert_int_eq(next_fd(), before);
	(void)close(plain);
}
END_TEST

START_TEST(test_bind_errors)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	int			 before;

	before = next_fd();

	/* TEST-NET-1 (RFC 5737) is never a local address. */
	ck_assert_int_eq(listener_parse("192.0.2.1:8080", &ss, &sslen, NULL,
	    0), 0);
	errno = 0;
	ck_assert_int_eq(listener_bind((struct sockaddr *)&ss, sslen, 16), -1);
	ck_assert_msg(errno == EADDRNOTAVAIL, "errno %d (%s), want "
	    "EADDRNOTAVAIL", errno, strerror(errno));
	ck_assert_int_eq(next_fd(), before);

	/* socket() itself failing leaves errno from socket(). */
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNSPEC;
	errno = 0;
	ck_assert_int_eq(listener_bind((struct sockaddr *)&ss, sizeof(ss),
	    16), -1);
	ck_assert_int_eq(errno, EAFNOSUPPORT);
	ck_assert_int_eq(next_fd(), before);
}
END_TEST

/* Connect conns times to ss; how many each of fds[0..1] accepted. */
static void
spread_count(const struct sockaddr_storage *ss, socklen_t sslen,
    const int *fds, int conns, int *cnt)
{
	int	 i, k, c, a, got = 0;

	cnt[0] = cnt[1] = 0;
	for (i = 0; i < conns; i++) {
		ck_assert_int_ge(c = socket(AF_INET, SOCK_STREAM, 0), 0);
		ck_assert_int_eq(connect(c, (const struct sockaddr *)ss,
		    sslen), 0);
		(void)close(c);
	}
	/* Loopback connects are queued by the time connect() returns. */
	for (k = 0; k < 2; k++)
		while ((a = accept(fds[k], NULL, NULL)) != -1) {
			(void)close(a);
			cnt[k]++;
			got++;
		}
	ck_assert_int_eq(got, conns);
}

/* Slot k's load as the program reckons it (see sockets.h). */
static uint64_t
load_of(struct sockets_load *ld)
{
	uint64_t	 p = atomic_load(&ld->placed), a = atomic_load(&ld->accepted);

	return atomic_load(&ld->open) + (p > a ? p - a : 0);
}

/*
 * The eBPF placement fills the first socket up to the fill, then
 * gives each connection to the less loaded socket, by what it placed
 * and what the workers say (open, accepted); it takes a smaller set
 * without reloading, and n == 0 hands back to the kernel hash. Nothing
 * here accepts until the end of a batch, so every connection counts as
 * placed and waiting, as in a burst. Without CAP_BPF or on an old
 * kernel it must fail cleanly, leaking no descriptor: that is all there
 * is to check then.
 */
START_TEST(test_spread_fill)
{
	struct sockaddr_storage	 ss;
	struct sockets_loadmap	*lm;
	struct sockets_spread	*sp = NULL;
	struct sockets_load	*ld0, *ld1;
	socklen_t		 sslen;
	int			 fds[2], cnt[2], tot[2], before;

	before = next_fd();
	ck_assert_int_eq(listener_parse("127.0.0.1:1", &ss, &sslen, NULL, 0),
	    0);
	set_port(&ss, 0);
	ck_assert_int_ge(fds[0] = listener_bind((struct sockaddr *)&ss, sslen,
	    256), 0);
	set_port(&ss, bound_port(fds[0], &ss, &sslen));
	ck_assert_int_ge(fds[1] = listener_bind((struct sockaddr *)&ss, sslen,
	    256), 0);
	if ((lm = sockets_loadmap_new()) == NULL ||
	    (sp = sockets_spread_new(lm)) == NULL ||
	    sockets_spread_set(sp, fds, 2, SOCKETS_FILL) == -1) {
		fprintf(stderr, "check_listener: eBPF placement unavailable "
		    "(%s); only its failure path was tested\n",
		    strerror(errno));
		spread_count(&ss, sslen, fds, 20, cnt);	/* hash still works */
		goto done;
	}
	ld0 = sockets_loadmap_slot(lm, 0);
	ld1 = sockets_loadmap_slot(lm, 1);
	ck_assert_ptr_null(sockets_loadmap_slot(lm, STATS_SLOTS));

	/* Few: all on the first socket. */
	spread_count(&ss, sslen, fds, 10, cnt);
	ck_assert_int_eq(cnt[0], 10);
	ck_assert_int_eq(cnt[1], 0);
	ck_assert_uint_eq(atomic_load(&ld0->placed), 10);

	/* Many: the first fills, then both take turns, evenly. */
	tot[0] = cnt[0];
	tot[1] = cnt[1];
	spread_count(&ss, sslen, fds, 3 * SOCKETS_FILL - 10, cnt);
	tot[0] += cnt[0];
	tot[1] += cnt[1];
	ck_assert_int_ge(tot[1], SOCKETS_FILL);
	ck_assert_int_le(abs(tot[0] - tot[1]), 1);
	ck_assert_uint_eq(load_of(ld0), (uint64_t)tot[0]);
	ck_assert_uint_eq(load_of(ld1), (uint64_t)tot[1]);

	/*
	 * The workers accepted them all (the tick's reset); the first has
	 * SOCKETS_FILL open, the second none: the second takes the next
	 * ones until it has as many. Then the first's close: it fills again.
	 */
	atomic_store(&ld0->accepted, atomic_load(&ld0->placed));
	atomic_store(&ld1->accepted, atomic_load(&ld1->placed));
	atomic_store(&ld0->open, SOCKETS_FILL);
	atomic_store(&ld1->open, SOCKETS_FILL - 4);
	spread_count(&ss, sslen, fds, 4, cnt);
	ck_assert_int_eq(cnt[1], 4);
	atomic_store(&ld0->accepted, atomic_load(&ld0->placed));
	atomic_store(&ld1->accepted, atomic_load(&ld1->placed));
	atomic_store(&ld0->open, 0);
	spread_count(&ss, sslen, fds, 5, cnt);
	ck_assert_int_eq(cnt[0], 5);

	/* Accepted beyond placed (a reset that raced an accept) is 0. */
	atomic_store(&ld0->accepted, atomic_load(&ld0->placed) + 100);
	spread_count(&ss, sslen, fds, 5, cnt);
	ck_assert_int_eq(cnt[0], 5);

	ck_assert_int_eq(sockets_spread_set(sp, fds, 1, SOCKETS_FILL), 0);
	atomic_store(&ld0->open, 10 * SOCKETS_FILL);
	spread_count(&ss, sslen, fds, 10, cnt);
	ck_assert_int_eq(cnt[0], 10);
	/* A smaller fill (a pool of 4 threads): 4 on the first, then both. */
	ck_assert_int_eq(sockets_spread_set(sp, fds, 2, 4), 0);
	atomic_store(&ld0->accepted, atomic_load(&ld0->placed));
	atomic_store(&ld1->accepted, atomic_load(&ld1->placed));
	atomic_store(&ld0->open, 0);
	atomic_store(&ld1->open, 0);
	spread_count(&ss, sslen, fds, 6, cnt);
	ck_assert_int_eq(cnt[0], 4);
	ck_assert_int_eq(cnt[1], 2);
	ck_assert_int_eq(sockets_spread_set(sp, NULL, 0, 0), 0);
	spread_count(&ss, sslen, fds, 10, cnt);
 done:
	sockets_spread_free(sp);
	sockets_loadmap_free(lm);
	(void)close(fds[1]);
	(void)close(fds[0]);
	ck_assert_int_eq(next_fd(), before);
}
END_TEST

static Suite *
listener_suite(void)
{
	Suite	*s = suite_create("listener");
	TCase	*tc;

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_parse_good, 0, (int)NELEMS(goods));
	tcase_add_loop_test(tc, test_parse_bad, 0, (int)NELEMS(bads));
	tcase_add_test(tc, test_parse_err_buffer);
	suite_add_tcase(s, tc);

	tc = tcase_create("format");
	tcase_add_loop_test(tc, test_format_roundtrip, 0, (int)NELEMS(goods));
	tcase_add_test(tc, test_format_edges);
	tcase_add_loop_test(tc, test_format_host_ipv4, 0, (int)NELEMS(hosts4));
	tcase_add_test(tc, test_format_host_small);
	tcase_add_test(tc, test_format_host_ipv6);
	tcase_add_test(tc, test_format_host_sweep);
	tcase_add_test(tc, test_unix);
	tcase_add_test(tc, test_in_use);
	suite_add_tcase(s, tc);

	tc = tcase_create("bind");
	tcase_add_test(tc, test_bind_reuseport_ipv4);
	tcase_add_test(tc, test_bind_reuseport_ipv6);
	tcase_add_test(tc, test_bind_in_use);
	tcase_add_test(tc, test_bind_errors);
	tcase_add_test(tc, test_spread_fill);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(listener_suite());
}
