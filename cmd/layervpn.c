/* layervpn: a thin CLI over liblayers. */
#include <stdio.h>
#include <string.h>

#include "layervpn.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: layervpn connect [--verb N] CONFIG.ovpn [--option value ...]\n"
          "       layervpn --help | --version\n");
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
    printf("layervpn %s\n", lvpn_version_string());
    return 0;
  }
  if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
    usage(stdout);
    return 0;
  }
  usage(stderr);
  return 2;
}
