/* cs-certtool.exe: the tests' own view of LocalMachine\My, through crypt32 directly
 * (not through certsteward's store code, which is what the tests check):
 *
 *   cs-certtool import FILE.pfx PASSWORD_FILE   import into LocalMachine\My (machine
 *                                               key set), print the leaf's thumbprint
 *   cs-certtool has THUMBPRINT [STORE]          exit 0 when My (or LocalMachine\STORE)
 *                                               holds it, 1 when not
 *   cs-certtool list [STORE]                    every certificate of My (or
 *                                               LocalMachine\STORE): its SHA-1 thumbprint
 *                                               and whether a key is linked
 *   cs-certtool remove THUMBPRINT [STORE]       remove it from My (or LocalMachine\STORE;
 *                                               committed)
 *   cs-certtool add STORE FILE.pem              add a certificate to LocalMachine\STORE
 *                                               (Root, CA, Disallowed), as an admin does
 *   cs-certtool del STORE FILE.pem              remove it from there (exit 1: was not there)
 *   cs-certtool link OLD_TP NEW_TP              the renewal link, as the enrollment process
 *                                               (autoenrollment, certreq -accept) leaves it:
 *                                               CERT_RENEWAL_PROP_ID on OLD in My holding
 *                                               the SHA-1 hash of NEW (which need not be in
 *                                               My), committed (exit 1: OLD not in My)
 *   cs-certtool pending FILE.pem FILE.pfx PASSWORD_FILE
 *                                               a pending request as certreq -new leaves
 *                                               it: FILE.pem (a self-signed placeholder
 *                                               with the request's public key) added to
 *                                               LocalMachine\REQUEST, linked to the key of
 *                                               FILE.pfx's leaf imported into the machine key
 *                                               set (CERT_KEY_PROV_INFO, AT_KEYEXCHANGE,
 *                                               CRYPT_MACHINE_KEYSET), committed; prints the
 *                                               placeholder's thumbprint
 *
 * Exit status 2 when the command could not run. Paths and passwords are ASCII here. */
#include <windows.h>
#include <wincrypt.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static HCERTSTORE open_my(void) {
  return CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, CERT_SYSTEM_STORE_LOCAL_MACHINE, L"My");
}

static int hex_to_hash(const char *hex, BYTE hash[20]) {
  int i;
  if (strlen(hex) != 40)
    return -1;
  for (i = 0; i < 20; i++) {
    unsigned v;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1)
      return -1;
    hash[i] = (BYTE)v;
  }
  return 0;
}

static PCCERT_CONTEXT find(HCERTSTORE store, const char *hex) {
  BYTE hash[20];
  CRYPT_HASH_BLOB blob = {20, hash};
  if (hex_to_hash(hex, hash) != 0)
    return NULL;
  return CertFindCertificateInStore(store, X509_ASN_ENCODING, 0, CERT_FIND_SHA1_HASH, &blob, NULL);
}

static char *read_all(const char *path, DWORD *len) {
  FILE *f = fopen(path, "rb");
  char *data = NULL;
  long n;
  if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
      (data = malloc((size_t)n + 1)) == NULL || fread(data, 1, (size_t)n, f) != (size_t)n) {
    free(data);
    data = NULL;
  } else {
    data[n] = '\0';
    *len = (DWORD)n;
  }
  if (f != NULL)
    fclose(f);
  return data;
}

/* 1 when c (of the PFX's store s) issued another certificate there: not the leaf.
 * Wine links the key to every certificate of a PFX, its chain too. */
static int issues_another(HCERTSTORE s, PCCERT_CONTEXT c) {
  PCCERT_CONTEXT o = NULL;
  while ((o = CertEnumCertificatesInStore(s, o)) != NULL) {
    if (!CertCompareCertificate(X509_ASN_ENCODING, o->pCertInfo, c->pCertInfo) &&
        CertCompareCertificateName(X509_ASN_ENCODING, &o->pCertInfo->Issuer, &c->pCertInfo->Subject)) {
      CertFreeCertificateContext(o);
      return 1;
    }
  }
  return 0;
}

