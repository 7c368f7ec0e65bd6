/* Binding rewrite (see bindings.h). A thumbprint swap keeps the length, so every new
 * file is made in memory and checked before the disk is touched at all. A binding
 * file sits in a folder the connector's account may write: it is replaced with
 * cs_plat_write_recorded, whose record of the temp names goes to the backup folder
 * (in the state folder), never found by listing the binding file's folder. */
#include "bindings.h"

#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "platform.h"
#include "text.h"

/* Format 2 names what each file is written back with (cs_plat_read_file_meta, "-" for
 * none); format 1, written before, has no such field: its files are written back with
 * what is at their path, as they were then. */
#define MANIFEST_HEADER "# certsteward binding backup 2: backup name TAB written with TAB original path\n"
#define MANIFEST_V2 "# certsteward binding backup 2:"

/* What one binding file held and what it will hold. */
typedef struct cs__bfile_s {
  unsigned char *orig;
  unsigned char *next;
  size_t len; /* of both */
} cs__bfile_t;

/* ASCII only, whatever the C locale says. */
static int is_hex(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static char hex_upper(char c) { return c >= 'a' && c <= 'f' ? (char)(c - 'a' + 'A') : c; }
static char hex_lower(char c) { return c >= 'A' && c <= 'F' ? (char)(c - 'A' + 'a') : c; }

int cs_thumbprint_valid(const char *s) {
  size_t i;
  if (s == NULL)
    return 0;
  for (i = 0; i < CS_THUMBPRINT_LEN; i++)
    if (!is_hex((unsigned char)s[i]))
      return 0;
  return s[i] == '\0';
}

void cs_thumbprint_upper(char *s) {
  for (; *s != '\0'; s++)
    *s = hex_upper(*s);
}

/* How a file's text is laid out: one byte per character (ASCII, UTF-8, an ANSI code
 * page) or UTF-16 (Windows tools write it: PowerShell 5's Out-File and Set-Content
 * -Encoding Unicode). A thumbprint is ASCII in all of them; in UTF-16 each of its
 * characters is a 16-bit unit whose high byte is 0, which is what is read and written
 * here, in the file's own byte order, so that the encoding is kept byte for byte. */
typedef struct enc_s {
  size_t start; /* after a byte order mark */
  size_t width; /* bytes per unit: 1 or 2 */
  size_t lo;    /* of a 2-byte unit, the byte that holds an ASCII character: 0 LE, 1 BE */
  size_t n;     /* units */
} enc_t;

/* UTF-16 by its byte order mark, or, without one, when the text starts with an ASCII
 * character and a zero byte (LE) or the other way round (BE): no UTF-8 or ANSI text
 * holds a zero byte there. */
static void detect(const unsigned char *p, size_t len, enc_t *e) {
  memset(e, 0, sizeof *e);
  e->width = 1;
  if (len >= 2 && p[0] == 0xFF && p[1] == 0xFE)
    e->start = 2, e->width = 2, e->lo = 0;
  else if (len >= 2 && p[0] == 0xFE && p[1] == 0xFF)
    e->start = 2, e->width = 2, e->lo = 1;
  else if (len >= 2 && len % 2 == 0 && p[0] != 0 && p[0] < 0x80 && p[1] == 0)
    e->width = 2, e->lo = 0;
  else if (len >= 2 && len % 2 == 0 && p[0] == 0 && p[1] != 0 && p[1] < 0x80)
    e->width = 2, e->lo = 1;
  e->n = (len - e->start) / e->width;
}

/* The ASCII character of unit k, or 0 when it is not one. */
static unsigned char unit(const unsigned char *p, const enc_t *e, size_t k) {
  const unsigned char *u = p + e->start + k * e->width;
  if (e->width == 1)
    return u[0];
  return u[1 - e->lo] == 0 ? u[e->lo] : 0;
}

/* Next token at or after unit *pos (which never points inside a hex run): a maximal run
 * of exactly 40 hex digits, so nothing is ever matched inside a SHA-256 or a longer
 * blob; its characters go to tok (upper case kept as it is). */
static int next_token(const unsigned char *p, const enc_t *e, size_t *pos, size_t *at,
                      char tok[CS_THUMBPRINT_LEN + 1]) {
  size_t i = *pos, start, k;
  while (i < e->n) {
    if (!is_hex(unit(p, e, i))) {
      i++;
      continue;
    }
    start = i;
    while (i < e->n && is_hex(unit(p, e, i)))
      i++;
    if (i - start == CS_THUMBPRINT_LEN) {
      for (k = 0; k < CS_THUMBPRINT_LEN; k++)
        tok[k] = (char)unit(p, e, start + k);
      tok[CS_THUMBPRINT_LEN] = '\0';
      *pos = i;
      *at = start;
      return 1;
    }
  }
  *pos = e->n;
  return 0;
}

static int token_is(const char *t, const char *tp) {
  size_t i;
  for (i = 0; i < CS_THUMBPRINT_LEN; i++)
    if (hex_upper(t[i]) != hex_upper(tp[i]))
      return 0;
  return 1;
}

size_t cs_bindings_swap(unsigned char *p, size_t len, const char *old_tp, const char *new_tp) {
  char tok[CS_THUMBPRINT_LEN + 1];
  size_t pos = 0, at, i, count = 0;
  enc_t e;
  detect(p, len, &e);
  while (next_token(p, &e, &pos, &at, tok)) {
    int has_lower = 0, has_upper = 0;
    if (!token_is(tok, old_tp))
      continue;
    for (i = 0; i < CS_THUMBPRINT_LEN; i++) {
      has_lower |= tok[i] >= 'a' && tok[i] <= 'f';
      has_upper |= tok[i] >= 'A' && tok[i] <= 'F';
    }
    for (i = 0; i < CS_THUMBPRINT_LEN; i++)
      p[e.start + (at + i) * e.width + (e.width == 2 ? e.lo : 0)] =
          (unsigned char)(has_lower && !has_upper ? hex_lower(new_tp[i]) : hex_upper(new_tp[i]));
    count++;
  }
  return count;
}

static int name_char_ok(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* "<index>-<base name>" with the base name reduced to [A-Za-z0-9._-]: the index keeps
 * two tls.json from different folders apart, and the name can neither leave the
 * backup folder nor break a manifest line. NULL when out of memory. */
static char *backup_name(size_t index, const char *path) {
  const char *base = path, *s;
  cs_buf_t b = CS_BUF_INIT;
  for (s = path; *s != '\0'; s++)
    if (*s == '/' || *s == '\\')
      base = s + 1;
  cs_buf_printf(&b, "%zu-", index);
  for (s = base; *s != '\0'; s++) {
    char c = name_char_ok(*s) ? *s : '_';
    cs_buf_append(&b, &c, 1);
  }
  if (b.oom) {
    cs_buf_free(&b);
    return NULL;
  }
  return b.p;
}

/* A manifest's name field [start, end): one backup_name could have made (it starts
 * with a digit, so it is never "." or ".."), nothing that climbs out of the folder. */
static int backup_name_ok(const char *start, const char *end) {
  const char *s;
  if (start == end || start[0] < '0' || start[0] > '9')
    return 0;
  for (s = start; s < end; s++)
    if (!name_char_ok(*s))
      return 0;
  return 1;
}

/* ---- scan ---------------------------------------------------------------------- */

/* Counts token t (in file) into s, adding it when new (few ever are: growing by one is cheap). */
static int note_token(cs_bindings_scan_t *s, const char *t, size_t file, cs_err_t *err) {
  cs_bindings_found_t *f = NULL;
  size_t k;
  for (k = 0; k < s->n_found && f == NULL; k++)
    if (token_is(t, s->found[k].tp))
      f = &s->found[k];
  if (f == NULL) {
    if (s->n_found == CS_BINDINGS_MAX_FOUND)
      return cs_err_set(err, CS_ETOOBIG, 0, "%s: more than %d different 40-hex-digit values; not a binding file?",
                        s->files[file], CS_BINDINGS_MAX_FOUND);
    if ((f = realloc(s->found, (s->n_found + 1) * sizeof *f)) == NULL)
      return cs_err_set(err, CS_ENOMEM, 0, "out of memory scanning %s", s->files[file]);
    s->found = f;
    f = &s->found[s->n_found];
    memset(f, 0, sizeof *f);
    f->files = calloc(s->n_files, sizeof *f->files);
    if (f->files == NULL)
      return cs_err_set(err, CS_ENOMEM, 0, "out of memory scanning %s", s->files[file]);
    s->n_found++;
    memcpy(f->tp, t, CS_THUMBPRINT_LEN);
    f->tp[CS_THUMBPRINT_LEN] = '\0';
    cs_thumbprint_upper(f->tp);
  }
  f->count++;
  if (f->n_files == 0 || f->files[f->n_files - 1] != file)
    f->files[f->n_files++] = file;
  return CS_OK;
}

int cs_bindings_scan(const char *const *files, size_t n, cs_bindings_scan_t *out, cs_err_t *err) {
  cs_bindings_scan_t s = {NULL, 0, NULL, 0};
  char tok[CS_THUMBPRINT_LEN + 1];
  unsigned char *data = NULL;
  size_t len = 0, i, pos, at;
  enc_t e;
  int rc;

  memset(out, 0, sizeof *out);
  if (files == NULL || n == 0)
    return cs_err_set(err, CS_EINVAL, 0, "no binding files to scan");
  s.files = calloc(n, sizeof *s.files);
  if (s.files == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    goto out;
  }
  s.n_files = n;
  for (i = 0; i < n; i++) {
    if ((s.files[i] = cs_strdup(files[i])) == NULL) {
      rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
      goto out;
    }
    rc = cs_plat_read_file(files[i], CS_BINDINGS_MAX_FILE, CS_READ_NOFOLLOW, &data, &len, err);
    if (rc != CS_OK)
      goto out;
    pos = 0;
    detect(data, len, &e);
    while (next_token(data, &e, &pos, &at, tok))
      if ((rc = note_token(&s, tok, i, err)) != CS_OK)
        goto out;
    cs_plat_free_file(data, len);
    data = NULL;
    len = 0;
  }
  *out = s;
  memset(&s, 0, sizeof s);
  rc = CS_OK;
out:
  cs_plat_free_file(data, len);
  cs_bindings_scan_free(&s);
  return rc;
}

void cs_bindings_scan_free(cs_bindings_scan_t *s) {
  size_t i;
  for (i = 0; s->files != NULL && i < s->n_files; i++)
    free(s->files[i]);
  for (i = 0; i < s->n_found; i++)
    free(s->found[i].files);
  free(s->files);
  free(s->found);
  memset(s, 0, sizeof *s);
}

int cs_bindings_current(const cs_bindings_scan_t *s, char out[CS_THUMBPRINT_LEN + 1], cs_err_t *err) {
  cs_buf_t b = CS_BUF_INIT;
  size_t k, j;
  int rc;

  out[0] = '\0';
  if (s->n_found == 1) {
    memcpy(out, s->found[0].tp, CS_THUMBPRINT_LEN + 1);
    return CS_OK;
  }
  if (s->n_found == 0) {
    for (j = 0; j < s->n_files; j++)
      cs_buf_printf(&b, "%s%s", j ? ", " : "", s->files[j]);
    rc = cs_err_set(err, CS_ENOENT, 0, "no certificate thumbprint (40 hex digits) found in %s",
                    cs_buf_str(&b) ? cs_buf_str(&b) : "the binding files");
  } else {
    /* The values are not said: a file the connector's account moved to a binding file's
     * path may be one it cannot read (root's, holding 40-hex tokens), and the events may
     * be read by others; certsteward status shows them to an administrator. The advice
     * first: a long list is cut at the end of the error text. */
    for (k = 0; k < s->n_found; k++) {
      cs_buf_printf(&b, "%s%zu in ", k ? "; " : "", k + 1);
      for (j = 0; j < s->found[k].n_files; j++)
        cs_buf_printf(&b, "%s%s", j ? ", " : "", s->files[s->found[k].files[j]]);
    }
    rc = cs_err_set(err, CS_ECONFIG, 0,
                    "the binding files name %zu different thumbprints; set [connector] thumbprint to the "
                    "one in service (certsteward status shows them): %s",
                    s->n_found, cs_buf_str(&b) ? cs_buf_str(&b) : "(out of memory)");
  }
  cs_buf_free(&b);
  return rc;
}

/* ---- rewrite, backup, undo ---------------------------------------------------- */

/* Writing file k failed: puts files 0..k-1 back from memory (the very bytes of the
 * backups) and then drops the backup, as nothing is left to undo. Returns the first
 * file that could not be put back (the backup then stays for the undo), or NULL. */
static const char *put_back(const cs__bfile_t *c, const char *const *files, size_t k, const cs_bindings_backup_t *b) {
  const char *stuck = NULL;
  size_t i;
  for (i = 0; i < k; i++)
    if (cs_plat_write_recorded(files[i], c[i].orig, c[i].len, b->entries[i].meta, b->dir, NULL) != CS_OK &&
        stuck == NULL)
      stuck = files[i];
  if (stuck == NULL)
    (void)cs_bindings_backup_remove(b, NULL);
  return stuck;
}

int cs_bindings_rewrite(const char *const *files, size_t n, const char *old_tp, const char *new_tp,
                        const char *backup_dir, cs_bindings_backup_t *backup, cs_err_t *err) {
  cs_bindings_backup_t b = {NULL, NULL, 0};
  cs__bfile_t *c = NULL;
  char *manifest_path = NULL, *name = NULL;
  cs_buf_t manifest = CS_BUF_INIT;
  cs_err_t werr;
  size_t i;
  int rc;

  memset(backup, 0, sizeof *backup);
  cs_err_clear(&werr);
  if (files == NULL || n == 0 || backup_dir == NULL || backup_dir[0] == '\0')
    return cs_err_set(err, CS_EINVAL, 0, "binding rewrite: no files or no backup folder");
  if (!cs_thumbprint_valid(old_tp) || !cs_thumbprint_valid(new_tp))
    return cs_err_set(err, CS_EINVAL, 0, "binding rewrite: a thumbprint is not 40 hex digits");
  c = calloc(n, sizeof *c);
  b.entries = calloc(n, sizeof *b.entries);
  b.n = n;
  b.dir = cs_strdup(backup_dir);
  manifest_path = cs_plat_path_join_new(backup_dir, CS_BINDINGS_MANIFEST);
  if (c == NULL || b.entries == NULL || b.dir == NULL || manifest_path == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    goto out;
  }
  cs_buf_puts(&manifest, MANIFEST_HEADER);
  for (i = 0; i < n; i++) {
    if (strpbrk(files[i], "\r\n") != NULL) { /* a manifest line could not hold it */
      rc = cs_err_set(err, CS_EINVAL, 0, "binding file name holds a line break: %s", files[i]);
      goto out;
    }
    /* meta: the file written back gets the owner and mode of the one read here, not
     * those of a file the folder's owner puts at the path before the write */
    rc = cs_plat_read_file_meta(files[i], CS_BINDINGS_MAX_FILE, &c[i].orig, &c[i].len, &b.entries[i].meta, err);
    if (rc != CS_OK)
      goto out;
    if ((c[i].next = malloc(c[i].len + 1)) == NULL) {
      rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
      goto out;
    }
    memcpy(c[i].next, c[i].orig, c[i].len);
    b.entries[i].replaced = cs_bindings_swap(c[i].next, c[i].len, old_tp, new_tp);
    if (b.entries[i].replaced == 0) {
      rc = cs_err_set(err, CS_ENOENT, 0, "%s does not name the certificate in service (%s); nothing was changed",
                      files[i], old_tp);
      goto out;
    }
    free(name);
    name = backup_name(i, files[i]);
    if (name == NULL || (b.entries[i].original = cs_strdup(files[i])) == NULL ||
        (b.entries[i].backup = cs_plat_path_join_new(backup_dir, name)) == NULL) {
      rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
      goto out;
    }
    cs_buf_printf(&manifest, "%s\t%s\t%s\n", name, b.entries[i].meta != NULL ? b.entries[i].meta : "-", files[i]);
  }
  if (manifest.oom) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    goto out;
  }
  if ((rc = cs_plat_mkdirs(backup_dir, 0700, err)) != CS_OK)
    goto out;
  /* An old manifest may be the only record of originals: never overwrite it. */
  if (cs_plat_exists(manifest_path)) {
    rc = cs_err_set(err, CS_EINVAL, 0, "%s already holds a binding backup; restore or remove it first", backup_dir);
    goto out;
  }
  /* The copies first, the manifest last: a manifest means a complete set of copies. */
  for (i = 0; i < n; i++) {
    if ((rc = cs_plat_write_atomic(b.entries[i].backup, c[i].orig, c[i].len, 0600, err)) != CS_OK)
      goto out;
    cs_fault_point_n("bindings_backup:", i); /* test builds: crash.sh */
  }
  if ((rc = cs_plat_write_atomic(manifest_path, manifest.p, manifest.len, 0600, err)) != CS_OK)
    goto out;
  cs_fault_point("bindings_manifest"); /* test builds: crash.sh */
  for (i = 0; i < n; i++) {
    rc = cs_plat_write_recorded(files[i], c[i].next, c[i].len, b.entries[i].meta, backup_dir, &werr);
    if (rc != CS_OK) {
      const char *stuck = put_back(c, files, i, &b);
      /* The outcome first: long paths may cut the end of the text. */
      if (stuck == NULL)
        cs_err_set(err, rc, werr.raw, "binding rewrite failed, no binding file was left changed: %s", werr.text);
      else
        cs_err_set(err, rc, werr.raw, "binding rewrite failed and %s could not be put back (undo from %s): %s", stuck,
                   backup_dir, werr.text);
      goto out;
    }
    cs_fault_point_n("bindings_write:", i); /* test builds: crash.sh */
  }
  *backup = b;
  memset(&b, 0, sizeof b);
  rc = CS_OK;
out:
  for (i = 0; c != NULL && i < n; i++) {
    cs_plat_free_file(c[i].orig, c[i].len);
    free(c[i].next);
  }
  free(c);
  free(name);
  free(manifest_path);
  cs_buf_free(&manifest);
  cs_bindings_backup_free(&b);
  return rc;
}

int cs_bindings_restore(const cs_bindings_backup_t *backup, cs_err_t *err) {
  unsigned char *data = NULL;
  size_t len = 0, i;
  cs_err_t e;
  int rc = CS_OK, r;

  cs_err_clear(&e);
  for (i = 0; i < backup->n; i++) {
    const cs_bindings_entry_t *en = &backup->entries[i];
    /* not over a file someone put there since the backup (another owner) */
    r = cs_plat_recorded_owner_unchanged(en->original, en->meta, &e);
    if (r == CS_OK)
      r = cs_plat_read_file(en->backup, CS_BINDINGS_MAX_FILE, CS_READ_NOFOLLOW, &data, &len, &e);
    if (r == CS_OK)
      r = cs_plat_write_recorded(en->original, data, len, en->meta, backup->dir, &e);
    cs_plat_free_file(data, len);
    data = NULL;
    len = 0;
    if (r != CS_OK && rc == CS_OK)
      rc = cs_err_set(err, r, e.raw, "cannot put %s back from %s: %s", en->original, en->backup, e.text);
    cs_fault_point_n("bindings_restore:", i); /* test builds: crash.sh */
  }
  return rc;
}

int cs_bindings_backup_load(const char *backup_dir, cs_bindings_backup_t *backup, cs_err_t *err) {
  cs_bindings_backup_t b = {NULL, NULL, 0};
  cs_bindings_entry_t *en;
  char *path = NULL, *line, *next, *end, *tab, *tab2 = NULL, *meta;
  unsigned char *data = NULL;
  size_t len = 0, lines = 1, lineno = 0, i;
  int rc, v2 = 0;

  memset(backup, 0, sizeof *backup);
  path = cs_plat_path_join_new(backup_dir, CS_BINDINGS_MANIFEST);
  b.dir = cs_strdup(backup_dir);
  if (path == NULL || b.dir == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    goto out;
  }
  rc = cs_plat_read_file(path, CS_BINDINGS_MAX_FILE, CS_READ_NOFOLLOW, &data, &len, err);
  if (rc == CS_ENOENT) {
    rc = cs_err_set(err, CS_ENOENT, 0, "%s holds no binding backup: no binding file was changed", backup_dir);
    goto out;
  }
  if (rc != CS_OK)
    goto out;
  if (memchr(data, '\0', len) != NULL) {
    rc = cs_err_set(err, CS_EFORMAT, 0, "%s is not a binding backup manifest", path);
    goto out;
  }
  for (i = 0; i < len; i++)
    lines += data[i] == '\n';
  if ((b.entries = calloc(lines, sizeof *b.entries)) == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    goto out;
  }
  for (line = (char *)data; *line != '\0'; line = next) {
    lineno++;
    end = strchr(line, '\n');
    next = end != NULL ? end + 1 : line + strlen(line);
    if (end == NULL)
      end = next;
    if (end > line && end[-1] == '\r')
      end--;
    *end = '\0';
    if (lineno == 1 && strncmp(line, MANIFEST_V2, strlen(MANIFEST_V2)) == 0)
      v2 = 1;
    if (line[0] == '\0' || line[0] == '#')
      continue;
    /* Split at the first TABs: names and what a file is written with never hold one,
     * paths might. */
    tab = strchr(line, '\t');
    tab2 = NULL;
    meta = v2 && tab != NULL ? tab + 1 : NULL;
    if (meta != NULL && (tab2 = strchr(meta, '\t')) != NULL)
      *tab2 = '\0';
    if (tab == NULL || !backup_name_ok(line, tab) || (v2 && (tab2 == NULL || *meta == '\0')) ||
        (v2 ? tab2[1] : tab[1]) == '\0') {
      rc = cs_err_set(err, CS_EFORMAT, 0, "%s, line %zu: not \"backup name TAB %soriginal path\"", path, lineno,
                      v2 ? "written with TAB " : "");
      goto out;
    }
    *tab = '\0';
    en = &b.entries[b.n++];
    if ((en->original = cs_strdup(v2 ? tab2 + 1 : tab + 1)) == NULL ||
        (en->backup = cs_plat_path_join_new(backup_dir, line)) == NULL ||
        (meta != NULL && strcmp(meta, "-") != 0 && (en->meta = cs_strdup(meta)) == NULL)) {
      rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
      goto out;
    }
  }
  if (b.n == 0) {
    rc = cs_err_set(err, CS_EFORMAT, 0, "%s lists no binding file", path);
    goto out;
  }
  *backup = b;
  memset(&b, 0, sizeof b);
  rc = CS_OK;
out:
  cs_plat_free_file(data, len);
  free(path);
  cs_bindings_backup_free(&b);
  return rc;
}

int cs_bindings_backup_check(const cs_bindings_backup_t *backup, const char *const *files, size_t n, cs_err_t *err) {
  size_t i, j;
  for (i = 0; i < backup->n; i++) {
    const char *original = backup->entries[i].original;
    for (j = 0; j < n && strcmp(original, files[j]) != 0; j++)
      ;
    if (j == n)
      return cs_err_set(err, CS_ECONFIG, 0,
                        "the binding backup in %s names %s, which is not one of [connector] "
                        "binding_files: nothing was restored from it",
                        backup->dir, original);
    for (j = 0; j < i; j++)
      if (strcmp(original, backup->entries[j].original) == 0)
        return cs_err_set(err, CS_EFORMAT, 0,
                          "the binding backup in %s names %s twice: nothing was restored "
                          "from it",
                          backup->dir, original);
  }
  return CS_OK;
}

int cs_bindings_backup_remove(const cs_bindings_backup_t *backup, cs_err_t *err) {
  char *path = cs_plat_path_join_new(backup->dir, CS_BINDINGS_MANIFEST);
  cs_err_t e;
  size_t i;
  int rc, r;

  cs_err_clear(&e);
  if (path == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  /* The manifest goes first: while it stays, the copies it names are the undo. */
  rc = cs_plat_remove(path, err);
  free(path);
  if (rc != CS_OK)
    return rc;
  for (i = 0; i < backup->n; i++) {
    r = cs_plat_remove(backup->entries[i].backup, &e);
    if (r != CS_OK && rc == CS_OK)
      rc = cs_err_set(err, r, e.raw, "%s", e.text);
  }
  return rc;
}

void cs_bindings_backup_free(cs_bindings_backup_t *backup) {
  size_t i;
  for (i = 0; backup->entries != NULL && i < backup->n; i++) {
    free(backup->entries[i].original);
    free(backup->entries[i].backup);
    free(backup->entries[i].meta);
  }
  free(backup->entries);
  free(backup->dir);
  memset(backup, 0, sizeof *backup);
}
