/*
 * plugin.h - shared objects that bring handlers: pin, then load.
 *
 * The master pins a plugin file (opens it) when it reads a configuration;
 * a process that will run handlers loads it from that descriptor. See the
 * design note in plugin.c.
 */
#ifndef PLUGIN_H
#define PLUGIN_H

#include <stddef.h>

#include "switchyard.h"

/*
 * Open path as it is now, for plugin_load() in this process or a child
 * forked later. Returns the descriptor, or -1 with the reason in err.
 */
int	plugin_pin(const char *path, char *err, size_t errlen);

/*
 * Load the plugin pinned at fd and return its sy_plugin_handlers table,
 * or NULL with the reason in err (dlerror's text, without the name the
 * object was opened under: the caller names the path). Never unloaded.
 */
const struct sy_handler *const *plugin_load(int fd, char *err,
	    size_t errlen);

#endif /* PLUGIN_H */
