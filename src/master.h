/*
 * master.h - the master process: listeners, workers, signals.
 */
#ifndef MASTER_H
#define MASTER_H

struct config;
struct config_overrides;

/*
 * Bind conf's listeners, start conf->workers workers and supervise them
 * until a stop signal. conf came from path with overrides applied; a
 * reload (HUP) reads path again and applies overrides again. Takes
 * ownership of conf. Returns the exit status.
 */
int	master_run(struct config *conf, const char *path,
	    const struct config_overrides *overrides);

#endif /* MASTER_H */
