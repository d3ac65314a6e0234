/*
 * plugin.c - shared objects that bring handlers: pin, then load.
 *
 * Design note.
 *
 * Who runs plugin code. The master never does: it supervises, and a
 * crash, a stray thread or a leaked lock in plugin code must not take
 * down the one process that keeps the port open. Plugin code runs in
 * two kinds of process, both forked from the master and both after the
 * privilege drop, so init() sees the files and the uid its handle()
 * will see:
 *   - a checking child, forked at start, with -t and on every SIGHUP,
 *     that loads every plugin, registers its handlers and runs init()
 *     for every route, reports the first error (or none) and exits. An
 *     invalid configuration or plugin is refused there, with the same
 *     messages as a bad key, and a reload then changes nothing;
 *   - every worker, which loads the plugins of its generation and runs
 *     init() for its routes before its pool threads start.
 * So init() runs in several processes and its state is per worker.
 *
 * Which code is new. glibc's dlopen() returns the object already mapped
 * when asked for a path (or a file) it has loaded, so a process can never
 * reload a plugin in place; here no process ever needs to. The master
 * loads nothing, so each child it forks starts with no plugin mapped and
 * loads the file afresh. What it loads is pinned: when the master reads
 * a configuration it opens each plugin file, and children load it from
 * that descriptor (/proc/self/fd/N). A rebuilt plugin installed with a
 * rename (what install(1) and dpkg do) is therefore new code for the
 * generation a HUP starts, while the draining generation finishes with
 * the mapping it has, and a worker respawned after a crash runs the very
 * file its siblings run, not whatever the disk holds by then. (A file
 * overwritten in place changes under every process that maps it, as for
 * any shared library: install with a rename.)
 *
 * Loading is RTLD_NOW, so that an undefined symbol is an error at check
 * time rather than a crash at the first request, and RTLD_LOCAL, so that
 * two plugins' private symbols do not meet. The sy_* API resolves against
 * the switchyard binary, which exports exactly that (src/exports.sym).
 * Plugins are never unloaded: a process runs one configuration for its
 * whole life, and a plugin's code may be referenced until exit by the
 * thread-local destructors or atexit handlers it registered.
 */
#include "autoconfig.h"

#include <sys/stat.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "plugin.h"

int
plugin_pin(const char *path, char *err, size_t errlen)
{
	struct stat	 st;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		(void)snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		(void)snprintf(err, errlen, "%s", strerror(errno));
		(void)close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		(void)snprintf(err, errlen, "%s", S_ISDIR(st.st_mode) ?
		    strerror(EISDIR) : "not a regular file");
		(void)close(fd);
		return -1;
	}
	return fd;
}

const struct sy_handler *const *
plugin_load(int fd, char *err, size_t errlen)
{
	const struct sy_handler *const	*table;
	const char			*why;
	char				 name[64];
	size_t				 len;
	void				*dl;

	len = (size_t)snprintf(name, sizeof(name), "/proc/self/fd/%d", fd);
	(void)dlerror();
	if ((dl = dlopen(name, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		why = dlerror();
		if (why == NULL)
			why = "dlopen failed";
		/* "/proc/self/fd/7: undefined symbol: x": keep the reason. */
		if (strncmp(why, name, len) == 0 && strncmp(why + len, ": ",
		    2) == 0)
			why += len + 2;
		(void)snprintf(err, errlen, "%s", why);
		return NULL;
	}
	table = dlsym(dl, "sy_plugin_handlers");
	if (table == NULL) {
		(void)snprintf(err, errlen, "no sy_plugin_handlers symbol "
		    "(a plugin defines it with SY_PLUGIN(), see "
		    "switchyard-handler(3))");
		/* Nothing of it is referenced yet: this one can go. */
		(void)dlclose(dl);
		return NULL;
	}
	return table;
}
