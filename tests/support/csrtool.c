/* cs-csrtool STATE_DIR NAME KIND HOST TEMPLATE OUT [DNS...]: makes the request key NAME of
 * KIND (rsa2048, rsa3072, ec-p256; POSIX under STATE_DIR/request, Windows in the machine's
 * key store), builds the certificate request for HOST and the DNS names (TEMPLATE "" for
 * none) with cs_csr_build, writes it to OUT (PEM) and the key's public half to OUT.pub,
 * then deletes the key. For the shell tests that read the request with the openssl
 * command (integration/win_csr.sh), on the Windows build under Wine too. Exit status 0
 * when the request was written (a key that cannot be deleted is said on stderr: Wine's
 * ncrypt opens no key), 1 otherwise, with the reason on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "config.h"
#include "csr.h"
#include "platform.h"
#include "text.h"

int main(int argc, char **argv) {
  cs_config_t cfg;
  cs_keykind_t kind;
  cs_plat_reqkey_t *k = NULL;
  cs_csr_names_t names;
  cs_err_t err = {0};
  char *pem = NULL, *pub_path = NULL, *pub = NULL;
  BIO *bio = NULL;
  long pub_len;
  int rc = 1;

  if (argc < 7 || cs_keykind_parse(argv[3], &kind) != CS_OK) {
    fprintf(stderr, "usage: cs-csrtool STATE_DIR NAME KIND HOST TEMPLATE OUT [DNS...]\n");
    return 2;
  }
  if (cs_config_defaults(&cfg) != CS_OK)
    return 1;
  free(cfg.store.state_dir);
  cfg.store.state_dir = cs_strdup(argv[1]);
  names.host = argv[4];
  names.template_name = argv[5];
  names.dns = (const char *const *)(argv + 7);
  names.n_dns = (size_t)(argc - 7);
  if (cs_plat_reqkey_make(&cfg, argv[2], kind, &k, &err) != CS_OK || cs_csr_build(&names, k, &pem, &err) != CS_OK ||
      cs_plat_write_atomic(argv[6], pem, strlen(pem), 0644, &err) != CS_OK)
    goto out;
  if ((pub_path = malloc(strlen(argv[6]) + 5)) == NULL || (bio = BIO_new(BIO_s_mem())) == NULL ||
      PEM_write_bio_PUBKEY(bio, cs_plat_reqkey_public(k)) != 1 || (pub_len = BIO_get_mem_data(bio, &pub)) <= 0) {
    cs_err_set(&err, CS_ENOMEM, 0, "cannot write the public key");
    goto out;
  }
  sprintf(pub_path, "%s.pub", argv[6]);
  if (cs_plat_write_atomic(pub_path, pub, (size_t)pub_len, 0644, &err) != CS_OK)
    goto out;
  printf("%s\n", cs_plat_reqkey_where(k));
  rc = 0;
out:
  if (rc != 0)
    fprintf(stderr, "cs-csrtool: %s\n", err.text);
  if (k != NULL) {
    cs_plat_reqkey_free(k);
    if (cs_plat_reqkey_delete(&cfg, argv[2], &err) != CS_OK)
      fprintf(stderr, "cs-csrtool: the key stays: %s\n", err.text);
  }
  BIO_free(bio);
  free(pub_path);
  free(pem);
  cs_config_free(&cfg);
  return rc;
}
