/* certsteward install's first configuration.
 *
 * install writes the configuration file only when it does not exist: from a template
 * (the shipped certsteward-default.ini), with --set KEY=VALUE put into the template's
 * "KEY =" lines, checked by the configuration loader, then written atomically. The
 * MSI passes its public properties this way (installer/windows/certsteward.wxs), so an
 * upgrade or a repair never rewrites an admin's file. The values are untrusted text:
 * a control character, a double quote (it would end the MSI's quoting of the value on
 * the command line) or " ;" (a comment in the file) is refused, never written. */
#include "install_config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "platform.h"
#include "text.h"

#define TEMPLATE_MAX (1u << 20)

/* 1 when the n bytes at a are b, ignoring ASCII case (configuration names). */
static int ieq(const char *a, size_t n, const char *b) {
  size_t i;
  for (i = 0; i < n; i++)
    if (b[i] == '\0' || tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
      return 0;
  return b[n] == '\0';
}

/* "[SECTION.]KEY=VALUE" into s; prints why and returns -1 when it is refused. */
static int parse_set(const char *arg, cs_install_set_t *s) {
  const char *eq = strchr(arg, '=');
  char name[sizeof s->section + sizeof s->key], what[sizeof s->key + 8], *dot;
  size_t n = eq != NULL ? (size_t)(eq - arg) : 0, i, klen;
  memset(s, 0, sizeof *s);
  for (i = 0; i < n && i + 1 < sizeof name; i++) {
    name[i] = (char)tolower((unsigned char)arg[i]);
    if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '.')
      break;
  }
  name[i] = '\0';
  dot = strchr(name, '.');
  klen = strlen(dot != NULL ? dot + 1 : name);
  if (n == 0 || i != n || dot == name || klen == 0 || klen >= sizeof s->key ||
      (dot != NULL && (size_t)(dot - name) >= sizeof s->section)) {
    fprintf(stderr,
            "certsteward install: --set %s: expected KEY=VALUE with a key of the configuration file "
            "(e.g. --set host=board.example.com)\n",
            arg);
    return -1;
  }
  if (dot != NULL) { /* both lengths were checked above */
    memcpy(s->section, name, (size_t)(dot - name));
    s->section[dot - name] = '\0';
  }
  memcpy(s->key, dot != NULL ? dot + 1 : name, klen);
  s->key[klen] = '\0';
  snprintf(what, sizeof what, "--set %s", s->key);
  return cs_install_set_value(s, eq + 1, what);
}

int cs_install_set_value(cs_install_set_t *s, const char *value, const char *what) {
  const char *v = value, *p;
  for (p = v; *p != '\0'; p++) {
    unsigned char c = (unsigned char)*p;
    const char *why = c < 0x20 || c == 0x7f                                  ? "a control character"
                      : c == '"'                                             ? "a double quote"
                      : c == ';' && p > v && (p[-1] == ' ' || p[-1] == '\t') ? "\" ;\", which starts a comment"
                                                                             : NULL;
    if (why != NULL) {
      fprintf(stderr,
              "certsteward install: %s: the value holds %s (byte 0x%02X at position %d): a "
              "configuration value is one line of plain text; nothing was installed\n",
              what, why, c, (int)(p - v) + 1);
      return -1;
    }
  }
  while (*v == ' ')
    v++;
  s->value = v;
  s->value_len = strlen(v);
  while (s->value_len > 0 && v[s->value_len - 1] == ' ')
    s->value_len--;
  return 0;
}

/* Copies the template t into out with the "KEY =" line of each set that has a value
 * replaced by "KEY = VALUE", the line's own ending (CRLF or LF) kept. -1 with why
 * printed when a key has no such line, or two. */