/* The leaf of the PKCS#12 pfx_path (its key imported into the machine key set): the
 * certificate with a private key linked to it that issued none (free it); its store in
 * *tmp (close it). NULL with a message on failure. */
static PCCERT_CONTEXT pfx_leaf(const char *pfx_path, const char *pass_path, HCERTSTORE *tmp) {
  DWORD len = 0, plen = 0, n = 0;
  char *pfx = read_all(pfx_path, &len), *pass = read_all(pass_path, &plen);
  wchar_t wpass[256];
  CRYPT_DATA_BLOB blob;
  PCCERT_CONTEXT c = NULL;

  *tmp = NULL;
  if (pfx == NULL || pass == NULL) {
    fprintf(stderr, "cannot read %s or %s\n", pfx_path, pass_path);
    goto out;
  }
  pass[strcspn(pass, "\r\n")] = '\0';
  if (MultiByteToWideChar(CP_UTF8, 0, pass, -1, wpass, 256) == 0)
    goto out;
  blob.cbData = len;
  blob.pbData = (BYTE *)pfx;
  if ((*tmp = PFXImportCertStore(&blob, wpass, CRYPT_MACHINE_KEYSET)) == NULL) {
    fprintf(stderr, "cannot import %s: error %lu\n", pfx_path, (unsigned long)GetLastError());
    goto out;
  }
  while ((c = CertEnumCertificatesInStore(*tmp, c)) != NULL)
    if (CertGetCertificateContextProperty(c, CERT_KEY_PROV_INFO_PROP_ID, NULL, &n) && !issues_another(*tmp, c))
      break;
  if (c == NULL)
    fprintf(stderr, "%s holds no certificate with a key\n", pfx_path);
out:
  if (pass != NULL)
    SecureZeroMemory(pass, plen);
  SecureZeroMemory(wpass, sizeof wpass);
  free(pfx);
  free(pass);
  return c;
}

/* Prints c's SHA-1 thumbprint (upper-case hex) on a line; 0, or 2 when it cannot be read. */
static int print_tp(PCCERT_CONTEXT c) {
  BYTE hash[20];
  DWORD hl = sizeof hash, i;
  if (!CertGetCertificateContextProperty(c, CERT_SHA1_HASH_PROP_ID, hash, &hl))
    return 2;
  for (i = 0; i < hl; i++)
    printf("%02X", hash[i]);
  printf("\n");
  return 0;
}

static int import(const char *pfx_path, const char *pass_path) {
  HCERTSTORE tmp = NULL, my = NULL;
  PCCERT_CONTEXT c = pfx_leaf(pfx_path, pass_path, &tmp), added = NULL;
  int rc = 2;
  if (c != NULL && (my = open_my()) != NULL) {
    if (!CertAddCertificateContextToStore(my, c, CERT_STORE_ADD_REPLACE_EXISTING, &added) || print_tp(added) != 0)
      fprintf(stderr, "cannot add to LocalMachine\\My: error %lu\n", (unsigned long)GetLastError());
    else
      rc = 0;
    CertControlStore(my, 0, CERT_STORE_CTRL_COMMIT, NULL);
  }
  if (c != NULL)
    CertFreeCertificateContext(c);
  if (added != NULL)
    CertFreeCertificateContext(added);
  if (tmp != NULL)
    CertCloseStore(tmp, 0);
  if (my != NULL)
    CertCloseStore(my, 0);
  return rc;
}

/* The certificate of the PEM file path (free it), or NULL. */
static PCCERT_CONTEXT pem_cert(const char *path) {
  DWORD len = 0, der_len = 0;
  char *pem = read_all(path, &len);
  BYTE *der = NULL;
  PCCERT_CONTEXT c = NULL;
  if (pem != NULL && CryptStringToBinaryA(pem, len, CRYPT_STRING_BASE64HEADER, NULL, &der_len, NULL, NULL) &&
      (der = malloc(der_len)) != NULL &&
      CryptStringToBinaryA(pem, len, CRYPT_STRING_BASE64HEADER, der, &der_len, NULL, NULL))
    c = CertCreateCertificateContext(X509_ASN_ENCODING, der, der_len);
  free(der);
  free(pem);
  return c;
}

