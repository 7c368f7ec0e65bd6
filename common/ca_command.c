#include "ca_command.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "platform.h"
#include "text.h"

const char *cs_ca_status_name(int status) {
  switch (status) {
  case CS_CA_ISSUED:
    return "issued";
  case CS_CA_WAIT:
    return "wait";
  case CS_CA_REJECTED:
    return "rejected";
  case CS_CA_UNREACHABLE:
    return "unreachable";
  case CS_CA_UNCONFIGURED:
    return "misconfigured";
  case CS_CA_WAIT_DELAY:
    return "wait-delay";
  case CS_CA_UNSUPPORTED:
    return "unsupported";
  default:
    return "failed";
  }
}

/* text made one printable line (the events' rule), at most the message's size */
static void say(cs_ca_answer_t *ans, const char *text, size_t len) {
  cs_buf_t b = CS_BUF_INIT;
  char *copy = malloc(len + 1);
  if (copy == NULL) {
    snprintf(ans->message, sizeof ans->message, "(out of memory)");
    return;
  }
  memcpy(copy, text, len);
  copy[len] = '\0';
  while (len > 0 && (copy[len - 1] == '\n' || copy[len - 1] == '\r' || copy[len - 1] == ' '))
    copy[--len] = '\0';
  cs_text_sanitize(&b, copy);
  snprintf(ans->message, sizeof ans->message, "%s", cs_buf_str(&b) != NULL ? cs_buf_str(&b) : "");
  cs_buf_free(&b);
  free(copy);
}

/* The cookie: text without its one line end; no NUL in it, not over the maximum */
static int take_cookie(cs_ca_answer_t *ans, const char *text, size_t len) {
  if (len > 0 && text[len - 1] == '\n')
    len--;
  if (len > 0 && text[len - 1] == '\r')
    len--;
  if (len > CS_CA_COOKIE_MAX || memchr(text, '\0', len) != NULL) {
    ans->status = -1;
    snprintf(ans->message, sizeof ans->message, "the helper asked to wait with a cookie %s",
             len > CS_CA_COOKIE_MAX ? "over 4096 bytes long" : "holding a NUL byte");
    return CS_OK;
  }
  if ((ans->cookie = malloc(len + 1)) == NULL)
    return CS_ENOMEM;
  memcpy(ans->cookie, text, len);
  ans->cookie[len] = '\0';
  return CS_OK;
}

int cs_ca_answer_read(int exit_code, const char *out, size_t out_len, cs_ca_answer_t *ans, cs_err_t *err) {
  int rc = CS_OK;
  memset(ans, 0, sizeof *ans);
  ans->status = exit_code >= CS_CA_ISSUED && exit_code <= CS_CA_UNSUPPORTED ? exit_code : -1;
  ans->delay = -1;
  switch (ans->status) {
  case CS_CA_ISSUED: {
    size_t i = 0;
    while (i < out_len && (out[i] == ' ' || out[i] == '\t' || out[i] == '\r' || out[i] == '\n'))
      i++;
    if (i == out_len) {
      ans->status = -1;
      snprintf(ans->message, sizeof ans->message, "the helper said issued (exit 0) but gave no certificate");
    } else if (out_len > CS_CA_OUT_MAX) {
      ans->status = -1;
      snprintf(ans->message, sizeof ans->message, "the helper's answer is over %d bytes: not a certificate",
               CS_CA_OUT_MAX);
    } else if ((ans->out = cs_memdup(out, out_len)) == NULL) {
      rc = CS_ENOMEM;
    } else {
      ans->out_len = out_len;
    }
    break;
  }
  case CS_CA_WAIT:
    rc = take_cookie(ans, out, out_len);
    break;
  case CS_CA_WAIT_DELAY: {
    size_t i = 0;
    long d = 0;
    int big = 0;
    for (; i < out_len && out[i] >= '0' && out[i] <= '9'; i++) {
      big |= d > 100000000L; /* over three years: not a delay */
      d = big ? d : d * 10 + (out[i] - '0');
    }
    if (i == 0 || big || (i < out_len && out[i] != '\n' && out[i] != '\r')) {
      ans->status = -1;
      snprintf(ans->message, sizeof ans->message,
               "the helper asked to wait (exit 5) without a number of seconds on its first line");
      break;
    }
    ans->delay = d;
    if (i < out_len && out[i] == '\r')
      i++;
    if (i < out_len && out[i] == '\n')
      i++;
    rc = take_cookie(ans, out + i, out_len - i);
    break;
  }
  case -1:
    if (exit_code >= 0)
      snprintf(ans->message, sizeof ans->message,
               "the helper exited with %d, which certmonger's contract does not know", exit_code);
    else
      snprintf(ans->message, sizeof ans->message, "the helper did not exit normally");
    break;
  default:
    say(ans, out, out_len);
    if (ans->message[0] == '\0')
      snprintf(ans->message, sizeof ans->message, "(the helper said nothing)");
    break;
  }
  if (rc != CS_OK) {
    cs_ca_answer_free(ans);
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory reading the CA helper's answer");
  }
  return CS_OK;
}

