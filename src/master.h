/*
 * master.h - the master process: listeners, workers, signals.
 */
#ifndef MASTER_H
#define MASTER_H

struct config;

/*
 * Bind conf's listeners, start conf->workers workers and supervise them
 * until a stop signal. Takes ownership of conf. Returns the exit status.
 */
int	master_run(struct config *conf);

#endif /* MASTER_H */
