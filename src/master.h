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
/*
 * Bind conf (load its plugins, init every route: config_bind()) in a
 * child process that first drops to conf's user, as a worker will, and
 * report how that went: 0, or -1 with err filled. The master's conf is left
 * unbound: the master runs no handler code (plugin.c). Blocks for at most
 * a few seconds (a child that hangs is killed).
 */
int	master_check(struct config *conf, struct config_error *err);

/*
 * Create the log files of conf (never truncating), owned by conf's user
 * when started as root, so that workers can write and reopen them. At
 * start, with -t, on USR1 and before a reload's workers. Logs and
 * returns -1 on failure.
 */
int	master_logs_prepare(const struct config *conf);

/* The same, and that the pid_file's directory is writable: -t, start. */
int	master_files_check(const struct config *conf);

int	master_run(struct config *conf, const char *path,
	    const struct config_overrides *overrides);

#endif /* MASTER_H */