/* LocalMachine\<store> (ASCII name), or NULL. */
static HCERTSTORE open_machine(const char *store) {
  wchar_t wstore[32];
  if (MultiByteToWideChar(CP_UTF8, 0, store, -1, wstore, 32) == 0)
    return NULL;
  return CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, CERT_SYSTEM_STORE_LOCAL_MACHINE, wstore);
}

/* add / del a PEM certificate to / from LocalMachine\<store>. */
static int add_del(const char *op, const char *store, const char *path) {
  HCERTSTORE s = NULL;
  PCCERT_CONTEXT c = NULL, found = NULL;
  int rc = 2;
  if ((c = pem_cert(path)) == NULL || (s = open_machine(store)) == NULL) {
    fprintf(stderr, "cannot read %s or open LocalMachine\\%s: error %lu\n", path, store, (unsigned long)GetLastError());
    goto out;
  }
  if (strcmp(op, "add") == 0) {
    rc = CertAddCertificateContextToStore(s, c, CERT_STORE_ADD_REPLACE_EXISTING, NULL) ? 0 : 2;
  } else {
    found = CertFindCertificateInStore(s, X509_ASN_ENCODING, 0, CERT_FIND_EXISTING, c, NULL);
    rc = found == NULL ? 1 : CertDeleteCertificateFromStore(found) ? 0 : 2; /* frees found */
    found = NULL;
  }
  if (rc == 2)
    fprintf(stderr, "cannot %s %s: error %lu\n", op, path, (unsigned long)GetLastError());
  CertControlStore(s, 0, CERT_STORE_CTRL_COMMIT, NULL);
out:
  if (c != NULL)
    CertFreeCertificateContext(c);
  if (s != NULL)
    CertCloseStore(s, 0);
  return rc;
}

/* pending FILE.pem FILE.pfx PASSWORD_FILE: the placeholder into REQUEST with the link of
 * the PKCS#12's key; the link's properties set on the context the add returned (Wine
 * keeps none set through another handle). */
static int pending(const char *pem_path, const char *pfx_path, const char *pass_path) {
  HCERTSTORE tmp = NULL, req = NULL;
  PCCERT_CONTEXT leaf = pfx_leaf(pfx_path, pass_path, &tmp), ph = pem_cert(pem_path), added = NULL;
  CRYPT_KEY_PROV_INFO *kp = NULL;
  DWORD n = 0;
  int rc = 2;
  if (leaf == NULL || ph == NULL || (req = open_machine("REQUEST")) == NULL ||
      !CertGetCertificateContextProperty(leaf, CERT_KEY_PROV_INFO_PROP_ID, NULL, &n) || (kp = malloc(n)) == NULL ||
      !CertGetCertificateContextProperty(leaf, CERT_KEY_PROV_INFO_PROP_ID, kp, &n)) {
    fprintf(stderr, "cannot read %s or %s, or open LocalMachine\\REQUEST: error %lu\n", pem_path, pfx_path,
            (unsigned long)GetLastError());
    goto out;
  }
  /* as certreq -new -machine links its key (Wine's import writes neither) */
  kp->dwKeySpec = AT_KEYEXCHANGE;
  kp->dwFlags |= CRYPT_MACHINE_KEYSET;
  if (!CertAddCertificateContextToStore(req, ph, CERT_STORE_ADD_REPLACE_EXISTING, &added) ||
      !CertSetCertificateContextProperty(added, CERT_KEY_PROV_INFO_PROP_ID, 0, kp) ||
      !CertControlStore(req, 0, CERT_STORE_CTRL_COMMIT, NULL) || (rc = print_tp(added)) != 0)
    fprintf(stderr, "cannot add %s to LocalMachine\\REQUEST: error %lu\n", pem_path, (unsigned long)GetLastError());
out:
  free(kp);
  if (added != NULL)
    CertFreeCertificateContext(added);
  if (ph != NULL)
    CertFreeCertificateContext(ph);
  if (leaf != NULL)
    CertFreeCertificateContext(leaf);
  if (tmp != NULL)
    CertCloseStore(tmp, 0);
  if (req != NULL)
    CertCloseStore(req, 0);
  return rc;
}

