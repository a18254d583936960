/* Where the heap of bench_sessions goes: an LD_PRELOAD library that records
 * every live malloc/calloc/realloc/posix_memalign block with its caller's
 * address, and when the program calls mallinfo2() (bench_sessions does, at
 * its measurement point, once every session passed traffic) prints to
 * stderr the 40 call sites with the most resident bytes (mincore(2) on the
 * pages of each block), their live bytes and block counts. A debugging aid,
 * not built by make:
 *
 *   gcc -O2 -shared -fPIC -o /tmp/heapsites.so bench/heapsites.c -ldl -lpthread
 *   SESSIONS_OVPN_N=0 IT_KEEP=1 \
 *     SESSIONS_WRAP="env LD_PRELOAD=/tmp/heapsites.so" bash bench/sessions.sh
 *   grep heapsites /tmp/lvpn-it-sessions.*\/bench_sessions.log
 *
 * Resolve "file 0xOFFSET" with addr2line -f -e FILE 0xOFFSET. The table
 * itself inflates the RSS the bench prints: read its numbers, not those. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define TAB (1u << 23)
#define SITES 4096

typedef struct {
  void *p;
  size_t n;
  void *site;
} ent_t;
typedef struct {
  void *site;
  size_t live, count, res;
} site_t;

static ent_t *tab;
static site_t sites[SITES];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static void *(*r_malloc)(size_t);
static void *(*r_calloc)(size_t, size_t);
static void *(*r_realloc)(void *, size_t);
static void (*r_free)(void *);
static int (*r_posix_memalign)(void **, size_t, size_t);
static struct mallinfo2 (*r_mallinfo2)(void);
static __thread int inside;
static char boot[65536];
static size_t bootoff;

static void init(void) {
  if (r_malloc)
    return;
  inside = 1;
  r_malloc = dlsym(RTLD_NEXT, "malloc");
  r_calloc = dlsym(RTLD_NEXT, "calloc");
  r_realloc = dlsym(RTLD_NEXT, "realloc");
  r_free = dlsym(RTLD_NEXT, "free");
  r_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
  r_mallinfo2 = dlsym(RTLD_NEXT, "mallinfo2");
  tab = mmap(NULL, sizeof(ent_t) * TAB, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  inside = 0;
}

static size_t h(void *p) { return ((uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ull >> 41; }

static void add(void *p, size_t n, void *site) {
  size_t i;
  if (p == NULL || tab == NULL)
    return;
  pthread_mutex_lock(&mu);
  for (i = h(p) & (TAB - 1); tab[i].p != NULL && tab[i].p != (void *)1; i = (i + 1) & (TAB - 1))
    ;
  tab[i].p = p;
  tab[i].n = n;
  tab[i].site = site;
  pthread_mutex_unlock(&mu);
}

static void del(void *p) {
  size_t i;
  if (p == NULL || tab == NULL)
    return;
  pthread_mutex_lock(&mu);
  for (i = h(p) & (TAB - 1); tab[i].p != NULL; i = (i + 1) & (TAB - 1))
    if (tab[i].p == p) {
      tab[i].p = (void *)1; /* tombstone */
      break;
    }
  pthread_mutex_unlock(&mu);
}

void *malloc(size_t n) {
  void *p;
  if (!r_malloc) {
    if (inside) {
      p = boot + bootoff;
      bootoff += (n + 15) & ~15ul;
      return p;
    }
    init();
  }
  p = r_malloc(n);
  add(p, n, __builtin_return_address(0));
  return p;
}

void *calloc(size_t a, size_t b) {
  void *p;
  if (!r_calloc) {
    if (inside) {
      p = boot + bootoff;
      bootoff += (a * b + 15) & ~15ul;
      return p;
    }
    init();
  }
  p = r_calloc(a, b);
  add(p, a * b, __builtin_return_address(0));
  return p;
}

void *realloc(void *o, size_t n) {
  void *p;
  if (!r_realloc)
    init();
  del(o);
  p = r_realloc(o, n);
  add(p, n, __builtin_return_address(0));
  return p;
}

int posix_memalign(void **out, size_t al, size_t n) {
  int r;
  if (!r_posix_memalign)
    init();
  r = r_posix_memalign(out, al, n);
  if (r == 0)
    add(*out, n, __builtin_return_address(0));
  return r;
}

void free(void *p) {
  if ((char *)p >= boot && (char *)p < boot + sizeof(boot))
    return;
  if (!r_free)
    init();
  del(p);
  r_free(p);
}

static size_t resident(void *p, size_t n) {
  long pg = sysconf(_SC_PAGESIZE);
  uintptr_t a = (uintptr_t)p, e = a + n, s;
  size_t res = 0;
  unsigned char v;
  for (s = a & ~(uintptr_t)(pg - 1); s < e; s += (uintptr_t)pg) {
    uintptr_t lo = s < a ? a : s, hi = s + pg > e ? e : s + pg;
    if (mincore((void *)s, (size_t)pg, &v) == 0 && (v & 1))
      res += hi - lo;
  }
  return res;
}

static int cmp(const void *x, const void *y) {
  const site_t *a = x, *b = y;
  return a->res < b->res ? 1 : a->res > b->res ? -1 : 0;
}

struct mallinfo2 mallinfo2(void) {
  size_t i, j, tl = 0, tr = 0;
  int ns = 0;
  if (!r_mallinfo2)
    init();
  pthread_mutex_lock(&mu);
  for (i = 0; i < TAB; i++) {
    if (tab[i].p == NULL || tab[i].p == (void *)1)
      continue;
    for (j = 0; j < (size_t)ns && sites[j].site != tab[i].site; j++)
      ;
    if (j == (size_t)ns) {
      if (ns == SITES)
        continue;
      sites[ns++].site = tab[i].site;
    }
    sites[j].live += tab[i].n;
    sites[j].count++;
    sites[j].res += resident(tab[i].p, tab[i].n);
  }
  pthread_mutex_unlock(&mu);
  qsort(sites, (size_t)ns, sizeof(sites[0]), cmp);
  for (j = 0; j < (size_t)ns; j++) {
    tl += sites[j].live;
    tr += sites[j].res;
  }
  fprintf(stderr, "heapsites: live %zu KiB, resident %zu KiB, %d sites\n",
          tl / 1024, tr / 1024, ns);
  for (j = 0; j < (size_t)ns && j < 40; j++) {
    Dl_info di;
    const char *nm = "?";
    uintptr_t off = 0;
    if (dladdr(sites[j].site, &di) && di.dli_sname) {
      nm = di.dli_sname;
      off = (uintptr_t)sites[j].site - (uintptr_t)di.dli_saddr;
    }
    fprintf(stderr,
            "heapsites: %9zu res %9zu live %7zu allocs  %s+0x%lx (%s %p)\n",
            sites[j].res, sites[j].live, sites[j].count, nm, (unsigned long)off,
            di.dli_fname ? di.dli_fname : "?",
            (void *)((uintptr_t)sites[j].site - (uintptr_t)di.dli_fbase));
  }
  return r_mallinfo2();
}
