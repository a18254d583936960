/* The server's certificate chain kept between starts, in the host's cache
 * directory (lvpn_client_set_cache_dir), one file per CA:
 * <dir>/peer-chain-<16 hex digits of the SHA-256 of the CA certificates>.
 * In the first wait of a connection's handshake (the server makes its
 * hello flight) the chain of the last start is checked against the CA
 * (lvpn__tls_conf_check_ahead), so that the CA's signature on the server's
 * certificate is already verified when the same certificate arrives; the
 * real chain is checked in full all the same (engine.h, "the CA's
 * signatures checked ahead"). Once a chain passed its check, it is written
 * there when it differs from the kept one. The file holds only
 * certificates the server sends in the clear. */
#include "layers/client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/sha256.h>

/* A chain longer than this is not kept (a few certificates are 1-8 kB). */
#define CHAIN_MAX (32 * 1024)

int lvpn_client_set_cache_dir(lvpn_client_t *c, const char *dir) {
  char *copy = NULL;

  if (c == NULL)
    return LVPN_EINVAL;
  if (dir != NULL && dir[0] != '\0') {
    if (dir[0] != '/' || strlen(dir) > 200)
      return LVPN_EINVAL;
    if ((copy = strdup(dir)) == NULL)
      return LVPN_ENOMEM;
  }
  free(c->cache_dir);
  c->cache_dir = copy;
  return 0;
}

/* <dir>/peer-chain-<hex>: 0, or -1 (no CA, no cache, too long). */
static int chain_path(const lvpn_client_t *c, const lvpn__tls_conf_t *conf,
                      char *out, size_t cap) {
  const mbedtls_x509_crt *crt;
  mbedtls_sha256_context sha;
  uint8_t id[32];
  int ret;

  if (c->cache_dir == NULL || conf->ca.raw.p == NULL)
    return -1;
  mbedtls_sha256_init(&sha);
  ret = mbedtls_sha256_starts_ret(&sha, 0);
  for (crt = &conf->ca; ret == 0 && crt != NULL && crt->raw.p != NULL;
       crt = crt->next)
    ret = mbedtls_sha256_update_ret(&sha, crt->raw.p, crt->raw.len);
  if (ret == 0)
    ret = mbedtls_sha256_finish_ret(&sha, id);
  mbedtls_sha256_free(&sha);
  if (ret != 0)
    return -1;
  ret = snprintf(out, cap, "%s/peer-chain-%02x%02x%02x%02x%02x%02x%02x%02x",
                 c->cache_dir, id[0], id[1], id[2], id[3], id[4], id[5], id[6],
                 id[7]);
  return ret > 0 && (size_t)ret < cap ? 0 : -1;
}

/* Whether the cache directory may be used: a directory of ours (or
 * root's) that nobody else can write to, so that nobody else can put a
 * file in our name or swap ours. Made (0700) when missing and `create`.
 * 0, -1 when it is missing (not made), or an errno; said once. */
static int chain_dir_ok(lvpn_client_t *c, int create) {
  struct stat st;
  int err = 0;

  if (lstat(c->cache_dir, &st) != 0) {
    if (errno != ENOENT)
      err = errno;
    else if (!create)
      return -1;
    else if (mkdir(c->cache_dir, 0700) != 0 && errno != EEXIST)
      err = errno;
    else if (lstat(c->cache_dir, &st) != 0)
      err = errno;
  }
  if (err == 0 && (!S_ISDIR(st.st_mode) || (st.st_mode & 022) != 0 ||
                   (st.st_uid != geteuid() && st.st_uid != 0)))
    err = EPERM;
  if (err != 0 && !c->chain_keep_failed) {
    c->chain_keep_failed = 1;
    LVPN__LOG(&c->log, LVPN_LOG_INFO, "client",
              "the cache directory %s is not used: %s", c->cache_dir,
              err == EPERM ? "not a directory of ours that only we can "
                             "write to"
                           : strerror(err));
  }
  return err;
}

static int chain_id(const uint8_t *der, size_t len, uint8_t id[32]) {
  return mbedtls_sha256_ret(der, len, id, 0);
}