static int apply_sets(const char *tpath, const char *t, size_t len, cs_install_set_t *sets, size_t n, cs_buf_t *out) {
  char section[sizeof sets->section] = "";
  size_t pos = 0, i;
  int line = 0;
  while (pos < len) {
    const char *s = t + pos, *nl = memchr(s, '\n', len - pos), *end = nl != NULL ? nl + 1 : t + len;
    const char *eol = nl != NULL ? nl : end, *p = s, *k;
    line++;
    pos = (size_t)(end - t);
    if (eol > s && eol[-1] == '\r')
      eol--;
    while (p < eol && (*p == ' ' || *p == '\t'))
      p++;
    if (p < eol && *p == '[') {
      const char *close = memchr(p, ']', (size_t)(eol - p));
      size_t m = close != NULL ? (size_t)(close - p - 1) : 0;
      snprintf(section, sizeof section, "%.*s", (int)(m < sizeof section ? m : 0), p + 1);
    } else if (p < eol && *p != ';' && *p != '#') {
      for (k = p; p < eol && *p != '=' && *p != ' ' && *p != '\t'; p++)
        ;
      for (i = 0; i < n; i++)
        if (sets[i].value_len > 0 && ieq(k, (size_t)(p - k), sets[i].key) &&
            (sets[i].section[0] == '\0' || ieq(section, strlen(section), sets[i].section)))
          break;
      while (p < eol && (*p == ' ' || *p == '\t'))
        p++;
      if (i < n && p < eol && *p == '=') {
        if (sets[i].line != 0) {
          fprintf(stderr, "certsteward install: the template %s sets %s twice (lines %d and %d)\n", tpath, sets[i].key,
                  sets[i].line, line);
          return -1;
        }
        sets[i].line = line;
        cs_buf_append(out, s, (size_t)(p + 1 - s));
        cs_buf_puts(out, " ");
        cs_buf_append(out, sets[i].value, sets[i].value_len);
        cs_buf_append(out, eol, (size_t)(end - eol));
        continue;
      }
    }
    cs_buf_append(out, s, (size_t)(end - s));
  }
  for (i = 0; i < n; i++)
    if (sets[i].value_len > 0 && sets[i].line == 0) {
      fprintf(stderr, "certsteward install: the template %s has no \"%s =\" line%s%s%s to set\n", tpath, sets[i].key,
              sets[i].section[0] ? " in [" : "", sets[i].section, sets[i].section[0] ? "]" : "");
      return -1;
    }
  return 0;
}

/* Writes the configuration file path when it does not exist: template_path (NULL:
 * certsteward-default.ini beside this program, if there) with the sets applied. */
int cs_install_first_config(const char *path, const char *template_path, cs_install_set_t *sets, size_t n_sets,
                            void (*invalid)(const char *path, const char *why)) {
  char sibling[4096];
  unsigned char *tmpl = NULL;
  size_t tmpl_len = 0, i, given = 0;
  cs_buf_t out = CS_BUF_INIT;
  cs_config_t cfg;
  cs_err_t err;
  int rc = CS_EXIT_USAGE;

  for (i = 0; i < n_sets; i++)
    given += sets[i].value_len > 0;
  if (cs_plat_exists(path)) {
    if (given > 0) {
      fprintf(stderr, "certsteward install: warning: %s exists and is kept as it is: --set", path);
      for (i = 0; i < n_sets; i++)
        if (sets[i].value_len > 0)
          fprintf(stderr, " %s=%.*s", sets[i].key, (int)sets[i].value_len, sets[i].value);
      fprintf(stderr, " not applied (change the file, or certsteward config)\n");
    }
    return CS_EXIT_OK;
  }
  if (template_path == NULL) {
    if (cs_plat_sibling_path(CS_INSTALL_TEMPLATE, sibling, sizeof sibling, &err) != CS_OK || !cs_plat_exists(sibling)) {
      if (given == 0)
        return CS_EXIT_OK; /* no template here (a build folder): the built-in defaults apply */
      fprintf(stderr,
              "certsteward install: cannot write %s: %s is not beside certsteward.exe (give "
              "--config-template FILE)\n",
              path, CS_INSTALL_TEMPLATE);
      return CS_EXIT_USAGE;
    }
    template_path = sibling;
  }
  if (cs_plat_read_file(template_path, TEMPLATE_MAX, 0, &tmpl, &tmpl_len, &err) != CS_OK) {
    fprintf(stderr, "certsteward install: cannot read the template %s: %s\n", template_path, err.text);
    goto out;
  }
  if (apply_sets(template_path, (const char *)tmpl, tmpl_len, sets, n_sets, &out) != 0)
    goto out;
  if (cs_buf_str(&out) == NULL) {
    fprintf(stderr, "certsteward install: out of memory\n");
    goto out;
  }
  if (cs_config_load_mem(&cfg, path, (const unsigned char *)out.p, out.len, &err) != CS_OK) {
    fprintf(stderr, "certsteward install: %s is not written, as it would not be valid: %s\n", path, err.text);
    if (invalid != NULL)
      invalid(path, err.text); /* the Event Log: an MSI shows no standard error */
    goto out;
  }
  cs_config_free(&cfg);
  if (cs_plat_write_atomic(path, out.p, out.len, 0600, &err) != CS_OK) {
    fprintf(stderr, "certsteward install: cannot write %s: %s\n", path, err.text);
    goto out;
  }
  printf("configuration %s written from %s\n", path, template_path);
  for (i = 0; i < n_sets; i++)
    if (sets[i].value_len > 0)
      printf("  %s = %.*s\n", sets[i].key, (int)sets[i].value_len, sets[i].value);
  rc = CS_EXIT_OK;
out:
  cs_plat_free_file(tmpl, tmpl_len);
  cs_buf_free(&out);
  return rc;
}

