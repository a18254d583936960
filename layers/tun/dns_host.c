#include "layers/tun/dns_host.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "layers/tun/sdbus.h"

#define MAX_RESOLV (64 * 1024) /* a resolv.conf is a few hundred bytes */

static const char *const resolvconf_paths[] = {"/sbin/resolvconf",
                                               "/usr/sbin/resolvconf", NULL};

const char *lvpn__dns_backend_name(int backend) {
  switch (backend) {
  case LVPN__DNS_BACKEND_RESOLVED:
    return "systemd-resolved";
  case LVPN__DNS_BACKEND_RESOLVCONF:
    return "resolvconf";
  case LVPN__DNS_BACKEND_FILE:
    return "resolv.conf";
  default:
    return "none";
  }
}

void lvpn__dns_host_init(lvpn__dns_host_t *h, const lvpn__logger_t *log,
                         const char *resolv_path, const char *state_dir) {
  memset(h, 0, sizeof(*h));
  h->log = log;
  snprintf(h->resolv_path, sizeof(h->resolv_path), "%s",
           resolv_path != NULL ? resolv_path : "/etc/resolv.conf");
  snprintf(h->state_dir, sizeof(h->state_dir), "%s",
           state_dir != NULL ? state_dir : "/run/layervpn");
  h->resolv_fd = h->backup_fd = -1;
}

/* ---- whole-file I/O on descriptors (in place: never rename) ---- */

static char *fd_read_all(int fd, size_t *len) {
  char *buf = malloc(MAX_RESOLV + 1);
  ssize_t n;
  size_t pos = 0;
  if (buf == NULL)
    return NULL;
  while (pos < MAX_RESOLV) {
    n = pread(fd, buf + pos, MAX_RESOLV - pos, (off_t)pos);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      free(buf);
      return NULL;
    }
    if (n == 0)
      break;
    pos += (size_t)n;
  }
  buf[pos] = '\0';
  *len = pos;
  return buf;
}

/* No fsync: the backup is for a client that died (SIGKILL, a crash), and
 * the page cache holds it for the next start to find; it cannot outlive a
 * reboot (/run is emptied at boot, FHS 3.0), so neither can forcing it or
 * resolv.conf to the disk help after one. It cost 5-25 ms of waiting for
 * the disk on the way to "Initialization Sequence Completed" here (/run on
 * a disk; bench/startup.sh, doc/performance.md); OpenVPN's resolvconf and
 * update-resolv-conf paths do not sync either. */
static int fd_write_all(int fd, const char *data, size_t len) {
  size_t pos = 0;
  ssize_t n;
  /* written over, then cut to length: a truncation to 0 first frees the
   * file's block, then allocates it again (0.5 ms on ext4 here) */
  while (pos < len) {
    n = pwrite(fd, data + pos, len - pos, (off_t)pos);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return n < 0 ? -errno : -EIO;
    pos += (size_t)n;
  }
  return ftruncate(fd, (off_t)len) != 0 ? -errno : 0;
}

static bool is_ours(const char *text) {
  return strncmp(text, LVPN__DNS_MARKER, strlen(LVPN__DNS_MARKER)) == 0;
}

/* The backup's name comes from the identity of the resolv.conf (the bind
 * mount's source under ip netns exec), so that runs in different
 * namespaces sharing /run do not mix their backups. */