/* One line per certificate of my: thumbprint and "key" or "nokey", in store order. */
static int list(HCERTSTORE my) {
  PCCERT_CONTEXT c = NULL;
  if (my == NULL)
    return 2;
  while ((c = CertEnumCertificatesInStore(my, c)) != NULL) {
    BYTE hash[20];
    DWORD n = sizeof hash, k = 0, i;
    if (!CertGetCertificateContextProperty(c, CERT_SHA1_HASH_PROP_ID, hash, &n))
      continue;
    for (i = 0; i < n; i++)
      printf("%02X", hash[i]);
    printf(" %s\n", CertGetCertificateContextProperty(c, CERT_KEY_PROV_INFO_PROP_ID, NULL, &k) ? "key" : "nokey");
  }
  CertCloseStore(my, 0);
  return 0;
}

/* link OLD NEW. A property set on a certificate already in the store is saved by
 * Windows at once; Wine keeps it in its cache until the store is written out, which
 * only a forced commit does when nothing was added or removed (harmless on Windows). */
static int link_renewal(const char *old_tp, const char *new_tp) {
  BYTE hash[20];
  CRYPT_DATA_BLOB blob = {sizeof hash, hash};
  HCERTSTORE my;
  PCCERT_CONTEXT c;
  int rc;
  if (hex_to_hash(new_tp, hash) != 0) {
    fprintf(stderr, "not a thumbprint: %s\n", new_tp);
    return 2;
  }
  if ((my = open_my()) == NULL)
    return 2;
  if ((c = find(my, old_tp)) == NULL) {
    fprintf(stderr, "%s is not in LocalMachine\\My\n", old_tp);
    rc = 1;
  } else if (!CertSetCertificateContextProperty(c, CERT_RENEWAL_PROP_ID, 0, &blob) ||
             !CertControlStore(my, CERT_STORE_CTRL_COMMIT_FORCE_FLAG, CERT_STORE_CTRL_COMMIT, NULL)) {
    fprintf(stderr, "cannot link %s to %s: error %lu\n", old_tp, new_tp, (unsigned long)GetLastError());
    rc = 2;
  } else {
    rc = 0;
  }
  if (c != NULL)
    CertFreeCertificateContext(c);
  CertCloseStore(my, 0);
  return rc;
}

int main(int argc, char **argv) {
  HCERTSTORE my;
  PCCERT_CONTEXT c;
  int rc;
  if ((argc == 2 || argc == 3) && strcmp(argv[1], "list") == 0)
    return list(argc == 3 ? open_machine(argv[2]) : open_my());
  if (argc == 4 && strcmp(argv[1], "import") == 0)
    return import(argv[2], argv[3]);
  if (argc == 4 && (strcmp(argv[1], "add") == 0 || strcmp(argv[1], "del") == 0))
    return add_del(argv[1], argv[2], argv[3]);
  if (argc == 4 && strcmp(argv[1], "link") == 0)
    return link_renewal(argv[2], argv[3]);
  if (argc == 5 && strcmp(argv[1], "pending") == 0)
    return pending(argv[2], argv[3], argv[4]);
  if ((argc != 3 && argc != 4) || (strcmp(argv[1], "has") != 0 && strcmp(argv[1], "remove") != 0)) {
    fprintf(stderr,
            "usage: cs-certtool import FILE.pfx PASSWORD_FILE | has|remove THUMBPRINT [STORE] | list [STORE] |\n"
            "       add|del Root|CA|Disallowed FILE.pem | link OLD_TP NEW_TP |\n"
            "       pending FILE.pem FILE.pfx PASSWORD_FILE\n");
    return 2;
  }
  if ((my = argc == 4 ? open_machine(argv[3]) : open_my()) == NULL)
    return 2;
  c = find(my, argv[2]);
  if (strcmp(argv[1], "has") == 0) {
    rc = c != NULL ? 0 : 1;
    if (c != NULL)
      CertFreeCertificateContext(c);
  } else {
    rc =
        c != NULL && CertDeleteCertificateFromStore(c) && CertControlStore(my, 0, CERT_STORE_CTRL_COMMIT, NULL) ? 0 : 1;
  }
  CertCloseStore(my, 0);
  return rc;
}
