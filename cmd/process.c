#include "cmd/process.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* `path` made absolute against the current directory (a daemon moves to
 * "/"); NULL stays NULL. Returns 0 or -1 (out of memory). */
static int absolute(const char *path, char **out) {
  char cwd[PATH_MAX];
  *out = NULL;
  if (path == NULL)
    return 0;
  if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
    *out = strdup(path);
  else if (asprintf(out, "%s/%s", cwd, path) < 0)
    *out = NULL;
  return *out != NULL ? 0 : -1;
}

int cli_proc_prepare(cli_proc_t *p, const lvpn_config_t *cfg,
                     const char *config_path, char *err, size_t errlen) {
  lvpn_proc_opts_t o;
  memset(p, 0, sizeof(*p));
  p->log_fd = p->status_fd = -1;
  lvpn_config_proc_opts(cfg, &o);
  p->daemon = o.daemon;
  p->use_syslog = o.use_syslog;
  p->suppress_timestamps = o.suppress_timestamps;
  p->machine_readable = o.machine_readable;
  p->nice = o.nice;
  p->mlock = o.mlock;
  p->remap_usr1 = o.remap_usr1;
  p->log_append = o.log_append;
  p->status_interval = o.status_interval > 0 ? o.status_interval : 60;
  if ((o.syslog_name != NULL &&
       (p->syslog_name = strdup(o.syslog_name)) == NULL) ||
      absolute(o.log_file, &p->log_file) != 0 ||
      absolute(o.writepid, &p->writepid) != 0 ||
      absolute(o.status_file, &p->status_file) != 0 ||
      (strcmp(config_path, "-") != 0 &&
       absolute(config_path, &p->config_path) != 0)) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  if (p->log_file != NULL) {
    p->log_fd = open(p->log_file,
                     O_WRONLY | O_CREAT | O_CLOEXEC |
                         (p->log_append ? O_APPEND : O_TRUNC),
                     0600);
    if (p->log_fd < 0) {
      snprintf(err, errlen, "cannot open log file '%s': %s", p->log_file,
               strerror(errno));
      return -1;
    }
  }
  if (p->status_file != NULL) {
    p->status_fd =
        open(p->status_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (p->status_fd < 0) {
      snprintf(err, errlen, "cannot open status file '%s': %s", p->status_file,
               strerror(errno));
      return -1;
    }
  }
  return 0;
}

/* stdin from /dev/null; stdout and stderr to `fd` (or /dev/null). */
static int redirect_std(int fd) {
  int null = open("/dev/null", O_RDWR);
  int out = fd >= 0 ? fd : null;
  int rc = 0;
  if (null < 0)
    return -1;
  fflush(stdout);
  fflush(stderr);
  if (dup2(null, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
      dup2(out, STDERR_FILENO) < 0)
    rc = -1;
  if (null > STDERR_FILENO)
    close(null);
  return rc;
}

static int write_pid(cli_proc_t *p, char *err, size_t errlen) {
  FILE *f;
  if (p->writepid == NULL)
    return 0;
  f = fopen(p->writepid, "we");
  if (f == NULL || fprintf(f, "%u\n", (unsigned)getpid()) < 0 ||
      fclose(f) != 0) {
    snprintf(err, errlen, "cannot write pid file '%s': %s", p->writepid,
             strerror(errno));
    return -1;
  }
  p->pid_written = 1;
  return 0;
}

int cli_proc_start(cli_proc_t *p, char *err, size_t errlen) {
  if (p->daemon) {
    pid_t pid;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
      snprintf(err, errlen, "cannot become a daemon: fork: %s",
               strerror(errno));
      return -1;
    }
    if (pid > 0)
      _exit(0); /* the parent: the command returns at once */
    setsid();
    if (chdir("/") != 0) {
      snprintf(err, errlen, "cannot become a daemon: chdir /: %s",
               strerror(errno));
      return -1;
    }
  }
  /* nice, mlock: as OpenVPN, once the process that runs is there; a
   * failure is said, not fatal */
  errno = 0;
  if (p->nice != 0 &&
      setpriority(PRIO_PROCESS, 0, getpriority(PRIO_PROCESS, 0) + p->nice) != 0)
    fprintf(stderr, "layervpn: WARNING: nice %d: %s\n", p->nice,
            strerror(errno));
  if (p->mlock && mlockall(MCL_CURRENT | MCL_FUTURE) != 0)
    fprintf(stderr, "layervpn: WARNING: mlock: %s\n", strerror(errno));
  if (p->use_syslog)
    openlog(p->syslog_name != NULL ? p->syslog_name : "openvpn", LOG_PID,
            LOG_DAEMON);
  if (write_pid(p, err, errlen) != 0)
    return -1;
  if ((p->daemon || p->log_fd >= 0) && redirect_std(p->log_fd) != 0) {
    snprintf(err, errlen, "cannot redirect output: %s", strerror(errno));
    return -1;
  }
  return 0;
}

void cli_proc_log(const cli_proc_t *p, int level, const char *msg) {
  FILE *f = level <= LVPN_LOG_ERROR ? stderr : stdout;
  char ts[32];
  time_t now;
  struct tm tm;
  if (p != NULL && p->use_syslog && p->log_fd < 0) {
    syslog(level == LVPN_LOG_FATAL   ? LOG_ERR
           : level == LVPN_LOG_ERROR ? LOG_WARNING
           : level <= LVPN_LOG_INFO  ? LOG_NOTICE
                                     : LOG_INFO,
           "%s%s", level == LVPN_LOG_FATAL ? "FATAL: " : "", msg);
    return;
  }
  if (p != NULL && p->machine_readable) {
    /* OpenVPN's form: seconds.microseconds, its message flags (M_FATAL,
     * M_WARN, M_INFO or the debug level), the message */
    struct timeval tv;
    gettimeofday(&tv, NULL);
    fprintf(f, "%lld.%06ld %x %s\n", (long long)tv.tv_sec, (long)tv.tv_usec,
            level == LVPN_LOG_FATAL   ? 0x10u
            : level == LVPN_LOG_ERROR ? 0x40u
            : level <= LVPN_LOG_INFO  ? 0u
                                      : (unsigned)(level - 1),
            msg);
  } else if (p != NULL && p->suppress_timestamps) {
    fprintf(f, "%s%s\n", level == LVPN_LOG_FATAL ? "FATAL: " : "", msg);
  } else {
    now = time(NULL);
    localtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
    fprintf(f, "%s %s%s\n", ts, level == LVPN_LOG_FATAL ? "FATAL: " : "", msg);
  }
  fflush(f);
}

void cli_proc_count(void *ud, const char *layer, const char *name,
                    uint64_t value) {
  cli_proc_stats_t *st = ud;
  int rx = strcmp(name, "rx_bytes") == 0, tx = strcmp(name, "tx_bytes") == 0;
  if (!rx && !tx)
    return;
  if (strcmp(layer, "networkio") == 0)
    *(rx ? &st->link_read : &st->link_write) = value;
  else if (strcmp(layer, "tun") == 0)
    *(rx ? &st->tun_read : &st->tun_write) = value;
  else if (strcmp(layer, "datachannel") == 0 && rx)
    st->auth_read = value;
}

int cli_proc_status_format(const cli_proc_stats_t *st, time_t when, char *buf,
                           size_t len) {
  char ts[32];
  struct tm tm;
  int n;
  localtime_r(&when, &tm);
  strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
  n = snprintf(
      buf, len,
      "OpenVPN STATISTICS\n"
      "Updated,%s\n"
      "TUN/TAP read bytes,%llu\n"
      "TUN/TAP write bytes,%llu\n"
      "TCP/UDP read bytes,%llu\n"
      "TCP/UDP write bytes,%llu\n"
      "Auth read bytes,%llu\n"
      "END\n",
      ts, (unsigned long long)st->tun_read, (unsigned long long)st->tun_write,
      (unsigned long long)st->link_read, (unsigned long long)st->link_write,
      (unsigned long long)st->auth_read);
  return n < 0 || (size_t)n >= len ? -1 : n;
}

/* Rewrites the file in place, as OpenVPN: from the start, then truncated. */
static void status_write(cli_proc_t *p) {
  cli_proc_stats_t st;
  char buf[512];
  int n;
  if (p->status_fd < 0)
    return;
  memset(&st, 0, sizeof(st));
  if (p->client != NULL && *p->client != NULL)
    lvpn_client_counters(*p->client, cli_proc_count, &st);
  n = cli_proc_status_format(&st, time(NULL), buf, sizeof(buf));
  if (n < 0 || lseek(p->status_fd, 0, SEEK_SET) < 0 ||
      write(p->status_fd, buf, (size_t)n) != n ||
      ftruncate(p->status_fd, n) != 0)
    fprintf(stderr, "layervpn: cannot write status file '%s': %s\n",
            p->status_file, strerror(errno));
}

static void on_status_timer(uv_timer_t *t) {
  status_write(t->data);
}

int cli_proc_status_start(cli_proc_t *p, uv_loop_t *loop,
                          lvpn_client_t *const *client) {
  uint64_t ms = (uint64_t)p->status_interval * 1000;
  int rc;
  p->client = client;
  if (p->status_fd < 0)
    return 0;
  status_write(p);
  if ((rc = uv_timer_init(loop, &p->status_timer)) != 0)
    return rc;
  p->status_timer.data = p;
  p->status_timer_on = 1;
  return uv_timer_start(&p->status_timer, on_status_timer, ms, ms);
}

void cli_proc_status_stop(cli_proc_t *p) {
  if (!p->status_timer_on)
    return;
  p->status_timer_on = 0;
  status_write(p);
  uv_close((uv_handle_t *)&p->status_timer, NULL);
}

void cli_proc_finish(cli_proc_t *p) {
  if (p->status_fd >= 0)
    close(p->status_fd);
  if (p->pid_written)
    unlink(p->writepid);
  if (p->use_syslog)
    closelog();
  if (p->log_fd >= 0) {
    fflush(stdout);
    fflush(stderr);
    close(p->log_fd);
  }
  free(p->syslog_name);
  free(p->log_file);
  free(p->writepid);
  free(p->status_file);
  free(p->config_path);
  memset(p, 0, sizeof(*p));
  p->log_fd = p->status_fd = -1;
}