static int backup_name(lvpn__dns_host_t *h) {
  struct stat st;
  /* the open descriptor when there is one: after a chroot the path may
   * name nothing */
  if ((h->resolv_fd >= 0 ? fstat(h->resolv_fd, &st)
                         : stat(h->resolv_path, &st)) != 0)
    return -errno;
  snprintf(h->backup_path, sizeof(h->backup_path),
           "%s/resolv.conf.%llx-%llx.backup", h->state_dir,
           (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
  return 0;
}

/* Drops the backup by emptying it (an empty backup means none): its
 * descriptor stays open for the next apply, which may come after a
 * privilege drop; the file itself is removed by lvpn__dns_host_close(). */
static void backup_drop(lvpn__dns_host_t *h) {
  if (h->backup_fd >= 0 && ftruncate(h->backup_fd, 0) != 0)
    LVPN__LOG(h->log, LVPN_LOG_ERROR, "tun", "DNS: cannot empty %s: %s",
              h->backup_path, strerror(errno));
}

void lvpn__dns_host_recover(lvpn__dns_host_t *h) {
  char *saved, *cur;
  size_t slen = 0, clen = 0;
  int bfd, rfd, e;

  if (h->recovered)
    return;
  h->recovered = 1;
  if (backup_name(h) != 0)
    return;
  bfd = open(h->backup_path, O_RDONLY | O_CLOEXEC);
  if (bfd < 0)
    return;
  saved = fd_read_all(bfd, &slen);
  close(bfd);
  rfd = open(h->resolv_path, O_RDWR | O_CLOEXEC);
  cur = rfd >= 0 ? fd_read_all(rfd, &clen) : NULL;
  if (saved != NULL && slen > 0 && cur != NULL && is_ours(cur)) {
    e = fd_write_all(rfd, saved, slen);
    if (e == 0)
      LVPN__LOG(h->log, LVPN_LOG_ERROR, "tun",
                "DNS: %s restored from %s, left by a run that did not end "
                "cleanly",
                h->resolv_path, h->backup_path);
    else
      LVPN__LOG(h->log, LVPN_LOG_ERROR, "tun", "DNS: cannot restore %s: %s",
                h->resolv_path, strerror(-e));
  } else if (slen > 0) {
    LVPN__LOG(h->log, LVPN_LOG_ERROR, "tun",
              "DNS: %s no longer holds what a previous run wrote: its backup "
              "%s is dropped",
              h->resolv_path, h->backup_path);
  }
  (void)unlink(h->backup_path);
  if (rfd >= 0)
    close(rfd);
  free(saved);
  free(cur);
}

static int file_apply(lvpn__dns_host_t *h, const lvpn_dns_t *d,
                      const lvpn_dns_server_t *sv, char *err, size_t errlen) {
  char *text = NULL;
  int n, e;

  if (h->resolv_fd < 0) {
    h->resolv_fd = open(h->resolv_path, O_RDWR | O_CLOEXEC);
    if (h->resolv_fd < 0) {
      snprintf(err, errlen, "cannot open %s: %s", h->resolv_path,
               strerror(errno));
      return LVPN_EDNS;
    }
  }
  free(h->original);
  h->original = fd_read_all(h->resolv_fd, &h->original_len);
  if (h->original == NULL) {
    snprintf(err, errlen, "cannot read %s: %s", h->resolv_path,
             strerror(errno));
    return LVPN_EDNS;
  }
  if (backup_name(h) != 0 ||
      (h->backup_fd < 0 && mkdir(h->state_dir, 0755) != 0 &&
       errno != EEXIST)) {
    snprintf(err, errlen, "cannot create %s: %s", h->state_dir,
             strerror(errno));
    return LVPN_EDNS;
  }
  if (h->backup_fd < 0)
    h->backup_fd = open(h->backup_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (h->backup_fd < 0 ||
      (e = fd_write_all(h->backup_fd, h->original, h->original_len)) != 0) {
    snprintf(err, errlen, "cannot write the backup %s: %s", h->backup_path,
             strerror(errno));
    return LVPN_EDNS;
  }
  text = malloc(MAX_RESOLV + 4096);
  n = text != NULL ? lvpn__dns_resolv_conf(d, sv, h->ifname, h->original,
                                           text, MAX_RESOLV + 4096)
                   : -1;
  e = n < 0 ? -ENOMEM : fd_write_all(h->resolv_fd, text, (size_t)n);
  free(text);
  if (e != 0) {
    snprintf(err, errlen, "cannot write %s: %s", h->resolv_path,
             strerror(-e));
    /* whatever part was written: put the original back */
    (void)fd_write_all(h->resolv_fd, h->original, h->original_len);
    backup_drop(h);
    return LVPN_EDNS;
  }
  return 0;
}

static void file_revert(lvpn__dns_host_t *h) {
  size_t len = 0;
  char *cur = fd_read_all(h->resolv_fd, &len);
  int e;
  if (cur != NULL && !is_ours(cur)) {
    LVPN__LOG(h->log, LVPN_LOG_ERROR, "tun",
              "DNS: %s was changed by someone else while the tunnel was up: "
              "left as it is",
              h->resolv_path);
  } else if ((e = fd_write_all(h->resolv_fd, h->original,
                               h->original_len)) != 0) {
    LVPN__LOG(h->log, LVPN_LOG_ERROR, "tun",
              "DNS: cannot restore %s: %s (the original is in %s)",
              h->resolv_path, strerror(-e), h->backup_path);
    free(cur);
    return; /* keep the backup for the next start */
  }
  free(cur);
  backup_drop(h);
}

/* resolvconf -a|-d IF.layervpn, `input` (may be NULL) on its stdin: a
 * socket, so that a resolvconf that exits without reading cannot kill us
 * with SIGPIPE (send with MSG_NOSIGNAL). */
static int resolvconf_run(const char *prog, const char *op, const char *name,
                          const char *input) {
  int sv[2], status = 0;
  size_t pos = 0, len = input != NULL ? strlen(input) : 0;
  ssize_t n;
  pid_t pid;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return -errno;
  pid = fork();
  if (pid < 0) {
    close(sv[0]);
    close(sv[1]);
    return -errno;
  }
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    dup2(sv[1], 0);
    execl(prog, prog, op, name, (char *)NULL);
    _exit(127);
  }
  close(sv[1]);
  while (pos < len) {
    n = send(sv[0], input + pos, len - pos, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break; /* it stopped reading: its exit status tells */
    pos += (size_t)n;
  }
  close(sv[0]);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

static const char *resolvconf_prog(const lvpn__dns_host_t *h) {
  int i;
  if (h->resolvconf[0] != '\0')
    return access(h->resolvconf, X_OK) == 0 ? h->resolvconf : NULL;
  for (i = 0; resolvconf_paths[i] != NULL; i++)
    if (access(resolvconf_paths[i], X_OK) == 0)
      return resolvconf_paths[i];
  return NULL;
}

/* /etc/resolv.conf is a mount point (ip netns exec, containers): it belongs
 * to that namespace; the host's resolved or resolvconf must not be told. */
static bool resolv_is_mount(const lvpn__dns_host_t *h) {
  char line[1024];
  size_t n = strlen(h->resolv_path);
  FILE *f = fopen("/proc/self/mountinfo", "re");
  bool found = false;
  if (f == NULL)
    return false;
  while (!found && fgets(line, sizeof(line), f) != NULL) {
    /* the 5th field, the mount point (by hand: sscanf costs the start
     * the fault-in of libc's scanf code) */
    const char *p = line;
    int i;
    for (i = 0; i < 4 && p != NULL; i++)
      if ((p = strchr(p, ' ')) != NULL)
        p++;
    found = p != NULL && strncmp(p, h->resolv_path, n) == 0 &&
            (p[n] == ' ' || p[n] == '\n');
  }
  fclose(f);
  return found;
}

/* resolved runs in the host's network namespace: in another one our link
 * index would name one of the host's links. */
static bool resolved_running(void) {
  struct stat st, self, init;
  if (stat("/proc/self/ns/net", &self) == 0 &&
      stat("/proc/1/ns/net", &init) == 0 &&
      (self.st_ino != init.st_ino || self.st_dev != init.st_dev))
    return false;
  return stat("/run/systemd/resolve/io.systemd.Resolve", &st) == 0 ||
         stat("/run/systemd/resolve/resolv.conf", &st) == 0;
}

static int resolved_apply(lvpn__dns_host_t *h, const lvpn_dns_t *d,
                          bool rg, char *err, size_t errlen) {
  lvpn__dns_resolved_plan_t plan;
  int r;
  if (lvpn__dns_resolved_plan(d, h->ifindex, rg, &plan) != 0) {
    snprintf(err, errlen, "no DNS server systemd-resolved can use (all DoH)");
    return LVPN_EDNS;
  }
  if (h->bus == NULL && lvpn__sdbus_load(err, errlen) != 0)
    return LVPN_EDNS; /* err says why */
  if (h->bus == NULL && (r = lvpn__sdbus.open_system((sd_bus **)&h->bus)) < 0) {
    snprintf(err, errlen, "cannot connect to the system bus: %s",
             strerror(-r));
    return LVPN_EDNS;
  }
  if (lvpn__dns_resolved_apply(h->bus, &plan, err, errlen) != 0) {
    lvpn__dns_resolved_revert(h->bus, h->ifindex);
    return LVPN_EDNS;
  }
  return 0;
}

void lvpn__dns_host_prepare(lvpn__dns_host_t *h) {
  h->mounted = resolv_is_mount(h);
  h->resolved = !h->mounted && resolved_running();
  h->prog = h->mounted ? NULL : resolvconf_prog(h);
  h->prepared = 1;
}

int lvpn__dns_host_apply(lvpn__dns_host_t *h, const lvpn_dns_t *d,
                         const char *ifname, bool redirect_gateway,
                         lvpn__dns_backend_t backend, char *err,
                         size_t errlen) {
  const lvpn_dns_server_t *sv = lvpn__dns_pick(d, false);
  char text[8192];
  const char *prog = NULL;
  bool mounted;
  int rc = LVPN_EDNS, prepared = h->prepared;

  lvpn__dns_host_revert(h);
  lvpn__dns_host_recover(h);
  snprintf(h->ifname, sizeof(h->ifname), "%s", ifname);
  h->ifindex = (int)if_nametoindex(ifname);
  h->prepared = 0;
  if (backend == LVPN__DNS_BACKEND_NONE) {
    mounted = prepared ? h->mounted : resolv_is_mount(h);
    if (!mounted && h->ifindex > 0 &&
        (prepared ? h->resolved : resolved_running())) {
      rc = resolved_apply(h, d, redirect_gateway, err, errlen);
      if (rc == 0) {
        h->backend = LVPN__DNS_BACKEND_RESOLVED;
        return 0;
      }
      LVPN__LOG(h->log, LVPN_LOG_ERROR, "tun",
                "DNS: systemd-resolved: %s; trying the next way", err);
    }
    prog = mounted ? NULL : prepared ? h->prog : resolvconf_prog(h);
    backend = prog != NULL ? LVPN__DNS_BACKEND_RESOLVCONF
                           : LVPN__DNS_BACKEND_FILE;
  }
  if (backend == LVPN__DNS_BACKEND_RESOLVED) {
    rc = resolved_apply(h, d, redirect_gateway, err, errlen);
  } else if (sv == NULL) {
    snprintf(err, errlen, "no DNS server usable in resolv.conf (each needs "
                          "DNSSEC, DoH/DoT or a port other than 53)");
    return LVPN_EDNS;
  } else if (backend == LVPN__DNS_BACKEND_RESOLVCONF) {
    char name[LVPN__IFNAMSIZ + 16];
    if (prog == NULL && (prog = resolvconf_prog(h)) == NULL) {
      snprintf(err, errlen, "resolvconf is not installed");
      return LVPN_EDNS;
    }
    snprintf(name, sizeof(name), "%s.layervpn", ifname);
    if (lvpn__dns_resolv_conf(d, sv, ifname, NULL, text, sizeof(text)) < 0 ||
        resolvconf_run(prog, "-a", name, text) != 0) {
      snprintf(err, errlen, "%s -a %s failed", prog, name);
      return LVPN_EDNS;
    }
    rc = 0;
  } else {
    rc = file_apply(h, d, sv, err, errlen);
  }
  if (rc == 0)
    h->backend = backend;
  return rc;
}

void lvpn__dns_host_revert(lvpn__dns_host_t *h) {
  char name[LVPN__IFNAMSIZ + 16];
  const char *prog;
  int r;

  switch (h->backend) {
  case LVPN__DNS_BACKEND_RESOLVED:
    /* gone with the device anyway; the link may already be removed */
    r = lvpn__dns_resolved_revert(h->bus, h->ifindex);
    if (r < 0 && if_nametoindex(h->ifname) != 0)
      LVPN__LOG(h->log, LVPN_LOG_ERROR, "tun",
                "DNS: systemd-resolved RevertLink %s: %s", h->ifname,
                strerror(-r));
    break;
  case LVPN__DNS_BACKEND_RESOLVCONF:
    snprintf(name, sizeof(name), "%s.layervpn", h->ifname);
    prog = resolvconf_prog(h);
    if (prog == NULL || resolvconf_run(prog, "-d", name, NULL) != 0)
      LVPN__LOG(h->log, LVPN_LOG_ERROR, "tun", "DNS: resolvconf -d %s failed",
                name);
    break;
  case LVPN__DNS_BACKEND_FILE:
    file_revert(h);
    break;
  default:
    return;
  }
  LVPN__LOG(h->log, LVPN_LOG_INFO, "tun", "DNS: %s settings of %s removed",
            lvpn__dns_backend_name(h->backend), h->ifname);
  h->backend = LVPN__DNS_BACKEND_NONE;
}

void lvpn__dns_host_close(lvpn__dns_host_t *h) {
  lvpn__dns_host_revert(h);
  if (h->resolv_fd >= 0)
    close(h->resolv_fd);
  if (h->backup_fd >= 0) {
    (void)unlink(h->backup_path); /* may fail after a privilege drop */
    close(h->backup_fd);
  }
  h->resolv_fd = h->backup_fd = -1;
  if (h->bus != NULL)
    lvpn__sdbus.flush_close_unref(h->bus);
  h->bus = NULL;
  free(h->original);
  h->original = NULL;
}