int cs_install_ignored_text(const char *arg, char *out, size_t len) {
  const char *eq = strchr(arg, '=');
  char name[32] = "a value", shown[200 * 4 + 8];
  size_t n = eq != NULL ? (size_t)(eq - arg) : 0, i, o = 0;
  if (eq == NULL || eq[1] == '\0')
    return 0;
  if (n > 0 && n < sizeof name && strspn(arg, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == n)
    snprintf(name, sizeof name, "%.*s", (int)n, arg);
  for (i = 0, eq++; eq[i] != '\0' && i < 200; i++) {
    unsigned char c = (unsigned char)eq[i];
    o += (size_t)snprintf(shown + o, sizeof shown - o, c < 0x20 || c == 0x7f ? "\\x%02X" : "%c", c);
  }
  snprintf(shown + o, sizeof shown - o, "%s", eq[i] != '\0' ? "..." : "");
  snprintf(out, len,
           "certsteward install: warning: %s=%s was given to a repair or other maintenance run of the "
           "installed product and is not used: a repair keeps the values of the configuration as it is (change "
           "them there, or with certsteward config); the values given at the installation are used only to "
           "write the configuration again when it was deleted",
           name, shown);
  return 1;
}

/* Takes every "--set KEY=VALUE" (or --set=KEY=VALUE) out of argv into sets, and every
 * "--ignored NAME=VALUE", said; the rest goes to rest (argc + 1 room). Prints why and
 * returns -1 on a refused one. */
int cs_install_take_sets(int argc, char **argv, char **rest, int *n_rest, cs_install_set_t *sets, size_t *n_sets) {
  int i;
  size_t j;
  *n_rest = 0;
  *n_sets = 0;
  for (i = 0; i < argc; i++) {
    const char *v = argv[i];
    char said[2048];
    if (i >= 2 && strcmp(v, "--ignored") == 0) {
      if (i + 1 < argc && cs_install_ignored_text(argv[++i], said, sizeof said))
        fprintf(stderr, "%s\n", said);
      continue;
    }
    if (i < 2 || (strcmp(v, "--set") != 0 && strncmp(v, "--set=", 6) != 0)) {
      rest[(*n_rest)++] = argv[i];
      continue;
    }
    if (v[5] == '=')
      v += 6;
    else if (i + 1 < argc)
      v = argv[++i];
    else
      v = "";
    if (*n_sets == CS_INSTALL_MAX_SETS) {
      fprintf(stderr, "certsteward install: more than %d --set\n", CS_INSTALL_MAX_SETS);
      return -1;
    }
    if (parse_set(v, &sets[*n_sets]) != 0)
      return -1;
    for (j = 0; j < *n_sets; j++)
      if (strcmp(sets[j].key, sets[*n_sets].key) == 0) {
        fprintf(stderr, "certsteward install: --set %s given twice\n", sets[j].key);
        return -1;
      }
    (*n_sets)++;
  }
  rest[*n_rest] = NULL;
  return 0;
}
