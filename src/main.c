/*
 * main.c - command line, then the master.
 */
#include "autoconfig.h"

#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "handlers/handlers.h"
#include "master.h"
#include "registry.h"

#define DEFAULT_CONFIG	SYSCONFDIR "/switchyard/switchyard.json"
#define MAX_LISTEN_OPTS	64

static void __attribute__((noreturn))
usage(int status)
{
	FILE	*f = status ? stderr : stdout;

	fprintf(f,
	    "usage: switchyard [-htV] [-c file] [-l addr:port]... [-w workers]\n"
	    "       switchyard -s reload|stop|quit|reopen [-c file]\n"
	    "  -c file        configuration file (default %s)\n"
	    "  -t             check the configuration and exit\n"
	    "  -w workers     number of worker processes, or \"auto\"\n"
	    "  -l addr:port   listen here instead of the config's \"listen\"\n"
	    "                 (repeatable; [v6addr]:port for IPv6)\n"
	    "  -s signal      signal the running master (found through the\n"
	    "                 config's pid_file): reload (HUP), stop (TERM),\n"
	    "                 quit (QUIT), reopen (USR1)\n"
	    "  -V             print the version and exit\n"
	    "  -h             this help\n", DEFAULT_CONFIG);
	exit(status);
}

/* -w: a count 1..CONFIG_WORKERS_MAX or "auto"; 0 when invalid. */
static unsigned
parse_workers(const char *s)
{
	char	*end;
	long	 n;

	if (strcmp(s, "auto") == 0)
		return config_workers_auto();
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n < 1 || n > CONFIG_WORKERS_MAX)
		return 0;
	return (unsigned)n;
}

/* -s NAME: the signal, or 0. */
static int
signal_of(const char *name)
{
	static const struct {
		const char	*name;
		int		 sig;
	} names[] = {
		{ "reload", SIGHUP }, { "stop", SIGTERM }, { "quit", SIGQUIT },
		{ "reopen", SIGUSR1 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i].name) == 0)
			return names[i].sig;
	return 0;
}

/*
 * The master's pid from conf's pid_file; 0 with a message on stderr when
 * there is no running master to signal.
 */
static pid_t
running_master(const struct config *conf, const char *path)
{
	char	 buf[32], *end;
	FILE	*f;
	long	 pid;
	int	 fd, locked;

	if (conf->pid_file == NULL) {
		fprintf(stderr, "switchyard: -s: %s sets no pid_file, so the "
		    "master cannot be found; signal it with kill(1)\n", path);
		return 0;
	}
	if ((f = fopen(conf->pid_file, "r")) == NULL) {
		fprintf(stderr, "switchyard: -s: no running master: %s: %s\n",
		    conf->pid_file, strerror(errno));
		return 0;
	}
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	(void)fclose(f);
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || (*end != '\n' && *end != '\0') ||
	    pid <= 1) {
		fprintf(stderr, "switchyard: -s: %s does not hold a pid\n",
		    conf->pid_file);
		return 0;
	}
	/*
	 * The master holds a lock on its pid file for as long as it lives:
	 * a file nobody holds names a pid the system may have reused.
	 */
	if ((fd = open(conf->pid_file, O_RDONLY | O_CLOEXEC)) != -1) {
		locked = flock(fd, LOCK_SH | LOCK_NB) == -1 &&
		    errno == EWOULDBLOCK;
		(void)close(fd);
		if (!locked) {
			fprintf(stderr, "switchyard: -s: no running master: "
			    "%s (pid %ld) is not locked by one\n",
			    conf->pid_file, pid);
			return 0;
		}
	}
	if (kill((pid_t)pid, 0) == -1 && errno == ESRCH) {
		fprintf(stderr, "switchyard: -s: no running master: pid %ld "
		    "from %s is gone\n", pid, conf->pid_file);
		return 0;
	}
	return (pid_t)pid;
}

int
main(int argc, char *argv[])
{
	const char		*path = DEFAULT_CONFIG;
	char			*listen[MAX_LISTEN_OPTS];
	size_t			 nlisten = 0;
	unsigned		 workers = 0;
	int			 ch, test = 0, sig = 0;
	pid_t			 pid;
	struct config		*conf;
	struct config_error	 err;
	struct config_overrides	 overrides;
	char			 msg[sizeof(err.text) + PATH_MAX + 32];

	while ((ch = getopt(argc, argv, "c:hl:s:tVw:")) != -1) {
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
		case 's':
			if ((sig = signal_of(optarg)) == 0) {
				fprintf(stderr, "switchyard: -s %s: expected "
				    "reload, stop, quit or reopen\n", optarg);
				return 1;
			}
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
				    "1..%u or \"auto\"\n", optarg,
				    CONFIG_WORKERS_MAX);
				return 1;
			}
			break;
		default:
			usage(1);
		}
	}
	if (optind != argc)
		usage(1);
	/* Registered as a plugin's table is: nothing below names them. */
	registry_set_builtins(builtin_handlers);

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
	if (sig != 0) {
		pid = running_master(conf, path);
		config_free(conf);
		if (pid == 0)
			return 1;
		if (kill(pid, sig) == -1) {
			fprintf(stderr, "switchyard: -s: kill %ld: %s\n",
			    (long)pid, strerror(errno));
			return 1;
		}
		return 0;
	}
	/*
	 * Every handler and its args, the plugins loaded, in a child process
	 * as a worker would: the master runs no handler code.
	 */
	if (master_check(conf, &err) == -1) {
		fprintf(stderr, "%s\n", config_error_format(&err, msg,
		    sizeof(msg)));
		config_free(conf);
		return 1;
	}
	if (test) {
		/* The files the start would create or write, as nginx -t. */
		if (master_files_check(conf) == -1) {
			config_free(conf);
			return 1;
		}
		/* Never binds: safe to run beside a live server. */
		printf("configuration OK: %s\n", path);
		config_free(conf);
		return 0;
	}
	if (log_init(conf->error_log, conf->log_level) == -1) {
		fprintf(stderr, "switchyard: error_log %s: %s\n",
		    conf->error_log, strerror(errno));
		config_free(conf);
		return 1;
	}
	return master_run(conf, path, &overrides);
}