void lvpn__client_chain_ahead(lvpn_client_t *c, lvpn__tlssession_t *t) {
  lvpn__tls_conf_t *conf = t->conf;
  char path[512];
  uint8_t *buf = NULL;
  ssize_t n = 0;
  int fd, rc;
  const char *result;

  if (conf->ahead_tried || chain_path(c, conf, path, sizeof(path)) != 0)
    return;
  conf->ahead_tried = 1;
  if ((rc = chain_dir_ok(c, 0)) != 0) {
    LVPN__TRACE(&c->trace, "client", "chain_ahead", "result=%s",
                rc < 0 ? "none" : "unusable");
    return;
  }
  fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    LVPN__TRACE(&c->trace, "client", "chain_ahead", "result=%s",
                errno == ENOENT ? "none" : "unreadable");
    return;
  }
  buf = malloc(CHAIN_MAX + 1);
  if (buf != NULL)
    n = read(fd, buf, CHAIN_MAX + 1);
  close(fd);
  if (buf == NULL || n <= 0 || n > CHAIN_MAX) {
    free(buf);
    LVPN__TRACE(&c->trace, "client", "chain_ahead", "result=%s", "unreadable");
    return;
  }
  rc = lvpn__tls_conf_check_ahead(conf, buf, (size_t)n);
  if (rc != LVPN_EINVAL && chain_id(buf, (size_t)n, conf->ahead_id) == 0)
    conf->have_ahead = 1; /* a chain: rewritten only when another comes */
  free(buf);
  result = rc == 0 ? "verified" : rc == LVPN_ECERT ? "rejected" : "damaged";
  LVPN__TRACE(&c->trace, "client", "chain_ahead", "result=%s", result);
}

/* Writes `der` to `path` through a temporary file renamed over it. */
static int chain_write(const char *path, const uint8_t *der, size_t len) {
  char tmp[600];
  size_t off = 0;
  int fd, err = 0;

  if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid()) >=
      (int)sizeof(tmp))
    return ENAMETOOLONG;
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return errno;
  while (off < len && err == 0) {
    ssize_t w = write(fd, der + off, len - off);
    if (w > 0)
      off += (size_t)w;
    else if (w < 0 && errno != EINTR)
      err = errno;
  }
  if (close(fd) != 0 && err == 0)
    err = errno;
  if (err == 0 && rename(tmp, path) != 0)
    err = errno;
  if (err != 0)
    (void)unlink(tmp);
  return err;
}

void lvpn__client_chain_keep(lvpn_client_t *c, lvpn__tlssession_t *t) {
  lvpn__tls_conf_t *conf = t->conf;
  char path[512];
  uint8_t *der, id[32];
  size_t len;
  int err;

  if (chain_path(c, conf, path, sizeof(path)) != 0)
    return;
  len = lvpn__tls_peer_chain_der(&t->tls, NULL, 0);
  if (len == 0 || len > CHAIN_MAX || (der = malloc(len)) == NULL)
    return;
  (void)lvpn__tls_peer_chain_der(&t->tls, der, len);
  if (chain_id(der, len, id) != 0 ||
      (conf->have_ahead && memcmp(id, conf->ahead_id, sizeof(id)) == 0)) {
    free(der);
    return;
  }
  if (chain_dir_ok(c, 1) != 0) { /* said once */
    free(der);
    LVPN__TRACE(&c->trace, "client", "chain_keep", "result=%s", "unusable");
    return;
  }
  err = chain_write(path, der, len);
  free(der);
  if (err == 0) {
    memcpy(conf->ahead_id, id, sizeof(id));
    conf->have_ahead = 1;
  } else if (!c->chain_keep_failed) {
    c->chain_keep_failed = 1;
    LVPN__LOG(&c->log, LVPN_LOG_INFO, "client",
              "cannot keep the server's certificate chain in %s: %s",
              c->cache_dir, strerror(err));
  }
  LVPN__TRACE(&c->trace, "client", "chain_keep", "result=%s",
              err == 0 ? "written" : "failed");
}
