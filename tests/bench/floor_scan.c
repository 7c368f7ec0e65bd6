/* floor-scan DIR DAYS: the floor of an expiry scan. Every regular file in DIR
 * (links not followed, as certsteward lists [store] monitor) is read, parsed
 * with OpenSSL (PEM_read_bio_X509 for PEM, d2i_X509 for DER) and its notAfter
 * read; nothing else. Prints "parsed N failed M expiring K" (K: notAfter within
 * DAYS days). Exit 0, or 1 when DIR cannot be listed. */
#define _DEFAULT_SOURCE

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define MAX_FILE (1024 * 1024) /* certsteward's default [watch] max_file_size */

static unsigned char buf[MAX_FILE];

/* notAfter of the certificate in path as seconds since the epoch; -1 if none. */
static long long not_after(const char *path) {
  const unsigned char *p = buf;
  X509 *x = NULL;
  struct tm tm;
  size_t n;
  long long t = -1;
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return -1;
  n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  if (n >= 10 && memcmp(buf, "-----BEGIN", 10) == 0) {
    BIO *b = BIO_new_mem_buf(buf, (int)n);
    x = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
  } else {
    x = d2i_X509(NULL, &p, (long)n);
  }
  if (x != NULL && ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
    t = (long long)timegm(&tm);
  X509_free(x);
  return t;
}

int main(int argc, char **argv) {
  char path[4096];
  struct dirent *e;
  struct stat st;
  long long limit, t;
  unsigned long parsed = 0, failed = 0, expiring = 0;
  DIR *d;

  if (argc != 3) {
    fprintf(stderr, "usage: floor-scan DIR DAYS\n");
    return 1;
  }
  if ((d = opendir(argv[1])) == NULL) {
    perror(argv[1]);
    return 1;
  }
  limit = (long long)time(NULL) + atoll(argv[2]) * 86400;
  while ((e = readdir(d)) != NULL) {
    if (snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name) >= (int)sizeof path || lstat(path, &st) != 0 ||
        !S_ISREG(st.st_mode))
      continue;
    t = not_after(path);
    if (t < 0) {
      failed++;
      continue;
    }
    parsed++;
    expiring += t <= limit;
  }
  closedir(d);
  printf("parsed %lu failed %lu expiring %lu\n", parsed, failed, expiring);
  return 0;
}
