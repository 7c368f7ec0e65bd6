/* [request] route = command: a CA helper run as certmonger runs its helpers, so that
 * certmonger's own helpers (and any written for it) work unchanged. The request and
 * what the helper needs go in environment variables: CERTMONGER_OPERATION (SUBMIT or
 * POLL), CERTMONGER_CSR (the PEM request), CERTMONGER_CA_PROFILE (the template),
 * CERTMONGER_REQ_HOSTNAME and, on a poll, CERTMONGER_CA_COOKIE (what the helper said
 * when it asked us to wait). Its exit code says what happened; its standard output
 * carries the certificate, the cookie, or a message. Crypto-free: an issued answer is
 * kept as bytes for the worker to read. */
#ifndef CS_CA_COMMAND_H
#define CS_CA_COMMAND_H

#include <stddef.h>

#include "error.h"

/* certmonger's exit codes (its submit helpers' contract) */
enum {
  CS_CA_ISSUED = 0,       /* standard output: the certificate (PEM, chain after it) or PKCS#7 */
  CS_CA_WAIT = 1,         /* standard output: a cookie for the poll */
  CS_CA_REJECTED = 2,     /* standard output: the CA's reason */
  CS_CA_UNREACHABLE = 3,  /* standard output: why; tried again later */
  CS_CA_UNCONFIGURED = 4, /* standard output: what is missing */
  CS_CA_WAIT_DELAY = 5,   /* standard output: seconds, a line end, then the cookie */
  CS_CA_UNSUPPORTED = 6   /* the helper does not do this operation */
};

/* SUBMIT, POLL; IDENTIFY: certmonger's harmless question (the helper says who it is,
 * or 6: it does not answer it), for certsteward doctor */
typedef enum { CS_CA_OP_SUBMIT, CS_CA_OP_POLL, CS_CA_OP_IDENTIFY } cs_ca_op_t;

/* What the CA's helper answered, read from its exit code and output. */
typedef struct cs_ca_answer_s {
  int status;         /* CS_CA_* above; -1: the helper failed (killed, timed out, another exit code) */
  unsigned char *out; /* CS_CA_ISSUED: the certificate bytes as given (owned) */
  size_t out_len;
  char *cookie;      /* CS_CA_WAIT, CS_CA_WAIT_DELAY: for the next poll (owned, may be "") */
  long delay;        /* CS_CA_WAIT_DELAY: seconds the CA asked us to wait; else -1 */
  char message[600]; /* the other answers: the helper's words, made one printable line */
} cs_ca_answer_t;

#define CS_CA_COOKIE_MAX 4096            /* a cookie longer than this is not one */
#define CS_CA_OUT_MAX (1024 * 1024)      /* an answer longer than this is not a certificate */
#define CS_CA_TIMEOUT_MS (5 * 60 * 1000) /* a helper may talk to a slow CA, not hang */

/* Reads an answer from an exit code (-1: it did not exit normally) and its standard
 * output (out_len bytes). Pure. CS_ENOMEM only; an answer that breaks the contract
 * (a delay that is not a number, an issued answer with nothing in it, a cookie too
 * long) comes back as status -1 with a message saying what was wrong. */
int cs_ca_answer_read(int exit_code, const char *out, size_t out_len, cs_ca_answer_t *ans, cs_err_t *err);

/* Whether command may run as root / LocalSystem (common/ca_judge.c): its program
 * (first word, or what its first quotes hold; Windows: %VAR% expanded as cmd.exe does)
 * named by its full path, existing, and, with every other argument that names an
 * existing file or folder by its full path (--name=PATH too), changeable only by
 * administrators: every folder from the root down and the file itself, as the
 * platform's checks judge them. No shell operator outside quotes, no CERTMONGER_ on the
 * line. CS_OK, or CS_ECONFIG with err naming the file and who can change it (CS_ENOMEM).
 * program (may be NULL) receives the program's path as judged. Fails closed. */
int cs_ca_command_judge(const char *command, char *program, size_t program_len, cs_err_t *err);

/* The environment variable that names the helper's work folder */
#define CS_CA_WORK_ENV "CERTSTEWARD_WORK_DIR"

/* Runs command (through the system shell) for op: the request csr_pem, the template
 * (NULL: none), host and, for a poll, the cookie; judged by cs_ca_command_judge first
 * (refused: CS_ECONFIG, nothing run). The helper gets a work folder of its own in
 * CERTSTEWARD_WORK_DIR: new for each run, made under <state_dir>/request (POSIX 0700;
 * Windows SYSTEM, Administrators and this account only) without following a link, and
 * removed with what it holds (links removed, never followed) after the run. CS_OK with
 * ans filled when it ran (whatever it answered); CS_E* when it could not be started. */
int cs_ca_command_run(const char *command, const char *state_dir, cs_ca_op_t op, const char *csr_pem,
                      const char *template_name, const char *host, const char *cookie, cs_ca_answer_t *ans,
                      cs_err_t *err);

/* "issued", "wait", "rejected", "unreachable", "misconfigured", "wait-delay",
 * "unsupported", "failed" */
const char *cs_ca_status_name(int status);

void cs_ca_answer_free(cs_ca_answer_t *ans);

#endif
