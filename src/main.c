/*
 * main.c - command line, then the master.
 */
#include "autoconfig.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "master.h"

#define DEFAULT_CONFIG	SYSCONFDIR "/switchyard/switchyard.json"
#define MAX_LISTEN_OPTS	64

static void __attribute__((noreturn))
usage(int status)
{
	FILE	*f = status ? stderr : stdout;

	fprintf(f,
	    "usage: switchyard [-htV] [-c file] [-l addr:port]... [-w workers]\n"
	    "  -c file        configuration file (default %s)\n"
	    "  -t             check the configuration and exit\n"
	    "  -w workers     number of worker processes, or \"auto\"\n"
	    "  -l addr:port   listen here instead of the config's \"listen\"\n"
	    "                 (repeatable; [v6addr]:port for IPv6)\n"
	    "  -V             print the version and exit\n"
	    "  -h             this help\n", DEFAULT_CONFIG);
	exit(status);
}

/* -w: a count 1..1024 or "auto"; 0 when invalid. */
static unsigned
parse_workers(const char *s)
{
	char	*end;
	long	 n;
	long	 cpus;

	if (strcmp(s, "auto") == 0) {
		cpus = sysconf(_SC_NPROCESSORS_ONLN);
		return cpus > 0 ? (unsigned)cpus : 1;
	}
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n < 1 || n > 1024)
		return 0;
	return (unsigned)n;
}

int
main(int argc, char *argv[])
{
	const char		*path = DEFAULT_CONFIG;
	char			*listen[MAX_LISTEN_OPTS];
	size_t			 nlisten = 0;
	unsigned		 workers = 0;
	int			 ch, test = 0;
	struct config		*conf;
	struct config_error	 err;
	struct config_overrides	 overrides;
	char			 msg[sizeof(err.text) + PATH_MAX + 32];

	while ((ch = getopt(argc, argv, "c:hl:tVw:")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			usage(0);
		case 'l':
			if (nlisten == MAX_LISTEN_OPTS) {
				fprintf(stderr, "switchyard: more than %d -l\n",
				    MAX_LISTEN_OPTS);
				return 1;
			}
			listen[nlisten++] = optarg;
			break;
		case 't':
			test = 1;
			break;
		case 'V':
			printf("switchyard %s\n", PACKAGE_VERSION);
			return 0;
		case 'w':
			if ((workers = parse_workers(optarg)) == 0) {
				fprintf(stderr, "switchyard: -w %s: expected "
				    "1..1024 or \"auto\"\n", optarg);
				return 1;
			}
			break;
		default:
			usage(1);
		}
	}
	if (optind != argc)
		usage(1);

	if ((conf = config_load(path, &err)) == NULL) {
		fprintf(stderr, "%s\n", config_error_format(&err, msg,
		    sizeof(msg)));
		return 1;
	}
	overrides.workers = workers;
	overrides.listen = listen;
	overrides.nlisten = nlisten;
	if (config_override(conf, &overrides, &err) == -1) {
		fprintf(stderr, "switchyard: %s\n", err.text);
		config_free(conf);
		return 1;
	}
	if (test) {
		/* Never binds: safe to run beside a live server. */
		printf("configuration OK: %s\n", path);
		config_free(conf);
		return 0;
	}
	if (log_init(conf->error_log, (enum log_level)conf->log_level) == -1) {
		fprintf(stderr, "switchyard: error_log %s: %s\n",
		    conf->error_log, strerror(errno));
		config_free(conf);
		return 1;
	}
	return master_run(conf);
}
