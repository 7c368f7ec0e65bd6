/* floor-check PFX PASSWORD_FILE CA_FILE: the floor of validating a PFX. Only
 * OpenSSL's own work: PKCS12_parse, then X509_verify_cert of the leaf with the
 * file's other certificates as untrusted intermediates against CA_FILE. Exit 0
 * when the chain verifies, 1 otherwise (with OpenSSL's reason on stderr). */
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

int main(int argc, char **argv) {
  char pass[1024] = "";
  BIO *in = NULL;
  PKCS12 *p12 = NULL;
  EVP_PKEY *key = NULL;
  X509 *cert = NULL;
  STACK_OF(X509) *ca = NULL;
  X509_STORE *store = NULL;
  X509_STORE_CTX *ctx = NULL;
  FILE *f;
  int rc = 1;

  if (argc != 4) {
    fprintf(stderr, "usage: floor-check PFX PASSWORD_FILE CA_FILE\n");
    return 1;
  }
  if ((f = fopen(argv[2], "r")) == NULL || fgets(pass, sizeof pass, f) == NULL) {
    fprintf(stderr, "floor-check: cannot read %s\n", argv[2]);
    if (f != NULL)
      fclose(f);
    return 1;
  }
  fclose(f);
  pass[strcspn(pass, "\r\n")] = '\0';
  if ((in = BIO_new_file(argv[1], "rb")) == NULL || (p12 = d2i_PKCS12_bio(in, NULL)) == NULL ||
      !PKCS12_parse(p12, pass, &key, &cert, &ca) || cert == NULL)
    goto out;
  if ((store = X509_STORE_new()) == NULL || !X509_STORE_load_file(store, argv[3]) ||
      (ctx = X509_STORE_CTX_new()) == NULL || !X509_STORE_CTX_init(ctx, store, cert, ca))
    goto out;
  if (X509_verify_cert(ctx) == 1)
    rc = 0;
  else
    fprintf(stderr, "floor-check: %s\n", X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
out:
  if (rc != 0)
    ERR_print_errors_fp(stderr);
  OPENSSL_cleanse(pass, sizeof pass);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  sk_X509_pop_free(ca, X509_free);
  X509_free(cert);
  EVP_PKEY_free(key);
  PKCS12_free(p12);
  BIO_free(in);
  return rc;
}
