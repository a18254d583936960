/* The CLI's process options, as OpenVPN 2.6: daemon (fork once the config
 * is checked, before connecting), log / log-append (stdout and stderr into
 * a file), syslog, writepid (written by the process that runs, removed at
 * exit), suppress-timestamps, and the status file ("OpenVPN STATISTICS",
 * rewritten every N seconds and at exit). The library never does any of
 * this itself: lvpn_config_proc_opts() says what the config asks. */
#ifndef LVPN_CMD_PROCESS_H
#define LVPN_CMD_PROCESS_H

#include <stdint.h>
#include <stdio.h>

#include "layervpn.h"

typedef struct {
  int daemon, use_syslog, suppress_timestamps, machine_readable;
  int nice, mlock;
  int remap_usr1; /* SIGUSR1 becomes this signal (remap-usr1); 0: none */
  char *syslog_name;
  char *log_file, *writepid, *status_file; /* absolute paths */
  int log_append, status_interval;
  int log_fd, status_fd; /* -1: none */
  char *config_path;     /* absolute, for SIGHUP after a daemon's chdir */
  int pid_written;
  uv_timer_t status_timer;
  int status_timer_on;
  lvpn_client_t *const *client; /* the running client, or NULL */
} cli_proc_t;

/* The byte counters of OpenVPN's client status file. */
typedef struct {
  uint64_t tun_read, tun_write, link_read, link_write, auth_read;
} cli_proc_stats_t;

/* Takes the process options of `cfg` (copied) and opens the log and status
 * files, so that a bad path is reported on the terminal. Returns 0 or -1
 * with the problem in `err`. */
int cli_proc_prepare(cli_proc_t *p, const lvpn_config_t *cfg,
                     const char *config_path, char *err, size_t errlen);
/* Becomes a daemon when asked (the parent exits 0 here), then writes the
 * pid file and points stdout/stderr at the log file (or /dev/null for a
 * daemon that logs to syslog). Call before creating the libuv loop.
 * Returns 0 or -1 with the problem in `err`. */
int cli_proc_start(cli_proc_t *p, char *err, size_t errlen);
/* One log line: to syslog, or to stdout/stderr with a time stamp unless
 * suppress-timestamps. */
void cli_proc_log(const cli_proc_t *p, int level, const char *msg);
/* Starts rewriting the status file every status_interval s; `client` points
 * at the host's current client (which restarts replace). */
int cli_proc_status_start(cli_proc_t *p, uv_loop_t *loop,
                          lvpn_client_t *const *client);
/* Writes the status file now (also called at exit) and closes the timer. */
void cli_proc_status_stop(cli_proc_t *p);
/* Last status file, pid file removed, files closed, memory freed. */
void cli_proc_finish(cli_proc_t *p);

/* The status file's text into `buf` (loop-free; tests use it): returns the
 * length, or -1 when it does not fit. `when` is the local time. */
int cli_proc_status_format(const cli_proc_stats_t *st, time_t when, char *buf,
                           size_t len);
/* Adds one counter of lvpn_client_counters() to `st` (a lvpn_counter_cb). */
void cli_proc_count(void *st, const char *layer, const char *name,
                    uint64_t value);

#endif