/* A new work folder for one run of the helper: <state_dir>/request/work-<time>-<n>,
 * made 0700 (Windows: SYSTEM, Administrators and this account) by the walk that follows
 * no link, then judged as the state folder is (only administrators can change it or a
 * folder above). *path new (free()). */
static int work_dir_make(const char *state_dir, char **path, cs_err_t *err) {
  static unsigned counter;
  char name[80], *req = NULL, why[1024];
  cs_err_t gone;
  int i, rc = CS_OK;

  *path = NULL;
  if (state_dir == NULL || state_dir[0] == '\0')
    return cs_err_set(err, CS_EINVAL, 0, "no state folder to make the CA helper's work folder in");
  if (!cs_plat_exists(state_dir))
    return cs_err_set(err, CS_ENOENT, 0, "the state folder %s does not exist: no work folder for the CA helper",
                      state_dir);
  if ((req = cs_plat_path_join_new(state_dir, CS_REQKEY_DIR)) == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  for (i = 0; i < 100; i++) {
    snprintf(name, sizeof name, "work-%lld-%lld-%u", (long long)time(NULL), cs_plat_monotonic_ms() % 1000000,
             counter++);
    free(*path);
    if ((*path = cs_plat_path_join_new(req, name)) == NULL) {
      rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
      goto out;
    }
    if (!cs_plat_exists(*path))
      break;
  }
  if (i == 100) {
    rc = cs_err_set(err, CS_EEXIST, 0, "cannot find a new name for the CA helper's work folder in %s", req);
    goto out;
  }
  if ((rc = cs_plat_mkdirs(*path, 0700, err)) != CS_OK)
    goto out;
  if (cs_plat_folder_unsafe(*path, why, sizeof why)) {
    rc = cs_err_set(err, CS_EACCES, 0, "the CA helper's work folder %s is not one only %s can change: %s", *path,
                    cs_plat_admins(), why);
    (void)cs_plat_remove_tree(*path, &gone);
  }
out:
  if (rc != CS_OK) {
    free(*path);
    *path = NULL;
  }
  free(req);
  return rc;
}

int cs_ca_command_run(const char *command, const char *state_dir, cs_ca_op_t op, const char *csr_pem,
                      const char *template_name, const char *host, const char *cookie, cs_ca_answer_t *ans,
                      cs_err_t *err) {
  const char *vars[7];
  char *owned[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
  const char *names[6] = {"CERTMONGER_OPERATION=",    "CERTMONGER_CSR=",       "CERTMONGER_CA_PROFILE=",
                          "CERTMONGER_REQ_HOSTNAME=", "CERTMONGER_CA_COOKIE=", CS_CA_WORK_ENV "="};
  const char *values[6];
  char *work = NULL;
  cs_err_t gone;
  cs_run_result_t res;
  size_t i, n = 0;
  int rc;

  memset(ans, 0, sizeof *ans);
  ans->status = -1;
  ans->delay = -1;
  /* judged before every run: the files it names may have changed since the last */
  if ((rc = cs_ca_command_judge(command, NULL, 0, err)) != CS_OK)
    return rc;
  if ((rc = work_dir_make(state_dir, &work, err)) != CS_OK)
    return rc;
  values[0] = op == CS_CA_OP_POLL ? "POLL" : op == CS_CA_OP_IDENTIFY ? "IDENTIFY" : "SUBMIT";
  values[1] = csr_pem;
  values[2] = template_name;
  values[3] = host;
  values[4] = op == CS_CA_OP_POLL ? cookie : NULL;
  values[5] = work;
  for (i = 0; i < 6; i++) {
    if (values[i] == NULL)
      continue;
    if ((owned[i] = malloc(strlen(names[i]) + strlen(values[i]) + 1)) == NULL) {
      rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
      goto out;
    }
    strcpy(owned[i], names[i]);
    strcat(owned[i], values[i]);
    vars[n++] = owned[i];
  }
  vars[n] = NULL;
  /* what this process inherited under certmonger's names is not the helper's to see */
  rc = cs_plat_run_shell_env(command, vars, "CERTMONGER_", CS_CA_TIMEOUT_MS, CS_CA_OUT_MAX + 1, &res, err);
  if (rc != CS_OK)
    goto out;
  if (res.timed_out) {
    snprintf(ans->message, sizeof ans->message, "the helper did not answer within %d seconds: stopped",
             CS_CA_TIMEOUT_MS / 1000);
  } else {
    rc = cs_ca_answer_read(res.exit_code, res.out, res.out_len, ans, err);
    if (rc == CS_OK && ans->status == -1 && res.signal != 0)
      snprintf(ans->message, sizeof ans->message, "the helper was ended by signal %d", res.signal);
  }
  cs_run_result_free(&res);
out:
  /* what the helper left is removed with the folder: a link in it is removed, not followed */
  if (work != NULL)
    (void)cs_plat_remove_tree(work, &gone);
  for (i = 0; i < 6; i++)
    free(owned[i]);
  free(work);
  return rc;
}

void cs_ca_answer_free(cs_ca_answer_t *ans) {
  free(ans->out);
  free(ans->cookie);
  ans->out = NULL;
  ans->cookie = NULL;
  ans->out_len = 0;
}
